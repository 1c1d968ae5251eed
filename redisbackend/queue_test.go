package redisbackend_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// What the Redis queue does on the wire: its round trips and its keys. The
// queue's behaviour, the same on every backend, is the conformance suite in
// package queue/queuetest (see conformance_test.go).

// rqEach runs fn over the Redis backends: miniredis, and a real Redis.
func rqEach(t *testing.T, fn func(t *testing.T, b *taskwaretest.Backend)) {
	t.Helper()
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) { fn(t, taskwaretest.New(t, name)) })
	}
}

func rqMsg(name, id string) *queue.Message {
	return &queue.Message{ID: id, Task: "email", Queue: name, Payload: []byte("payload of " + id), EnqueuedAt: time.Now()}
}

func rqEnqueue(t *testing.T, q queue.Queue, m *queue.Message, runAt time.Time) {
	t.Helper()
	if err := q.Enqueue(t.Context(), m, runAt); err != nil {
		t.Fatalf("Enqueue(%q, %v): %v", m.ID, runAt, err)
	}
}

func rqTake(t *testing.T, q queue.Queue, name string, n int) []*queue.Delivery {
	t.Helper()
	ds, err := q.Take(t.Context(), name, "c1", n, 0)
	if err != nil {
		t.Fatalf("Take(%q, %d): %v", name, n, err)
	}
	return ds
}

func rqFinish(t *testing.T, q queue.Queue, d *queue.Delivery, o queue.Outcome) {
	t.Helper()
	if err := q.Finish(t.Context(), d, o); err != nil {
		t.Fatalf("Finish(%q, %+v): %v", d.ID, o, err)
	}
}

func rqPromote(t *testing.T, q queue.Queue, name string) {
	t.Helper()
	if _, err := q.Promote(t.Context(), name, time.Now(), 10); err != nil {
		t.Fatalf("Promote(%q): %v", name, err)
	}
}

