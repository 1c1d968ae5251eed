package memorybackend

import (
	"context"
	"slices"

	"github.com/taskware/taskware/queue"
)

// ListWorkflows implements queue.Workflows: the live workflows of home,
// sorted as a listing goes, from the cursor on. A page is always full
// unless it is the last.
func (q *Queue) ListWorkflows(ctx context.Context, home string, wq queue.WorkflowQuery) (*queue.WorkflowPage, error) {
	limit, after, err := wq.Parse(home)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	page := &queue.WorkflowPage{Workflows: []queue.WorkflowState{}}
	mq := q.queue(home, false)
	if mq == nil {
		return page, nil
	}
	now := q.now()
	var all []*memWorkflow
	for id := range mq.workflows {
		w := mq.workflow(id, now) // drops it if it expired
		if w == nil || wq.Status != "" && w.status != wq.Status {
			continue
		}
		if after != nil && mark(w).Compare(*after) <= 0 {
			continue
		}
		all = append(all, w)
	}
	slices.SortFunc(all, func(a, b *memWorkflow) int { return mark(a).Compare(mark(b)) })
	for i, w := range all {
		if i == limit {
			page.Next = mark(all[i-1]).Cursor()
			break
		}
		page.Workflows = append(page.Workflows, queue.WorkflowState{ID: w.id, Name: w.name, Queue: w.home, Status: w.status,
			Output: w.output, Steps: len(w.steps), Ended: len(w.ended), FailedStep: w.failedStep, Kind: w.kind, Error: w.err,
			CreatedAt: w.created, FinishedAt: w.finished})
	}
	return page, nil
}

func mark(w *memWorkflow) queue.WorkflowMark {
	return queue.WorkflowMark{Created: w.created.UnixMicro(), ID: w.id}
}
