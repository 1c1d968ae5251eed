package queuetest

import (
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
)

// readyBatch flushes the grouped ids of queue name into one batch, and
// returns its ID, read from the ready listing, without taking it.
func (t *tester) readyBatch(name string, idList ...string) string {
	t.Helper()
	for _, id := range idList {
		t.enqueue(grouped(name, "email", "k", id), time.Time{})
	}
	t.wantFlush(name, time.Now(), 1, policy(len(idList)))
	listed := t.pages(name, queue.TaskQuery{Set: queue.ReadyTasks})
	if len(listed) != 1 || slices.Contains(idList, listed[0]) {
		t.Fatalf("ready tasks after the flush: %q; want the batch alone", listed)
	}
	return listed[0]
}

// listedIn returns the sets of queue name whose listing holds id.
func (t *tester) listedIn(name, id string) []queue.TaskSet {
	t.Helper()
	var in []queue.TaskSet
	for _, set := range []queue.TaskSet{queue.ReadyTasks, queue.RunningTasks, queue.DelayedTasks, queue.DeadTasks, queue.FinishedTasks} {
		if slices.Contains(t.pages(name, queue.TaskQuery{Set: set}), id) {
			in = append(in, set)
		}
	}
	return in
}

// canceledCount sums queue name's Rates.Canceled of the last hour.
func (t *tester) canceledCount(name string) int64 {
	t.Helper()
	rates, err := t.q.Rates(t.Context(), name, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatalf("Rates(%q): %v", name, err)
	}
	var sum queue.OutcomeCounts
	for _, r := range rates {
		sum.Add(r)
	}
	return sum.Canceled + sum.Succeeded + sum.Failed + sum.Dead
}

// A batch has a state of its own, under its ID: Queued once made (taken
// too), Running from StartBatch (its Worker and StartedAt), Succeeded
// once FinishBatch ends it, whatever its members' outcomes; Message gives
// its members while it waits, Find knows it as State does; Wait returns
// it then, and it is listed with the finished tasks. Its own end is not
// counted in Rates: its members' ends are.
func batchStateThroughItsLife(t *tester) {
	d := t.batchOf("bs", "m1", "m2")
	st := t.wantState("bs", d.ID, queue.Queued, 1, "", "")
	if st.Task != "email" {
		t.Fatalf("State of the batch: task %q, want email", st.Task)
	}
	m, err := t.q.Message(t.Context(), "bs", d.ID)
	if err != nil || m.ID != d.ID || m.Task != "email" || !slices.Equal(m.Batch, []string{"m1", "m2"}) {
		t.Fatalf("Message of the taken batch = %+v, %v; want its members m1, m2", m, err)
	}
	ms := t.startBatch(d, "w1", "m1", "m2")
	st = t.wantState("bs", d.ID, queue.Running, 1, "", "")
	found, err := t.q.Find(t.Context(), d.ID, "bs")
	if err != nil || len(found) != 1 || found[0].Status != queue.Running || found[0].Worker != "w1" {
		t.Fatalf("Find of the started batch = %+v, %v; want it running on w1", found, err)
	}
	if st.Worker != "w1" || !sameTime(st.StartedAt, at) {
		t.Fatalf("State of the started batch: worker %q since %v; want w1 since %v", st.Worker, st.StartedAt, at)
	}
	t.finishBatch(d, ms, done, boom)
	st = t.wantState("bs", d.ID, queue.Succeeded, 1, "", "")
	if st.FinishedAt.IsZero() {
		t.Fatalf("State of the finished batch: no FinishedAt")
	}
	w, err := t.q.Wait(t.Context(), "bs", d.ID)
	if err != nil || w.Status != queue.Succeeded {
		t.Fatalf("Wait of the batch = %+v, %v; want succeeded", w, err)
	}
	if in := t.listedIn("bs", d.ID); !slices.Equal(in, []queue.TaskSet{queue.FinishedTasks}) {
		t.Fatalf("the finished batch is listed in %q, want the finished tasks", in)
	}
	if n := t.canceledCount("bs"); n != 2 {
		t.Fatalf("Rates counted %d ends, want the 2 members'", n)
	}
}

// Cancel of a batch not yet taken is CancelDone: the batch and its members
// end Canceled, it is taken by nobody, and a second Cancel is
// CancelTooLate. The members' cancels are counted in Rates, not the
// batch's.
func cancelBatchBeforeTaken(t *tester) {
	id := t.readyBatch("cb", "m1", "m2")
	t.wantState("cb", id, queue.Queued, 1, "", "")
	t.cancel("cb", id, queue.CancelDone)
	t.wantState("cb", id, queue.Canceled, 1, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error())
	for _, m := range []string{"m1", "m2"} {
		t.wantState("cb", m, queue.Canceled, 1, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error())
	}
	t.noneReady("cb")
	t.wantStats("cb", 0, 0, 0, 0)
	t.cancel("cb", id, queue.CancelTooLate)
	w, err := t.q.Wait(t.Context(), "cb", id)
	if err != nil || w.Status != queue.Canceled {
		t.Fatalf("Wait of the canceled batch = %+v, %v; want canceled", w, err)
	}
	if n := t.canceledCount("cb"); n != 2 {
		t.Fatalf("Rates counted %d ends, want the 2 members' cancels", n)
	}
}

