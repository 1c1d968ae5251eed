package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// at has nanoseconds below the microsecond, which stores may drop.
var at = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// errExpired stands for a skip reason of some other package ("expired"):
// a sentinel of the test's own, made once, since kinds are unique.
var errExpired = task.NewError("store_test.expired", "store_test: expired")

// sameRecord fails t unless got holds every field of want: At to the
// microsecond, and ExpiresAt, which Put ignores, is not compared.
func sameRecord(t *testing.T, got, want *store.Record) {
	t.Helper()
	if got == nil {
		t.Fatalf("record %q/%q: got nil", want.Queue, want.ID)
	}
	if got.Queue != want.Queue || got.ID != want.ID || got.Task != want.Task || got.Status != want.Status ||
		!bytes.Equal(got.Value, want.Value) || got.Error != want.Error ||
		got.Kind != want.Kind || got.Attempt != want.Attempt {
		t.Errorf("record %q/%q:\n got  %+v\n want %+v", want.Queue, want.ID, *got, *want)
	}
	if got.At.UnixMicro() != want.At.UnixMicro() {
		t.Errorf("record %q/%q: At = %v, want %v to the microsecond", want.Queue, want.ID, got.At, want.At)
	}
}

// expiresAbout fails t unless rec expires ttl after a moment in [from, to],
// give or take a second.
func expiresAbout(t *testing.T, rec *store.Record, ttl time.Duration, from, to time.Time) {
	t.Helper()
	lo, hi := from.Add(ttl-time.Second), to.Add(ttl+time.Second)
	if rec.ExpiresAt.Before(lo) || rec.ExpiresAt.After(hi) {
		t.Errorf("record %q/%q: ExpiresAt = %v, want within [%v, %v] (now+%v)", rec.Queue, rec.ID, rec.ExpiresAt, lo, hi, ttl)
	}
}

func mustPut(t *testing.T, s store.Store, rec *store.Record, ttl time.Duration) {
	t.Helper()
	if err := s.Put(t.Context(), rec, ttl); err != nil {
		t.Fatalf("Put(%q/%q, %v): %v", rec.Queue, rec.ID, ttl, err)
	}
}

func mustGet(t *testing.T, s store.Store, name, id string) *store.Record {
	t.Helper()
	rec, err := s.Get(t.Context(), name, id)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", name, id, err)
	}
	return rec
}

// wantNotFound fails t unless Get of queue and id finds nothing, with a
// *store.NotFoundError that names them.
func wantNotFound(t *testing.T, s store.Store, name, id string) {
	t.Helper()
	rec, err := s.Get(t.Context(), name, id)
	var nf *store.NotFoundError
	if !errors.Is(err, store.ErrNotFound) || !errors.As(err, &nf) || rec != nil {
		t.Fatalf("Get(%q, %q) = %+v, %v; want nil and a *store.NotFoundError", name, id, rec, err)
	}
	if nf.Queue != name || nf.ID != id {
		t.Fatalf("Get(%q, %q): NotFoundError{%q, %q} names another record", name, id, nf.Queue, nf.ID)
	}
	if errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get(%q, %q) = %v matches queue.ErrNotFound", name, id, err)
	}
}

type waited struct {
	rec *store.Record
	err error
	at  time.Time
}

// goWait runs Wait in a goroutine and delivers its outcome on the channel.
// The goroutine ends when Wait does, at the latest when ctx ends.
func goWait(ctx context.Context, s store.Store, name, id string) <-chan waited {
	ch := make(chan waited, 1)
	go func() {
		rec, err := s.Wait(ctx, name, id)
		ch <- waited{rec, err, time.Now()}
	}()
	return ch
}