// rqFinal returns the deferred writes of a run of d that stores a success
// and, unless key is "", holds key's lock: writes of b's own store and
// locker.
func rqFinal(t *testing.T, b *taskwaretest.Backend, d *queue.Delivery, key string) *task.FinalWrites {
	t.Helper()
	f := &task.FinalWrites{}
	if key != "" {
		lease, err := b.Locker.TryAcquire(t.Context(), key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		f.Release(b.Redis.Locker().FinalRelease(lease))
	}
	put, err := b.Redis.Store().FinalPut(&store.Record{Queue: d.Queue, ID: d.ID, Task: d.Task, Status: store.Succeeded, Attempt: 1}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.Result(put)
	return f
}

// rqKeys returns the keys under b's prefix, without it, sorted.
func rqKeys(t *testing.T, b *taskwaretest.Backend) []string {
	t.Helper()
	var keys []string
	iter := b.Client.Scan(t.Context(), 0, b.Prefix()+"*", 100).Iterator()
	for iter.Next(t.Context()) {
		keys = append(keys, iter.Val()[len(b.Prefix()):])
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// TestQueueRoundTrips counts what the Redis queue sends: Enqueue and Take
// are one round trip each, and so are Finish, with the run's lock release
// and result write, whether the task ends or is scheduled again, and
// Promote.
func TestQueueRoundTrips(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		// Warm up: the scripts are loaded and the consumer group made.
		rqEnqueue(t, q, rqMsg("rtt", "warm"), time.Time{})
		warm := rqTake(t, q, "rtt", 1)[0]
		rqFinish(t, q, warm, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: rqFinal(t, b, warm, "warm")})
		rqEnqueue(t, q, rqMsg("rtt", "warm again"), time.Time{})
		warm = rqTake(t, q, "rtt", 1)[0]
		rqFinish(t, q, warm, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour)})
		rqPromote(t, q, "rtt")
		if _, err := q.Tasks(t.Context(), "rtt", queue.RunningTasks, 1); err != nil {
			t.Fatal(err)
		}
		if err := q.PublishSchedules(t.Context(), "s0", nil, time.Minute); err != nil {
			t.Fatal(err)
		}

		counter := &taskwaretest.RoundTrips{}
		b.Client.AddHook(counter)
		var d *queue.Delivery
		var final *task.FinalWrites
		for _, step := range []struct {
			name string
			do   func()
		}{
			{"Enqueue", func() { rqEnqueue(t, q, rqMsg("rtt", "a"), time.Time{}) }},
			{"Enqueue delayed", func() { rqEnqueue(t, q, rqMsg("rtt", "later"), time.Now().Add(time.Hour)) }},
			{"Take", func() { d = rqTake(t, q, "rtt", 10)[0] }},
			{"Take of nothing", func() { rqTake(t, q, "rtt", 10) }},
			// Nothing is ready: the take script, then XREAD BLOCK waits for
			// a newer entry (a Take must be a script to be safe to resend,
			// and a script cannot block).
			{"Take with a wait, for nothing", func() {
				if _, err := q.Take(t.Context(), "rtt", "c1", 10, 10*time.Millisecond); err != nil {
					t.Fatal(err)
				}
			}},
			{"Finish", func() { rqFinish(t, q, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1}) }},
			{"Promote", func() { rqPromote(t, q, "rtt") }},
			{"Enqueue b", func() { rqEnqueue(t, q, rqMsg("rtt", "b"), time.Time{}) }},
			{"Take b", func() { d = rqTake(t, q, "rtt", 10)[0] }},
			{"TryAcquire b's lock", func() { final = rqFinal(t, b, d, "b") }},
			{"Finish with the lock release and the result", func() {
				rqFinish(t, q, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: final})
			}},
			{"Enqueue c", func() { rqEnqueue(t, q, rqMsg("rtt", "c"), time.Time{}) }},
			{"Take c", func() { d = rqTake(t, q, "rtt", 10)[0] }},
			{"TryAcquire c's lock", func() { final = rqFinal(t, b, d, "c") }},
			{"Finish as a retry, with the lock release and the result", func() {
				rqFinish(t, q, d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, Retry: true, RunAt: time.Now().Add(time.Hour),
					Kind: "error", Error: "boom", Final: final})
			}},
			// A day of minutes is one pipeline, for the web view's charts.
			{"Rates of a day", func() {
				if rs, err := q.Rates(t.Context(), "rtt", time.Now().Add(-queue.RatesKept)); err != nil || len(rs) < 1440 {
					t.Fatalf("Rates = %d minutes, %v", len(rs), err)
				}
			}},
			{"Tasks running, with their starts", func() {
				if _, err := q.Tasks(t.Context(), "rtt", queue.RunningTasks, 10); err != nil {
					t.Fatal(err)
				}
			}},
			{"PublishSchedules", func() {
				if err := q.PublishSchedules(t.Context(), "s1", []queue.ScheduleEntry{{Name: "x"}}, time.Minute); err != nil {
					t.Fatal(err)
				}
			}},
			{"Schedules", func() {
				if es, err := q.Schedules(t.Context()); err != nil || len(es) != 1 {
					t.Fatalf("Schedules = %+v, %v", es, err)
				}
			}},
		} {
			before := counter.N()
			step.do()
			want := int64(1)
			if strings.HasPrefix(step.name, "Take with a wait") {
				want = 2
			}
			if n := counter.N() - before; n != want {
				t.Errorf("%s: %d round trips, want %d", step.name, n, want)
			}
		}
		if st, err := q.State(t.Context(), "rtt", "b"); err != nil || st.Status != queue.Succeeded || st.Result != queue.ResultStored {
			t.Fatalf("State(b) = %+v, %v; want succeeded, its result stored", st, err)
		}
		if st, err := q.State(t.Context(), "rtt", "c"); err != nil || st.Status != queue.Scheduled {
			t.Fatalf("State(c) = %+v, %v; want scheduled", st, err)
		}
		b.RequireRecord(t, "rtt", "b")
		b.RequireRecord(t, "rtt", "c")
		b.RequireNoLocks(t)
	})
}