// Cancel of a batch a worker holds is CancelSent (its run is told, as for
// any task); its finish ends it Succeeded, and its members as their
// outcomes say.
func cancelTakenBatch(t *tester) {
	d := t.batchOf("ct", "m1")
	t.cancel("ct", d.ID, queue.CancelSent)
	ms := t.startBatch(d, "w1", "m1")
	t.finishBatch(d, ms, done)
	t.wantState("ct", d.ID, queue.Succeeded, 1, "", "")
	t.wantState("ct", "m1", queue.Succeeded, 1, "", "")
}

// A grouped message is listed in no set while it waits in its group, nor
// while its batch waits to start: it is found by ID (State says Queued),
// and counted in Stats.Grouped in its group, in no count in a batch not
// started (the batch is one ready message). Once its batch runs, the
// batch is listed as running, and an ended member as finished.
func groupedListedNowhere(t *tester) {
	t.enqueue(grouped("gl", "email", "k", "m1"), time.Time{})
	t.wantState("gl", "m1", queue.Queued, 1, "", "")
	if in := t.listedIn("gl", "m1"); len(in) != 0 {
		t.Fatalf("a grouped message is listed in %q, want none", in)
	}
	if n := t.groupedCount("gl"); n != 1 {
		t.Fatalf("Stats.Grouped = %d, want 1", n)
	}
	t.wantStats("gl", 0, 0, 0, 0)
	t.wantFlush("gl", time.Now(), 1, policy(1))
	t.wantState("gl", "m1", queue.Queued, 1, "", "")
	if in := t.listedIn("gl", "m1"); len(in) != 0 {
		t.Fatalf("a member of a batch not started is listed in %q, want none", in)
	}
	if n := t.groupedCount("gl"); n != 0 {
		t.Fatalf("Stats.Grouped after the flush = %d, want 0", n)
	}
	t.wantStats("gl", 1, 0, 0, 0)
	d := t.takeBatches("gl", "email", []string{"m1"})[0]
	ms := t.startBatch(d, "w1", "m1")
	if in := t.listedIn("gl", d.ID); !slices.Equal(in, []queue.TaskSet{queue.RunningTasks}) {
		t.Fatalf("the running batch is listed in %q, want the running tasks", in)
	}
	t.finishBatch(d, ms, done)
	if in := t.listedIn("gl", "m1"); !slices.Equal(in, []queue.TaskSet{queue.FinishedTasks}) {
		t.Fatalf("the ended member is listed in %q, want the finished tasks", in)
	}
}

// A batch's ID is never a task's: FlushGroups passes over an ID a task of
// the queue holds, whatever the backend's naming, and the task's state
// stays its own; nor can a task take a batch's ID (ErrDuplicate).
func batchIDNoTasks(t *tester) {
	held := map[string]bool{}
	for _, id := range []string{"batch-0", "batch-1", "batch-2", "batch-3", "batch-01", "1", "2"} {
		t.enqueue(msg("bn", id), time.Now().Add(time.Hour))
		held[id] = true
	}
	d := t.batchOf("bn", "m1")
	if held[d.ID] {
		t.Fatalf("the batch's ID %q is a task's", d.ID)
	}
	for id := range held {
		t.wantState("bn", id, queue.Scheduled, 1, "", "")
	}
	t.wantState("bn", d.ID, queue.Queued, 1, "", "")
	t.duplicate("with the batch's ID", msg("bn", d.ID), time.Time{}, d.ID)
}

// A started batch that Recover takes over is Queued again, as a task
// taken over is, until its new delivery starts it.
func recoveredBatchQueued(t *tester) {
	d := t.batchOf("rq", "m1")
	t.startBatch(d, "w1", "m1")
	t.wantState("rq", d.ID, queue.Running, 1, "", "")
	d2 := t.reclaim("rq", "c2", 0, 10)
	if len(d2) != 1 || d2[0].ID != d.ID {
		t.Fatalf("Recover handed out %q, want batch %s", ids(d2), d.ID)
	}
	t.wantState("rq", d.ID, queue.Queued, 1, "", "")
	t.wantState("rq", "m1", queue.Queued, 1, "", "")
	ms := t.startBatch(d2[0], "w2", "m1")
	if st := t.wantState("rq", d.ID, queue.Running, 1, "", ""); st.Worker != "w2" {
		t.Fatalf("State of the batch started again: worker %q, want w2", st.Worker)
	}
	t.finishBatch(d2[0], ms, done)
	t.wantState("rq", d.ID, queue.Succeeded, 1, "", "")
}
