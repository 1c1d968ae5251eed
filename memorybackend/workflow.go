package memorybackend

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// memWorkflow is a workflow's record, kept by its home queue. Its steps'
// states are ordinary tasks' states, each in its step's queue, with a
// memStep.
type memWorkflow struct {
	id, name, home, digest string
	status                 queue.Status
	output                 string
	steps                  []wfStep       // in the spec's order: parents first
	index                  map[string]int // by step name
	// ended holds each step that ended, with its status: a step counts
	// once, and the workflow succeeds when every step is in.
	ended                 map[string]queue.Status
	failedStep, kind, err string
	created, finished     time.Time
	result                []byte    // the output step's, once it succeeded
	expires               time.Time // zero until the workflow ends
}

// wfStep is what a workflow's record knows of one of its steps.
type wfStep struct {
	name, id, queue, task string
	parents               []string
}

// memStep is a step's part of its task's state.
type memStep struct {
	step *queue.Step
	// core is the step's message as enqueued, attempt 1: RetryStep sends
	// it back.
	core queue.Message
	// inputs are the outcomes its parents recorded, by parent name: a
	// parent's first end is its only one.
	inputs map[string]task.Input
}

// cloneStep returns a copy of s that shares nothing with it.
func cloneStep(s *queue.Step) *queue.Step {
	if s == nil {
		return nil
	}
	c := *s
	c.Parents, c.Children, c.Fields = slices.Clone(s.Parents), slices.Clone(s.Children), slices.Clone(s.Fields)
	return &c
}

func noWorkflow(home, id string) error {
	return fmt.Errorf("queue: no workflow %q on queue %q: %w", id, home, queue.ErrNotFound)
}

// workflow returns workflow id unless it has expired. q.mu is held.
func (mq *memQueue) workflow(id string, now time.Time) *memWorkflow {
	w := mq.workflows[id]
	if w != nil && !w.expires.IsZero() && !now.Before(w.expires) {
		delete(mq.workflows, id)
		return nil
	}
	return w
}

// markEnded counts step name's end, once, and reports whether this was
// its first.
func (w *memWorkflow) markEnded(name string, status queue.Status) bool {
	if _, ok := w.ended[name]; ok {
		return false
	}
	w.ended[name] = status
	return true
}

