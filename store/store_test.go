package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/testkit"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// at has nanoseconds below the microsecond, which stores may drop.
var at = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// sameRecord fails t unless got holds every field of want: At to the
// microsecond, and ExpiresAt, which Put ignores, is not compared.
func sameRecord(t *testing.T, got, want *store.Record) {
	t.Helper()
	if got == nil {
		t.Fatalf("record %q: got nil", want.ID)
	}
	if got.ID != want.ID || got.Task != want.Task || got.Status != want.Status ||
		!bytes.Equal(got.Value, want.Value) || got.Error != want.Error ||
		got.Kind != want.Kind || got.Attempt != want.Attempt {
		t.Errorf("record %q:\n got  %+v\n want %+v", want.ID, *got, *want)
	}
	if got.At.UnixMicro() != want.At.UnixMicro() {
		t.Errorf("record %q: At = %v, want %v to the microsecond", want.ID, got.At, want.At)
	}
}

// expiresAbout fails t unless rec expires ttl after a moment in [from, to],
// give or take a second.
func expiresAbout(t *testing.T, rec *store.Record, ttl time.Duration, from, to time.Time) {
	t.Helper()
	lo, hi := from.Add(ttl-time.Second), to.Add(ttl+time.Second)
	if rec.ExpiresAt.Before(lo) || rec.ExpiresAt.After(hi) {
		t.Errorf("record %q: ExpiresAt = %v, want within [%v, %v] (now+%v)", rec.ID, rec.ExpiresAt, lo, hi, ttl)
	}
}

func mustPut(t *testing.T, s store.Store, rec *store.Record, ttl time.Duration) {
	t.Helper()
	if err := s.Put(t.Context(), rec, ttl); err != nil {
		t.Fatalf("Put(%q, %v): %v", rec.ID, ttl, err)
	}
}

func mustGet(t *testing.T, s store.Store, id string) *store.Record {
	t.Helper()
	rec, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return rec
}

func wantNotFound(t *testing.T, s store.Store, id string) {
	t.Helper()
	rec, err := s.Get(t.Context(), id)
	if !errors.Is(err, store.ErrNotFound) || rec != nil {
		t.Fatalf("Get(%q) = %+v, %v; want nil and an error matching store.ErrNotFound", id, rec, err)
	}
}

// resultKey is the documented key of id's record on a Redis backend.
func resultKey(b *testkit.Backend, id string) string { return b.Prefix + "result:{" + id + "}" }

// readHook is a go-redis hook that counts the store's reads of one record
// (a Get is one pipeline that starts with HGETALL of the record's key), and
// runs before, if set, ahead of each.
type readHook struct {
	key    string
	n      atomic.Int64
	before func(n int64)
}

func (h *readHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *readHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *readHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "get" && fmt.Sprint(cmds[0].Args()[1]) == h.key {
			n := h.n.Add(1)
			if h.before != nil {
				h.before(n)
			}
		}
		return next(ctx, cmds)
	}
}