// TestQueueKeys: a queue's keys share its name as their hash tag (but for
// the set of queues, one for all), a task's
// state expires only once it has ended, and its stream entry goes when it
// ends.
func TestQueueKeys(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Queue, t.Context()
		rqEnqueue(t, q, rqMsg("mail", "now"), time.Time{})
		rqEnqueue(t, q, rqMsg("mail", "later"), time.Now().Add(time.Hour))
		want := []string{"queue:{mail}", "queue:{mail}:delayed", "queue:{mail}:task:later", "queue:{mail}:task:now", "queues"}
		if got := rqKeys(t, b); !slices.Equal(got, want) {
			t.Fatalf("keys after Enqueue: %q, want %q", got, want)
		}
		for _, id := range []string{"now", "later"} {
			if ttl := b.Client.PTTL(ctx, b.Prefix()+"queue:{mail}:task:"+id).Val(); ttl != -1 {
				t.Fatalf("state of %s, waiting: TTL %v, want none", id, ttl)
			}
		}

		d := rqTake(t, q, "mail", 1)[0]
		rqFinish(t, q, d, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "task.bad_payload", Error: "cannot decode",
			Final: rqFinal(t, b, d, "")})
		minute := fmt.Sprintf("queue:{mail}:rate:%d", time.Now().Unix()/60) // the outcome's count (see Rates)
		want = []string{"queue:{mail}", "queue:{mail}:dead", "queue:{mail}:delayed", "queue:{mail}:ended", minute,
			"queue:{mail}:task:later", "queue:{mail}:task:now", "queues", "result:{mail}:now"}
		if got := rqKeys(t, b); !slices.Equal(got, want) {
			t.Fatalf("keys after Finish: %q, want %q", got, want)
		}
		if ttl := b.Client.PTTL(ctx, b.Prefix()+minute).Val(); ttl <= queue.RatesKept || ttl > queue.RatesKept+2*time.Hour {
			t.Fatalf("the minute's count: TTL %v, want a little over %v (queue.RatesKept)", ttl, queue.RatesKept)
		}
		state := b.Prefix() + "queue:{mail}:task:now"
		if ttl := b.Client.PTTL(ctx, state).Val(); ttl <= 0 || ttl > queue.DefaultStateTTL {
			t.Fatalf("state of an ended task: TTL %v, want at most %v", ttl, queue.DefaultStateTTL)
		}
		if res := b.Client.HGet(ctx, state, "result").Val(); res != string(queue.ResultStored) {
			t.Fatalf("state of an ended task: result %q, want %q", res, queue.ResultStored)
		}
		// A finish acknowledges its entry without deleting it; the next
		// Recover trims what ended.
		if n := b.Client.XLen(ctx, b.Prefix()+"queue:{mail}").Val(); n != 1 {
			t.Fatalf("the stream holds %d entries after the only one ended, want it still", n)
		}
		if _, err := q.Recover(ctx, "mail", time.Minute, 10); err != nil {
			t.Fatal(err)
		}
		if n := b.Client.XLen(ctx, b.Prefix()+"queue:{mail}").Val(); n != 0 {
			t.Fatalf("the stream holds %d entries after the only one ended and a Recover, want none", n)
		}
		// The index of ended tasks lives as long as its latest state.
		if ttl, state := b.Client.PTTL(ctx, b.Prefix()+"queue:{mail}:ended").Val(), b.Client.PTTL(ctx, b.Prefix()+"queue:{mail}:task:now").Val(); ttl <= 0 || ttl < state-time.Second {
			t.Fatalf("the index of ended tasks: TTL %v, want about the state's %v", ttl, state)
		}
	})
}

// Entries a read took for a consumer whose reply never reached the Queue
// (a lost reply) are handed out by its next Take, before new ones; beyond
// its n they go back to the stream, for the Takes after. Each is handed out
// once.
func TestTakeHandsOutWhatALostReplyTook(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Redis.Queue()
		ctx := t.Context()
		rqEnqueue(t, q, rqMsg("lost", "first"), time.Time{})
		if got := rqTake(t, q, "lost", 1); len(got) != 1 || got[0].ID != "first" {
			t.Fatalf("took %v", got)
		}
		for _, id := range []string{"a", "b", "c", "d"} {
			rqEnqueue(t, q, rqMsg("lost", id), time.Time{})
		}
		// A read whose reply is lost: Redis hands a, b, c to c1.
		if err := b.Client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "taskware", Consumer: "c1",
			Streams: []string{b.Prefix() + "queue:{lost}", ">"}, Count: 3}).Err(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for range 5 {
			ds := rqTake(t, q, "lost", 2)
			if len(ds) > 2 {
				t.Fatalf("a Take of 2 handed out %d", len(ds))
			}
			for _, d := range ds {
				got = append(got, d.ID)
			}
		}
		if want := "[a b c d]"; fmt.Sprint(got) != want {
			t.Fatalf("took %v, want %s: each once, the lost ones first", got, want)
		}
	})
}

