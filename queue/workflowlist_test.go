package queue_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// A cursor reads back as the mark it was made of, the limit is defaulted
// and capped, and bad input is refused as such.
func TestWorkflowQueryParse(t *testing.T) {
	m := queue.WorkflowMark{Created: 1_780_000_000_123_456, ID: "wf|with|bars"}
	limit, after, err := queue.WorkflowQuery{After: m.Cursor(), Status: queue.Failed}.Parse("q")
	if err != nil || limit != queue.DefaultWorkflowPage || after == nil || *after != m {
		t.Fatalf("Parse of a cursor = %d, %+v, %v; want %d, %+v", limit, after, err, queue.DefaultWorkflowPage, m)
	}
	if limit, after, err := (queue.WorkflowQuery{Limit: 1 << 30}).Parse("q"); err != nil || limit != queue.MaxWorkflowPage || after != nil {
		t.Fatalf("Parse of a huge limit = %d, %+v, %v; want %d, no cursor", limit, after, err, queue.MaxWorkflowPage)
	}
	for _, q := range []queue.WorkflowQuery{{Limit: -1}, {Status: "waiting"}, {After: "%%"}, {After: m.Cursor()[:6]},
		{After: queue.WorkflowMark{Created: 1}.Cursor()}} {
		if _, _, err := q.Parse("q"); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("Parse(%+v) = %v; want task.ErrInvalidConfig", q, err)
		}
	}
	if _, _, err := (queue.WorkflowQuery{}).Parse("a{b}"); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("Parse of a bad queue name = %v; want task.ErrInvalidConfig", err)
	}
}

// Marks sort newest first, then by ID, descending.
func TestWorkflowMarkCompare(t *testing.T) {
	want := []queue.WorkflowMark{{2, "a"}, {1, "b"}, {1, "a"}, {0, "z"}}
	got := []queue.WorkflowMark{{1, "a"}, {0, "z"}, {2, "a"}, {1, "b"}}
	slices.SortFunc(got, queue.WorkflowMark.Compare)
	if !slices.Equal(got, want) {
		t.Fatalf("sorted %v; want %v", got, want)
	}
	if (queue.WorkflowMark{1, "a"}).Compare(queue.WorkflowMark{1, "a"}) != 0 {
		t.Fatal("a mark does not equal itself")
	}
}
