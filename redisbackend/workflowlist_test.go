package redisbackend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// Each enqueue of a workflow drops from its home's index the sampled
// entries whose record expired, so that the index of a queue never
// listed stays near the workflows it keeps.
func TestWorkflowIndexTrimmedByEnqueue(t *testing.T) {
	kb := taskwaretest.New(t, "miniredis")
	b := redisbackend.New(kb.Client, redisbackend.Prefix(kb.Prefix()), redisbackend.StateTTL(time.Minute))
	q := b.Queue()
	ctx := t.Context()
	index := kb.Prefix() + "queue:{wi}:workflows"
	const old, fresh = 20, 40
	for i := range old {
		id := fmt.Sprintf("old%d", i)
		wfEnqueue(t, q, wfSpec(id, "wi", "a"))
		if _, err := q.CancelWorkflow(ctx, "wi", id); err != nil {
			t.Fatal(err)
		}
	}
	kb.Advance(2 * time.Minute)
	if n := kb.Client.ZCard(ctx, index).Val(); n != old {
		t.Fatalf("the index holds %d before new enqueues; want the %d expired", n, old)
	}
	for i := range fresh {
		wfEnqueue(t, q, wfSpec(fmt.Sprintf("new%d", i), "wi", "a"))
	}
	// Each enqueue samples two: after 40, all but a few of the 20 are gone
	// (keeping 10 of them would take a run of bad draws beyond chance).
	n := kb.Client.ZCard(ctx, index).Val()
	if n < fresh || n > fresh+old/2 {
		t.Fatalf("the index holds %d after %d enqueues; want the %d live, and under half of the %d expired", n, fresh, fresh, old)
	}
}

// A listing by status reads at most its scan budget of the index a call
// (2,000 entries): past it, the page comes back short, with a Next that
// goes on from the last entry read, and the listing still finds all.
func TestListWorkflowsScanBudget(t *testing.T) {
	kb := taskwaretest.New(t, "miniredis")
	q := redisbackend.New(kb.Client, redisbackend.Prefix(kb.Prefix())).Queue()
	ctx := t.Context()
	const n = 2_100
	for i := range n {
		wfEnqueue(t, q, wfSpec(fmt.Sprintf("w%04d", i), "wb", "a"))
	}
	if _, err := q.CancelWorkflow(ctx, "wb", "w0000"); err != nil { // the oldest
		t.Fatal(err)
	}
	first, err := q.ListWorkflows(ctx, "wb", queue.WorkflowQuery{Status: queue.Canceled, Limit: 10})
	if err != nil || len(first.Workflows) != 0 || first.Next == "" {
		t.Fatalf("first page of the canceled = %+v, %v; want none found within the budget, and a Next", first, err)
	}
	second, err := q.ListWorkflows(ctx, "wb", queue.WorkflowQuery{Status: queue.Canceled, Limit: 10, After: first.Next})
	if err != nil || len(second.Workflows) != 1 || second.Workflows[0].ID != "w0000" || second.Next != "" {
		t.Fatalf("second page of the canceled = %+v, %v; want w0000, and no Next", second, err)
	}
}