// eventually polls cond for up to d and reports whether it came true.
func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(2 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

type waited struct {
	rec *store.Record
	err error
	at  time.Time
}

// goWait runs Wait in a goroutine and delivers its outcome on the channel.
// The goroutine ends when Wait does, at the latest when ctx ends.
func goWait(ctx context.Context, s store.Store, id string) <-chan waited {
	ch := make(chan waited, 1)
	go func() {
		rec, err := s.Wait(ctx, id)
		ch <- waited{rec, err, time.Now()}
	}()
	return ch
}

func TestPutGetDelete(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		recs := []*store.Record{
			{ID: "ok", Task: "resize", Status: store.Succeeded, Value: []byte("{\"w\":640}\x00\xff\r\n"), Attempt: 1, At: at},
			{ID: "failed", Task: "resize", Status: store.Failed, Error: `lock "img:7": held by another owner`, Kind: "locked", Attempt: 3, At: at.Add(time.Microsecond)},
			{ID: "skipped", Task: "report", Status: store.Skipped, Error: "task: skipped: expired", Kind: "expired", Attempt: 2, At: at.Local()},
			{ID: "run 42/ü*?[x]", Task: "odd id, zero time", Status: store.Succeeded, Value: []byte("null")},
		}
		const ttl = time.Hour
		for _, want := range recs {
			before := time.Now()
			mustPut(t, b.Store, want, ttl)
			got := mustGet(t, b.Store, want.ID)
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
		wantNotFound(t, b.Store, "never-put")

		ctx := t.Context()
		if err := b.Store.Delete(ctx, "failed"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		wantNotFound(t, b.Store, "failed")
		if err := b.Store.Delete(ctx, "failed"); err != nil {
			t.Errorf("Delete of a missing record: %v, want nil", err)
		}
		// Deleting one record leaves the others alone.
		sameRecord(t, mustGet(t, b.Store, "ok"), recs[0])
		sameRecord(t, mustGet(t, b.Store, "skipped"), recs[2])
	})
}

func TestRecordsShareNoMemoryWithCallers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		value := []byte("original")
		mustPut(t, b.Store, &store.Record{ID: "r", Status: store.Succeeded, Value: value, At: at}, time.Hour)
		copy(value, "CHANGED!")
		got := mustGet(t, b.Store, "r")
		if string(got.Value) != "original" {
			t.Fatalf("after the caller changed the slice it put, Get returned %q", got.Value)
		}
		copy(got.Value, "CHANGED!")
		if again := mustGet(t, b.Store, "r"); string(again.Value) != "original" {
			t.Errorf("after a caller changed the Value Get returned, Get returned %q", again.Value)
		}
		list, err := b.Store.List(t.Context())
		if err != nil || len(list) != 1 {
			t.Fatalf("List = %v, %v; want one record", list, err)
		}
		copy(list[0].Value, "CHANGED!")
		if again := mustGet(t, b.Store, "r"); string(again.Value) != "original" {
			t.Errorf("after a caller changed the Value List returned, Get returned %q", again.Value)
		}
	})
}

func TestTTL(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		rec := &store.Record{ID: "short-lived", Task: "t", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 1, At: at}
		ttl := time.Hour
		if b.Real { // Advance sleeps
			ttl = 400 * time.Millisecond
		}
		mustPut(t, b.Store, rec, ttl)
		sameRecord(t, mustGet(t, b.Store, rec.ID), rec)
		if !b.Real {
			b.Advance(ttl - time.Minute)
			sameRecord(t, mustGet(t, b.Store, rec.ID), rec)
			b.Advance(2 * time.Minute)
		} else {
			b.Advance(ttl + 300*time.Millisecond)
		}
		wantNotFound(t, b.Store, rec.ID)
		if list, err := b.Store.List(t.Context()); err != nil || len(list) != 0 {
			t.Errorf("List after the TTL = %v, %v; want no records", list, err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if got, err := b.Store.Wait(ctx, rec.ID); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait after the TTL = %+v, %v; want it to wait until ctx ends", got, err)
		}
	})
}

func TestPutRefuses(t *testing.T) {
	rec := func(id string) *store.Record {
		return &store.Record{ID: id, Task: "t", Status: store.Succeeded, Value: []byte("1"), At: at}
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
	}
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		for _, c := range cases {
			err := b.Store.Put(t.Context(), c.rec, c.ttl)
			if err == nil {
				t.Errorf("%s: Put = nil, want an error", c.name)
				continue
			}
			if c.wantConfig && !errors.Is(err, task.ErrInvalidConfig) {
				t.Errorf("%s: Put = %v, want an error matching task.ErrInvalidConfig", c.name, err)
			}
			if c.rec != nil {
				wantNotFound(t, b.Store, c.rec.ID)
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
		{&store.Record{ID: "r", Task: "sync", Status: store.Failed, Value: []byte("partial"), Error: `lock "k": held by another owner`, Kind: "locked", Attempt: 1, At: at}, time.Hour},
		// A success leaves no Error or Kind from the failure, and its TTL.
		{&store.Record{ID: "r", Task: "sync", Status: store.Succeeded, Value: []byte(`{"n":2}`), Attempt: 2, At: at.Add(time.Second)}, 10 * time.Minute},
		// A failure leaves no Value from the success.
		{&store.Record{ID: "r", Task: "sync2", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 3, At: at.Add(2 * time.Second)}, 3 * time.Hour},
		// Zero fields replace set ones (At, being zero, is stamped anew).
		{&store.Record{ID: "r", Status: store.Skipped}, time.Minute},
	}
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		for i, s := range steps {
			before := time.Now()
			mustPut(t, b.Store, s.rec, s.ttl)
			got := mustGet(t, b.Store, "r")
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
	})
}

