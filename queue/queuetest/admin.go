package queuetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
)

func deadLetterPromises() []promise {
	return []promise{
		{Name: "List", Check: deadLetters},
		{Name: "RequeueAndPurge", Check: repairDead},
	}
}

// A dead letter keeps its message as its last run had it, the outcome's
// attempt, kind and reason, and when it died; DeadLetters lists the oldest
// first, at most n.
func deadLetters(t *tester) {
	if dl, err := t.q.DeadLetters(t.Context(), "dl", 10); err != nil || len(dl) != 0 {
		t.Fatalf("DeadLetters of a new queue = %v, %v; want none", dl, err)
	}
	before := time.Now().Add(-time.Second)
	var want []queue.Message
	for i := 1; i <= 3; i++ {
		m := msg("dl", fmt.Sprintf("x%d", i))
		m.ExpiresAt = at.Add(time.Duration(i) * time.Hour)
		m.Headers = map[string]string{"n": fmt.Sprint(i)}
		t.enqueue(m, time.Time{})
		d := t.takeOne("dl", m.ID)
		t.finish(d, queue.Outcome{Status: queue.Dead, Attempt: i + 1, Kind: "task.bad_payload", Error: "cannot decode " + m.ID})
		m.Attempt = i + 1 // the outcome's attempt
		want = append(want, *m)
	}
	after := time.Now().Add(time.Second)
	dl, err := t.q.DeadLetters(t.Context(), "dl", 10)
	if err != nil || len(dl) != 3 {
		t.Fatalf("DeadLetters = %d entries, %v; want 3", len(dl), err)
	}
	for i, e := range dl {
		sameMessage(t, "dead letter", e.Message, want[i])
		if e.Kind != "task.bad_payload" || e.Reason != "cannot decode "+want[i].ID {
			t.Errorf("dead letter %s: kind %q, reason %q", e.ID, e.Kind, e.Reason)
		}
		if e.At.Before(before) || e.At.After(after) {
			t.Errorf("dead letter %s: At %v, want within [%v, %v]", e.ID, e.At, before, after)
		}
	}
	dl, err = t.q.DeadLetters(t.Context(), "dl", 2)
	if err != nil || len(dl) != 2 || dl[0].ID != "x1" || dl[1].ID != "x2" {
		t.Fatalf("DeadLetters(n=2) = %+v, %v; want x1, x2", dl, err)
	}
	if dl, err := t.q.DeadLetters(t.Context(), "dl", 0); err != nil || len(dl) != 0 {
		t.Fatalf("DeadLetters(n=0) = %+v, %v; want none", dl, err)
	}
	st := t.wantState("dl", "x1", queue.Dead, 2, "task.bad_payload", "cannot decode x1")
	if !errors.Is(st.Err(), queue.ErrDeadLettered) {
		t.Fatalf("State(dead).Err() = %v, want queue.ErrDeadLettered", st.Err())
	}
	if ds := t.take("dl", "c1", 10); ds != nil {
		t.Fatalf("Take after dead-lettering: got %q", ids(ds))
	}
	t.wantStats("dl", 0, 0, 0, 3)
}