// settle gives waiters just started time to begin waiting (on Redis: to
// subscribe and read once).
func settle(b *taskwaretest.Backend) {
	if b.Client != nil {
		time.Sleep(150 * time.Millisecond)
	} else {
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPutGetDelete(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		recs := []*store.Record{
			{Queue: "emails", ID: "ok", Task: "resize", Status: store.Succeeded, Value: []byte("{\"w\":640}\x00\xff\r\n"), Attempt: 1, At: at},
			{Queue: "emails", ID: "failed", Task: "resize", Status: store.Failed, Error: `lock "img:7": held by another owner`, Kind: "lock.locked", Attempt: 3, At: at.Add(time.Microsecond)},
			{Queue: "", ID: "skipped", Task: "report", Status: store.Skipped, Error: "task: skipped: expired", Kind: "middleware.expired", Attempt: 2, At: at.Local()},
			{Queue: "reports", ID: "run 42/ü*?[x]", Task: "odd id, zero time", Status: store.Succeeded, Value: []byte("null")},
			{Queue: "odd:queue*?[x]", ID: "}{:", Task: "odd queue", Status: store.Succeeded, Value: []byte("1"), At: at},
		}
		const ttl = time.Hour
		for _, want := range recs {
			before := time.Now()
			mustPut(t, b.Store, want, ttl)
			got := mustGet(t, b.Store, want.Queue, want.ID)
			if want.At.IsZero() { // Put stamps it
				if got.At.Before(before.Add(-time.Second)) || got.At.After(time.Now().Add(time.Second)) {
					t.Errorf("record %q: zero At was stamped %v, not the time of the Put", want.ID, got.At)
				}
				stamped := *want
				stamped.At = got.At
				want = &stamped
			}
			sameRecord(t, got, want)
			expiresAbout(t, got, ttl, before, time.Now())
		}
		wantNotFound(t, b.Store, "emails", "never-put")
		wantNotFound(t, b.Store, "", "never-put")
		// A record is found under its own queue only.
		wantNotFound(t, b.Store, "", "ok")
		wantNotFound(t, b.Store, "reports", "ok")
		wantNotFound(t, b.Store, "emails", "skipped")

		ctx := t.Context()
		if err := b.Store.Delete(ctx, "emails", "failed"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		wantNotFound(t, b.Store, "emails", "failed")
		if err := b.Store.Delete(ctx, "emails", "failed"); err != nil {
			t.Errorf("Delete of a missing record: %v, want nil", err)
		}
		// Deleting under another queue deletes nothing.
		if err := b.Store.Delete(ctx, "reports", "ok"); err != nil {
			t.Errorf("Delete of a missing record: %v, want nil", err)
		}
		// Deleting one record leaves the others alone.
		sameRecord(t, mustGet(t, b.Store, "emails", "ok"), recs[0])
		sameRecord(t, mustGet(t, b.Store, "", "skipped"), recs[2])
		sameRecord(t, mustGet(t, b.Store, recs[4].Queue, recs[4].ID), recs[4])
	})
}

// Records are keyed by queue and ID: the same ID on two queues, and on
// queue "" (a run in-process), names distinct records, which are put,
// replaced, read, listed, waited for and deleted apart.
func TestSameIDOnTwoQueues(t *testing.T) {
	const id = "same-id"
	// Queues and IDs that a key made by joining them with ":" would mix up.
	cases := []struct {
		name string
		rec  *store.Record
	}{
		{"in-process", &store.Record{Queue: "", ID: id, Task: "t", Status: store.Succeeded, Value: []byte("in-process"), Attempt: 1, At: at}},
		{"emails", &store.Record{Queue: "emails", ID: id, Task: "t", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 2, At: at}},
		{"reports", &store.Record{Queue: "reports", ID: id, Task: "t2", Status: store.Skipped, Error: "skipped", Kind: "lock.locked", Attempt: 3, At: at}},
		{"id with a colon", &store.Record{Queue: "a", ID: "b:c", Task: "t", Status: store.Succeeded, Value: []byte("a / b:c"), Attempt: 1, At: at}},
		{"queue with a colon", &store.Record{Queue: "a:b", ID: "c", Task: "t", Status: store.Succeeded, Value: []byte("a:b / c"), Attempt: 1, At: at}},
		{"queue named as an id", &store.Record{Queue: id, ID: "", Task: "t"}}, // refused: no ID
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		var stored []*store.Record
		for _, c := range cases {
			if c.rec.ID == "" {
				if err := b.Store.Put(ctx, c.rec, time.Hour); err == nil {
					t.Errorf("%s: Put of a record without an ID = nil, want an error", c.name)
				}
				continue
			}
			mustPut(t, b.Store, c.rec, time.Hour)
			stored = append(stored, c.rec)
		}
		for _, want := range stored {
			sameRecord(t, mustGet(t, b.Store, want.Queue, want.ID), want)
		}
		list, err := b.Store.List(ctx)
		if err != nil || len(list) != len(stored) {
			t.Fatalf("List = %v, %v; want the %d records apart", list, err, len(stored))
		}
		for _, want := range stored {
			i := slices.IndexFunc(list, func(r *store.Record) bool { return r.Queue == want.Queue && r.ID == want.ID })
			if i < 0 {
				t.Fatalf("List lacks %q/%q", want.Queue, want.ID)
			}
			sameRecord(t, list[i], want)
		}

		// Replacing one leaves the others.
		replaced := *stored[1]
		replaced.Status, replaced.Value, replaced.Error, replaced.Kind = store.Succeeded, []byte("replaced"), "", ""
		mustPut(t, b.Store, &replaced, time.Hour)
		sameRecord(t, mustGet(t, b.Store, replaced.Queue, id), &replaced)
		sameRecord(t, mustGet(t, b.Store, "", id), stored[0])
		sameRecord(t, mustGet(t, b.Store, "reports", id), stored[2])

		// Deleting one leaves the others.
		if err := b.Store.Delete(ctx, "", id); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, b.Store, "", id)
		sameRecord(t, mustGet(t, b.Store, "emails", id), &replaced)
		sameRecord(t, mustGet(t, b.Store, "reports", id), stored[2])
		sameRecord(t, mustGet(t, b.Store, "a", "b:c"), stored[3])
		sameRecord(t, mustGet(t, b.Store, "a:b", "c"), stored[4])

		// A waiter on one queue is not woken by a put on another, and finds
		// its own record when it comes.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		done := goWait(wctx, b.Store, "", id)
		settle(b)
		mustPut(t, b.Store, &store.Record{Queue: "other", ID: id, Task: "t", Status: store.Succeeded, At: at}, time.Hour)
		select {
		case w := <-done:
			t.Fatalf("a Put on queue %q woke the waiter on queue %q: %+v, %v", "other", "", w.rec, w.err)
		case <-time.After(100 * time.Millisecond):
		}
		mine := &store.Record{Queue: "", ID: id, Task: "t", Status: store.Succeeded, Value: []byte("mine"), Attempt: 1, At: at}
		mustPut(t, b.Store, mine, time.Hour)
		w := <-done
		if w.err != nil {
			t.Fatalf("Wait: %v", w.err)
		}
		sameRecord(t, w.rec, mine)
	})
}

