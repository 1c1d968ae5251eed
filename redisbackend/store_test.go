package redisbackend_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// at has nanoseconds below the microsecond, which the store drops.
var at = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// resultKey is the documented key of a record on a Redis backend.
func resultKey(b *taskwaretest.Backend, name, id string) string {
	return b.Prefix() + "result:{" + name + "}:" + id
}

// channel is the documented Pub/Sub channel of a Redis backend.
func channel(b *taskwaretest.Backend) string { return b.Prefix() + "done" }

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

func wantNotFound(t *testing.T, s store.Store, name, id string) {
	t.Helper()
	rec, err := s.Get(t.Context(), name, id)
	if !errors.Is(err, store.ErrNotFound) || rec != nil {
		t.Fatalf("Get(%q, %q) = %+v, %v; want nil and an error matching store.ErrNotFound", name, id, rec, err)
	}
}

// readHook is a go-redis hook that counts the store's reads of one record
// (a Get is one pipeline that starts with GET of the record's key), and
// runs before, if set, ahead of each.
type readHook struct {
	key string
	n   atomic.Int64
	// done counts the reads that came back: n counts each as it is sent.
	done   atomic.Int64
	before func(n int64)
}

// A read is a pipeline that starts with a GET of the key (Get), or a
// script on it by SHA (Wait's look, which also marks the task as waited
// for; a fresh server has it sent again as EVAL), alone or in a pipeline
// after the read of the queue's partition count (see lookup.go).
func (h *readHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *readHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		read := cmd.Name() == "evalsha" && len(args) > 3 && fmt.Sprint(args[3]) == h.key
		if read {
			h.read()
		}
		err := next(ctx, cmd)
		if read {
			h.done.Add(1)
		}
		return err
	}
}
func (h *readHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		first := cmds
		if len(first) > 1 && first[0].Name() == "hmget" {
			first = first[1:] // the partition count's read
		}
		read := len(first) > 0 && (first[0].Name() == "get" && fmt.Sprint(first[0].Args()[1]) == h.key ||
			first[0].Name() == "evalsha" && len(first[0].Args()) > 3 && fmt.Sprint(first[0].Args()[3]) == h.key)
		if read {
			h.read()
		}
		err := next(ctx, cmds)
		if read {
			h.done.Add(1)
		}
		return err
	}
}

