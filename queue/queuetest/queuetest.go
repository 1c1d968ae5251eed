package queuetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/suite"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// Backend is what the suite needs of a backend: its queue, and what reads
// and makes the queue's own deferred writes. newBackend makes a fresh one
// for every subtest, with nothing in it.
type Backend struct {
	// Queue is the queue under test.
	Queue queue.Queue
	// Store is the backend's result store: it makes the deferred record
	// writes a run hands to Finish (Outcome.Final), and reads them back.
	Store Store
	// Locker is the backend's locker: it takes the locks whose deferred
	// releases a run hands to Finish.
	Locker Locker
	// StateTTL is the state TTL the queue was made with. It must not be
	// queue.DefaultStateTTL, so that the suite sees the option honoured;
	// on the wall clock (Advance nil) it must be at least 2s, for the
	// states the suite reads to outlive its reads on a loaded machine, and
	// at most MaxRealStateTTL.
	StateTTL time.Duration
	// Advance moves the backend's clock d ahead: the TTLs of states, unique
	// keys and records run out d sooner. Nil if the backend runs on the
	// wall clock only (a real Redis): the suite then sleeps instead. Claims
	// are timed on the wall clock either way (see Consumer.Recover).
	Advance func(d time.Duration)
	// Partitioned says the backend splits each queue into partitions
	// (see queue.PartitionName), so that tasks of different keys are
	// handed out in no one order: where a promise checks the order of
	// tasks over a whole queue, the suite checks instead the order of
	// tasks that share an OrderKey, the order a partitioned queue keeps.
	// Nothing else changes: every other promise holds as on one queue.
	Partitioned bool
	// SingleQueueWorkflows says the backend refuses a workflow whose
	// steps span queues (the Redis backend on a Cluster, for now): the
	// promises checked with such workflows (crossQueueWorkflows) are
	// skipped, and say so.
	SingleQueueWorkflows bool
}

// crossQueueWorkflows lists the promises, by path, that enqueue a
// workflow whose steps span queues.
var crossQueueWorkflows = []string{"Workflow/CancelWorkflow", "Workflow/ChainReleasesOnLastParent", "Workflow/EnqueueStoresWaiting",
	"Workflow/FailureCancelsWaitingAndQueued", "Workflow/List", "Workflow/RetryReopensAndResumes",
	"Workflow/SkipPolicies", "Workflow/StatsCountWaiting", "Workflow/StepCancelFails"}

// Store is a result store that defers writes to the end of a run.
type Store interface {
	store.Reader
	store.FinalPutter
}

// Locker is a locker that defers releases to the end of a run.
type Locker interface {
	lock.Locker
	lock.FinalReleaser
}

// MaxRealStateTTL is the longest state TTL the suite waits out in real
// time, for a backend without a clock of its own.
const MaxRealStateTTL = 10 * time.Second

// promise is one subtest: a promise, or, with Cases, a group of them.
type promise = suite.Promise[*tester]

// promises is the whole suite, in the order Run runs it.
func promises() []promise {
	return []promise{
		{Name: "Enqueue", Cases: enqueuePromises()},
		{Name: "Unique", Cases: uniquePromises()},
		{Name: "ExpiresAt", Cases: expiresAtPromises()},
		{Name: "Take", Cases: takePromises()},
		{Name: "Promote", Cases: promotePromises()},
		{Name: "Recover", Cases: recoverPromises()},
		{Name: "Finish", Cases: finishPromises()},
		{Name: "State", Cases: statePromises()},
		{Name: "Wait", Cases: waitPromises()},
		{Name: "Cancel", Cases: cancelPromises()},
		{Name: "DeadLetters", Cases: deadLetterPromises()},
		{Name: "Admin", Cases: adminPromises()},
		{Name: "Attempts", Cases: attemptPromises()},
		{Name: "Progress", Cases: progressPromises()},
		{Name: "TTL", Cases: ttlPromises()},
		{Name: "Resent", Cases: resentPromises()},
		{Name: "Server", Cases: serverPromises()},
		{Name: "Schedules", Cases: schedulePromises()},
		{Name: "Workflow", Cases: workflowPromises()},
		{Name: "Batch", Cases: batchPromises()},
	}
}