func TestRecordsShareNoMemoryWithCallers(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		value := []byte("original")
		mustPut(t, b.Store, &store.Record{Queue: "q", ID: "r", Status: store.Succeeded, Value: value, At: at}, time.Hour)
		copy(value, "CHANGED!")
		got := mustGet(t, b.Store, "q", "r")
		if string(got.Value) != "original" {
			t.Fatalf("after the caller changed the slice it put, Get returned %q", got.Value)
		}
		copy(got.Value, "CHANGED!")
		if again := mustGet(t, b.Store, "q", "r"); string(again.Value) != "original" {
			t.Errorf("after a caller changed the Value Get returned, Get returned %q", again.Value)
		}
		list, err := b.Store.List(t.Context())
		if err != nil || len(list) != 1 {
			t.Fatalf("List = %v, %v; want one record", list, err)
		}
		copy(list[0].Value, "CHANGED!")
		if again := mustGet(t, b.Store, "q", "r"); string(again.Value) != "original" {
			t.Errorf("after a caller changed the Value List returned, Get returned %q", again.Value)
		}
		// A deferred put copies the record when it is made, not when applied.
		fp, ok := b.Store.(store.FinalPutter)
		if !ok {
			t.Fatalf("the %s store is not a store.FinalPutter", b.Name)
		}
		later := &store.Record{Queue: "q", ID: "final", Status: store.Succeeded, Value: []byte("original"), At: at}
		w, err := fp.FinalPut(later, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		copy(later.Value, "CHANGED!")
		later.ID = "changed"
		if err := w.Apply(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, b.Store, "q", "final"); string(got.Value) != "original" {
			t.Errorf("after the caller changed the record it deferred, Get returned %q", got.Value)
		}
		wantNotFound(t, b.Store, "q", "changed")
	})
}