func TestWaitReturnsAtOnceForAStoredRecord(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		rec := &store.Record{ID: "done", Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
		mustPut(t, b.Store, rec, time.Hour)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		got, err := b.Store.Wait(ctx, rec.ID)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Wait took %v for a stored record", d)
		}
		sameRecord(t, got, rec)
	})
}

func TestWaitWakesOnPut(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		const id = "later"
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var reads *readHook
		if b.Client != nil {
			reads = &readHook{key: resultKey(b, id)}
			b.Client.AddHook(reads)
		}
		done := goWait(ctx, b.Store, id)
		if reads != nil {
			// Once the waiter has read twice (at once, then 250ms later), its
			// next safety re-read is 500ms away: waking sooner takes the notice.
			eventually(2*time.Second, func() bool { return reads.n.Load() >= 2 })
		} else {
			time.Sleep(50 * time.Millisecond)
		}
		select {
		case w := <-done:
			t.Fatalf("Wait returned before the Put: %+v, %v", w.rec, w.err)
		default:
		}
		rec := &store.Record{ID: id, Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
		put := time.Now()
		mustPut(t, b.Store, rec, time.Hour)
		w := <-done
		if w.err != nil {
			t.Fatalf("Wait: %v", w.err)
		}
		sameRecord(t, w.rec, rec)
		if d := w.at.Sub(put); d > 300*time.Millisecond {
			t.Errorf("Wait returned %v after the Put; want it woken by the Put, not by a re-read", d)
		}
	})
}

func TestWaitManyWaiters(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		const n = 16
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var reads *readHook
		if b.Client != nil {
			reads = &readHook{key: resultKey(b, "hot")}
			b.Client.AddHook(reads)
		}
		hot := make([]<-chan waited, n)
		for i := range hot {
			hot[i] = goWait(ctx, b.Store, "hot")
		}
		errCold := errors.New("cold waiter given up")
		coldCtx, stopCold := context.WithCancelCause(ctx)
		defer stopCold(nil)
		cold := goWait(coldCtx, b.Store, "cold")

		if reads != nil {
			if !eventually(5*time.Second, func() bool { return reads.n.Load() >= n }) {
				t.Fatalf("only %d of %d waiters read the record", reads.n.Load(), n)
			}
			// Waiters share one subscription, opened while anyone waits.
			if subs := numsub(t, b); subs != 1 {
				t.Errorf("the waiters hold %d subscriptions, want 1 shared by all", subs)
			}
		} else {
			time.Sleep(50 * time.Millisecond)
		}

		rec := &store.Record{ID: "hot", Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
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

		select {
		case w := <-cold:
			t.Fatalf("the waiter on another ID returned: %+v, %v", w.rec, w.err)
		case <-time.After(100 * time.Millisecond):
		}
		stopCold(errCold)
		select {
		case w := <-cold:
			if !errors.Is(w.err, errCold) || w.rec != nil {
				t.Errorf("cold Wait = %+v, %v; want ctx's cause %v", w.rec, w.err, errCold)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("cold Wait did not return after its ctx ended")
		}
		if reads != nil && !eventually(2*time.Second, func() bool { return numsub(t, b) == 0 }) {
			t.Errorf("the subscription outlives its waiters: %d subscribers", numsub(t, b))
		}
	})
}

// numsub returns how many clients subscribe to the store's notices.
func numsub(t *testing.T, b *testkit.Backend) int64 {
	t.Helper()
	ch := b.Prefix + "result:done"
	m, err := b.Client.PubSubNumSub(context.Background(), ch).Result()
	if err != nil {
		t.Fatalf("PUBSUB NUMSUB: %v", err)
	}
	return m[ch]
}