// Run runs every promise of queue.Queue as a subtest of t, each on a
// backend newBackend makes for it, and named after the promise:
// "Finish/RetryKeepsFailureRecord", say.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Helper()
	root := t.Name() + "/"
	suite.Run(t, promises(), func(t *testing.T) *tester {
		b := newBackend(t)
		path := strings.TrimPrefix(t.Name(), root)
		if why := waiting(path); why != "" && b.Partitioned {
			t.Skip(why)
		}
		if b.SingleQueueWorkflows && slices.ContainsFunc(crossQueueWorkflows, func(p string) bool { return path == p || strings.HasPrefix(path, p+"/") }) {
			t.Skip("the backend refuses workflows whose steps span queues (SingleQueueWorkflows)")
		}
		if err := b.validate(); err != nil {
			t.Fatalf("queuetest: %v", err)
		}
		return &tester{T: t, b: b, q: b.Queue}
	})
}

// partitionedWaiting lists the promises a partitioned backend cannot keep,
// by their path ("Batch/BatchIDNoTasks"), and why: they are skipped, and
// say so, on a Backend that is Partitioned. Each is a limit of
// partitions, stated in their docs; never add one to hide a failure.
var partitionedWaiting = map[string]string{
	// A limit of partitions, not a lack: a batch's ID is checked against
	// the tasks of its partition only, and a task of another partition
	// (one routed by its ID) may hold it (see queue.PartitionFor).
	"Batch/BatchIDNoTasks": "partitions: an ID is unique within its partition only",
}

// waiting is why the promise at path, or the group it is in, is listed in
// partitionedWaiting; "" if it is not.
func waiting(path string) string {
	for {
		if why, ok := partitionedWaiting[path]; ok {
			return why
		}
		i := strings.LastIndexByte(path, '/')
		if i < 0 {
			return ""
		}
		path = path[:i]
	}
}

func (b *Backend) validate() error {
	switch {
	case b.Queue == nil || b.Store == nil || b.Locker == nil:
		return errors.New("the Backend needs a Queue, a Store and a Locker")
	case b.StateTTL <= 0 || b.StateTTL == queue.DefaultStateTTL:
		return fmt.Errorf("StateTTL %v: make the queue with a state TTL of its own, not the default, and say which", b.StateTTL)
	case b.Advance == nil && (b.StateTTL < 2*time.Second || b.StateTTL > MaxRealStateTTL):
		return fmt.Errorf("StateTTL %v on the wall clock: the suite waits it out, and reads states before; give Advance, or between 2s and %v",
			b.StateTTL, MaxRealStateTTL)
	}
	return nil
}

// tester is one subtest, on its own backend.
type tester struct {
	*testing.T
	b Backend
	q queue.Queue
}

// sub runs fn as a subtest of t, on t's backend.
func (t *tester) sub(name string, fn func(t *tester)) {
	t.Helper()
	t.Run(name, func(st *testing.T) { fn(&tester{T: st, b: t.b, q: t.q}) })
}

// real reports whether the backend runs on the wall clock only.
func (t *tester) real() bool { return t.b.Advance == nil }

// advance moves the backend's clock d ahead, or lets d pass.
func (t *tester) advance(d time.Duration) {
	if t.b.Advance != nil {
		t.b.Advance(d)
		return
	}
	time.Sleep(d)
}

// at has nanoseconds below the microsecond, which queues drop.
var at = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func msg(name, id string) *queue.Message {
	return &queue.Message{ID: id, Task: "email", Queue: name, Payload: []byte("payload of " + id), EnqueuedAt: at}
}

// ordered is msg(name, id) for a promise about the order of a queue's
// messages: on a Partitioned backend, which keeps the order of one
// OrderKey only, it has the OrderKey "ordered", and the promise is then
// checked as the promise of that key's order.
func (t *tester) ordered(name, id string) *queue.Message {
	m := msg(name, id)
	if t.b.Partitioned {
		m.OrderKey = "ordered"
	}
	return m
}

func (t *tester) enqueue(m *queue.Message, runAt time.Time) {
	t.Helper()
	if err := t.q.Enqueue(t.Context(), m, runAt); err != nil {
		t.Fatalf("Enqueue(%q, %v): %v", m.ID, runAt, err)
	}
}