func TestTTL(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		rec := &store.Record{Queue: "q", ID: "short-lived", Task: "t", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 1, At: at}
		ttl := time.Hour
		if b.Real { // Advance sleeps
			ttl = 400 * time.Millisecond
		}
		mustPut(t, b.Store, rec, ttl)
		sameRecord(t, mustGet(t, b.Store, rec.Queue, rec.ID), rec)
		if !b.Real {
			b.Advance(ttl - time.Minute)
			sameRecord(t, mustGet(t, b.Store, rec.Queue, rec.ID), rec)
			b.Advance(2 * time.Minute)
		} else {
			b.Advance(ttl + 300*time.Millisecond)
		}
		wantNotFound(t, b.Store, rec.Queue, rec.ID)
		if list, err := b.Store.List(t.Context()); err != nil || len(list) != 0 {
			t.Errorf("List after the TTL = %v, %v; want no records", list, err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if got, err := b.Store.Wait(ctx, rec.Queue, rec.ID); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait after the TTL = %+v, %v; want it to wait until ctx ends", got, err)
		}
	})
}

func TestPutRefuses(t *testing.T) {
	rec := func(id string) *store.Record {
		return &store.Record{Queue: "q", ID: id, Task: "t", Status: store.Succeeded, Value: []byte("1"), At: at}
	}
	cases := []struct {
		name       string
		rec        *store.Record
		ttl        time.Duration
		wantConfig bool // the error matches task.ErrInvalidConfig
	}{
		{"nil record", nil, time.Hour, false},
		{"empty ID", rec(""), time.Hour, false},
		{"zero TTL", rec("zero-ttl"), 0, true},
		{"negative TTL", rec("negative-ttl"), -time.Second, true},
		// A brace would break the Redis key's hash tag, and with it every
		// List: the queue names of queue.ValidateName have none.
		{"brace in queue", &store.Record{Queue: "a}b", ID: "x", Status: store.Succeeded, At: at}, time.Hour, true},
		{"opening brace in queue", &store.Record{Queue: "{a", ID: "x", Status: store.Succeeded, At: at}, time.Hour, true},
	}
	for _, c := range cases {
		err := store.ValidatePut(c.rec, c.ttl)
		if err == nil || c.wantConfig != errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("%s: ValidatePut = %v, want an error (config: %v)", c.name, err, c.wantConfig)
		}
	}
	if err := store.ValidatePut(rec("good"), time.Nanosecond); err != nil {
		t.Errorf("ValidatePut of a good record = %v", err)
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		fp, _ := b.Store.(store.FinalPutter)
		for _, c := range cases {
			err := b.Store.Put(t.Context(), c.rec, c.ttl)
			if err == nil {
				t.Errorf("%s: Put = nil, want an error", c.name)
				continue
			}
			if c.wantConfig && !errors.Is(err, task.ErrInvalidConfig) {
				t.Errorf("%s: Put = %v, want an error matching task.ErrInvalidConfig", c.name, err)
			}
			if fp != nil {
				// A deferred put is refused when made, not when applied.
				if w, err := fp.FinalPut(c.rec, c.ttl); err == nil || w != nil {
					t.Errorf("%s: FinalPut = %v, %v; want nil and an error", c.name, w, err)
				} else if c.wantConfig && !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("%s: FinalPut = %v, want an error matching task.ErrInvalidConfig", c.name, err)
				}
			}
			if c.rec != nil {
				wantNotFound(t, b.Store, c.rec.Queue, c.rec.ID)
			}
		}
		if list, err := b.Store.List(t.Context()); err != nil || len(list) != 0 {
			t.Errorf("List after refused Puts = %v, %v; want no records", list, err)
		}
	})
}

