package redisbackend

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/taskware/taskware/queue"
)

var listWorkflowsScript = newScript(lua("list_workflows.lua"))

// workflowScan is how many entries of the index one ListWorkflows reads
// at most when it filters by status: a page of a rare status in a long
// index comes back short, with a Next, rather than hold Redis long (2,000
// entries cost it about 4 ms; BenchmarkListWorkflows).
const workflowScan = 2_000

// ListWorkflows implements queue.Workflows, in one round trip: a script
// (lua/list_workflows.lua) reads the home queue's index of workflows from
// the cursor on, newest first, each record's status, and, of those of the
// status asked for, the record and its count of ended steps; it drops the
// entries whose record expired. A page of 50 costs Redis about 0.3 ms.
func (q *Queue) ListWorkflows(ctx context.Context, name string, wq queue.WorkflowQuery) (*queue.WorkflowPage, error) {
	limit, after, err := wq.Parse(name)
	if err != nil {
		return nil, err
	}
	pos, afterID := "", ""
	if after != nil {
		pos, afterID = strconv.FormatInt(after.Created, 10), after.ID
	}
	k := q.b.keys
	res, err := q.run(ctx, listWorkflowsScript, []string{k.workflows(name)},
		k.workflow(name, ""), k.workflowEnded(name, ""), limit, workflowScan, pos, afterID, string(wq.Status)).Slice()
	if err == nil && len(res) != 4 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		return nil, fmt.Errorf("worker: list workflows of %s: %w", name, unavailable(ctx, err))
	}
	rows, _ := res[3].([]any)
	page := &queue.WorkflowPage{Workflows: make([]queue.WorkflowState, 0, min(len(rows), limit))}
	for _, r := range rows {
		v, _ := r.([]any)
		if len(v) != 11 {
			return nil, fmt.Errorf("worker: list workflows of %s: unexpected row %v", name, r)
		}
		if len(page.Workflows) == limit {
			page.Next = queue.MarkOf(&page.Workflows[limit-1]).Cursor()
			return page, nil
		}
		w := queue.WorkflowState{ID: toString(v[0]), Queue: name, Ended: int(toInt(v[2])), Name: toString(v[3]),
			Status: queue.Status(toString(v[4])), Steps: int(toInt(v[5])), FinishedAt: microsTime(toString(v[6])),
			Output: toString(v[7]), FailedStep: toString(v[8]), Kind: toString(v[9]), Error: toString(v[10])}
		w.CreatedAt = time.UnixMicro(scoreMicros(v[1]))
		page.Workflows = append(page.Workflows, w)
	}
	if toInt(res[0]) == 1 && toString(res[1]) != "" { // the scan stopped short: go on after the last entry read
		page.Next = queue.WorkflowMark{Created: scoreMicros(res[2]), ID: toString(res[1])}.Cursor()
	}
	return page, nil
}

// scoreMicros reads a score of the index, a time in µs (exact in a
// float64 until the year 2255).
func scoreMicros(v any) int64 {
	f, _ := strconv.ParseFloat(toString(v), 64)
	return int64(f)
}