// duplicate fails t unless Enqueue of m is refused as a duplicate of
// existing.
func (t *tester) duplicate(what string, m *queue.Message, runAt time.Time, existing string) {
	t.Helper()
	err := t.q.Enqueue(t.Context(), m, runAt)
	de, ok := errors.AsType[*queue.DuplicateError](err)
	if !errors.Is(err, queue.ErrDuplicate) || !ok || de.ID != m.ID || de.Queue != m.Queue || de.Existing != existing {
		t.Fatalf("Enqueue of %q %s: %v; want a *queue.DuplicateError of %q that names %q", m.ID, what, err, m.ID, existing)
	}
}

func (t *tester) take(name, consumer string, n int) []*queue.Delivery {
	t.Helper()
	ds, err := t.q.Take(t.Context(), name, consumer, n, 0)
	if err != nil {
		t.Fatalf("Take(%q, %q, %d): %v", name, consumer, n, err)
	}
	return ds
}

// takeOne takes the one ready message of queue name, which must be id.
func (t *tester) takeOne(name, id string) *queue.Delivery {
	t.Helper()
	ds := t.take(name, "c1", 10)
	wantIDs(t, "Take", ds, id)
	return ds[0]
}

// takeAll takes every ready message of queue name, which must be those of
// idList in any order, and returns their deliveries in idList's order: for
// a promise about what happens to tasks once taken, not about the order
// they are taken in (which a Partitioned backend does not keep).
func (t *tester) takeAll(name string, idList ...string) []*queue.Delivery {
	t.Helper()
	ds := t.take(name, "c1", len(idList)+10)
	out := make([]*queue.Delivery, len(idList))
	for i, id := range idList {
		if at := slices.IndexFunc(ds, func(d *queue.Delivery) bool { return d.ID == id }); at >= 0 {
			out[i] = ds[at]
		}
	}
	if len(ds) != len(idList) || slices.Contains(out, nil) {
		t.Fatalf("Take: got IDs %q, want %q in any order", ids(ds), idList)
	}
	return out
}

// reclaim moves up to n deliveries of queue idle for minIdle back to the
// ready ones (Recover), then hands those to consumer: the takeover of a
// dead worker's tasks.
func (t *tester) reclaim(name, consumer string, minIdle time.Duration, n int) []*queue.Delivery {
	t.Helper()
	moved, err := t.q.Recover(t.Context(), name, minIdle, n)
	if err != nil {
		t.Fatalf("Recover(%q, %v, %d): %v", name, minIdle, n, err)
	}
	if moved == 0 {
		return nil
	}
	ds := t.take(name, consumer, 1000)
	if len(ds) != moved {
		t.Fatalf("Recover moved %d, and Take then handed out %q", moved, ids(ds))
	}
	return ds
}

func (t *tester) promote(name string, now time.Time, n int) int {
	t.Helper()
	moved, err := t.q.Promote(t.Context(), name, now, n)
	if err != nil {
		t.Fatalf("Promote(%q, %v, %d): %v", name, now, n, err)
	}
	return moved
}

func (t *tester) finish(d *queue.Delivery, o queue.Outcome) {
	t.Helper()
	if err := t.q.Finish(t.Context(), d, o); err != nil {
		t.Fatalf("Finish(%q, %+v): %v", d.ID, o, err)
	}
}

// superseded finishes d, which another delivery took over, and wants
// queue.ErrSuperseded.
func (t *tester) superseded(d *queue.Delivery, o queue.Outcome) {
	t.Helper()
	if err := t.q.Finish(t.Context(), d, o); !errors.Is(err, queue.ErrSuperseded) {
		t.Fatalf("Finish(%q, %+v) of a delivery taken over = %v, want queue.ErrSuperseded", d.ID, o, err)
	}
}

func (t *tester) state(name, id string) *queue.State {
	t.Helper()
	st, err := t.q.State(t.Context(), name, id)
	if err != nil {
		t.Fatalf("State(%q, %q): %v", name, id, err)
	}
	return st
}