func TestPutReplaces(t *testing.T) {
	steps := []struct {
		rec *store.Record
		ttl time.Duration
	}{
		{&store.Record{Queue: "q", ID: "r", Task: "sync", Status: store.Failed, Value: []byte("partial"), Error: `lock "k": held by another owner`, Kind: "lock.locked", Attempt: 1, At: at}, time.Hour},
		// A success leaves no Error or Kind from the failure, and its TTL.
		{&store.Record{Queue: "q", ID: "r", Task: "sync", Status: store.Succeeded, Value: []byte(`{"n":2}`), Attempt: 2, At: at.Add(time.Second)}, 10 * time.Minute},
		// A failure leaves no Value from the success.
		{&store.Record{Queue: "q", ID: "r", Task: "sync2", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 3, At: at.Add(2 * time.Second)}, 3 * time.Hour},
		// Zero fields replace set ones (At, being zero, is stamped anew).
		{&store.Record{Queue: "q", ID: "r", Status: store.Skipped}, time.Minute},
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for i, s := range steps {
			before := time.Now()
			mustPut(t, b.Store, s.rec, s.ttl)
			got := mustGet(t, b.Store, "q", "r")
			if t.Failed() {
				t.Fatalf("after step %d", i)
			}
			want := *s.rec
			if want.At.IsZero() {
				if got.At.Before(before.Add(-time.Second)) {
					t.Errorf("At %v is not from this Put", got.At)
				}
				want.At = got.At
			}
			sameRecord(t, got, &want)
			expiresAbout(t, got, s.ttl, before, time.Now())
			if t.Failed() {
				t.Fatalf("Put number %d did not replace the record", i+1)
			}
		}
		if list, err := b.Store.List(t.Context()); err != nil || len(list) != 1 {
			t.Errorf("List after replacing Puts = %v, %v; want one record", list, err)
		}
	})
}

func TestWaitReturnsAtOnceForAStoredRecord(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		rec := &store.Record{Queue: "q", ID: "done", Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
		mustPut(t, b.Store, rec, time.Hour)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		got, err := b.Store.Wait(ctx, rec.Queue, rec.ID)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Wait took %v for a stored record", d)
		}
		sameRecord(t, got, rec)
	})
}

// A waiter is woken by the Put of its record. (redisbackend's tests check
// that on Redis it is the Put's notice that wakes it, not a re-read.)
func TestWaitWakesOnPut(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		const queue, id = "q", "later"
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		done := goWait(ctx, b.Store, queue, id)
		settle(b)
		select {
		case w := <-done:
			t.Fatalf("Wait returned before the Put: %+v, %v", w.rec, w.err)
		default:
		}
		rec := &store.Record{Queue: queue, ID: id, Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
		put := time.Now()
		mustPut(t, b.Store, rec, time.Hour)
		w := <-done
		if w.err != nil {
			t.Fatalf("Wait: %v", w.err)
		}
		sameRecord(t, w.rec, rec)
		if d := w.at.Sub(put); d > 300*time.Millisecond {
			t.Errorf("Wait returned %v after the Put; want it woken by the Put", d)
		}
	})
}

