package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// The seeded queues, tasks and locks. Names are plain, so that they make
// plain data-testids; the payload goes into a task's name, arguments and
// error instead.
const (
	mailQueue   = "emails"
	reportQueue = "reports"

	// The consumer that holds the running task: the one live worker of
	// the mail queue.
	taker  = "e2e-worker-1"
	holder = "e2e-holder"

	xssID     = "xss-1"     // dead letter: name, args and error carry the payload
	poisonID  = "poison-1"  // dead letter: a plain one, which the test requeues
	runningID = "running-1" // taken by taker
	reportID  = "report-1"  // dead letter of an unknown task, by a worker's run

	nightlyLock = "nightly-report" // held, broken by the test
	invoiceLock = "invoice-42"     // held for runningID, stays

	nightlySchedule = "nightly-report" // stored, and published by a scheduler
	weeklySchedule  = "weekly-digest"  // stored paused
)

// counts is one overview row.
type counts struct{ Ready, Running, Delayed, Dead, Workers int64 }

// seeded is the state the tests put in Redis, and what the pages must
// show of it.
type seeded struct {
	backend *redisbackend.Backend
	prefix  string

	queues  map[string]counts
	locks   map[string]lock.Info // by key: Holder, Fence and Task set
	results map[string]map[store.Status]int
}

// rawJSON is JSON without Go's HTML escaping: the payload goes into the
// task's arguments as the very characters <script>, not \u003cscript\u003e.
type rawJSON struct{}