// wantState fails t unless id's state has status, attempt, kind and error.
func (t *tester) wantState(name, id string, status queue.Status, attempt int, kind, msg string) *queue.State {
	t.Helper()
	st := t.state(name, id)
	if st.ID != id || st.Queue != name || st.Status != status || st.Attempt != attempt || st.Kind != kind || st.Error != msg {
		t.Fatalf("State(%q) = %+v; want status %q, attempt %d, kind %q, error %q", id, *st, status, attempt, kind, msg)
	}
	return st
}

// wantResult fails t unless id's state says result of its outcome.
func (t *tester) wantResult(name, id string, result queue.ResultStatus) {
	t.Helper()
	if st := t.state(name, id); st.Result != result {
		t.Fatalf("State(%q).Result = %q (state %+v); want %q", id, st.Result, *st, result)
	}
}

func (t *tester) wantNotFound(name, id string) {
	t.Helper()
	st, err := t.q.State(t.Context(), name, id)
	if !errors.Is(err, queue.ErrNotFound) || st != nil {
		t.Fatalf("State(%q, %q) = %+v, %v; want an error matching queue.ErrNotFound", name, id, st, err)
	}
}

// stats returns queue name's counts, Workers and OldestReady left out.
func (t *tester) stats(name string) queue.Stats {
	t.Helper()
	st, err := t.q.Stats(t.Context(), name)
	if err != nil {
		t.Fatalf("Stats(%q): %v", name, err)
	}
	return queue.Stats{Queue: st.Queue, Ready: st.Ready, Running: st.Running, Delayed: st.Delayed, Dead: st.Dead}
}

func (t *tester) wantStats(name string, ready, running, delayed, dead int64) {
	t.Helper()
	want := queue.Stats{Queue: name, Ready: ready, Running: running, Delayed: delayed, Dead: dead}
	if got := t.stats(name); got != want {
		t.Fatalf("Stats(%q) = ready %d, running %d, delayed %d, dead %d; want %d, %d, %d, %d",
			name, got.Ready, got.Running, got.Delayed, got.Dead, ready, running, delayed, dead)
	}
}