// A Take reads new entries in a script: a server that lost its script
// cache gets its body instead, and a paused queue is still not read.
// miniredis only: flushing a shared server's script cache would disturb
// others.
func TestTakeAfterScriptFlush(t *testing.T) {
	b := taskwaretest.New(t, "miniredis")
	q := b.Redis.Queue()
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		rqEnqueue(t, q, rqMsg("flushed", id), time.Time{})
	}
	if err := q.Pause(ctx, "flushed"); err != nil {
		t.Fatal(err)
	}
	if err := b.Client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if ds := rqTake(t, q, "flushed", 1); len(ds) != 0 {
		t.Fatalf("a paused queue handed out %d", len(ds))
	}
	if err := q.Resume(ctx, "flushed"); err != nil {
		t.Fatal(err)
	}
	if err := b.Client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if ds := rqTake(t, q, "flushed", 1); len(ds) != 1 || ds[0].ID != "a" {
		t.Fatalf("took %d, want a", len(ds))
	}
}

// Entries taken over (Recover) are handed out ahead of the group's cursor.
// That must not hide what a lost reply took between the cursor and them:
// each entry is handed out once, none is left pending unseen, and none
// that a Take handed out comes back from a later one.
func TestTakeAfterTakeoverHandsOutWhatALostReplyTook(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Redis.Queue()
		ctx := t.Context()
		stream := b.Prefix() + "queue:{gap}"
		rqStaleAhead(t, b, q, "gap", "b", "c", "d")
		var got []string
		take := func(n int) {
			t.Helper()
			for _, d := range rqTake(t, q, "gap", n) {
				got = append(got, d.ID)
			}
		}
		take(1) // stale, ahead of the cursor
		// A read whose reply is lost: Redis hands b and c to c1.
		if err := b.Client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "taskware", Consumer: "c1",
			Streams: []string{stream, ">"}, Count: 2}).Err(); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			take(2)
		}
		if want := "[stale b c d]"; fmt.Sprint(got) != want {
			t.Fatalf("took %v, want %s: each once, none left pending", got, want)
		}
	})
}

// A Take that hands out a taken-over entry beside new ones does not hand
// the taken-over one out again.
func TestTakeHandsOutATakenOverEntryOnce(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Redis.Queue()
		rqStaleAhead(t, b, q, "once", "b", "c")
		var got []string
		for range 4 {
			for _, d := range rqTake(t, q, "once", 2) {
				got = append(got, d.ID)
			}
		}
		if want := "[stale b c]"; fmt.Sprint(got) != want {
			t.Fatalf("took %v, want %s: each once", got, want)
		}
	})
}

// Recover trims finished entries from the stream. A taken-over entry,
// claimed ahead of the group's cursor, is pending above entries no read
// has handed out yet: the trim must stop at the cursor, not at the oldest
// pending entry, or it deletes tasks never run.
func TestRecoverKeepsEntriesBelowOnesClaimedAhead(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Redis.Queue()
		ctx := t.Context()
		rqStaleAhead(t, b, q, "trim", "b", "c")
		var got []string
		for _, d := range rqTake(t, q, "trim", 1) { // stale, claimed ahead of b and c
			got = append(got, d.ID)
		}
		if _, err := q.Recover(ctx, "trim", time.Hour, 10); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			for _, d := range rqTake(t, q, "trim", 1) {
				got = append(got, d.ID)
			}
		}
		if want := "[stale b c]"; fmt.Sprint(got) != want {
			t.Fatalf("took %v, want %s: a Recover's trim deleted tasks never run", got, want)
		}
	})
}

// rqStaleAhead makes stale, held by a consumer gone silent, the entry
// before later's, and has Recover take it over: it is then claimed ahead
// of the group's cursor, past later, which no read has handed out.
func rqStaleAhead(t *testing.T, b *taskwaretest.Backend, q queue.Queue, name string, later ...string) {
	t.Helper()
	ctx := t.Context()
	rqTake(t, q, name, 1) // makes the group
	rqEnqueue(t, q, rqMsg(name, "stale"), time.Time{})
	if err := b.Client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "taskware", Consumer: "gone",
		Streams: []string{b.Prefix() + "queue:{" + name + "}", ">"}, Count: 1}).Err(); err != nil {
		t.Fatal(err)
	}
	for _, id := range later {
		rqEnqueue(t, q, rqMsg(name, id), time.Time{})
	}
	if n, err := q.Recover(ctx, name, 0, 10); err != nil || n != 1 {
		t.Fatalf("Recover: %d, %v; want 1 taken over", n, err)
	}
}