func (h *readHook) read() {
	n := h.n.Add(1)
	if h.before != nil {
		h.before(n)
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
func goWait(ctx context.Context, s store.Store, name, id string) <-chan waited {
	ch := make(chan waited, 1)
	go func() {
		rec, err := s.Wait(ctx, name, id)
		ch <- waited{rec, err, time.Now()}
	}()
	return ch
}

// numsub returns how many clients subscribe to the backend's channel.
func numsub(t *testing.T, b *taskwaretest.Backend) int64 {
	t.Helper()
	ch := channel(b)
	m, err := b.Client.PubSubNumSub(context.Background(), ch).Result()
	if err != nil {
		t.Fatalf("PUBSUB NUMSUB: %v", err)
	}
	return m[ch]
}

// A record is one string under "<prefix>result:{<queue>}:<id>", with the
// record's TTL; queue "" makes "result:{}:<id>". Nothing else is written.
func TestResultKeys(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		recs := []*store.Record{
			{Queue: "", ID: "r1", Task: "t", Status: store.Succeeded, Value: []byte("in-process"), Attempt: 1, At: at},
			{Queue: "emails", ID: "r1", Task: "t", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 2, At: at},
			{Queue: "emails", ID: "a:b", Task: "t", Status: store.Succeeded, Attempt: 1, At: at},
		}
		for _, r := range recs {
			mustPut(t, b.Store, r, time.Hour)
		}
		want := []string{
			b.Prefix() + "result:{emails}:a:b",
			b.Prefix() + "result:{emails}:r1",
			b.Prefix() + "result:{}:r1",
		}
		keys, err := b.Client.Keys(ctx, b.Prefix()+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(sorted(keys)) != fmt.Sprint(sorted(want)) {
			t.Fatalf("keys %v, want %v", sorted(keys), sorted(want))
		}
		for _, r := range recs {
			key := resultKey(b, r.Queue, r.ID)
			if typ := b.Client.Type(ctx, key).Val(); typ != "string" {
				t.Errorf("%s is a %q, want a string", key, typ)
			}
			if ttl := b.Client.PTTL(ctx, key).Val(); ttl <= time.Hour-time.Minute || ttl > time.Hour {
				t.Errorf("%s has TTL %v, want the record's hour", key, ttl)
			}
		}
		// The value written under another key is that key's record: the
		// queue and ID are in the key, not in the value.
		raw, err := b.Client.Get(ctx, resultKey(b, "emails", "r1")).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Client.Set(ctx, resultKey(b, "other", "copy"), raw, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		want1 := *recs[1]
		want1.Queue, want1.ID = "other", "copy"
		sameRecord(t, mustGet(t, b.Store, "other", "copy"), &want1)

		if err := b.Store.Delete(ctx, "emails", "r1"); err != nil {
			t.Fatal(err)
		}
		if n := b.Client.Exists(ctx, resultKey(b, "emails", "r1")).Val(); n != 0 {
			t.Error("Delete left the record's key")
		}
		if n := b.Client.Exists(ctx, resultKey(b, "", "r1")).Val(); n != 1 {
			t.Error("Delete of one queue's record removed another queue's")
		}
	})
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// A value under a result key that is not a record is reported by Get and
// List, and is not taken for a missing record.
func TestMalformedRecord(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		mustPut(t, b.Store, &store.Record{Queue: "q", ID: "good", Status: store.Succeeded, At: at}, time.Hour)
		good, err := b.Client.Get(ctx, resultKey(b, "q", "good")).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "garbage", "r2" + good[2:], good[:len(good)-3] + "99:", "r1x:"} {
			if err := b.Client.Set(ctx, resultKey(b, "q", "bad"), bad, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			rec, err := b.Store.Get(ctx, "q", "bad")
			if err == nil || errors.Is(err, store.ErrNotFound) || rec != nil {
				t.Errorf("Get of %q = %+v, %v; want an error that is not ErrNotFound", bad, rec, err)
			}
			if list, err := b.Store.List(ctx); err == nil {
				t.Errorf("List with %q stored = %v, nil; want an error", bad, list)
			}
		}
	})
}

// Put, Get and Delete are one round trip each, found or not, and so is a
// deferred put applied on its own; Wait reads a stored record once.
func TestStoreRoundTrips(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		// Warm up: a pipeline (Put, Get) and a plain command (Delete) may
		// each dial a connection, whose handshake the hook would count.
		mustPut(t, b.Store, &store.Record{ID: "warm-up", Status: store.Succeeded, At: at}, time.Hour)
		mustGet(t, b.Store, "", "warm-up")
		if err := b.Store.Delete(t.Context(), "", "warm-up"); err != nil {
			t.Fatal(err)
		}
		var c taskwaretest.RoundTrips
		b.Client.AddHook(&c)
		rec := &store.Record{Queue: "q", ID: "r", Task: "t", Status: store.Failed, Value: []byte("v"), Error: "e", Kind: "lock.locked", Attempt: 2, At: at}
		final := &store.Record{Queue: "q", ID: "final", Task: "t", Status: store.Succeeded, Value: []byte("f"), Attempt: 1, At: at}
		steps := []struct {
			name string
			do   func()
		}{
			{"Put", func() { mustPut(t, b.Store, rec, time.Hour) }},
			{"Get", func() { sameRecord(t, mustGet(t, b.Store, "q", "r"), rec) }},
			{"Get of a missing record", func() { wantNotFound(t, b.Store, "q", "missing") }},
			{"FinalPut applied", func() {
				w, err := b.Redis.Store().FinalPut(final, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if err := w.Apply(t.Context()); err != nil {
					t.Fatal(err)
				}
			}},
			{"Delete", func() {
				if err := b.Store.Delete(t.Context(), "q", "r"); err != nil {
					t.Fatal(err)
				}
			}},
		}
		for _, s := range steps {
			before := c.N()
			s.do()
			if n := c.N() - before; n != 1 {
				t.Errorf("%s took %d round trips, want 1", s.name, n)
			}
		}
		// Wait for a stored record subscribes first, on a connection of its
		// own, and then reads the record once.
		reads := &readHook{key: resultKey(b, "q", "final")}
		b.Client.AddHook(reads)
		got, err := b.Store.Wait(t.Context(), "q", "final")
		if err != nil {
			t.Fatal(err)
		}
		sameRecord(t, got, final)
		if n := reads.n.Load(); n != 1 {
			t.Errorf("Wait for a stored record read it %d times, want 1", n)
		}
		sameRecord(t, mustGet(t, b.Store, "q", "final"), final)
		wantNotFound(t, b.Store, "q", "r")
	})
}

