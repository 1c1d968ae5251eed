package queuetest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// The promises of queue.Batches: grouped messages wait in their groups,
// FlushGroups makes them batches, and a batch runs its members.
func batchPromises() []promise {
	return []promise{
		{Name: "FlushBySize", Check: flushBySize},
		{Name: "FlushByDelay", Check: flushByDelay},
		{Name: "FlushByGrace", Check: flushByGrace},
		{Name: "GroupsApart", Check: groupsApart},
		{Name: "OnlyNamedTasks", Check: onlyNamedTasks},
		{Name: "InvalidInput", Check: batchInvalidInput},
		{Name: "StartBatchRunning", Check: startBatchRunning},
		{Name: "MemberOutcomes", Check: memberOutcomes},
		{Name: "FinishBatchResent", Check: finishBatchResent},
		{Name: "FinishBatchSuperseded", Check: finishBatchSuperseded},
		{Name: "RecoveredWithUnended", Check: recoveredWithUnended},
		{Name: "CancelGrouped", Check: cancelGrouped},
		{Name: "CancelRunningMember", Check: cancelRunningMember},
		{Name: "RetriedMemberRegroups", Check: retriedMemberRegroups},
		{Name: "RequeuedDeadRegroups", Check: requeuedDeadRegroups},
		{Name: "BatchStateThroughItsLife", Check: batchStateThroughItsLife},
		{Name: "CancelBatchBeforeTaken", Check: cancelBatchBeforeTaken},
		{Name: "CancelTakenBatch", Check: cancelTakenBatch},
		{Name: "GroupedListedNowhere", Check: groupedListedNowhere},
		{Name: "BatchIDNoTasks", Check: batchIDNoTasks},
		{Name: "RecoveredBatchQueued", Check: recoveredBatchQueued},
	}
}

// grouped returns a message of task in group key.
func grouped(name, taskName, key, id string) *queue.Message {
	m := msg(name, id)
	m.Task, m.Group = taskName, key
	return m
}

// enqueueGroup enqueues n messages of task email in group key, their IDs
// prefix and a number of four digits, in order, and returns their IDs.
func (t *tester) enqueueGroup(name, key, prefix string, n int) []string {
	t.Helper()
	ms := make([]*queue.Message, n)
	idList := make([]string, n)
	for i := range ms {
		idList[i] = fmt.Sprintf("%s%04d", prefix, i)
		ms[i] = grouped(name, "email", key, idList[i])
	}
	errs, err := t.q.EnqueueMany(t.Context(), ms, time.Time{})
	if err != nil {
		t.Fatalf("EnqueueMany of %d grouped: %v", n, err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("EnqueueMany: %s: %v", idList[i], err)
		}
	}
	return idList
}

func (t *tester) flush(name string, now time.Time, policies ...queue.GroupPolicy) int {
	t.Helper()
	n, err := t.q.FlushGroups(t.Context(), name, policies, now)
	if err != nil {
		t.Fatalf("FlushGroups(%q, %+v): %v", name, policies, err)
	}
	return n
}

// wantFlush flushes and wants made batches.
func (t *tester) wantFlush(name string, now time.Time, made int, policies ...queue.GroupPolicy) {
	t.Helper()
	if n := t.flush(name, now, policies...); n != made {
		t.Fatalf("FlushGroups(%q) at %v made %d batches, want %d", name, now, n, made)
	}
}

// grouped reads queue name's Stats.Grouped.
func (t *tester) groupedCount(name string) int64 {
	t.Helper()
	st, err := t.q.Stats(t.Context(), name)
	if err != nil {
		t.Fatalf("Stats(%q): %v", name, err)
	}
	return st.Grouped
}

// takeBatches takes every ready delivery of name and wants each a batch
// of taskName whose members are the next of want, in order.
func (t *tester) takeBatches(name, taskName string, want ...[]string) []*queue.Delivery {
	t.Helper()
	ds := t.take(name, "c1", 1000)
	if len(ds) != len(want) {
		t.Fatalf("Take of %s: %d deliveries %q, want %d batches", name, len(ds), ids(ds), len(want))
	}
	seen := map[string]bool{}
	for i, d := range ds {
		if d.Task != taskName || logical(d.Queue) != name || d.Group != "" || !slices.Equal(d.Batch, want[i]) {
			t.Fatalf("delivery %d of %s: task %q, queue %q, group %q, batch %q; want a batch of %q with %q",
				i, name, d.Task, d.Queue, d.Group, d.Batch, taskName, want[i])
		}
		if seen[d.ID] || slices.Contains(want[i], d.ID) {
			t.Fatalf("batch ID %q given twice, or a member's", d.ID)
		}
		seen[d.ID] = true
	}
	return ds
}

