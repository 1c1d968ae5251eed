package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// The task whose stored record TestTaskPageActions purges: run to success
// by a worker that stores its result.
const (
	receiptQueue = "receipts"
	receiptID    = "receipt-1"
)

// TestTaskPageActions drives the actions of a task's page in Chromium, each
// through its confirmation, and checks Redis afterwards: Retry of a dead
// letter enqueues a new task (a new ID) of the same name and arguments and
// lands on its page; Requeue puts a dead letter back as the same task at
// attempt 1, its letter gone; Cancel cancels a ready task; Purge deletes a
// task's stored record. The attempts table shows each run's kind and error.
func TestTaskPageActions(t *testing.T) {
	b := newBackend(t)
	seed(t, b)
	seedReceipt(t, b)
	base := serve(t, b)
	br := newBrowser(t)
	ctx := context.Background()
	q := b.Queue()

	// open loads task id's page of queue name and checks it is clean.
	open := func(br *browser, t *testing.T, name, id string) *pageView {
		t.Helper()
		br.open(base + "task?" + url.Values{"queue": {name}, "id": {id}}.Encode())
		p := br.read()
		checkClean(t, base, p)
		p.want(t, "task-id", id)
		return p
	}
	// confirm follows the action link of data-testid action, checks the
	// confirmation asks about id, and confirms: the page it lands on.
	confirm := func(br *browser, t *testing.T, action, id string, before func()) *pageView {
		t.Helper()
		br.clickAndLoad(action)
		p := br.read()
		checkClean(t, base, p)
		if !strings.Contains(p.IDs["question"], id) {
			t.Fatalf("%s: the confirmation of %s asks %q, not about %s", p.URL, action, p.IDs["question"], id)
		}
		before() // nothing changed yet
		br.clickAndLoad("confirm")
		p = br.read()
		checkClean(t, base, p)
		return p
	}
	state := func(t *testing.T, name, id string) *queue.State {
		t.Helper()
		st, err := q.State(ctx, name, id)
		if err != nil {
			t.Fatalf("Redis: state of %s on %s: %v", id, name, err)
		}
		return st
	}

	t.Run("retry", func(t *testing.T) {
		br := br.in(t)
		p := open(br, t, mailQueue, poisonID)
		p.want(t, "task-status", "dead")
		p.wantIn(t, "attempt-0", "attempt-number", "1")
		p.wantIn(t, "attempt-0", "attempt-outcome", "dead")
		p.wantIn(t, "attempt-0", "attempt-kind", "e2e.poisoned")
		p.wantIn(t, "attempt-0", "attempt-error", "poisoned: bad address")
		p.wantNone(t, "attempt-1")

		old := deadMessage(t, q, mailQueue, poisonID)
		p = confirm(br, t, "action-retry", poisonID, func() {
			if ts, err := q.Find(ctx, poisonID); err != nil || len(ts) != 1 || ts[0].Status != queue.Dead {
				t.Errorf("Redis before the confirmation: %s is %+v, %v; want dead alone", poisonID, ts, err)
			}
		})

		// The browser is on the new task's page.
		u, err := url.Parse(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		newID := u.Query().Get("id")
		if !strings.HasSuffix(u.Path, "/task") || newID == "" || newID == poisonID {
			t.Fatalf("after the retry the browser is on %s, want a new task's page", p.URL)
		}
		p.want(t, "task-id", newID)
		p.want(t, "task-name", old.Task)
		if !strings.Contains(p.Text, "Enqueued again as this new task, from task "+poisonID) {
			t.Errorf("%s: no notice of the retry:\n%s", p.URL, p.Text)
		}

		// In Redis: a new task of the same name and arguments, queued at
		// attempt 1; the dead letter stays.
		ts, err := q.Find(ctx, newID)
		if err != nil || len(ts) != 1 || ts[0].Queue != mailQueue || ts[0].Status != queue.Queued || ts[0].Task != old.Task {
			t.Errorf("Redis: Find(%s) = %+v, %v; want one task %s queued on %s", newID, ts, err, old.Task, mailQueue)
		}
		st := state(t, mailQueue, newID)
		if st.Task != old.Task || st.Status != queue.Queued || st.Attempt != 1 {
			t.Errorf("Redis: state of %s %+v, want %s queued at attempt 1", newID, st, old.Task)
		}
		m, err := q.Message(ctx, mailQueue, newID)
		if err != nil {
			t.Fatalf("Redis: message of %s: %v", newID, err)
		}
		if m.Task != old.Task || !bytes.Equal(m.Payload, old.Payload) || string(m.Payload) != `"poison@example.com"` {
			t.Errorf("Redis: %s's message is %s(%s), want %s(%s)", newID, m.Task, m.Payload, old.Task, old.Payload)
		}
		if st := state(t, mailQueue, poisonID); st.Status != queue.Dead {
			t.Errorf("Redis: %s is %s after the retry, want still dead", poisonID, st.Status)
		}
	})

	t.Run("requeue", func(t *testing.T) {
		br := br.in(t)
		as, err := q.Attempts(ctx, reportQueue, reportID)
		if err != nil || len(as) != 1 || as[0].Kind == "" || as[0].Error == "" {
			t.Fatalf("Redis: attempts of %s: %+v, %v; want one, with a kind and an error", reportID, as, err)
		}
		p := open(br, t, reportQueue, reportID)
		p.want(t, "task-status", "dead")
		p.wantIn(t, "attempt-0", "attempt-number", "1")
		p.wantIn(t, "attempt-0", "attempt-outcome", "dead")
		wantWorker := as[0].Worker // none: the run of a task no worker knows never starts
		if wantWorker == "" {
			wantWorker = "-"
		}
		p.wantIn(t, "attempt-0", "attempt-worker", wantWorker)
		p.wantIn(t, "attempt-0", "attempt-kind", as[0].Kind)
		p.wantIn(t, "attempt-0", "attempt-error", as[0].Error)
		p.wantNone(t, "attempt-1")

		p = confirm(br, t, "action-requeue", reportID, func() {
			if st := state(t, reportQueue, reportID); st.Status != queue.Dead {
				t.Errorf("Redis before the confirmation: %s is %s, want dead", reportID, st.Status)
			}
		})
		p.want(t, "task-id", reportID) // back on its page
		if !strings.Contains(p.Text, "Requeued 1 dead letters of queue "+reportQueue) {
			t.Errorf("%s: no notice of the requeue:\n%s", p.URL, p.Text)
		}
		p.want(t, "task-status", "queued")

		st := state(t, reportQueue, reportID)
		if st.Status != queue.Queued || st.Attempt != 1 {
			t.Errorf("Redis: %s is %+v after the requeue, want queued at attempt 1", reportID, st)
		}
		ts, err := q.Find(ctx, reportID)
		if err != nil || len(ts) != 1 || ts[0].Status != queue.Queued || ts[0].Attempt != 1 {
			t.Errorf("Redis: Find(%s) = %+v, %v; want one task queued at attempt 1", reportID, ts, err)
		}
		dls, err := q.DeadLetters(ctx, reportQueue, 10)
		if err != nil || len(dls) != 0 {
			t.Errorf("Redis: dead letters of %s after the requeue: %+v, %v; want none", reportQueue, dls, err)
		}
		wantStats(t, q, reportQueue, counts{Ready: 1})
	})

	t.Run("cancel", func(t *testing.T) {
		br := br.in(t)
		const id = "ready-1"
		p := open(br, t, mailQueue, id)
		p.want(t, "task-status", "queued")
		p.want(t, "attempts", "No run recorded.")
		p = confirm(br, t, "action-cancel", id, func() {
			if st := state(t, mailQueue, id); st.Status != queue.Queued {
				t.Errorf("Redis before the confirmation: %s is %s, want queued", id, st.Status)
			}
		})
		p.want(t, "task-id", id)
		if !strings.Contains(p.Text, "Canceled: the task will not run.") {
			t.Errorf("%s: no notice of the cancel:\n%s", p.URL, p.Text)
		}
		p.want(t, "task-status", "canceled")
		p.wantNone(t, "action-cancel")

		if st := state(t, mailQueue, id); st.Status != queue.Canceled {
			t.Errorf("Redis: %s is %+v after the cancel, want canceled", id, st)
		}
		ready, err := q.Tasks(ctx, mailQueue, queue.ReadyTasks, 0)
		if err != nil || hasTask(ready, id) {
			t.Errorf("Redis: the ready tasks of %s after the cancel are %v, %v; want no %s", mailQueue, ids(ready), err, id)
		}
	})

	t.Run("purge record", func(t *testing.T) {
		br := br.in(t)
		p := open(br, t, receiptQueue, receiptID)
		p.want(t, "task-status", "succeeded")
		p.want(t, "task-record-status", "succeeded")
		p = confirm(br, t, "action-purge-record", receiptID, func() {
			if _, err := b.Store().Get(ctx, receiptQueue, receiptID); err != nil {
				t.Errorf("Redis before the confirmation: the record of %s: %v; want it stored", receiptID, err)
			}
		})
		p.want(t, "task-id", receiptID)
		if !strings.Contains(p.Text, "Deleted the stored record of this task.") {
			t.Errorf("%s: no notice of the purge:\n%s", p.URL, p.Text)
		}
		p.wantNone(t, "task-record")
		p.wantNone(t, "action-purge-record")

		if rec, err := b.Store().Get(ctx, receiptQueue, receiptID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Redis: the record of %s after the purge: %+v, %v; want store.ErrNotFound", receiptID, rec, err)
		}
	})
}

// seedReceipt runs task receipt-1 of queue receipts to success on a
// worker that stores its result, and waits for the record.
func seedReceipt(t testing.TB, b *redisbackend.Backend) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	receipt := task.New("send-receipt", func(_ context.Context, order int) (string, error) { return "sent", nil },
		middleware.StoreResult(b.Store()))
	client := worker.NewClient(b.Queue(), b.Store())
	h, err := worker.Enqueue(ctx, client, receipt, 42, worker.OnQueue(receiptQueue), worker.ID(receiptID))
	if err != nil {
		t.Fatalf("e2e: seed: enqueue %s: %v", receiptID, err)
	}
	w := worker.New(b.Queue(), worker.Queues(receiptQueue), worker.Name("e2e-receipt-worker"),
		worker.PollWait(50*time.Millisecond), worker.OnError(func(err error) { t.Logf("e2e: receipt worker: %v", err) }))
	worker.Register(w, receipt)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	got, err := h.Get(ctx)
	stop()
	if werr := <-done; werr != nil {
		t.Fatalf("e2e: seed: receipt worker: %v", werr)
	}
	if err != nil || got != "sent" {
		t.Fatalf("e2e: seed: %s ended with %q, %v; want sent", receiptID, got, err)
	}
	if rec, err := b.Store().Get(ctx, receiptQueue, receiptID); err != nil || rec.Status != store.Succeeded {
		t.Fatalf("e2e: seed: the record of %s: %+v, %v; want succeeded", receiptID, rec, err)
	}
}

// deadMessage returns the message of dead letter id of queue name, as the
// queue keeps it.
func deadMessage(t testing.TB, q *redisbackend.Queue, name, id string) queue.Message {
	t.Helper()
	dls, err := q.DeadLetters(context.Background(), name, 100)
	if err != nil {
		t.Fatalf("Redis: dead letters of %s: %v", name, err)
	}
	for _, dl := range dls {
		if dl.ID == id {
			return dl.Message
		}
	}
	t.Fatalf("Redis: no dead letter %s on %s", id, name)
	return queue.Message{}
}