// Another prefix is another keyspace, even one that starts with this one.
func TestStorePrefixes(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		mustPut(t, b.Store, &store.Record{Queue: "q", ID: "mine", Status: store.Succeeded, Value: []byte("m"), At: at}, time.Hour)
		other := redisbackend.New(b.Client, redisbackend.Prefix(b.Prefix()+"other:")).Store()
		theirs := &store.Record{Queue: "q", ID: "0-other", Status: store.Succeeded, Value: []byte("o"), At: at}
		mustPut(t, other, theirs, time.Hour)
		ids := func(s store.Store) string {
			list, err := s.List(t.Context())
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			var out []string
			for _, r := range list {
				out = append(out, r.Queue+"/"+r.ID)
			}
			return fmt.Sprint(out)
		}
		if got := ids(b.Store); got != "[q/mine]" {
			t.Errorf("List = %v, want [q/mine]", got)
		}
		if got := ids(other); got != "[q/0-other]" {
			t.Errorf("List of the other prefix = %v, want [q/0-other]", got)
		}
		wantNotFound(t, b.Store, "q", "0-other")
		wantNotFound(t, other, "q", "mine")
		sameRecord(t, mustGet(t, other, "q", "0-other"), theirs)
	})
}

// A waiter that has read its record twice (at once, then after a pause of
// the re-read backoff) next re-reads later still: a Put then wakes it at
// once by its notice.
func TestWaitWakesOnNotice(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		const queue, id = "q", "later"
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		reads := &readHook{key: resultKey(b, queue, id)}
		b.Client.AddHook(reads)
		done := goWait(ctx, b.Store, queue, id)
		// Two reads came back (one sent, not yet run, might find the Put).
		if !eventually(2*time.Second, func() bool { return reads.done.Load() >= 2 }) {
			t.Fatalf("the waiter read the record %d times, want 2", reads.n.Load())
		}
		select {
		case w := <-done:
			t.Fatalf("Wait returned before the Put: %+v, %v", w.rec, w.err)
		default:
		}
		readsBefore := reads.n.Load()
		rec := &store.Record{Queue: queue, ID: id, Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
		put := time.Now()
		mustPut(t, b.Store, rec, time.Hour)
		w := <-done
		if w.err != nil {
			t.Fatalf("Wait: %v", w.err)
		}
		sameRecord(t, w.rec, rec)
		if d := w.at.Sub(put); d > 200*time.Millisecond {
			t.Errorf("Wait returned %v after the Put; want it woken by the Put's notice, not by a re-read", d)
		}
		if n := reads.n.Load() - readsBefore; n != 1 {
			t.Errorf("the waiter read the record %d times after the Put, want 1", n)
		}
	})
}