// Dead letters go back as fresh deliveries (attempt 1, no last failure,
// their arguments and headers), or are purged: by task ID, or all. A dead
// letter whose task was enqueued anew since is kept.
func repairDead(t *tester) {
	ctx := t.Context()
	if done, kept, err := t.q.RequeueDead(ctx, "rd"); err != nil || len(done)+len(kept) != 0 {
		t.Fatalf("RequeueDead of an empty queue = %v, %v, %v", done, kept, err)
	}
	for i := 1; i <= 4; i++ {
		m := msg("rd", fmt.Sprintf("x%d", i))
		m.Headers = map[string]string{"tenant": m.ID}
		t.enqueue(m, time.Time{})
		t.finish(t.takeOne("rd", m.ID), queue.Outcome{Status: queue.Dead, Attempt: 3, Kind: "task.unknown", Error: "no such task"})
	}
	done, kept, err := t.q.RequeueDead(ctx, "rd", "x1")
	if err != nil || !slices.Equal(done, []string{"x1"}) || len(kept) != 0 {
		t.Fatalf("RequeueDead(x1) = %v, %v, %v; want [x1]", done, kept, err)
	}
	t.wantState("rd", "x1", queue.Queued, 1, "", "")
	d := t.takeOne("rd", "x1")
	if d.Attempt != 1 || d.LastKind != "" || string(d.Payload) != "payload of x1" || d.Headers["tenant"] != "x1" {
		t.Fatalf("requeued delivery %+v; want x1, attempt 1, its payload and headers", d)
	}
	t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	if n, err := t.q.PurgeDead(ctx, "rd", "x2"); err != nil || n != 1 {
		t.Fatalf("PurgeDead(x2) = %d, %v; want 1", n, err)
	}
	if dl, _ := t.q.DeadLetters(ctx, "rd", 10); len(dl) != 2 || dl[0].ID != "x3" || dl[1].ID != "x4" {
		t.Fatalf("dead letters %+v; want x3, x4", dl)
	}
	if done, kept, err := t.q.RequeueDead(ctx, "rd"); err != nil || !slices.Equal(done, []string{"x3", "x4"}) || len(kept) != 0 {
		t.Fatalf("RequeueDead(all) = %v, %v, %v; want [x3 x4]", done, kept, err)
	}
	for _, d := range t.take("rd", "c1", 10) {
		t.finish(d, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "again"})
	}
	if n, err := t.q.PurgeDead(ctx, "rd"); err != nil || n != 2 {
		t.Fatalf("PurgeDead(all) = %d, %v; want 2", n, err)
	}
	t.wantStats("rd", 0, 0, 0, 0)
}

func adminPromises() []promise {
	return []promise{
		{Name: "Inspect", Check: inspect},
		{Name: "Queues", Check: queues},
		{Name: "Workers", Check: workers},
		{Name: "Pause", Check: pause},
		{Name: "Rates", Check: rates},
		{Name: "ListTasks", Cases: pagePromises()},
	}
}

