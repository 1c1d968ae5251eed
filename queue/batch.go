package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/task"
)

// Batches gathers grouped messages into batches, and runs a batch's
// members.
//
// A message with a Group waits in its group (of its queue, task and key)
// instead of being ready; its State is Queued there, and in a batch not yet
// started. A grouped message with a future runAt (a delay, a retry) waits
// delayed first (Scheduled): Promote then moves it into its group, not to
// the ready messages.
//
// Cancel of a grouped message waiting in its group is CancelDone: it
// leaves its group. Cancel of a member of a batch not yet started is
// CancelDone: StartBatch leaves it out. Cancel of a member of a running
// batch is CancelSent (the batch's run is told, as for any running task),
// and FinishBatch ends that member Canceled whatever the handler said.
//
// Admin.RequeueDead puts a grouped task's dead letter back in its group.
//
// A grouped message waiting in its group, or in a batch not yet started,
// is in no Admin.ListTasks set: it is found by ID (State), and counted in
// Stats.Grouped while in its group, in no count once in a batch (the
// batch is one ready message). An ended member is listed as any ended
// task.
//
// A batch has a state of its own, under its ID, as a task has: Queued
// once made (and taken), Running from StartBatch (Worker, StartedAt),
// Succeeded once FinishBatch ends it, whatever its members' outcomes; so
// State and Wait of a batch ID answer as for a task, and a finished batch
// is listed with the finished tasks. Cancel of a batch not yet taken is
// CancelDone: it ends Canceled, and so do its members not started; of a
// batch a worker holds, CancelSent. A batch's own end is counted in no
// Admin.Rates: its members' ends are.
type Batches interface {
	// FlushGroups makes batches of queue's groups of the tasks policies
	// name that are due at now: a group of at least Size messages gives a
	// batch of its Size oldest (again while Size remain); a group whose
	// oldest message waited Delay, or whose newest waited Grace (0: not
	// used), gives all its messages (at most Size a batch). Each batch is
	// a message of its own -- Task the members' task, Queue theirs, Batch
	// their IDs, an ID the backend chooses, unique in the queue and never
	// reused -- made ready like any, taken, extended, recovered and
	// finished like any (at least once). Returns how many batches it made.
	// Sent again after a lost reply, it makes no member part of two
	// batches.
	FlushGroups(ctx context.Context, queue string, policies []GroupPolicy, now time.Time) (int, error)
	// StartBatch returns batch delivery d's members that have not ended
	// (in d.Batch order; an ended one -- canceled, or ended by an earlier
	// delivery of d -- is left out) and records them as running on worker
	// since at (State.Running, StartedAt, Worker). A member whose message
	// cannot be read comes back with only its ID, Task, Queue and Group,
	// and Attempt 0 (a message read has 1 or more): the worker ends it
	// Dead with ErrBadMessage through FinishBatch. Sent again, it answers
	// alike. A delivery that is no
	// batch (d.Batch nil) is an error matching task.ErrInvalidConfig.
	StartBatch(ctx context.Context, d *Delivery, worker string, at time.Time) ([]*Message, error)
	// FinishBatch ends each of members (from StartBatch) as outcomes[i]
	// says, as Finish would end a task of its own (state, Final writes,
	// waiters woken, a Scheduled outcome puts it back delayed, then into
	// its group), and then ends d itself -- all at once, so a crash leaves
	// either all or none. A member ended already (canceled meanwhile)
	// keeps its end; a member canceled while the batch ran ends Canceled.
	// Sent again after a lost reply it returns nil and changes nothing;
	// an error matching ErrSuperseded if Recover took d over.
	FinishBatch(ctx context.Context, d *Delivery, members []*Message, outcomes []Outcome) error
}

// GroupPolicy says when the groups of one task are flushed.
type GroupPolicy struct {
	Task string
	// Size caps the members of a batch, > 0; a group that reaches it is
	// flushed at once.
	Size int
	// Delay is how long a group's oldest message waits at most, > 0.
	Delay time.Duration
	// Grace flushes a group whose newest message waited that long: no
	// more came meanwhile. 0: not used.
	Grace time.Duration
}

// ValidateGroupPolicies checks the policies of a FlushGroups call, for
// backends: a task named once, a positive Size and Delay, a Grace not
// negative. A bad one is an error matching task.ErrInvalidConfig.
func ValidateGroupPolicies(policies []GroupPolicy) error {
	seen := make(map[string]bool, len(policies))
	for _, p := range policies {
		switch {
		case p.Task == "":
			return fmt.Errorf("%w: queue: group policy without a task", task.ErrInvalidConfig)
		case seen[p.Task]:
			return fmt.Errorf("%w: queue: task %q has two group policies", task.ErrInvalidConfig, p.Task)
		case p.Size <= 0:
			return fmt.Errorf("%w: queue: group policy of %q: size %d must be > 0", task.ErrInvalidConfig, p.Task, p.Size)
		case p.Delay <= 0:
			return fmt.Errorf("%w: queue: group policy of %q: delay %v must be > 0", task.ErrInvalidConfig, p.Task, p.Delay)
		case p.Grace < 0:
			return fmt.Errorf("%w: queue: group policy of %q: negative grace %v", task.ErrInvalidConfig, p.Task, p.Grace)
		}
		seen[p.Task] = true
	}
	return nil
}

// ValidateBatchOutcomes checks a FinishBatch call, for backends: one
// outcome per member, each valid (ValidateOutcome), d a batch. A bad one is
// an error matching task.ErrInvalidConfig.
func ValidateBatchOutcomes(d *Delivery, members []*Message, outcomes []Outcome) error {
	if d.Batch == nil {
		return fmt.Errorf("%w: queue: delivery %s is no batch", task.ErrInvalidConfig, d.ID)
	}
	if len(members) != len(outcomes) {
		return fmt.Errorf("%w: queue: batch %s: %d members, %d outcomes", task.ErrInvalidConfig, d.ID, len(members), len(outcomes))
	}
	for i, m := range members {
		if err := ValidateOutcome(&Delivery{Message: *m}, outcomes[i]); err != nil {
			return fmt.Errorf("%w: %w", task.ErrInvalidConfig, err)
		}
	}
	return nil
}