func (rawJSON) Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (rawJSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func (c rawJSON) Encode(w io.Writer, v any) error {
	b, err := c.Marshal(v)
	if err == nil {
		_, err = w.Write(b)
	}
	return err
}

// newBackend returns a Redis backend under a key prefix of t's own,
// tw-e2e-<random>:, whose keys are deleted when t ends.
func newBackend(t testing.TB) *redisbackend.Backend {
	t.Helper()
	client, _ := taskwaretest.Redis(t) // skips, or fails under TASKWARE_REQUIRE_REDIS=1, without Redis
	prefix := "tw-e2e-" + strings.ToLower(rand.Text()[:10]) + ":"
	// Registered after Redis's own cleanup, so run before it closes the client.
	t.Cleanup(func() { taskwaretest.DeletePrefix(t, client, prefix) })
	return redisbackend.New(client, redisbackend.Prefix(prefix), redisbackend.Holder(holder))
}

// seed puts a known state in b through taskware's own API:
//
//	emails:  3 ready, 1 running (taken and started by e2e-worker-1, its one
//	         live worker, and 40/100 done),
//	         2 delayed by an hour, 2 dead letters finished as dead (xss-1,
//	         whose name, arguments and error are the payload, and poison-1);
//	reports: 1 dead letter, report-1, of a task no worker knows, dead-lettered
//	         by a worker's run, which then stops and leaves;
//	locks:   nightly-report, and invoice-42 for the running task, both
//	         held by e2e-holder for ten minutes;
//	results: emails 2 succeeded and 1 failed, reports 1 succeeded;
//	schedules: nightly-report stored (every 24h, published by
//	         e2e-scheduler) and weekly-digest stored paused.
func seed(t testing.TB, b *redisbackend.Backend) *seeded {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	q := b.Queue()
	client := worker.NewClient(q, b.Store())
	send := task.New("send-email", func(context.Context, string) (struct{}, error) { return struct{}{}, nil })
	evil := task.NewWithOptions(xss, func(context.Context, string) (struct{}, error) { return struct{}{}, nil },
		task.WithCodec(rawJSON{}))
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("e2e: seed: %s: %v", what, err)
		}
	}
	on := worker.OnQueue(mailQueue)

	// Two dead letters: taken, then finished as dead.
	_, err := worker.Enqueue(ctx, client, evil, xss, on, worker.ID(xssID))
	must("enqueue the payload", err)
	_, err = worker.Enqueue(ctx, client, send, "poison@example.com", on, worker.ID(poisonID))
	must("enqueue poison", err)
	ds, err := q.Take(ctx, mailQueue, taker, 2, time.Second)
	must("take the dead-to-be", err)
	if len(ds) != 2 {
		t.Fatalf("e2e: seed: took %d tasks, want 2", len(ds))
	}
	for _, d := range ds {
		o := queue.Outcome{Status: queue.Dead, Attempt: d.Attempt, Kind: "e2e.poisoned", Error: "poisoned: bad address"}
		if d.ID == xssID {
			o.Error = xss
		}
		must("finish "+d.ID+" as dead", q.Finish(ctx, d, o))
	}

	// One running: taken and not finished.
	_, err = worker.Enqueue(ctx, client, send, "running@example.com", on, worker.ID(runningID))
	must("enqueue running", err)
	ds, err = q.Take(ctx, mailQueue, taker, 1, time.Second)
	must("take running", err)
	if len(ds) != 1 || ds[0].ID != runningID {
		t.Fatalf("e2e: seed: took %v, want %s", ds, runningID)
	}
	// As a worker does when it starts the run: the task's state says
	// running, since when, on which worker. The mark is sent without
	// waiting; verify waits for it.
	q.Started(ctx, ds[0], taker, time.Now())
	// Its progress, as task.Progress reports it: a bar on its pages.
	must("report progress", q.Progress(ctx, ds[0], queue.Progress{Done: 40, Total: 100, Message: "sending the batch", At: time.Now()}))

	// Three ready, two delayed.
	for i := range 3 {
		_, err = worker.Enqueue(ctx, client, send, fmt.Sprintf("ready%d@example.com", i), on, worker.ID("ready-"+strconv.Itoa(i+1)))
		must("enqueue ready", err)
	}
	for i := range 2 {
		_, err = worker.Enqueue(ctx, client, send, fmt.Sprintf("later%d@example.com", i), on, worker.ID("delayed-"+strconv.Itoa(i+1)),
			worker.Delay(time.Hour))
		must("enqueue delayed", err)
	}

	// A dead letter made by a worker's run: no worker knows "render-report".
	render := task.New("render-report", func(context.Context, int) (string, error) { return "", nil })
	h, err := worker.Enqueue(ctx, client, render, 2026, worker.OnQueue(reportQueue), worker.ID(reportID))
	must("enqueue the report", err)
	w := worker.New(q, worker.Queues(reportQueue), worker.Name("e2e-report-worker"), worker.PollWait(50*time.Millisecond),
		worker.OnError(func(err error) { t.Logf("e2e: seed worker: %v", err) }))
	worker.Register(w, send) // a task of another name
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	_, err = h.Get(ctx)
	stop()
	if werr := <-done; werr != nil {
		t.Fatalf("e2e: seed: worker: %v", werr)
	}
	if !errors.Is(err, queue.ErrDeadLettered) || !errors.Is(err, worker.ErrUnknownTask) {
		t.Fatalf("e2e: seed: the report ended with %v, want a dead letter of an unknown task", err)
	}

	// Locks, held for ten minutes. A fence grows with every lease on its
	// key; its value is the lease's.
	locker := b.Locker()
	nightly, err := locker.TryAcquire(ctx, nightlyLock, 10*time.Minute)
	must("lock "+nightlyLock, err)
	invoice, err := locker.TryAcquire(lock.WithOwnerTask(ctx, mailQueue, runningID), invoiceLock, 10*time.Minute)
	must("lock "+invoiceLock, err)

	// Stored results.
	put := func(name, id string, st store.Status, errText string) {
		rec := &store.Record{Queue: name, ID: id, Task: "send-email", Status: st, Error: errText, Attempt: 1}
		if st == store.Succeeded {
			rec.Value = []byte(`"sent"`)
		} else {
			rec.Kind = "e2e.bounced"
		}
		must("put result "+id, b.Store().Put(ctx, rec, time.Hour))
	}
	put(mailQueue, "done-1", store.Succeeded, "")
	put(mailQueue, "done-2", store.Succeeded, "")
	put(mailQueue, "bounced-1", store.Failed, "mailbox full")
	put(reportQueue, "report-0", store.Succeeded, "")

	// Stored schedule entries, one paused, and what a running scheduler
	// publishes of the other (for ten minutes).
	for _, d := range []queue.ScheduleDef{
		{Name: nightlySchedule, Spec: "every 24h", Task: "render-report", Queue: reportQueue, Args: []byte(`{"accounts":"all"}`)},
		{Name: weeklySchedule, Spec: "0 6 * * mon", Task: "send-email", Queue: mailQueue, Args: []byte(`"digest@example.com"`), Paused: true},
	} {
		must("store schedule "+d.Name, q.PutSchedule(ctx, d))
	}
	must("publish the schedules", q.PublishSchedules(ctx, "e2e-scheduler", []queue.ScheduleEntry{{Name: nightlySchedule,
		Spec: "every 24h", Task: "render-report", Queue: reportQueue, Next: time.Now().Truncate(24 * time.Hour).Add(24 * time.Hour),
		Last: time.Now().Truncate(24 * time.Hour), LastStatus: "enqueued", Published: time.Now()}}, 10*time.Minute))

	s := &seeded{
		backend: b,
		prefix:  b.Prefix(),
		queues: map[string]counts{
			mailQueue:   {Ready: 3, Running: 1, Delayed: 2, Dead: 2, Workers: 1},
			reportQueue: {Dead: 1},
		},
		locks: map[string]lock.Info{
			nightlyLock: {Key: nightlyLock, Holder: holder, Fence: nightly.Fence},
			invoiceLock: {Key: invoiceLock, Holder: holder, Fence: invoice.Fence, Task: lock.TaskRef{Queue: mailQueue, ID: runningID}},
		},
		results: map[string]map[store.Status]int{
			mailQueue:   {store.Succeeded: 2, store.Failed: 1},
			reportQueue: {store.Succeeded: 1},
		},
	}
	s.verify(t)
	return s
}