func (t *tester) startBatch(d *queue.Delivery, worker string, want ...string) []*queue.Message {
	t.Helper()
	ms, err := t.q.StartBatch(t.Context(), d, worker, at)
	if err != nil {
		t.Fatalf("StartBatch(%q): %v", d.ID, err)
	}
	got := make([]string, len(ms))
	for i, m := range ms {
		got[i] = m.ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("StartBatch(%q) = members %q, want %q", d.ID, got, want)
	}
	return ms
}

func (t *tester) finishBatch(d *queue.Delivery, ms []*queue.Message, os ...queue.Outcome) {
	t.Helper()
	if err := t.q.FinishBatch(t.Context(), d, ms, os); err != nil {
		t.Fatalf("FinishBatch(%q): %v", d.ID, err)
	}
}

var (
	done = queue.Outcome{Status: queue.Succeeded, Attempt: 1}
	// hourLate is past any policy's delay in these promises.
	hourLate = 2 * time.Hour
)

// policy returns email's policy: batches of size, due after an hour.
func policy(size int) queue.GroupPolicy {
	return queue.GroupPolicy{Task: "email", Size: size, Delay: time.Hour}
}

// A group of at least Size gives batches of its Size oldest at once, each
// a ready message of its own; every member is in exactly one, and a
// FlushGroups sent again makes none. The rest waits for its delay.
func flushBySize(t *tester) {
	all := t.enqueueGroup("fs", "k", "m", 1050)
	t.noneReady("fs")
	if n := t.groupedCount("fs"); n != 1050 {
		t.Fatalf("Stats.Grouped = %d, want 1050", n)
	}
	t.wantState("fs", all[0], queue.Queued, 1, "", "")
	t.wantFlush("fs", time.Now(), 10, policy(100))
	t.wantFlush("fs", time.Now(), 0, policy(100))
	var want [][]string
	for i := range 10 {
		want = append(want, all[i*100:(i+1)*100])
	}
	t.takeBatches("fs", "email", want...)
	if n := t.groupedCount("fs"); n != 50 {
		t.Fatalf("Stats.Grouped after the flush = %d, want the 50 left", n)
	}
	t.wantFlush("fs", time.Now().Add(hourLate), 1, policy(100))
	t.takeBatches("fs", "email", all[1000:])
}

// A group whose oldest message waited Delay is flushed whole, at most
// Size a batch; before that, it waits.
func flushByDelay(t *tester) {
	all := t.enqueueGroup("fd", "k", "m", 25)
	t.wantFlush("fd", time.Now(), 0, policy(30))
	t.noneReady("fd")
	t.wantFlush("fd", time.Now().Add(hourLate), 3, policy(10))
	t.takeBatches("fd", "email", all[:10], all[10:20], all[20:])
	if n := t.groupedCount("fd"); n != 0 {
		t.Fatalf("Stats.Grouped = %d, want 0", n)
	}
}

// A group whose newest message waited Grace is flushed before its delay;
// a Grace of 0 is not used.
func flushByGrace(t *tester) {
	all := t.enqueueGroup("fg", "k", "m", 3)
	later := time.Now().Add(5 * time.Minute)
	t.wantFlush("fg", later, 0, policy(10))
	graced := policy(10)
	graced.Grace = time.Minute
	t.wantFlush("fg", time.Now(), 0, graced)
	t.wantFlush("fg", later, 1, graced)
	t.takeBatches("fg", "email", all)
}

// Groups of different keys, or of different tasks, are batched apart.
func groupsApart(t *tester) {
	for _, m := range []*queue.Message{
		grouped("ga", "email", "a", "a1"), grouped("ga", "email", "b", "b1"), grouped("ga", "sms", "a", "s1"),
		grouped("ga", "email", "a", "a2"), grouped("ga", "email", "b", "b2"), grouped("ga", "sms", "a", "s2"),
	} {
		t.enqueue(m, time.Time{})
	}
	t.wantFlush("ga", time.Now(), 3, policy(2), queue.GroupPolicy{Task: "sms", Size: 2, Delay: time.Hour})
	ds := t.take("ga", "c1", 100)
	got := map[string][]string{}
	for _, d := range ds {
		got[d.Task+"/"+d.Batch[0][:1]] = d.Batch
	}
	want := map[string][]string{"email/a": {"a1", "a2"}, "email/b": {"b1", "b2"}, "sms/s": {"s1", "s2"}}
	if len(ds) != 3 || !slices.Equal(got["email/a"], want["email/a"]) || !slices.Equal(got["email/b"], want["email/b"]) ||
		!slices.Equal(got["sms/s"], want["sms/s"]) {
		t.Fatalf("batches by task and first member: %q; want %q", got, want)
	}
}

