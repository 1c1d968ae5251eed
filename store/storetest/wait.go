package storetest

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

type waited struct {
	rec *store.Record
	err error
	at  time.Time
}

// goWait runs Wait in a goroutine until it returns, at the latest when t
// ends, and delivers its outcome.
func goWait(t *tester, name, id string) <-chan waited {
	return goWaitCtx(t.Context(), t.s, name, id)
}

func goWaitCtx(ctx context.Context, s store.Store, name, id string) <-chan waited {
	ch := make(chan waited, 1)
	go func() {
		rec, err := s.Wait(ctx, name, id)
		ch <- waited{rec, err, time.Now()}
	}()
	return ch
}

// settle gives waiters just started time to begin waiting (on Redis: to
// subscribe and read once).
func settle() { time.Sleep(150 * time.Millisecond) }

func timeout(t *tester, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

// Records are keyed by queue and ID: the same ID on two queues, and on
// queue "" (a run in-process), names distinct records, which are put,
// replaced, read, listed, waited for and deleted apart.
func sameIDOnTwoQueues(t *tester) {
	const id = "same-id"
	// Queues and IDs that a key made by joining them with ":" would mix up.
	stored := []*store.Record{
		{Queue: "", ID: id, Task: "t", Status: store.Succeeded, Value: []byte("in-process"), Attempt: 1, At: at},
		{Queue: "emails", ID: id, Task: "t", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 2, At: at},
		{Queue: "reports", ID: id, Task: "t2", Status: store.Skipped, Error: "skipped", Kind: "lock.locked", Attempt: 3, At: at},
		{Queue: "a", ID: "b:c", Task: "t", Status: store.Succeeded, Value: []byte("a / b:c"), Attempt: 1, At: at},
		{Queue: "a:b", ID: "c", Task: "t", Status: store.Succeeded, Value: []byte("a:b / c"), Attempt: 1, At: at},
	}
	for _, rec := range stored {
		t.put(rec, time.Hour)
	}
	if err := t.s.Put(t.Context(), &store.Record{Queue: id, Task: "t"}, time.Hour); err == nil {
		t.Fatal("Put of a record without an ID = nil, want an error")
	}
	for _, want := range stored {
		same(t, t.get(want.Queue, want.ID), want)
	}
	list := t.list()
	if len(list) != len(stored) {
		t.Fatalf("List = %v; want the %d records apart", list, len(stored))
	}
	for _, want := range stored {
		i := slices.IndexFunc(list, func(r *store.Record) bool { return r.Queue == want.Queue && r.ID == want.ID })
		if i < 0 {
			t.Fatalf("List lacks %q/%q", want.Queue, want.ID)
		}
		same(t, list[i], want)
	}

	replaced := *stored[1]
	replaced.Status, replaced.Value, replaced.Error, replaced.Kind = store.Succeeded, []byte("replaced"), "", ""
	t.put(&replaced, time.Hour)
	same(t, t.get(replaced.Queue, id), &replaced)
	same(t, t.get("", id), stored[0])
	same(t, t.get("reports", id), stored[2])

	if err := t.s.Delete(t.Context(), "", id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	t.notFound("", id)
	same(t, t.get("emails", id), &replaced)
	same(t, t.get("reports", id), stored[2])
	same(t, t.get("a", "b:c"), stored[3])
	same(t, t.get("a:b", "c"), stored[4])

	// A waiter on one queue is not woken by a put on another, and finds its
	// own record when it comes.
	done := goWait(t, "", id)
	settle()
	t.put(&store.Record{Queue: "other", ID: id, Task: "t", Status: store.Succeeded, At: at}, time.Hour)
	select {
	case w := <-done:
		t.Fatalf("a Put on queue %q woke the waiter on queue %q: %+v, %v", "other", "", w.rec, w.err)
	case <-time.After(100 * time.Millisecond):
	}
	mine := &store.Record{Queue: "", ID: id, Task: "t", Status: store.Succeeded, Value: []byte("mine"), Attempt: 1, At: at}
	t.put(mine, time.Hour)
	select {
	case w := <-done:
		if w.err != nil {
			t.Fatalf("Wait: %v", w.err)
		}
		same(t, w.rec, mine)
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter was not woken within 5s of its Put")
	}
}

// A stored failure keeps its kind: read back, Err matches the sentinels
// of its kind, and a skip matches task.ErrSkipped too.
func errorKinds(t *tester) {
	cases := []struct {
		rec      store.Record
		wantNil  bool
		wantText string
		match    []error
		notMatch []error
	}{
		{rec: store.Record{ID: "ok", Status: store.Succeeded, Value: []byte("1")}, wantNil: true},
		{rec: store.Record{ID: "locked", Status: store.Failed, Error: `lock "k": held by another owner`, Kind: "lock.locked"},
			wantText: `lock "k": held by another owner`,
			match:    []error{lock.ErrLocked, &lock.LockedError{Key: "other"}},
			notMatch: []error{task.ErrSkipped, lock.ErrLeaseLost, lock.ErrNotHeld}},
		{rec: store.Record{ID: "lease-lost", Status: store.Failed, Error: "lease lost", Kind: "lock.lease_lost"},
			wantText: "lease lost",
			match:    []error{lock.ErrLeaseLost, &lock.LeaseLostError{Key: "k"}},
			notMatch: []error{lock.ErrLocked, task.ErrSkipped}},
		{rec: store.Record{ID: "skipped-locked", Status: store.Skipped, Error: "lock: held by another owner", Kind: "lock.locked"},
			wantText: "task: skipped: lock: held by another owner",
			match:    []error{task.ErrSkipped, lock.ErrLocked},
			notMatch: []error{lock.ErrLeaseLost}},
		{rec: store.Record{ID: "skipped-expired", Status: store.Skipped, Error: "expired", Kind: errExpired.ErrorKind()},
			wantText: "task: skipped: expired",
			match:    []error{task.ErrSkipped, errExpired},
			notMatch: []error{lock.ErrLocked}},
		{rec: store.Record{ID: "not-stored", Status: store.Failed, Error: "store: outcome not stored", Kind: "store.not_stored"},
			wantText: "store: outcome not stored",
			match:    []error{store.ErrNotStored},
			notMatch: []error{store.ErrNotFound, task.ErrSkipped}},
		{rec: store.Record{ID: "plain", Status: store.Failed, Error: "boom", Kind: task.KindError},
			wantText: "boom",
			notMatch: []error{lock.ErrLocked, task.ErrSkipped, task.ErrInvalidConfig, errors.New("boom")}},
	}
	for _, c := range cases {
		c.rec.Queue, c.rec.Task, c.rec.Attempt, c.rec.At = "q", "t", 1, at
		t.put(&c.rec, time.Hour)
		err := t.get(c.rec.Queue, c.rec.ID).Err()
		if c.wantNil {
			if err != nil {
				t.Errorf("%s: Err() = %v, want nil", c.rec.ID, err)
			}
			continue
		}
		if err == nil || err.Error() != c.wantText {
			t.Errorf("%s: Err() = %v, want %q", c.rec.ID, err, c.wantText)
			continue
		}
		if got, want := task.IsSkipped(err), c.rec.Status == store.Skipped; got != want {
			t.Errorf("%s: IsSkipped = %v, want %v", c.rec.ID, got, want)
		}
		for _, target := range c.match {
			if !errors.Is(err, target) {
				t.Errorf("%s: Err() = %v does not match %v", c.rec.ID, err, target)
			}
		}
		for _, target := range c.notMatch {
			if errors.Is(err, target) {
				t.Errorf("%s: Err() = %v matches %v", c.rec.ID, err, target)
			}
		}
	}
}

// store.ErrNotFound and queue.ErrNotFound both say "not found", and a
// stored failure of one must not match the other once read back: their
// kinds differ, and Record.Err matches by kind.
func notFoundKindsApart(t *tester) {
	_, storeErr := t.s.Get(t.Context(), "q", "no-such-record") // the store's own error, as a task meets it
	queueErr := error(&queue.NotFoundError{Queue: "q", ID: "no-such-task"})
	cases := []struct {
		id         string
		cause      error
		mine, same error // the sentinel it came from, and a typed error of its kind
		theirs     []error
	}{
		{id: "store-not-found", cause: storeErr, mine: store.ErrNotFound, same: &store.NotFoundError{Queue: "x", ID: "y"},
			theirs: []error{queue.ErrNotFound, &queue.NotFoundError{Queue: "x", ID: "y"}, store.ErrNotStored}},
		{id: "queue-not-found", cause: queueErr, mine: queue.ErrNotFound, same: &queue.NotFoundError{Queue: "x", ID: "y"},
			theirs: []error{store.ErrNotFound, &store.NotFoundError{Queue: "x", ID: "y"}, queue.ErrDuplicate}},
	}
	for _, c := range cases {
		kind := task.KindOf(c.cause)
		if kind != task.KindOf(c.mine) {
			t.Fatalf("%s: the error %v has kind %q, want %q", c.id, c.cause, kind, task.KindOf(c.mine))
		}
		want := &store.Record{Queue: "q", ID: c.id, Task: "t", Status: store.Failed, Error: c.cause.Error(), Kind: kind, Attempt: 1, At: at}
		t.put(want, time.Hour)
		rec := t.get("q", c.id)
		same(t, rec, want)
		err := rec.Err()
		for _, target := range []error{c.mine, c.same} {
			if !errors.Is(err, target) {
				t.Errorf("%s: Err() = %v does not match %v", c.id, err, target)
			}
		}
		for _, target := range c.theirs {
			if errors.Is(err, target) {
				t.Errorf("%s: Err() = %v matches %v (kind %q)", c.id, err, target, task.KindOf(target))
			}
		}
	}
}

// Wait returns a record stored already at once.
func waitStored(t *tester) {
	rec := &store.Record{Queue: "q", ID: "done", Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
	t.put(rec, time.Hour)
	ctx, cancel := timeout(t, 5*time.Second)
	defer cancel()
	got, err := t.s.Wait(ctx, rec.Queue, rec.ID)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	same(t, got, rec)
}

// A waiter is woken by the Put of its record, not before.
func waitWoken(t *tester) {
	done := goWait(t, "q", "later")
	settle()
	select {
	case w := <-done:
		t.Fatalf("Wait returned before the Put: %+v, %v", w.rec, w.err)
	default:
	}
	rec := &store.Record{Queue: "q", ID: "later", Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
	t.put(rec, time.Hour)
	select {
	case w := <-done:
		if w.err != nil {
			t.Fatalf("Wait: %v", w.err)
		}
		same(t, w.rec, rec)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait was not woken within 5s of the Put")
	}
}

// Many waiters of one record are all woken by its Put; waiters of other
// records, the same ID on other queues included, are not.
func waitMany(t *tester) {
	const n = 16
	hot := make([]<-chan waited, n)
	for i := range hot {
		hot[i] = goWait(t, "q", "hot")
	}
	errCold := errors.New("cold waiter given up")
	coldCtx, stopCold := context.WithCancelCause(t.Context())
	defer stopCold(nil)
	colds := map[string]<-chan waited{
		"q/cold":     goWaitCtx(coldCtx, t.s, "q", "cold"),
		"other/hot":  goWaitCtx(coldCtx, t.s, "other", "hot"),
		"(none)/hot": goWaitCtx(coldCtx, t.s, "", "hot"),
	}
	settle()
	rec := &store.Record{Queue: "q", ID: "hot", Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
	t.put(rec, time.Hour)
	deadline := time.After(5 * time.Second)
	for i, ch := range hot {
		select {
		case w := <-ch:
			if w.err != nil {
				t.Fatalf("waiter %d: %v", i, w.err)
			}
			same(t, w.rec, rec)
		case <-deadline:
			t.Fatalf("waiter %d was not woken within 5s of the Put", i)
		}
	}
	for name, ch := range colds {
		select {
		case w := <-ch:
			t.Fatalf("the waiter on %s returned: %+v, %v", name, w.rec, w.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	stopCold(errCold)
	for name, ch := range colds {
		select {
		case w := <-ch:
			if !errors.Is(w.err, errCold) || w.rec != nil {
				t.Errorf("Wait on %s = %+v, %v; want ctx's cause %v", name, w.rec, w.err, errCold)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Wait on %s did not return within 5s of its ctx ending", name)
		}
	}
}

// A Wait whose context ends returns its cause: ended before, cancelled
// while it waits, or at a deadline.
func waitCause(t *tester) {
	errCause := errors.New("caller gave up")
	cases := []struct {
		name  string
		start func(parent context.Context) (context.Context, context.CancelFunc)
	}{
		{"ended before", func(parent context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(parent)
			cancel(errCause)
			return ctx, func() {}
		}},
		{"cancelled while waiting", func(parent context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(parent)
			tm := time.AfterFunc(100*time.Millisecond, func() { cancel(errCause) })
			return ctx, func() { tm.Stop(); cancel(nil) }
		}},
		{"deadline", func(parent context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(parent, 100*time.Millisecond, errCause)
		}},
	}
	for _, c := range cases {
		ctx, cancel := c.start(t.Context())
		start := time.Now()
		rec, err := t.s.Wait(ctx, "q", "never-"+c.name)
		cancel()
		if !errors.Is(err, errCause) || rec != nil {
			t.Errorf("%s: Wait = %+v, %v; want nil and ctx's cause %v", c.name, rec, err, errCause)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: Wait took %v to see its ctx end", c.name, d)
		}
	}
}