// verify checks the seed through the backend's own inspection, so that a
// page that shows other numbers is the page's fault, not the seed's.
func (s *seeded) verify(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	q := s.backend.Queue()
	for name, want := range s.queues {
		st, err := q.Stats(ctx, name)
		if err != nil {
			t.Fatalf("e2e: seed: stats of %s: %v", name, err)
		}
		got := counts{st.Ready, st.Running, st.Delayed, st.Dead, int64(st.Workers)}
		if got != want {
			t.Fatalf("e2e: seed: %s counts %+v, want %+v", name, got, want)
		}
	}
	eventually(t, "the running task's state says running, 40/100 done", func() (bool, error) {
		st, err := q.State(ctx, mailQueue, runningID)
		return err == nil && st.Status == queue.Running && st.Worker == taker && st.Progress != nil && st.Progress.Done == 40,
			fmt.Errorf("state %+v, error %v", st, err)
	})
	held, err := s.backend.Locker().Held(ctx)
	if err != nil {
		t.Fatalf("e2e: seed: locks: %v", err)
	}
	if len(held) != len(s.locks) {
		t.Fatalf("e2e: seed: %d locks held, want %d: %+v", len(held), len(s.locks), held)
	}
	for _, h := range held {
		want := s.locks[h.Key]
		if h.Holder != want.Holder || h.Fence != want.Fence || h.Task != want.Task {
			t.Fatalf("e2e: seed: lock %+v, want %+v", h, want)
		}
	}
	recs, err := s.backend.Store().List(ctx)
	if err != nil {
		t.Fatalf("e2e: seed: results: %v", err)
	}
	got := map[string]map[store.Status]int{}
	for _, r := range recs {
		if got[r.Queue] == nil {
			got[r.Queue] = map[store.Status]int{}
		}
		got[r.Queue][r.Status]++
	}
	if fmt.Sprint(got) != fmt.Sprint(s.results) {
		t.Fatalf("e2e: seed: results %v, want %v", got, s.results)
	}
}