// Queues, Stats, Workers, Tasks and Find agree on one history: one task
// ready, one running, one delayed, one dead letter and one succeeded.
func inspect(t *tester) {
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c", "d"} {
		t.enqueue(msg("q", id), time.Time{})
	}
	t.enqueue(msg("q", "e"), time.Now().Add(time.Hour))
	t.enqueue(msg("other", "x"), time.Time{})
	ds := t.take("q", "w1", 3)
	wantIDs(t, "Take", ds, "a", "b", "c")
	t.finish(ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "worker.unknown_task", Error: "no such task"})
	t.finish(ds[2], queue.Outcome{Status: queue.Succeeded, Attempt: 1})

	if qs, err := t.q.Queues(ctx); err != nil || !slices.Equal(qs, []string{"other", "q"}) {
		t.Errorf("Queues = %q, %v; want [other q]", qs, err)
	}
	time.Sleep(5 * time.Millisecond) // d waits a while
	st, err := t.q.Stats(ctx, "q")
	if err != nil {
		t.Fatal(err)
	}
	// d's message says it was enqueued long ago; it has waited ready for
	// moments.
	if st.OldestReady <= 0 || st.OldestReady > time.Minute {
		t.Errorf("OldestReady = %v; want how long d has waited ready: moments", st.OldestReady)
	}
	st.OldestReady = 0
	if st.Partitions < 1 || !t.b.Partitioned && st.Partitions != 1 {
		t.Errorf("Stats.Partitions = %d; want 1 on a queue never split, at least 1 on any", st.Partitions)
	}
	st.Partitions = 0
	if want := (queue.Stats{Queue: "q", Ready: 1, Running: 1, Delayed: 1, Dead: 1, Workers: 1}); *st != want {
		t.Errorf("Stats = %+v, want %+v", *st, want)
	}
	if st, err := t.q.Stats(ctx, "none"); err != nil || st.Partitions < 1 || *st != (queue.Stats{Queue: "none", Partitions: st.Partitions}) {
		t.Errorf("Stats(none) = %+v, %v; want zeros", st, err)
	}
	ws, err := t.q.Workers(ctx, "q")
	if err != nil || len(ws) != 1 || ws[0].Name != "w1" || ws[0].Pending != 1 || ws[0].Queue != "q" || ws[0].Idle > time.Minute {
		t.Errorf("Workers = %+v, %v; want w1 with 1 pending", ws, err)
	}
	if ws, err := t.q.Workers(ctx, "none"); err != nil || len(ws) != 0 {
		t.Errorf("Workers(none) = %+v, %v; want none", ws, err)
	}
	for set, want := range map[queue.TaskSet]string{
		queue.ReadyTasks: "d queued", queue.RunningTasks: "b running", queue.DelayedTasks: "e scheduled",
		queue.DeadTasks: "a dead", queue.FinishedTasks: "a dead,c succeeded",
	} {
		ts, err := t.q.Tasks(ctx, "q", set, 10)
		if err != nil {
			t.Fatalf("Tasks(%s): %v", set, err)
		}
		var got []string
		for _, ti := range ts {
			if ti.Task != "email" || ti.Queue != "q" || ti.Attempt != 1 {
				t.Errorf("Tasks(%s): %+v; want task email of q, attempt 1", set, ti)
			}
			got = append(got, ti.ID+" "+string(ti.Status))
		}
		slices.Sort(got)
		if g := strings.Join(got, ","); g != want {
			t.Errorf("Tasks(%s) = %s, want %s", set, g, want)
		}
	}
	one := func(set queue.TaskSet) queue.TaskInfo {
		t.Helper()
		ts, err := t.q.Tasks(ctx, "q", set, 1)
		if err != nil || len(ts) != 1 {
			t.Fatalf("Tasks(%s, 1) = %+v, %v; want one", set, ts, err)
		}
		return ts[0]
	}
	if ti := one(queue.ReadyTasks); ti.Receipt == "" || !sameTime(ti.EnqueuedAt, at) || ti.Deliveries != 1 {
		t.Errorf("ready: %+v; want a receipt, enqueued at %v, 1 delivery", ti, at)
	}
	if ti := one(queue.RunningTasks); ti.Worker != "w1" || ti.Idle < 0 || ti.Idle > time.Minute || ti.Deliveries != 1 {
		t.Errorf("running: %+v; want w1's, 1 delivery", ti)
	}
	if ti := one(queue.DelayedTasks); time.Until(ti.RunAt) < 59*time.Minute {
		t.Errorf("delayed: %+v; want it due in an hour", ti)
	}
	if ti := one(queue.DeadTasks); ti.Kind != "worker.unknown_task" || ti.Error != "no such task" || ti.FinishedAt.IsZero() {
		t.Errorf("dead: %+v; want its kind, reason and when it died", ti)
	}
	if _, err := t.q.Tasks(ctx, "q", "bogus", 1); err == nil {
		t.Error("Tasks(bogus) gave no error")
	}
	if ts, err := t.q.Tasks(ctx, "none", queue.RunningTasks, 1); err != nil || len(ts) != 0 {
		t.Errorf("Tasks(none, running) = %+v, %v; want none", ts, err)
	}
	found, err := t.q.Find(ctx, "e")
	if err != nil || len(found) != 1 || found[0].Queue != "q" || found[0].Status != queue.Scheduled || time.Until(found[0].RunAt) < 59*time.Minute {
		t.Errorf("Find(e) = %+v, %v; want e, due in an hour", found, err)
	}
	found, err = t.q.Find(ctx, "c", "other", "q")
	if err != nil || len(found) != 1 || found[0].Queue != "q" || found[0].Status != queue.Succeeded || found[0].FinishedAt.IsZero() {
		t.Errorf("Find(c, other, q) = %+v, %v; want c, succeeded", found, err)
	}
	if found, err := t.q.Find(ctx, "zzz"); err != nil || len(found) != 0 {
		t.Errorf("Find(zzz) = %+v, %v; want none", found, err)
	}
}