// Waiters, of records and of tasks alike, share the backend's one
// subscription to "<prefix>done", opened while anyone waits and closed when
// the last one leaves.
func TestWaitersShareOneSubscription(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		const n = 16
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if subs := numsub(t, b); subs != 0 {
			t.Fatalf("%d subscribers before anyone waits", subs)
		}
		reads := &readHook{key: resultKey(b, "q", "hot")}
		b.Client.AddHook(reads)
		hot := make([]<-chan waited, n)
		for i := range hot {
			hot[i] = goWait(ctx, b.Store, "q", "hot")
		}
		errCold := errors.New("cold waiter given up")
		coldCtx, stopCold := context.WithCancelCause(ctx)
		defer stopCold(nil)
		cold := goWait(coldCtx, b.Store, "", "hot")
		// A waiter of a task's state, on the same backend.
		if err := b.Queue.Enqueue(ctx, &queue.Message{ID: "task-1", Task: "t", Queue: "q"}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		stateDone := make(chan error, 1)
		go func() {
			_, err := b.Queue.Wait(coldCtx, "q", "task-1")
			stateDone <- err
		}()

		if !eventually(5*time.Second, func() bool { return reads.n.Load() >= n }) {
			t.Fatalf("only %d of %d waiters read the record", reads.n.Load(), n)
		}
		if subs := numsub(t, b); subs != 1 {
			t.Errorf("the waiters hold %d subscriptions, want 1 shared by all", subs)
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
		select {
		case w := <-cold:
			t.Fatalf("the waiter on queue \"\" returned: %+v, %v", w.rec, w.err)
		case err := <-stateDone:
			t.Fatalf("the task's waiter returned: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if subs := numsub(t, b); subs != 1 {
			t.Errorf("%d subscriptions while two still wait, want 1", subs)
		}
		stopCold(errCold)
		select {
		case w := <-cold:
			if !errors.Is(w.err, errCold) || w.rec != nil {
				t.Errorf("the record's waiter: Wait = %+v, %v; want ctx's cause %v", w.rec, w.err, errCold)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the record's waiter did not return after its ctx ended")
		}
		select {
		case err := <-stateDone:
			if !errors.Is(err, errCold) {
				t.Errorf("the task's waiter: Wait = %v; want ctx's cause %v", err, errCold)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the task's waiter did not return after its ctx ended")
		}
		if !eventually(2*time.Second, func() bool { return numsub(t, b) == 0 }) {
			t.Errorf("the subscription outlives its waiters: %d subscribers", numsub(t, b))
		}
	})
}

// A ctx that ends while Wait reads the record ends the Wait with its cause.
func TestWaitCancelledDuringARead(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		errCause := errors.New("caller gave up")
		const id = "never"
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		reads := &readHook{key: resultKey(b, "q", id), before: func(int64) { cancel(errCause) }}
		b.Client.AddHook(reads)
		start := time.Now()
		rec, err := b.Store.Wait(ctx, "q", id)
		if !errors.Is(err, errCause) || rec != nil {
			t.Errorf("Wait = %+v, %v; want nil and ctx's cause %v", rec, err, errCause)
		}
		if reads.n.Load() == 0 {
			t.Error("the Wait never read the record: the case was not exercised")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Wait took %v to see its ctx end", d)
		}
	})
}

// A record written without a notice (by another client, or whose notice
// was lost to a reconnect) is found by a re-read within a few seconds.
func TestWaitFindsARecordWrittenWithoutANotice(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		rec := &store.Record{Queue: "q", ID: "sneaky", Task: "t", Status: store.Failed, Value: []byte("v"), Error: "boom", Kind: "lock.locked", Attempt: 4, At: at}
		// The value written by hand is the one the store writes for rec,
		// copied from a record put under another ID (the ID is in the key).
		probe := *rec
		probe.ID = "probe"
		mustPut(t, b.Store, &probe, time.Hour)
		raw, err := b.Client.Get(ctx, resultKey(b, "q", "probe")).Result()
		if err != nil {
			t.Fatalf("the probe record: %v", err)
		}

		key := resultKey(b, rec.Queue, rec.ID)
		reads := &readHook{key: key}
		b.Client.AddHook(reads)
		done := goWait(ctx, b.Store, rec.Queue, rec.ID)
		if !eventually(2*time.Second, func() bool { return reads.n.Load() >= 2 }) {
			t.Fatal("the waiter did not read the record")
		}
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

// The script that ends a queued task publishes its notices only if
// someone waits: a waiter of its record (Store.Wait) is woken by the
// notice, not by a re-read; a task nobody waits for publishes nothing.
func TestEndPublishesOnlyToWaiters(t *testing.T) {
	eachRedis(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		q := b.Redis.Queue()
		// A subscriber of our own sees every notice on the channel.
		ps := b.Client.Subscribe(ctx, channel(b))
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		end := func(id string) {
			d := rqTake(t, q, "pub", 1)[0]
			if d.ID != id {
				t.Fatalf("took %s, want %s", d.ID, id)
			}
			rqFinish(t, q, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: rqFinal(t, b, d, "")})
		}

		rqEnqueue(t, q, rqMsg("pub", "alone"), time.Time{})
		end("alone")

		rqEnqueue(t, q, rqMsg("pub", "waited"), time.Time{})
		// The waiter checks again only after an hour: if Wait returns
		// before ctx ends, the notice woke it, however slow the machine.
		redisbackend.RecheckEvery(b.Redis, time.Hour)
		reads := &readHook{key: resultKey(b, "pub", "waited")}
		b.Client.AddHook(reads)
		done := goWait(ctx, b.Store, "pub", "waited")
		if !eventually(5*time.Second, func() bool { return reads.n.Load() >= 1 }) {
			t.Fatalf("the waiter never read the record")
		}
		end("waited")
		if w := <-done; w.err != nil {
			t.Fatalf("Wait: %v; want it woken by the notice, with no re-read due for an hour", w.err)
		}
		var got []string
		for len(got) < 2 {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				t.Fatalf("after %q: %v", got, err)
			}
			got = append(got, m.Payload)
		}
		if want := "[r{pub}waited t{pub}waited]"; fmt.Sprint(got) != want {
			t.Errorf("notices %q, want %s: none for the task nobody waited for", got, want)
		}
	})
}
