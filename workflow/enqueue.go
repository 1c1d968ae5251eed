package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// EnqueueOption configures one Enqueue.
type EnqueueOption interface{ applyEnqueue(*enqueueConfig) }

type enqueueConfig struct {
	id    string
	runAt time.Time
	delay time.Duration
}

type enqueueOptionFunc func(*enqueueConfig)

func (f enqueueOptionFunc) applyEnqueue(c *enqueueConfig) { f(c) }

// ID gives the workflow the caller's ID instead of a random one: an
// Enqueue of the same definition under the same ID is then idempotent,
// and one of another definition is refused (queue.ErrDuplicate). Its
// steps' IDs are queue.StepID(id, name).
func ID(id string) EnqueueOption { return enqueueOptionFunc(func(c *enqueueConfig) { c.id = id }) }

// Delay runs the workflow's roots no sooner than d from now.
func Delay(d time.Duration) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.delay = d })
}

// RunAt runs the workflow's roots no sooner than t.
func RunAt(t time.Time) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.runAt = t })
}

// unavailableFor is how long Enqueue tries again while the backend is
// unavailable: a call sent again completes the first.
const unavailableFor = time.Minute

// Enqueue stores def's steps in one call to the client's queue (its
// workflow side: see worker.WithWorkflows): those with parents to wait,
// the roots to run. It returns a handle on the workflow. Enqueueing the
// same definition under the same ID again is a success that adds nothing;
// another definition under a known ID is refused with an error matching
// queue.ErrDuplicate. While the backend is unavailable it tries again,
// for up to a minute, or until ctx ends.
//
// Every step's task must be registered with worker.Register on the
// workers of its queue, as any task is.
func Enqueue[R any](ctx context.Context, c *worker.Client, def *Def[R], opts ...EnqueueOption) (*Handle[R], error) {
	if def == nil {
		return nil, fmt.Errorf("%w: workflow.Enqueue: a nil Def", task.ErrInvalidConfig)
	}
	flows, err := workflowsOf(c)
	if err != nil {
		return nil, err
	}
	var cfg enqueueConfig
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: workflow.Enqueue: a nil option", task.ErrInvalidConfig)
		}
		o.applyEnqueue(&cfg)
	}
	if cfg.id == "" {
		cfg.id = randid.New()
	}
	now := time.Now()
	runAt := cfg.runAt
	if cfg.delay > 0 && now.Add(cfg.delay).After(runAt) {
		runAt = now.Add(cfg.delay)
	}
	spec := def.spec(cfg.id, now)
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("workflow.Enqueue %s: %w", def.name, err)
	}
	pause := backoff.New(50*time.Millisecond, time.Second)
	deadline := now.Add(unavailableFor)
	for {
		err = flows.EnqueueWorkflow(ctx, spec, runAt)
		if err == nil {
			return &Handle[R]{Queue: def.queue, ID: cfg.id, flows: flows, codec: def.codec, output: def.output}, nil
		}
		if !errors.Is(err, task.ErrUnavailable) || time.Now().After(deadline) {
			return nil, err
		}
		if serr := backoff.Sleep(ctx, pause.Next()); serr != nil {
			return nil, err
		}
	}
}

// spec is def enqueued as workflow id, now: its messages with their IDs.
func (d *Def[R]) spec(id string, now time.Time) *queue.WorkflowSpec {
	spec := &queue.WorkflowSpec{ID: id, Name: d.name, Queue: d.queue, Digest: d.digest, Steps: make([]*queue.Message, len(d.steps))}
	msgs := make([]queue.Message, len(d.steps))
	steps := make([]queue.Step, len(d.steps))
	for i, m := range d.steps {
		steps[i] = *m.Step
		steps[i].Workflow, steps[i].Home = id, d.queue
		msgs[i] = *m
		msgs[i].ID, msgs[i].EnqueuedAt, msgs[i].Step = queue.StepID(id, m.Step.Name), now, &steps[i]
		spec.Steps[i] = &msgs[i]
	}
	return spec
}

// workflowsOf returns c's workflow side, or why it has none.
func workflowsOf(c *worker.Client) (queue.Workflows, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: workflow: a nil worker.Client", task.ErrInvalidConfig)
	}
	flows := c.Workflows()
	if flows == nil {
		return nil, fmt.Errorf("%w: workflow: the worker.Client has no workflow side: make it with worker.WithWorkflows(queue)", task.ErrInvalidConfig)
	}
	return flows, nil
}