// Many waiters of one record are all woken by its Put; waiters of other
// records, the same ID on other queues included, are not.
func TestWaitManyWaiters(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		const n = 16
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		hot := make([]<-chan waited, n)
		for i := range hot {
			hot[i] = goWait(ctx, b.Store, "q", "hot")
		}
		errCold := errors.New("cold waiter given up")
		coldCtx, stopCold := context.WithCancelCause(ctx)
		defer stopCold(nil)
		colds := map[string]<-chan waited{
			"q/cold":     goWait(coldCtx, b.Store, "q", "cold"),
			"other/hot":  goWait(coldCtx, b.Store, "other", "hot"),
			"(none)/hot": goWait(coldCtx, b.Store, "", "hot"),
		}
		settle(b)
		for i, ch := range hot {
			select {
			case w := <-ch:
				t.Fatalf("waiter %d returned before the Put: %+v, %v", i, w.rec, w.err)
			default:
			}
		}

		rec := &store.Record{Queue: "q", ID: "hot", Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
		put := time.Now()
		mustPut(t, b.Store, rec, time.Hour)
		for i, ch := range hot {
			w := <-ch
			if w.err != nil {
				t.Fatalf("waiter %d: %v", i, w.err)
			}
			sameRecord(t, w.rec, rec)
			if d := w.at.Sub(put); d > time.Second {
				t.Errorf("waiter %d returned %v after the Put", i, d)
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
			case <-time.After(2 * time.Second):
				t.Fatalf("Wait on %s did not return after its ctx ended", name)
			}
		}
	})
}

func TestWaitReturnsCause(t *testing.T) {
	errCause := errors.New("caller gave up")
	cases := []struct {
		name string
		// start returns the ctx to wait on, which ends after the Wait began.
		start func(parent context.Context) (context.Context, context.CancelFunc)
	}{
		{name: "ended before", start: func(parent context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(parent)
			cancel(errCause)
			return ctx, func() {}
		}},
		{name: "cancelled while waiting", start: func(parent context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(parent)
			tm := time.AfterFunc(100*time.Millisecond, func() { cancel(errCause) })
			return ctx, func() { tm.Stop(); cancel(nil) }
		}},
		{name: "deadline", start: func(parent context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(parent, 100*time.Millisecond, errCause)
		}},
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, c := range cases {
			ctx, cancel := c.start(t.Context())
			start := time.Now()
			rec, err := b.Store.Wait(ctx, "q", "never-"+c.name)
			cancel()
			if !errors.Is(err, errCause) || rec != nil {
				t.Errorf("%s: Wait = %+v, %v; want nil and ctx's cause %v", c.name, rec, err, errCause)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s: Wait took %v to see its ctx end", c.name, d)
			}
		}
	})
}