// FlushGroups flushes only the groups of the tasks its policies name.
func onlyNamedTasks(t *tester) {
	t.enqueue(grouped("on", "sms", "k", "s1"), time.Time{})
	t.enqueue(grouped("on", "email", "k", "e1"), time.Time{})
	t.wantFlush("on", time.Now().Add(hourLate), 1, policy(10))
	t.takeBatches("on", "email", []string{"e1"})
	t.wantState("on", "s1", queue.Queued, 1, "", "")
	if n := t.groupedCount("on"); n != 1 {
		t.Fatalf("Stats.Grouped = %d, want sms's 1", n)
	}
	t.wantFlush("on", time.Now().Add(hourLate), 0)
}

// Bad policies, a batch enqueued, a grouped step, and StartBatch or
// FinishBatch of a delivery that is no batch are refused as
// task.ErrInvalidConfig.
func batchInvalidInput(t *tester) {
	for _, ps := range [][]queue.GroupPolicy{
		{{Task: "", Size: 1, Delay: time.Second}},
		{{Task: "email", Size: 0, Delay: time.Second}},
		{{Task: "email", Size: 1, Delay: 0}},
		{{Task: "email", Size: 1, Delay: time.Second, Grace: -time.Second}},
		{policy(1), policy(2)},
	} {
		if _, err := t.q.FlushGroups(t.Context(), "bi", ps, time.Now()); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("FlushGroups(%+v) = %v, want task.ErrInvalidConfig", ps, err)
		}
	}
	b := msg("bi", "b1")
	b.Batch = []string{"x"}
	if err := t.q.Enqueue(t.Context(), b, time.Time{}); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("Enqueue of a batch = %v, want task.ErrInvalidConfig", err)
	}
	t.enqueue(msg("bi", "plain"), time.Time{})
	d := t.takeOne("bi", "plain")
	if _, err := t.q.StartBatch(t.Context(), d, "w1", at); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("StartBatch of a plain delivery = %v, want task.ErrInvalidConfig", err)
	}
	if err := t.q.FinishBatch(t.Context(), d, nil, nil); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("FinishBatch of a plain delivery = %v, want task.ErrInvalidConfig", err)
	}
}

// batchOf enqueues ids grouped in queue name, flushes them, and takes
// their batch.
func (t *tester) batchOf(name string, idList ...string) *queue.Delivery {
	t.Helper()
	for _, id := range idList {
		t.enqueue(grouped(name, "email", "k", id), time.Time{})
	}
	t.wantFlush(name, time.Now(), 1, policy(len(idList)))
	return t.takeBatches(name, "email", idList)[0]
}

// StartBatch hands out the members' messages and records them running;
// sent again, it answers alike.
func startBatchRunning(t *tester) {
	d := t.batchOf("sb", "m1", "m2")
	for range 2 {
		ms := t.startBatch(d, "w1", "m1", "m2")
		for _, m := range ms {
			want := *grouped("sb", "email", "k", m.ID)
			want.Attempt = 1
			sameMessage(t, "StartBatch", *m, want)
			if m.Group != "k" {
				t.Fatalf("member %s: group %q, want k", m.ID, m.Group)
			}
			st := t.wantState("sb", m.ID, queue.Running, 1, "", "")
			if st.Worker != "w1" || !sameTime(st.StartedAt, at) {
				t.Fatalf("member %s: worker %q since %v; want w1 since %v", m.ID, st.Worker, st.StartedAt, at)
			}
		}
	}
}

// Each member ends as its own outcome says: its state, its result
// record, Wait, the dead letters; the batch leaves the claimed ones.
func memberOutcomes(t *tester) {
	d := t.batchOf("mo", "ok", "bad", "dead")
	ms := t.startBatch(d, "w1", "ok", "bad", "dead")
	f, made := final([]error{nil}, []error{nil})
	ok := done
	ok.Final = f
	t.finishBatch(d, ms, ok, boom, permanent)
	made(t)
	t.wantState("mo", "ok", queue.Succeeded, 1, "", "")
	t.wantResult("mo", "ok", queue.ResultStored)
	t.wantState("mo", "bad", queue.Failed, 1, boom.Kind, boom.Error)
	t.wantState("mo", "dead", queue.Dead, 1, permanent.Kind, permanent.Error)
	for id, status := range map[string]queue.Status{"ok": queue.Succeeded, "bad": queue.Failed, "dead": queue.Dead} {
		st, err := t.q.Wait(t.Context(), "mo", id)
		if err != nil || st.Status != status {
			t.Fatalf("Wait(%q) = %+v, %v; want %q", id, st, err, status)
		}
	}
	dls, err := t.q.DeadLetters(t.Context(), "mo", 10)
	if err != nil || len(dls) != 1 || dls[0].ID != "dead" {
		t.Fatalf("DeadLetters = %+v, %v; want member dead", dls, err)
	}
	t.wantStats("mo", 0, 0, 0, 1)
}