func ids(ds []*queue.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func wantIDs(t *tester, what string, ds []*queue.Delivery, want ...string) {
	t.Helper()
	if got := ids(ds); !slices.Equal(got, want) {
		t.Fatalf("%s: got IDs %q, want %q", what, got, want)
	}
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// sameTime reports whether got is want to the microsecond, zero for zero.
func sameTime(got, want time.Time) bool {
	return got.IsZero() == want.IsZero() && micros(got) == micros(want)
}

// sameMessage fails t unless got has every field of want, times to the
// microsecond and no finer, and no Unique, which the queue keeps apart.
// logical is the queue a delivery's Queue names: itself, or, for a
// partition's name, the queue it is a partition of. A delivery from a
// split queue names its partition (queue.Delivery), where its finish and
// the rest go.
func logical(name string) string {
	q, _ := queue.SplitPartition(name)
	return q
}

func sameMessage(t *tester, what string, got, want queue.Message) {
	t.Helper()
	if got.ID != want.ID || got.Task != want.Task || logical(got.Queue) != want.Queue || got.Attempt != want.Attempt ||
		!bytes.Equal(got.Payload, want.Payload) || got.LastKind != want.LastKind || got.LastError != want.LastError ||
		!sameTime(got.EnqueuedAt, want.EnqueuedAt) || !sameTime(got.ExpiresAt, want.ExpiresAt) ||
		len(got.Headers) != len(want.Headers) {
		t.Fatalf("%s: message\n got  %+v\n want %+v", what, got, want)
	}
	for k, v := range want.Headers {
		if got.Headers[k] != v {
			t.Fatalf("%s: header %q = %q, want %q", what, k, got.Headers[k], v)
		}
	}
	if got.EnqueuedAt.Nanosecond()%1000 != 0 || got.ExpiresAt.Nanosecond()%1000 != 0 {
		t.Fatalf("%s: times %v, %v; want them cut to the microsecond", what, got.EnqueuedAt, got.ExpiresAt)
	}
}

// write is a deferred write of the tests', as a policy hands one to the
// worker in task.FinalWrites: a write of no backend's, which a queue makes
// on its own.
type write func(ctx context.Context) error

func (w write) Apply(ctx context.Context) error { return w(ctx) }

// counted returns a write that fails with err (succeeds if nil), and the
// count of its applications.
func counted(err error) (write, *atomic.Int32) {
	n := new(atomic.Int32)
	return func(context.Context) error { n.Add(1); return err }, n
}

// final returns the deferred writes of a run: result writes that fail with
// results' errors and releases that fail with releases' (nil: succeed), and
// a check that fails t unless each was made exactly once.
func final(results, releases []error) (*task.FinalWrites, func(t *tester)) {
	f := &task.FinalWrites{}
	var counts []*atomic.Int32
	for _, err := range results {
		w, n := counted(err)
		f.Result(w)
		counts = append(counts, n)
	}
	for _, err := range releases {
		w, n := counted(err)
		f.Release(w)
		counts = append(counts, n)
	}
	return f, func(t *tester) {
		t.Helper()
		for i, n := range counts {
			if got := n.Load(); got != 1 {
				t.Errorf("deferred write %d of %d was made %d times, want once", i+1, len(counts), got)
			}
		}
	}
}

// stored is a run's deferred writes with one result write, of no
// backend's, that succeeds.
func stored() *task.FinalWrites {
	f, _ := final([]error{nil}, nil)
	return f
}

var errWrite = errors.New("the test's write failed")

// record defers the put of rec for ttl in the backend's own store.
func (t *tester) record(rec store.Record, ttl time.Duration) task.FinalWrite {
	t.Helper()
	w, err := t.b.Store.FinalPut(&rec, ttl)
	if err != nil {
		t.Fatalf("FinalPut(%+v, %v): %v", rec, ttl, err)
	}
	return w
}

// lockFor takes key on the backend's locker and defers its release.
func (t *tester) lockFor(key string) task.FinalWrite {
	t.Helper()
	lease, err := t.b.Locker.TryAcquire(t.Context(), key, time.Hour)
	if err != nil {
		t.Fatalf("TryAcquire(%q): %v", key, err)
	}
	return t.b.Locker.FinalRelease(lease)
}

// wantLocked fails t unless key is held, and wantFree unless it is free.
func (t *tester) wantLocked(key string) {
	t.Helper()
	lease, err := t.b.Locker.TryAcquire(t.Context(), key, time.Minute)
	if err == nil {
		_ = t.b.Locker.Release(t.Context(), lease)
		t.Fatalf("lock %q is free; want it still held", key)
	}
	if !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryAcquire(%q): %v", key, err)
	}
}

func (t *tester) wantFree(key string) {
	t.Helper()
	lease, err := t.b.Locker.TryAcquire(t.Context(), key, time.Minute)
	if err != nil {
		t.Fatalf("lock %q: %v; want it released", key, err)
	}
	if err := t.b.Locker.Release(t.Context(), lease); err != nil {
		t.Fatalf("Release(%q): %v", key, err)
	}
}

// wantRecord fails t unless the store holds want under its queue and ID,
// and returns what it holds.
func (t *tester) wantRecord(want store.Record) *store.Record {
	t.Helper()
	got, err := t.b.Store.Get(t.Context(), want.Queue, want.ID)
	if err != nil {
		t.Fatalf("record %s/%s: %v; want %+v", want.Queue, want.ID, err, want)
	}
	if got.Task != want.Task || got.Status != want.Status || !bytes.Equal(got.Value, want.Value) ||
		got.Kind != want.Kind || got.Error != want.Error || got.Attempt != want.Attempt {
		t.Fatalf("record %s/%s:\n got  %+v\n want %+v", want.Queue, want.ID, *got, want)
	}
	return got
}

func (t *tester) wantNoRecord(name, id string) {
	t.Helper()
	if got, err := t.b.Store.Get(t.Context(), name, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record %s/%s = %+v, %v; want none", name, id, got, err)
	}
}

// eventually polls cond until it holds or d passes, and fails t then
// with what.
func (t *tester) eventually(d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after %v: %s", d, what)
		}
	}
}

// Names returns the name of every promise Run checks, in the order it
// runs them: the subtests a backend must pass, "Enqueue/RoundTrip" first.
func Names() []string { return suite.Names(promises()) }