func TestWaitReturnsCause(t *testing.T) {
	errCause := errors.New("caller gave up")
	cases := []struct {
		name      string
		redisOnly bool
		// start returns the ctx to wait on, which ends after the Wait began,
		// given the hook that sees the Wait's reads on a Redis backend.
		start func(parent context.Context, reads *readHook) (context.Context, context.CancelFunc)
	}{
		{name: "ended before", start: func(parent context.Context, _ *readHook) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(parent)
			cancel(errCause)
			return ctx, func() {}
		}},
		{name: "cancelled while waiting", start: func(parent context.Context, _ *readHook) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(parent)
			tm := time.AfterFunc(100*time.Millisecond, func() { cancel(errCause) })
			return ctx, func() { tm.Stop(); cancel(nil) }
		}},
		{name: "deadline", start: func(parent context.Context, _ *readHook) (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(parent, 100*time.Millisecond, errCause)
		}},
		{name: "cancelled during a read", redisOnly: true, start: func(parent context.Context, reads *readHook) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(parent)
			reads.before = func(int64) { cancel(errCause) }
			return ctx, func() { cancel(nil) }
		}},
	}
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		for _, c := range cases {
			if c.redisOnly && b.Client == nil {
				continue
			}
			id := "never-" + c.name
			var reads *readHook
			if b.Client != nil {
				reads = &readHook{key: resultKey(b, id)}
				b.Client.AddHook(reads)
			}
			ctx, cancel := c.start(t.Context(), reads)
			start := time.Now()
			rec, err := b.Store.Wait(ctx, id)
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

func TestWaitFindsARecordWrittenWithoutANotice(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		if b.Client == nil {
			t.Skip("only a Redis store can be written behind its back")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		rec := &store.Record{ID: "sneaky", Task: "t", Status: store.Failed, Value: []byte("v"), Error: "boom", Kind: "locked", Attempt: 4, At: at}
		// The value written by hand is the one the store writes for rec,
		// copied from a record put under another ID (the ID is in the key).
		probe := *rec
		probe.ID = "probe"
		mustPut(t, b.Store, &probe, time.Hour)
		raw, err := b.Client.Get(ctx, resultKey(b, "probe")).Result()
		if err != nil {
			t.Fatalf("the probe record: %v", err)
		}

		reads := &readHook{key: resultKey(b, rec.ID)}
		b.Client.AddHook(reads)
		done := goWait(ctx, b.Store, rec.ID)
		if !eventually(2*time.Second, func() bool { return reads.n.Load() >= 2 }) {
			t.Fatal("the waiter did not read the record")
		}
		key := resultKey(b, rec.ID)
		if err := b.Client.Set(ctx, key, raw, time.Hour).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		written := time.Now()
		w := <-done
		if w.err != nil {
			t.Fatalf("Wait: %v", w.err)
		}
		sameRecord(t, w.rec, rec)
		if d := w.at.Sub(written); d > 3*time.Second {
			t.Errorf("Wait found the record %v after it was written; want a re-read within a few seconds", d)
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
			rec:      store.Record{ID: "locked", Status: store.Failed, Error: `lock "k": held by another owner`, Kind: "locked"},
			wantText: `lock "k": held by another owner`,
			match:    []error{lock.ErrLocked, &lock.LockedError{Key: "other"}},
			notMatch: []error{task.ErrSkipped, lock.ErrLeaseLost},
		},
		{
			rec:      store.Record{ID: "lease-lost", Status: store.Failed, Error: "lease lost", Kind: "lease_lost"},
			wantText: "lease lost",
			match:    []error{lock.ErrLeaseLost},
			notMatch: []error{lock.ErrLocked, task.ErrSkipped},
		},
		{
			rec:      store.Record{ID: "skipped-locked", Status: store.Skipped, Error: "lock: held by another owner", Kind: "locked"},
			wantText: "task: skipped: lock: held by another owner",
			match:    []error{task.ErrSkipped, lock.ErrLocked},
			notMatch: []error{lock.ErrLeaseLost},
		},
		{
			rec:      store.Record{ID: "skipped-expired", Status: store.Skipped, Error: "expired", Kind: "expired"},
			wantText: "task: skipped: expired",
			match:    []error{task.ErrSkipped, task.NewError("expired", "an expired sentinel")},
			notMatch: []error{lock.ErrLocked},
		},
		{
			rec:      store.Record{ID: "plain", Status: store.Failed, Error: "boom", Kind: task.KindError},
			wantText: "boom",
			notMatch: []error{lock.ErrLocked, task.ErrSkipped, task.ErrInvalidConfig, errors.New("boom")},
		},
	}
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		for _, c := range cases {
			c.rec.Task, c.rec.Attempt, c.rec.At = "t", 1, at
			mustPut(t, b.Store, &c.rec, time.Hour)
			err := mustGet(t, b.Store, c.rec.ID).Err()
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

func TestList(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		short, advance := time.Minute, 2*time.Minute
		if b.Real {
			short, advance = 300*time.Millisecond, 500*time.Millisecond
		}
		recs := map[string]*store.Record{}
		for _, id := range []string{"c", "a", "b:1", "b"} {
			recs[id] = &store.Record{ID: id, Task: "t-" + id, Status: store.Succeeded, Value: []byte("v-" + id), Attempt: 1, At: at}
			mustPut(t, b.Store, recs[id], time.Hour)
		}
		want := []*store.Record{recs["a"], recs["b"], recs["b:1"], recs["c"]}
		mustPut(t, b.Store, &store.Record{ID: "aa-expires", Status: store.Failed, Error: "x", At: at}, short)

		var other store.Store
		if b.Client != nil {
			// A store under another prefix whose keys start with this one's.
			other = store.NewRedis(b.Client, store.WithPrefix(b.Prefix+"other:"))
			mustPut(t, other, &store.Record{ID: "0-other", Status: store.Succeeded, Value: []byte("o"), At: at}, time.Hour)
		}

		b.Advance(advance)
		got, err := b.Store.List(t.Context())
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		ids := func(rs []*store.Record) (s []string) {
			for _, r := range rs {
				s = append(s, r.ID)
			}
			return s
		}
		if fmt.Sprint(ids(got)) != fmt.Sprint(ids(want)) {
			t.Fatalf("List = %v, want %v", ids(got), ids(want))
		}
		for i := range got {
			sameRecord(t, got[i], want[i])
			if got[i].ExpiresAt.IsZero() {
				t.Errorf("List: record %q has no ExpiresAt", got[i].ID)
			}
		}
		if other != nil {
			got, err := other.List(t.Context())
			if err != nil || fmt.Sprint(ids(got)) != "[0-other]" {
				t.Errorf("List of the other prefix = %v, %v; want [0-other]", ids(got), err)
			}
		}
	})
}

func TestRoundTrips(t *testing.T) {
	testkit.Each(t, func(t *testing.T, b *testkit.Backend) {
		if b.Client == nil {
			t.Skip("round trips are counted on Redis")
		}
		// Warm up: the first Put may load the script, and the first Get may
		// dial a connection (go-redis keeps one pool for pipelines), whose
		// handshake the hook would count.
		mustPut(t, b.Store, &store.Record{ID: "warm-up", Status: store.Succeeded, At: at}, time.Hour)
		mustGet(t, b.Store, "warm-up")
		var c testkit.Counter
		b.Client.AddHook(&c)
		rec := &store.Record{ID: "r", Task: "t", Status: store.Failed, Value: []byte("v"), Error: "e", Kind: "locked", Attempt: 2, At: at}
		steps := []struct {
			name string
			do   func()
		}{
			{"Put", func() { mustPut(t, b.Store, rec, time.Hour) }},
			{"Get", func() { sameRecord(t, mustGet(t, b.Store, "r"), rec) }},
			{"Get of a missing record", func() { wantNotFound(t, b.Store, "missing") }},
		}
		for _, s := range steps {
			before := c.N()
			s.do()
			if n := c.N() - before; n != 1 {
				t.Errorf("%s took %d round trips, want 1", s.name, n)
			}
		}
	})
}

func TestNewRedisRefusesBadConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never used
	defer c.Close()
	cases := []struct {
		name   string
		client redis.UniversalClient
		prefix string
	}{
		{"nil client", nil, ""},
		{"brace in prefix", c, "app{1}:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("NewRedis panicked with %v, want an error matching task.ErrInvalidConfig", err)
				}
			}()
			store.NewRedis(tc.client, store.WithPrefix(tc.prefix))
		})
	}
}