func TestRecordErr(t *testing.T) {
	cases := []struct {
		rec      store.Record
		wantNil  bool
		wantText string
		match    []error
		notMatch []error
	}{
		{
			rec:     store.Record{ID: "ok", Status: store.Succeeded, Value: []byte("1")},
			wantNil: true,
		},
		{
			rec:      store.Record{ID: "locked", Status: store.Failed, Error: `lock "k": held by another owner`, Kind: "lock.locked"},
			wantText: `lock "k": held by another owner`,
			match:    []error{lock.ErrLocked, &lock.LockedError{Key: "other"}},
			notMatch: []error{task.ErrSkipped, lock.ErrLeaseLost, lock.ErrNotHeld},
		},
		{
			rec:      store.Record{ID: "lease-lost", Status: store.Failed, Error: "lease lost", Kind: "lock.lease_lost"},
			wantText: "lease lost",
			match:    []error{lock.ErrLeaseLost, &lock.LeaseLostError{Key: "k"}},
			notMatch: []error{lock.ErrLocked, task.ErrSkipped},
		},
		{
			rec:      store.Record{ID: "not-held", Status: store.Failed, Error: `lock "k": lease not held`, Kind: "lock.not_held"},
			wantText: `lock "k": lease not held`,
			match:    []error{lock.ErrNotHeld, &lock.NotHeldError{Key: "k"}},
			notMatch: []error{lock.ErrLocked, lock.ErrLeaseLost},
		},
		{
			rec:      store.Record{ID: "skipped-locked", Status: store.Skipped, Error: "lock: held by another owner", Kind: "lock.locked"},
			wantText: "task: skipped: lock: held by another owner",
			match:    []error{task.ErrSkipped, lock.ErrLocked},
			notMatch: []error{lock.ErrLeaseLost},
		},
		{
			rec:      store.Record{ID: "skipped-expired", Status: store.Skipped, Error: "expired", Kind: errExpired.ErrorKind()},
			wantText: "task: skipped: expired",
			match:    []error{task.ErrSkipped, errExpired},
			notMatch: []error{lock.ErrLocked},
		},
		{
			rec:      store.Record{ID: "not-stored", Status: store.Failed, Error: "store: outcome not stored", Kind: "store.not_stored"},
			wantText: "store: outcome not stored",
			match:    []error{store.ErrNotStored},
			notMatch: []error{store.ErrNotFound, task.ErrSkipped},
		},
		{
			rec:      store.Record{ID: "plain", Status: store.Failed, Error: "boom", Kind: task.KindError},
			wantText: "boom",
			notMatch: []error{lock.ErrLocked, task.ErrSkipped, task.ErrInvalidConfig, errors.New("boom")},
		},
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, c := range cases {
			c.rec.Queue, c.rec.Task, c.rec.Attempt, c.rec.At = "q", "t", 1, at
			mustPut(t, b.Store, &c.rec, time.Hour)
			err := mustGet(t, b.Store, c.rec.Queue, c.rec.ID).Err()
			if c.wantNil {
				if err != nil {
					t.Errorf("%s: Err() = %v, want nil", c.rec.ID, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s: Err() = nil, want an error", c.rec.ID)
				continue
			}
			if err.Error() != c.wantText {
				t.Errorf("%s: Err() says %q, want %q", c.rec.ID, err, c.wantText)
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
	})
}

// store.ErrNotFound and queue.ErrNotFound both say "not found", and a
// stored failure of one must not match the other once read back: their
// kinds differ, and Record.Err matches by kind.
func TestNotFoundSentinelsStayDistinct(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		// The causes are the backend's own errors for things that are not
		// there, as a task would meet them.
		_, storeErr := b.Store.Get(ctx, "q", "no-such-record")
		_, workerErr := b.Queue.State(ctx, "q", "no-such-task")
		if !errors.Is(storeErr, store.ErrNotFound) || errors.Is(storeErr, queue.ErrNotFound) {
			t.Fatalf("Store.Get of a missing record = %v; want an error matching store.ErrNotFound only", storeErr)
		}
		if !errors.Is(workerErr, queue.ErrNotFound) || errors.Is(workerErr, store.ErrNotFound) {
			t.Fatalf("Queue.State of a missing task = %v; want an error matching queue.ErrNotFound only", workerErr)
		}
		cases := []struct {
			id         string
			kind       string
			cause      error
			mine, same error // the sentinel it came from, and a typed error of its kind
			theirs     []error
		}{
			{
				id: "store-not-found", kind: task.KindOf(store.ErrNotFound), cause: storeErr,
				mine: store.ErrNotFound, same: &store.NotFoundError{Queue: "x", ID: "y"},
				theirs: []error{queue.ErrNotFound, &queue.NotFoundError{Queue: "x", ID: "y"}, store.ErrNotStored},
			},
			{
				id: "worker-not-found", kind: task.KindOf(queue.ErrNotFound), cause: workerErr,
				mine: queue.ErrNotFound, same: &queue.NotFoundError{Queue: "x", ID: "y"},
				theirs: []error{store.ErrNotFound, &store.NotFoundError{Queue: "x", ID: "y"}, queue.ErrDuplicate},
			},
		}
		if cases[0].kind == cases[1].kind {
			t.Fatalf("store.ErrNotFound and queue.ErrNotFound share the kind %q", cases[0].kind)
		}
		for _, c := range cases {
			if got := task.KindOf(c.cause); got != c.kind {
				t.Fatalf("%s: the backend's error has kind %q, want %q", c.id, got, c.kind)
			}
			want := &store.Record{Queue: "q", ID: c.id, Task: "t", Status: store.Failed, Error: c.cause.Error(), Kind: c.kind, Attempt: 1, At: at}
			mustPut(t, b.Store, want, time.Hour)
			rec := mustGet(t, b.Store, "q", c.id)
			sameRecord(t, rec, want)
			err := rec.Err()
			if err == nil || err.Error() != c.cause.Error() || task.KindOf(err) != c.kind {
				t.Errorf("%s: Err() = %v (kind %q); want %q of kind %q", c.id, err, task.KindOf(err), c.cause, c.kind)
			}
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
	})
}

func TestList(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		short, advance := time.Minute, 2*time.Minute
		if b.Real {
			short, advance = 300*time.Millisecond, 500*time.Millisecond
		}
		recs := map[string]*store.Record{}
		for _, key := range []string{"reports/c", "/c", "emails/a", "/a", "emails/b:1", "emails/b", "reports/a"} {
			name, id, _ := strings.Cut(key, "/")
			recs[key] = &store.Record{Queue: name, ID: id, Task: "t-" + id, Status: store.Succeeded, Value: []byte("v-" + key), Attempt: 1, At: at}
			mustPut(t, b.Store, recs[key], time.Hour)
		}
		// By queue, then ID; queue "" first.
		order := []string{"/a", "/c", "emails/a", "emails/b", "emails/b:1", "reports/a", "reports/c"}
		mustPut(t, b.Store, &store.Record{Queue: "emails", ID: "aa-expires", Status: store.Failed, Error: "x", At: at}, short)
		mustPut(t, b.Store, &store.Record{ID: "0-expires", Status: store.Failed, Error: "x", At: at}, short)

		b.Advance(advance)
		got, err := b.Store.List(t.Context())
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var keys []string
		for _, r := range got {
			keys = append(keys, r.Queue+"/"+r.ID)
		}
		if fmt.Sprint(keys) != fmt.Sprint(order) {
			t.Fatalf("List = %v, want %v", keys, order)
		}
		if !slices.IsSortedFunc(got, store.Compare) {
			t.Errorf("List = %v is not in store.Compare's order", keys)
		}
		for i := range got {
			sameRecord(t, got[i], recs[order[i]])
			if got[i].ExpiresAt.IsZero() {
				t.Errorf("List: record %q has no ExpiresAt", keys[i])
			}
		}
		if fmt.Sprint(b.Records(t)) != fmt.Sprint(keysWithStatus(order, "succeeded")) {
			t.Errorf("Records = %v", b.Records(t))
		}
	})
}

func keysWithStatus(keys []string, status string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + " " + status
	}
	return out
}

func TestCompare(t *testing.T) {
	r := func(name, id string) *store.Record { return &store.Record{Queue: name, ID: id} }
	cases := []struct {
		a, b *store.Record
		want int
	}{
		{r("", "b"), r("a", "a"), -1}, // queue first
		{r("a", "b"), r("a", "a"), 1},
		{r("a", "a"), r("a", "a"), 0},
		{r("a", "z"), r("b", "a"), -1},
		{r("a:b", "c"), r("a", "b:c"), 1},
	}
	for _, c := range cases {
		if got := store.Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%+v, %+v) = %d, want %d", *c.a, *c.b, got, c.want)
		}
		if got := store.Compare(c.b, c.a); got != -c.want {
			t.Errorf("Compare(%+v, %+v) = %d, want %d", *c.b, *c.a, got, -c.want)
		}
	}
}