// Queues lists the queues that hold something (ready, taken, delayed or
// dead tasks) or are paused, sorted; not one whose tasks all ended. Find,
// asked of no queue in particular, still finds an ended task there.
func queues(t *tester) {
	ctx := t.Context()
	if qs, err := t.q.Queues(ctx); err != nil || len(qs) != 0 {
		t.Fatalf("Queues of a new backend = %q, %v; want none", qs, err)
	}
	t.enqueue(msg("ready", "r"), time.Time{})
	t.enqueue(msg("delayed", "d"), time.Now().Add(time.Hour))
	t.enqueue(msg("taken", "t"), time.Time{})
	t.takeOne("taken", "t")
	t.enqueue(msg("dead", "x"), time.Time{})
	t.finish(t.takeOne("dead", "x"), queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
	t.enqueue(msg("drained", "done"), time.Time{})
	t.finish(t.takeOne("drained", "done"), queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	if err := t.q.Pause(ctx, "paused"); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	found, err := t.q.Find(ctx, "done")
	if err != nil || len(found) != 1 || found[0].Queue != "drained" || found[0].Status != queue.Succeeded {
		t.Errorf("Find(done) = %+v, %v; want it, succeeded, on drained", found, err)
	}
	want := []string{"dead", "delayed", "drained", "paused", "ready", "taken"}
	if qs, err := t.q.Queues(ctx); err != nil || !slices.Equal(qs, want) {
		t.Fatalf("Queues = %q, %v; want %q: drained too, whose task's state is kept", qs, err, want)
	}
}

// A worker that took from a queue is known to it, with what it holds,
// after it finished its tasks too: until it leaves, which it cannot while
// it holds tasks, or until a Recover forgets it, idle far longer than its
// minIdle with nothing held.
func workers(t *tester) {
	ctx := t.Context()
	wantWorkers := func(what string, want ...queue.WorkerInfo) {
		t.Helper()
		ws, err := t.q.Workers(ctx, "wk")
		if err != nil || len(ws) != len(want) {
			t.Fatalf("Workers %s = %+v, %v; want %+v", what, ws, err, want)
		}
		for i, w := range ws {
			if w.Name != want[i].Name || w.Queue != "wk" || w.Pending != want[i].Pending || w.Idle < 0 || w.Idle > time.Minute {
				t.Fatalf("Workers %s = %+v; want %+v, each seen just now", what, ws, want)
			}
		}
		st, err := t.q.Stats(ctx, "wk")
		if err != nil || st.Workers != len(want) {
			t.Fatalf("Stats.Workers %s = %+v, %v; want %d", what, st, err, len(want))
		}
	}
	for _, id := range []string{"a", "b"} {
		t.enqueue(msg("wk", id), time.Time{})
	}
	held := t.take("wk", "w1", 1)
	t.finish(t.take("wk", "w2", 1)[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	wantWorkers("after w1 took a and w2 took and finished b", queue.WorkerInfo{Name: "w1", Pending: 1}, queue.WorkerInfo{Name: "w2"})
	for _, w := range []string{"w1", "w2"} {
		if err := t.q.Leave(ctx, "wk", w); err != nil {
			t.Fatalf("Leave(%s): %v", w, err)
		}
	}
	wantWorkers("after both left, w1 holding a", queue.WorkerInfo{Name: "w1", Pending: 1})
	if lost, err := t.q.Extend(ctx, "wk", "w1", held); err != nil || lost != nil {
		t.Fatalf("Extend = %q, %v; want none lost", ids(lost), err)
	}
	t.finish(held[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	wantWorkers("after w1 finished a", queue.WorkerInfo{Name: "w1"})
	time.Sleep(300 * time.Millisecond)
	if _, err := t.q.Recover(ctx, "wk", time.Millisecond, 10); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	wantWorkers("after a Recover(minIdle=1ms) 300ms later")
}

// A paused queue is listed though it holds nothing, until resumed.
func pause(t *tester) {
	ctx := t.Context()
	for _, name := range []string{"idle", "idle"} { // pausing twice is pausing
		if err := t.q.Pause(ctx, name); err != nil {
			t.Fatalf("Pause(%s): %v", name, err)
		}
	}
	if paused, err := t.q.Paused(ctx, "idle"); err != nil || !paused {
		t.Fatalf("Paused(idle) = %v, %v; want true", paused, err)
	}
	if paused, err := t.q.Paused(ctx, "busy"); err != nil || paused {
		t.Fatalf("Paused(busy) = %v, %v; want false", paused, err)
	}
	if qs, err := t.q.Queues(ctx); err != nil || !slices.Equal(qs, []string{"idle"}) {
		t.Fatalf("Queues = %q, %v; want the paused queue idle", qs, err)
	}
	for range 2 {
		if err := t.q.Resume(ctx, "idle"); err != nil {
			t.Fatalf("Resume(idle): %v", err)
		}
	}
	if paused, err := t.q.Paused(ctx, "idle"); err != nil || paused {
		t.Fatalf("Paused(idle) after Resume = %v, %v; want false", paused, err)
	}
	if qs, err := t.q.Queues(ctx); err != nil || len(qs) != 0 {
		t.Fatalf("Queues = %q, %v; idle holds nothing and is resumed", qs, err)
	}
}

// Rates counts each outcome in its minute: ends by status, skips by the
// kind of their reason, retries apart from reschedules. A Cancel counts
// as a cancel.
func rates(t *tester) {
	began := time.Now()
	outcomes := []queue.Outcome{
		{Status: queue.Succeeded, Attempt: 1},
		{Status: queue.Succeeded, Attempt: 2},
		{Status: queue.Failed, Attempt: 1, Kind: "error", Error: "boom"},
		{Status: queue.Dead, Attempt: 1, Kind: "task.permanent", Error: "never"},
		{Status: queue.Canceled, Attempt: 1, Kind: queue.ErrCanceled.ErrorKind(), Error: queue.ErrCanceled.Error()},
		{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked", Error: "held"},
		{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked", Error: "held"},
		{Status: queue.Skipped, Attempt: 1, Kind: "middleware.expired", Error: "too old"},
		{Status: queue.Skipped, Attempt: 1},
		{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour), Kind: "error", Error: "once", Retry: true},
		{Status: queue.Scheduled, Attempt: 1, RunAt: time.Now().Add(time.Hour), Kind: "lock.locked", Error: "held"},
		{Status: queue.Scheduled, Attempt: 1, RunAt: time.Now().Add(time.Hour), Kind: "limit.rate", Error: "over"},
	}
	for i, o := range outcomes {
		id := fmt.Sprint("r", i)
		t.enqueue(msg("rates", id), time.Time{})
		t.finish(t.takeOne("rates", id), o)
	}
	t.enqueue(msg("rates", "gone"), time.Now().Add(time.Hour))
	t.cancel("rates", "gone", queue.CancelDone)
	t.enqueue(msg("elsewhere", "x"), time.Time{})
	t.finish(t.takeOne("elsewhere", "x"), queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "error", Error: "not counted on rates"})

	rates, err := t.q.Rates(t.Context(), "rates", began.Add(-time.Minute))
	if err != nil {
		t.Fatalf("Rates: %v", err)
	}
	if n := len(rates); n < 2 || n > 3 {
		t.Errorf("%d minutes from a minute ago to now, want 2 or 3", n)
	}
	var sum queue.OutcomeCounts
	for i, r := range rates {
		if r.Minute.Second() != 0 || r.Minute.Nanosecond() != 0 || i > 0 && !r.Minute.Equal(rates[i-1].Minute.Add(time.Minute)) {
			t.Errorf("minute %d starts at %v; want minutes one after the other, each at its start", i, r.Minute)
		}
		sum.Add(r)
	}
	want := queue.OutcomeCounts{Succeeded: 2, Failed: 1, Dead: 1, Canceled: 2, Retried: 1, Rescheduled: 2,
		Skipped: map[string]int64{"lock.locked": 2, "middleware.expired": 1, "": 1}}
	sum.Minute = time.Time{}
	if !reflect.DeepEqual(sum, want) {
		t.Fatalf("counted %+v over %d minutes, want %+v", sum, len(rates), want)
	}
	if empty, err := t.q.Rates(t.Context(), "none", began); err != nil || len(empty) == 0 || empty[len(empty)-1].Ended() != 0 {
		t.Fatalf("Rates(none) = %+v, %v; want zero minutes", empty, err)
	}
	// A day back, every minute is there, and the latest holds the counts.
	day, err := t.q.Rates(t.Context(), "rates", time.Now().Add(-queue.RatesKept))
	if err != nil {
		t.Fatalf("Rates of a day: %v", err)
	}
	if n, want := len(day), int(queue.RatesKept/time.Minute); n < want || n > want+1 {
		t.Fatalf("Rates of a day: %d minutes, want %d or %d", n, want, want+1)
	}
	var daySum queue.OutcomeCounts
	for _, r := range day[len(day)-3:] {
		daySum.Add(r)
	}
	if daySum.Succeeded != 2 || daySum.Canceled != 2 {
		t.Errorf("Rates of a day ends with %+v; want the counts of the last minutes", daySum)
	}
}

func ttlPromises() []promise {
	return []promise{
		{Name: "State", Check: stateTTL},
		{Name: "UniqueKey", Check: uniqueKeyTTL},
	}
}

// A finished task's state is kept for the queue's state TTL, and with it
// the window in which its ID is a duplicate; then it is gone, and the ID
// free. Tasks that have not ended, and dead letters, do not expire.
func stateTTL(t *tester) {
	ttl := t.b.StateTTL
	const name = "ttl"
	for _, id := range []string{"ok", "dead"} {
		t.enqueue(msg(name, id), time.Time{})
	}
	ds := t.takeAll(name, "ok", "dead")
	t.finish(ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	t.finish(ds[1], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
	t.enqueue(msg(name, "canceled"), time.Time{}) // ready after the take, never taken by it
	t.cancel(name, "canceled", queue.CancelDone)
	t.enqueue(msg(name, "waiting"), time.Now().Add(48*time.Hour))

	t.advance(ttl / 2)
	t.wantState(name, "ok", queue.Succeeded, 1, "", "")
	t.duplicate(fmt.Sprintf("%v after its end, within the state TTL %v", ttl/2, ttl), msg(name, "ok"), time.Time{}, "ok")

	t.advance(ttl/2 + max(ttl/10, 300*time.Millisecond))
	for _, id := range []string{"ok", "dead", "canceled"} {
		if st, err := t.q.State(t.Context(), name, id); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("State(%q) past the state TTL %v = %+v, %v; want queue.ErrNotFound", id, ttl, st, err)
		}
	}
	if st, err := t.q.Wait(t.Context(), name, "ok"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Wait past the state TTL = %+v, %v; want queue.ErrNotFound", st, err)
	}
	t.wantState(name, "waiting", queue.Scheduled, 1, "", "")
	if dl, err := t.q.DeadLetters(t.Context(), name, 10); err != nil || len(dl) != 1 {
		t.Fatalf("DeadLetters past the state TTL = %+v, %v; want the entry kept", dl, err)
	}
	t.enqueue(msg(name, "ok"), time.Time{})
	t.wantState(name, "ok", queue.Queued, 1, "", "")
	wantIDs(t, "Take", t.take(name, "c1", 10), "ok")
}

// A unique key without a window of its own (UniqueFor 0) holds for the
// queue's state TTL at most, though its holder still waits.
func uniqueKeyTTL(t *tester) {
	ttl := t.b.StateTTL
	t.enqueue(uniqueMsg("uttl", "holder", "k", 0), time.Now().Add(48*time.Hour))
	t.advance(ttl / 2)
	t.duplicate(fmt.Sprintf("%v after, within the state TTL %v", ttl/2, ttl), uniqueMsg("uttl", "second", "k", 0), time.Time{}, "holder")
	t.advance(ttl/2 + max(ttl/10, 300*time.Millisecond))
	if err := t.q.Enqueue(t.Context(), uniqueMsg("uttl", "second", "k", 0), time.Time{}); err != nil {
		t.Fatalf("Enqueue under the key past the state TTL %v: %v; want the key let go", ttl, err)
	}
	t.wantState("uttl", "holder", queue.Scheduled, 1, "", "")
}