// EnqueueWorkflow implements queue.Workflows: the record, every step's
// state, and the roots in their queues, all at once or none of them.
func (q *Queue) EnqueueWorkflow(ctx context.Context, wf *queue.WorkflowSpec, runAt time.Time) error {
	if err := wf.Validate(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	wf.Existed = false
	home := q.queue(wf.Queue, true)
	if w := home.workflow(wf.ID, now); w != nil {
		if w.digest == wf.Digest {
			wf.Existed = true // sent again
			return nil
		}
		return fmt.Errorf("queue: workflow %q of queue %q has another definition: %w", wf.ID, wf.Queue, queue.ErrDuplicate)
	}
	for _, m := range wf.Steps {
		mq := q.queue(m.Queue, true)
		if mq.state(m.ID, now) != nil {
			return &queue.DuplicateError{Queue: m.Queue, ID: m.ID, Existing: m.ID}
		}
		if u, ok := mq.unique[m.Unique]; ok && m.Unique != "" && len(m.Step.Parents) == 0 && now.Before(u.until) {
			return &queue.DuplicateError{Queue: m.Queue, ID: m.ID, Existing: u.id}
		}
	}
	w := &memWorkflow{id: wf.ID, name: wf.Name, home: wf.Queue, digest: wf.Digest, status: queue.Running,
		index: make(map[string]int, len(wf.Steps)), ended: make(map[string]queue.Status),
		created: time.UnixMicro(now.UnixMicro())}
	for i, m := range wf.Steps {
		s := m.Step
		ws := wfStep{name: s.Name, id: m.ID, queue: m.Queue, task: m.Task, parents: make([]string, len(s.Parents))}
		for j, p := range s.Parents {
			ws.parents[j] = p.Name
		}
		w.steps = append(w.steps, ws)
		w.index[s.Name] = i
		if s.Output {
			w.output = s.Name
		}
		mq := q.queue(m.Queue, false)
		if len(s.Parents) == 0 {
			if err := q.enqueue(m, runAt); err != nil {
				return err // checked above: cannot be
			}
		} else {
			msg := normalize(*m)
			msg.Attempt, msg.Unique, msg.UniqueFor = 1, "", 0 // a waiting step holds no key
			mq.states[m.ID] = &memState{st: queue.State{ID: m.ID, Task: m.Task, Queue: m.Queue, Status: queue.Waiting, Attempt: 1}, msg: &msg}
			mq.wait(m.ID)
		}
		st := mq.states[m.ID]
		core := *st.msg
		core.LastKind, core.LastError = "", ""
		st.wf = &memStep{step: st.msg.Step, core: core, inputs: make(map[string]task.Input)}
	}
	if home.workflows == nil {
		home.workflows = make(map[string]*memWorkflow)
	}
	home.workflows[wf.ID] = w
	return nil
}

// stepDelivery gives d, a step's delivery, its own copy of its Step and
// its parents' outcomes, in the order of its parents. q.mu is held.
func (mq *memQueue) stepDelivery(d *queue.Delivery, now time.Time) {
	d.Step = cloneStep(d.Step)
	s := mq.state(d.ID, now)
	if s == nil || s.wf == nil || len(d.Step.Parents) == 0 {
		return
	}
	d.Inputs = make([]task.Input, 0, len(d.Step.Parents))
	for _, p := range d.Step.Parents {
		if in, ok := s.wf.inputs[p.Name]; ok {
			in.Value = slices.Clone(in.Value)
			d.Inputs = append(d.Inputs, in)
		}
	}
}

// stepState returns the live state of step ws, or nil. q.mu is held.
func (q *Queue) stepState(ws wfStep, now time.Time) (*memQueue, *memState) {
	mq := q.queue(ws.queue, false)
	if mq == nil {
		return nil, nil
	}
	s := mq.state(ws.id, now)
	if s == nil || s.wf == nil {
		return mq, nil
	}
	return mq, s
}

// stepEnded does the workflow's part of the end of step s, which a Finish
// or a cancel just made, in the same critical section: the record counts
// it, and its children record its outcome and are released, or the
// workflow fails. Nothing happens twice: a step's end counts once. It
// returns the workflow's status if this end ended it (Succeeded or
// Failed), else "". q.mu is held.
func (q *Queue) stepEnded(s *memState, result []byte, now time.Time) queue.Status {
	home := q.queue(s.wf.step.Home, false)
	if home == nil {
		return ""
	}
	w := home.workflow(s.wf.step.Workflow, now)
	if w == nil || !w.markEnded(s.wf.step.Name, s.st.Status) {
		return ""
	}
	running := w.status == queue.Running
	if s.wf.step.Output && s.st.Status == queue.Succeeded {
		w.result = slices.Clone(result)
	}
	q.propagate(w, []stepEnd{{s, result}}, now)
	q.succeedIfDone(w, now)
	if running && w.status != queue.Running {
		return w.status
	}
	return ""
}

// stepEnd is a step that ended, and its result, whose children have yet
// to learn of it.
type stepEnd struct {
	s      *memState
	result []byte
}

// propagate hands each of work's ends to its workflow: a failure that is
// not absorbed fails it; any other end is recorded as its children's
// input, and releases those whose parents have all ended; the children
// that end at once (skipped, failed) are handed on in turn. q.mu is held.
func (q *Queue) propagate(w *memWorkflow, work []stepEnd, now time.Time) {
	for len(work) > 0 {
		e := work[len(work)-1]
		work = work[:len(work)-1]
		st, step := e.s.st, e.s.wf.step
		if st.Status == queue.Failed || st.Status == queue.Dead || st.Status == queue.Canceled {
			if !step.Absorbed {
				if w.status == queue.Running {
					q.failWorkflow(w, step.Name, st.Kind, st.Error, now)
				}
				continue // its children are canceled: they need no input of it
			}
		}
		in := task.Input{Step: step.Name, Status: string(st.Status), Kind: st.Kind, Error: st.Error}
		if st.Status == queue.Succeeded {
			in.Value = slices.Clone(e.result)
		}
		for _, c := range step.Children {
			cmq, cs := q.stepState(wfStep{id: queue.StepID(w.id, c.Name), queue: c.Queue}, now)
			if cs == nil {
				continue
			}
			if _, ok := cs.wf.inputs[step.Name]; ok {
				continue // counted already
			}
			cs.wf.inputs[step.Name] = in // kept even if the child ended: a retry may reopen it
			if cs.st.Status == queue.Waiting && len(cs.wf.inputs) == len(cs.wf.step.Parents) && q.release(w, cmq, cs, now) {
				work = append(work, stepEnd{s: cs})
			}
		}
	}
}

// release decides the fate of waiting step s, whose parents have all
// ended: canceled if the workflow ended, skipped or failed if a parent was
// skipped and its policy says so, else queued. It reports whether s ended
// and so has children to tell. q.mu is held.
func (q *Queue) release(w *memWorkflow, mq *memQueue, s *memState, now time.Time) bool {
	switch w.status {
	case queue.Failed:
		q.endStep(w, mq, s, queue.Canceled, queue.KindWorkflowFailed, "queue: workflow failed at step "+w.failedStep, now)
		return false
	case queue.Canceled:
		q.endStep(w, mq, s, queue.Canceled, queue.KindWorkflowCanceled, "queue: workflow canceled", now)
		return false
	}
	step := s.wf.step
	if !step.Outcomes && step.IfSkipped != queue.RunWithout {
		for _, p := range step.Parents {
			if s.wf.inputs[p.Name].Status != string(queue.Skipped) {
				continue
			}
			status := queue.Skipped
			if step.IfSkipped == queue.FailIfSkipped {
				status = queue.Failed
			}
			q.endStep(w, mq, s, status, queue.KindParentSkipped, "queue: parent step "+p.Name+" was skipped", now)
			return true
		}
	}
	s.st.Status = queue.Queued
	delete(mq.waiting, s.st.ID)
	mq.push(s.msg, 1+s.reclaims, s.outages, now)
	return false
}

// wait counts step id as waiting. q.mu is held.
func (mq *memQueue) wait(id string) {
	if mq.waiting == nil {
		mq.waiting = make(map[string]struct{})
	}
	mq.waiting[id] = struct{}{}
}

// endStep ends step s, which did not run to this end, as status, and
// counts it in w. q.mu is held.
func (q *Queue) endStep(w *memWorkflow, mq *memQueue, s *memState, status queue.Status, kind, msg string, now time.Time) {
	s.st.Status, s.st.Kind, s.st.Error = status, kind, msg
	s.st.FinishedAt = time.UnixMicro(now.UnixMicro())
	mq.count(now, func(c *queue.OutcomeCounts) { c.Count(status, kind, false) })
	q.end(mq, s, now)
	w.markEnded(s.wf.step.Name, status)
}

// failWorkflow fails w, running, at step name: it ends failed, and its
// steps not started end canceled. q.mu is held.
func (q *Queue) failWorkflow(w *memWorkflow, name, kind, msg string, now time.Time) {
	w.failedStep, w.kind, w.err = name, kind, msg
	q.endWorkflow(w, queue.Failed, now)
	q.cancelSteps(w, queue.KindWorkflowFailed, "queue: workflow failed at step "+name, false, now)
}

// endWorkflow ends w as status: its record expires with the queue's state
// TTL, and its waiters are woken. q.mu is held.
func (q *Queue) endWorkflow(w *memWorkflow, status queue.Status, now time.Time) {
	w.status, w.finished, w.expires = status, time.UnixMicro(now.UnixMicro()), now.Add(q.stateTTL)
	q.wfWaiters.wake(recordKey{w.home, w.id})
}

// succeedIfDone ends w succeeded if it runs and every step ended. q.mu is
// held.
func (q *Queue) succeedIfDone(w *memWorkflow, now time.Time) {
	if w.status == queue.Running && len(w.ended) == len(w.steps) {
		q.endWorkflow(w, queue.Succeeded, now)
	}
}

// cancelSteps ends every step of w that has not started canceled with
// kind: those waiting, scheduled, or ready in their queues, which they
// leave. It returns how many it ended, and the steps workers hold, which
// it marks canceled if tell is set, so that a retry of theirs never runs.
// q.mu is held.
func (q *Queue) cancelSteps(w *memWorkflow, kind, msg string, tell bool, now time.Time) (canceled int, held []recordKey) {
	queued := make(map[string]map[string]*memState) // by queue and ID
	for _, ws := range w.steps {
		mq, s := q.stepState(ws, now)
		if s == nil {
			continue
		}
		switch s.st.Status {
		case queue.Waiting, queue.Scheduled:
			delete(mq.due, ws.id) // its heap item is stale now
			q.endStep(w, mq, s, queue.Canceled, kind, msg, now)
			canceled++
		case queue.Queued, queue.Running:
			if queued[ws.queue] == nil {
				queued[ws.queue] = make(map[string]*memState)
			}
			queued[ws.queue][ws.id] = s
		}
	}
	for name, states := range queued {
		mq := q.queues[name]
		mq.ready = slices.DeleteFunc(mq.ready, func(e *memEntry) bool {
			s := states[e.msg.ID]
			if s == nil {
				return false
			}
			delete(states, e.msg.ID)
			q.endStep(w, mq, s, queue.Canceled, kind, msg, now)
			canceled++
			return true
		})
		for id, s := range states { // not ready: a worker holds it
			s.canceled = s.canceled || tell
			held = append(held, recordKey{name, id})
		}
	}
	slices.SortFunc(held, func(a, b recordKey) int { return cmp.Or(cmp.Compare(a.queue, b.queue), cmp.Compare(a.id, b.id)) })
	return canceled, held
}

// Workflow implements queue.Workflows.
func (q *Queue) Workflow(ctx context.Context, home, id string) (*queue.WorkflowState, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if w := q.workflowOf(home, id); w != nil {
		return q.workflowState(w), nil
	}
	return nil, noWorkflow(home, id)
}

// workflowOf returns live workflow id of queue home, or nil. q.mu is
// held.
func (q *Queue) workflowOf(home, id string) *memWorkflow {
	if mq := q.queue(home, false); mq != nil {
		return mq.workflow(id, q.now())
	}
	return nil
}

// workflowState is what the queue knows of w, its steps' states
// included. q.mu is held.
func (q *Queue) workflowState(w *memWorkflow) *queue.WorkflowState {
	now := q.now()
	out := &queue.WorkflowState{ID: w.id, Name: w.name, Queue: w.home, Status: w.status, Output: w.output,
		Steps: len(w.steps), Ended: len(w.ended), FailedStep: w.failedStep, Kind: w.kind, Error: w.err,
		CreatedAt: w.created, FinishedAt: w.finished, StepStates: make([]queue.StepState, len(w.steps))}
	if w.status == queue.Succeeded {
		out.Result = slices.Clone(w.result)
	}
	for i, ws := range w.steps {
		ss := queue.StepState{Name: ws.name, ID: ws.id, Queue: ws.queue, Task: ws.task, Parents: slices.Clone(ws.parents)}
		if _, s := q.stepState(ws, now); s != nil {
			ss.Status, ss.Attempt, ss.Kind, ss.Error = s.st.Status, s.st.Attempt, s.st.Kind, s.st.Error
		} else {
			ss.Status = w.ended[ws.name] // its state expired: its end is all that is left
		}
		out.StepStates[i] = ss
	}
	return out
}

// WaitWorkflow implements queue.Workflows: it is woken by the end of the
// workflow.
func (q *Queue) WaitWorkflow(ctx context.Context, home, id string) (*queue.WorkflowState, error) {
	return wait(ctx, &q.mu, &q.wfWaiters, recordKey{home, id}, func() (*queue.WorkflowState, bool, error) {
		w := q.workflowOf(home, id)
		if w == nil {
			return nil, false, noWorkflow(home, id)
		}
		st := q.workflowState(w)
		return st, st.Terminal(), nil
	})
}

// CancelWorkflow implements queue.Workflows. The workers holding its
// steps are told after the queue's lock is let go, as Cancel tells them.
func (q *Queue) CancelWorkflow(ctx context.Context, home, id string) (*queue.WorkflowCancel, error) {
	q.mu.Lock()
	w := q.workflowOf(home, id)
	if w == nil {
		q.mu.Unlock()
		return nil, noWorkflow(home, id)
	}
	if w.status != queue.Running {
		q.mu.Unlock()
		return &queue.WorkflowCancel{Ended: true}, nil
	}
	now := q.now()
	q.endWorkflow(w, queue.Canceled, now)
	canceled, held := q.cancelSteps(w, queue.KindWorkflowCanceled, "queue: workflow canceled", true, now)
	q.mu.Unlock()
	q.tellCancels(held...)
	return &queue.WorkflowCancel{Canceled: canceled, Sent: len(held)}, nil
}

// RetryStep implements queue.Workflows. The workflow runs again before
// the steps its failure canceled, and those that failed on their own
// since, are reopened, parents first, so that those whose parents all
// ended are released as a parent's end would release them.
func (q *Queue) RetryStep(ctx context.Context, home, id, name string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.workflowOf(home, id)
	if w == nil {
		return noWorkflow(home, id)
	}
	i, ok := w.index[name]
	if !ok {
		return &queue.NotFoundError{Queue: w.home, ID: queue.StepID(id, name)}
	}
	now := q.now()
	mq, s := q.stepState(w.steps[i], now)
	switch {
	case w.status != queue.Failed || w.failedStep != name:
		return fmt.Errorf("queue: retry step %q of workflow %q (%s, failed at %q): %w", name, id, w.status, w.failedStep, queue.ErrNotRetryable)
	case s == nil:
		return &queue.NotFoundError{Queue: w.steps[i].queue, ID: w.steps[i].id}
	}
	w.status, w.failedStep, w.kind, w.err, w.finished, w.expires = queue.Running, "", "", "", time.Time{}, time.Time{}
	delete(w.ended, name)
	mq.undead(s)
	reopen(s, queue.Queued)
	mq.push(s.msg, 1, 0, now)
	for _, ws := range w.steps {
		smq, ss := q.stepState(ws, now)
		if ws.name == name || ss == nil || !runsAgain(ss) {
			continue
		}
		delete(w.ended, ws.name)
		smq.undead(ss)
		reopen(ss, queue.Waiting)
		smq.wait(ws.id)
		if len(ss.wf.inputs) == len(ss.wf.step.Parents) && q.release(w, smq, ss, now) {
			q.propagate(w, []stepEnd{{s: ss}}, now)
		}
	}
	q.succeedIfDone(w, now)
	return nil
}

// undead drops the dead letter of step s, if it died: a RetryStep runs it
// again, and a letter left would be requeued or counted as dead. q.mu is
// held.
func (mq *memQueue) undead(s *memState) {
	if s.st.Status == queue.Dead {
		mq.dead = slices.DeleteFunc(mq.dead, func(dl queue.DeadLetter) bool { return dl.ID == s.st.ID })
	}
}

// runsAgain reports whether a RetryStep of its workflow reopens step s,
// besides the step named: s was canceled by the workflow's failure, or
// failed on its own (a kind not the workflow's), and its failure was not
// absorbed, so that its children wait for it.
func runsAgain(s *memState) bool {
	switch s.st.Status {
	case queue.Canceled:
		if s.st.Kind == queue.KindWorkflowFailed {
			return true
		}
	case queue.Failed, queue.Dead:
	default:
		return false
	}
	return !s.wf.step.Absorbed && !strings.HasPrefix(s.st.Kind, "workflow.")
}

// reopen makes step s, which ended, new again as status, attempt 1, from
// its message as enqueued; its history of runs and its inputs stay. q.mu
// is held.
func reopen(s *memState, status queue.Status) {
	msg := s.wf.core
	s.msg, s.failed, s.expires, s.canceled, s.reclaims, s.outages, s.takenOver = &msg, nil, time.Time{}, false, 0, 0, nil
	s.st = queue.State{ID: s.st.ID, Task: s.st.Task, Queue: s.st.Queue, Status: status, Attempt: 1}
}

// The workflows' side of the contract, checked by the compiler.
var _ queue.Workflows = (*Queue)(nil)