// A FinishBatch sent again after a lost reply returns nil and changes
// nothing.
func finishBatchResent(t *tester) {
	d := t.batchOf("fr", "m1", "m2")
	ms := t.startBatch(d, "w1", "m1", "m2")
	t.finishBatch(d, ms, done, boom)
	t.finishBatch(d, ms, boom, done)
	t.wantState("fr", "m1", queue.Succeeded, 1, "", "")
	t.wantState("fr", "m2", queue.Failed, 1, boom.Kind, boom.Error)
	t.wantStats("fr", 0, 0, 0, 0)
}

// The FinishBatch of a batch delivery that Recover took over returns
// ErrSuperseded and changes nothing; the new delivery's stands.
func finishBatchSuperseded(t *tester) {
	d1 := t.batchOf("fo", "m1", "m2")
	ms1 := t.startBatch(d1, "w1", "m1", "m2")
	d2 := t.reclaim("fo", "c2", 0, 10)
	if len(d2) != 1 || d2[0].ID != d1.ID || !slices.Equal(d2[0].Batch, d1.Batch) || d2[0].Deliveries != 2 {
		t.Fatalf("Recover handed out %+v; want batch %s again, its second delivery", d2, d1.ID)
	}
	ms2 := t.startBatch(d2[0], "w2", "m1", "m2")
	if err := t.q.FinishBatch(t.Context(), d1, ms1, []queue.Outcome{boom, boom}); !errors.Is(err, queue.ErrSuperseded) {
		t.Fatalf("FinishBatch of the delivery taken over = %v, want queue.ErrSuperseded", err)
	}
	t.wantState("fo", "m1", queue.Running, 1, "", "")
	t.finishBatch(d2[0], ms2, done, done)
	t.wantState("fo", "m1", queue.Succeeded, 1, "", "")
	t.wantState("fo", "m2", queue.Succeeded, 1, "", "")
	if err := t.q.FinishBatch(t.Context(), d1, ms1, []queue.Outcome{boom, boom}); !errors.Is(err, queue.ErrSuperseded) {
		t.Fatalf("late FinishBatch of the delivery taken over = %v, want queue.ErrSuperseded", err)
	}
	t.wantState("fo", "m2", queue.Succeeded, 1, "", "")
}

// A batch whose consumer stopped extending its claim is recovered as any
// delivery, and its members that ended meanwhile (a member canceled
// before the batch started) are left out of the new delivery.
func recoveredWithUnended(t *tester) {
	d1 := t.batchOf("rb", "m1", "m2", "m3")
	t.cancel("rb", "m2", queue.CancelDone)
	t.startBatch(d1, "w1", "m1", "m3")
	if lost, err := t.q.Extend(t.Context(), "rb", "c1", []*queue.Delivery{d1}); err != nil || len(lost) != 0 {
		t.Fatalf("Extend of the batch = %v, %v; want it held", lost, err)
	}
	if moved, err := t.q.Recover(t.Context(), "rb", time.Hour, 10); err != nil || moved != 0 {
		t.Fatalf("Recover of a batch just extended = %d, %v; want none", moved, err)
	}
	d2 := t.reclaim("rb", "c2", 0, 10)
	if len(d2) != 1 || d2[0].ID != d1.ID {
		t.Fatalf("Recover handed out %q, want batch %s", ids(d2), d1.ID)
	}
	if lost, err := t.q.Extend(t.Context(), "rb", "c1", []*queue.Delivery{d1}); err != nil || len(lost) != 1 {
		t.Fatalf("Extend of the batch taken over = %v, %v; want it lost", lost, err)
	}
	ms := t.startBatch(d2[0], "w2", "m1", "m3")
	t.finishBatch(d2[0], ms, done, done)
	t.wantState("rb", "m1", queue.Succeeded, 1, "", "")
	t.wantState("rb", "m2", queue.Canceled, 1, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error())
	t.wantState("rb", "m3", queue.Succeeded, 1, "", "")
	t.wantStats("rb", 0, 0, 0, 0)
}

