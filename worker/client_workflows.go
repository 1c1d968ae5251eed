package worker

import (
	"context"
	"time"

	"github.com/taskware/taskware/queue"
)

// clientWorkflows is a client's workflow side: the backend's, which
// publishes the client's events of the workflows it starts and cancels.
type clientWorkflows struct {
	queue.Workflows
	c *Client
}

// EnqueueWorkflow publishes EventWorkflowStarted, unless the backend says
// the workflow was stored already (a call sent again).
func (f clientWorkflows) EnqueueWorkflow(ctx context.Context, wf *queue.WorkflowSpec, runAt time.Time) error {
	err := f.Workflows.EnqueueWorkflow(ctx, wf, runAt)
	if err == nil && !wf.Existed && f.c.events.on() {
		e := Event{Kind: EventWorkflowStarted, Queue: wf.Queue, Workflow: wf.ID, At: time.Now()}
		if runAt.After(e.At) {
			e.RunAt = runAt
		}
		f.c.events.publish(&e)
	}
	return err
}

// CancelWorkflow publishes EventWorkflowCanceled, unless the workflow had
// ended already.
func (f clientWorkflows) CancelWorkflow(ctx context.Context, name, id string) (*queue.WorkflowCancel, error) {
	res, err := f.Workflows.CancelWorkflow(ctx, name, id)
	if err == nil && !res.Ended && f.c.events.on() {
		f.c.events.publish(&Event{Kind: EventWorkflowCanceled, Queue: name, Workflow: id, At: time.Now(), Err: queue.ErrCanceled})
	}
	return res, err
}