// A member canceled while it waits in its group leaves it: CancelDone,
// and no batch holds it.
func cancelGrouped(t *tester) {
	all := t.enqueueGroup("cg", "k", "m", 3)
	t.cancel("cg", all[1], queue.CancelDone)
	t.wantState("cg", all[1], queue.Canceled, 1, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error())
	if n := t.groupedCount("cg"); n != 2 {
		t.Fatalf("Stats.Grouped = %d, want 2", n)
	}
	t.wantFlush("cg", time.Now().Add(hourLate), 1, policy(10))
	t.takeBatches("cg", "email", []string{all[0], all[2]})
}

// A member canceled while its batch runs is told (CancelSent), and ends
// Canceled whatever the handler said; the others end as it said.
func cancelRunningMember(t *tester) {
	d := t.batchOf("cr", "m1", "m2")
	ms := t.startBatch(d, "w1", "m1", "m2")
	t.cancel("cr", "m2", queue.CancelSent)
	t.finishBatch(d, ms, done, done)
	t.wantState("cr", "m1", queue.Succeeded, 1, "", "")
	t.wantState("cr", "m2", queue.Canceled, 1, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error())
}

// A member whose outcome is a retry waits delayed; Promote then moves it
// into its group, not to the ready messages, and its next batch runs it
// as its next attempt. A grouped message enqueued with a delay does the
// same.
func retriedMemberRegroups(t *tester) {
	d := t.batchOf("rm", "m1", "m2")
	ms := t.startBatch(d, "w1", "m1", "m2")
	runAt := time.Now().Add(time.Minute)
	retry := queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: runAt, Kind: boom.Kind, Error: boom.Error, Retry: true}
	t.finishBatch(d, ms, retry, done)
	t.wantState("rm", "m1", queue.Scheduled, 2, boom.Kind, boom.Error)
	t.enqueue(grouped("rm", "email", "k", "late"), runAt.Add(500*time.Millisecond))
	t.wantState("rm", "late", queue.Scheduled, 1, "", "")
	t.wantStats("rm", 0, 0, 2, 0)
	if n := t.promote("rm", runAt.Add(time.Second), 10); n != 2 {
		t.Fatalf("Promote moved %d, want 2", n)
	}
	t.noneReady("rm")
	t.wantState("rm", "m1", queue.Queued, 2, boom.Kind, boom.Error)
	if n := t.groupedCount("rm"); n != 2 {
		t.Fatalf("Stats.Grouped after Promote = %d, want 2", n)
	}
	t.wantFlush("rm", time.Now(), 1, policy(2))
	d2 := t.takeBatches("rm", "email", []string{"m1", "late"})[0]
	ms = t.startBatch(d2, "w1", "m1", "late")
	if ms[0].Attempt != 2 || ms[0].LastKind != boom.Kind || ms[0].LastError != boom.Error {
		t.Fatalf("retried member: attempt %d, last failure %q %q; want attempt 2 after %q", ms[0].Attempt, ms[0].LastKind, ms[0].LastError, boom.Kind)
	}
	t.finishBatch(d2, ms, queue.Outcome{Status: queue.Succeeded, Attempt: 2}, done)
	t.wantState("rm", "m1", queue.Succeeded, 2, "", "")
}

// A grouped task's dead letter requeued goes back to its group, not to
// the ready messages, and runs in a later batch as attempt 1.
func requeuedDeadRegroups(t *tester) {
	d := t.batchOf("rd", "m1")
	ms := t.startBatch(d, "w1", "m1")
	t.finishBatch(d, ms, permanent)
	requeued, kept, err := t.q.RequeueDead(t.Context(), "rd")
	if err != nil || !slices.Equal(requeued, []string{"m1"}) || len(kept) != 0 {
		t.Fatalf("RequeueDead = %q, %q, %v; want m1 requeued", requeued, kept, err)
	}
	t.noneReady("rd")
	t.wantState("rd", "m1", queue.Queued, 1, "", "")
	if n := t.groupedCount("rd"); n != 1 {
		t.Fatalf("Stats.Grouped after RequeueDead = %d, want 1", n)
	}
	t.wantFlush("rd", time.Now(), 1, policy(1))
	d = t.takeBatches("rd", "email", []string{"m1"})[0]
	ms = t.startBatch(d, "w1", "m1")
	t.finishBatch(d, ms, done)
	t.wantState("rd", "m1", queue.Succeeded, 1, "", "")
}
