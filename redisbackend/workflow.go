package redisbackend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

var (
	flowLua               = lua("lib/entry.lua", "lib/count.lua", "lib/ended.lua", "lib/flow.lua")
	enqueueWorkflowScript = newScript(flowLua + lua("lib/groups.lua", "lib/enqueue.lua", "enqueue_workflow.lua"))
	cancelWorkflowScript  = newScript(flowLua + lua("cancel_workflow.lua"))
	retryStepScript       = newScript(flowLua + lua("retry_step.lua"))
	waitWorkflowScript    = newScript(lua("wait_workflow.lua"))
)

// EnqueueWorkflow implements queue.Workflows, in one round trip: one
// script per queue and chunk of 256 steps, all in one pipeline, the
// waiting steps first and the roots last, so that a pipeline cut midway
// has queued no root whose children are not stored. Each script checks
// the workflow's record, which the first writes: a workflow of the same ID
// and another digest makes the call fail with queue.ErrDuplicate, writing
// nothing; one of the same digest is left as it is, and its steps not yet
// stored are stored, so that the call sent again completes the first.
//
// On a Redis Cluster, a workflow's keys must share a slot: its steps must
// all be on its home queue (an error matching task.ErrInvalidConfig says
// so otherwise).
//
// A step's unique key (Message.Unique) is not kept: its ID, under its
// workflow's, is what makes it once. wf.Existed says whether the first
// chunk found the workflow's record (a pipeline resent after a lost reply
// finds its own).
func (q *Queue) EnqueueWorkflow(ctx context.Context, wf *queue.WorkflowSpec, runAt time.Time) error {
	if err := wf.Validate(); err != nil {
		return err
	}
	if !q.b.oneNode {
		for _, m := range wf.Steps {
			if m.Queue != wf.Queue {
				return fmt.Errorf("%w: workflow %s: step %q is on queue %q, not the workflow's %q: cross-queue workflows need Redis on one node for now",
					task.ErrInvalidConfig, wf.ID, m.Step.Name, m.Queue, wf.Queue)
			}
		}
	}
	var runAtMs int64
	if runAt.After(time.Now()) {
		runAtMs = runAt.UnixMilli()
	}
	// The children of each step, from the parents: the backend's own
	// reading of the graph, whatever Step.Children says.
	// lua/lib/flow.lua reads each child as netstrings of its queue, name
	// and number of parents (a parent named twice counts once).
	children := make(map[string][]byte, len(wf.Steps))
	parents := make([]int, len(wf.Steps))
	var output string
	for i, m := range wf.Steps {
		seen := make(map[string]bool, len(m.Step.Parents))
		for _, p := range m.Step.Parents {
			seen[p.Name] = true
		}
		parents[i] = len(seen)
		for _, p := range m.Step.Parents {
			if !seen[p.Name] {
				continue
			}
			seen[p.Name] = false
			c := appendNetstring(children[p.Name], m.Queue)
			c = appendNetstring(c, m.Step.Name)
			children[p.Name] = appendNetstring(c, strconv.Itoa(parents[i]))
		}
		if m.Step.Output && output == "" {
			output = m.Step.Name
		}
	}
	// The steps by queue, waiting ones first, roots last, by their place.
	type group struct {
		queue string
		steps []int
	}
	var groups []*group
	for _, roots := range []bool{false, true} {
		byQueue := map[string]*group{}
		for i, m := range wf.Steps {
			if (len(m.Step.Parents) == 0) != roots {
				continue
			}
			g := byQueue[m.Queue]
			if g == nil {
				g = &group{queue: m.Queue}
				byQueue[m.Queue] = g
				groups = append(groups, g)
			}
			g.steps = append(g.steps, i)
		}
	}
	queues := make([]string, 0, len(groups))
	for _, g := range groups {
		queues = append(queues, g.queue)
	}
	q.register(ctx, queues...)
	k := q.b.keys
	rec, steps, ended := k.workflow(wf.Queue, wf.ID), k.workflowSteps(wf.Queue, wf.ID), k.workflowEnded(wf.Queue, wf.ID)
	created, call := time.Now().UnixMicro(), nonce()
	var ops []op
	for _, g := range groups {
		n := q.names(g.queue)
		for all := g.steps; len(all) > 0; {
			idx := all[:min(len(all), enqueueChunk)]
			all = all[len(idx):]
			args := make([]any, 0, 3+5+len(idx)+13+7*len(idx))
			args = append(args, argEvalSHA, enqueueWorkflowScript.sha, 5+len(idx), rec, steps, ended, n.stream, n.delayed)
			for _, i := range idx {
				args = append(args, n.statePrefix+wf.Steps[i].ID)
			}
			args = append(args, q.b.prefixArg, wf.ID, wf.Queue, wf.Name, wf.Digest, len(wf.Steps), created, output, runAtMs,
				call, q.b.stateTTLArg, q.b.channelArg, g.queue)
			for _, i := range idx {
				m := wf.Steps[i]
				s := m.Step
				args = append(args, s.Name, m.Task, encodeMessage(m), parents[i], policyLetters(s),
					string(children[s.Name]), stepEntry(m, i))
			}
			ops = append(ops, scriptOp(enqueueWorkflowScript, args))
		}
	}
	q.b.exec(ctx, ops)
	for i, o := range ops {
		res, err := o.cmd.(*redis.Cmd).Result()
		if err != nil {
			return fmt.Errorf("worker: enqueue workflow %s: %w", wf.ID, unavailable(ctx, err))
		}
		if res == "dup" {
			return &queue.DuplicateError{Queue: wf.Queue, ID: wf.ID, Existing: wf.ID}
		}
		if i == 0 { // the first chunk found the record, or wrote it
			wf.Existed = res == int64(2)
		}
	}
	return nil
}

// policyLetters are what lua/lib/flow.lua reads of a step's policy: "u"
// it takes outcomes, "k", "r" or "f" its skip policy, "a" absorbed, "o"
// output.
func policyLetters(s *queue.Step) string {
	skip := "k"
	switch s.IfSkipped {
	case queue.RunWithout:
		skip = "r"
	case queue.FailIfSkipped:
		skip = "f"
	}
	return stepFlags(s) + skip
}

// stepEntry is step m's entry in its workflow's steps: netstrings of its
// queue (lua/lib/flow.lua reads it), its place in the spec, its task, and
// its parents' names.
func stepEntry(m *queue.Message, place int) string {
	var parents []byte
	for _, p := range m.Step.Parents {
		parents = appendNetstring(parents, p.Name)
	}
	b := appendNetstring(nil, m.Queue)
	b = appendNetstring(b, strconv.Itoa(place))
	b = appendNetstring(b, m.Task)
	return string(appendNetstring(b, parents))
}

// workflowFields are the fields of a workflow's record that Workflow
// reads.
var workflowFields = []string{"name", "status", "n", "created", "fin", "out", "fstep", "fkind", "ferr", "res"}

// Workflow implements queue.Workflows, in two round trips: the record and
// its steps, then the steps' states.
func (q *Queue) Workflow(ctx context.Context, name, id string) (*queue.WorkflowState, error) {
	k := q.b.keys
	var rec *redis.SliceCmd
	var steps, ended *redis.MapStringStringCmd
	_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		rec = p.HMGet(ctx, k.workflow(name, id), workflowFields...)
		steps = p.HGetAll(ctx, k.workflowSteps(name, id))
		ended = p.HGetAll(ctx, k.workflowEnded(name, id))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("worker: workflow %s: %w", id, unavailable(ctx, err))
	}
	h := map[string]string{}
	for i, f := range workflowFields {
		if s, ok := rec.Val()[i].(string); ok {
			h[f] = s
		}
	}
	if h["status"] == "" {
		return nil, &queue.NotFoundError{Queue: name, ID: id}
	}
	w := &queue.WorkflowState{ID: id, Name: h["name"], Queue: name, Status: queue.Status(h["status"]), Output: h["out"],
		Ended: len(ended.Val()), FailedStep: h["fstep"], Kind: h["fkind"], Error: h["ferr"],
		CreatedAt: microsTime(h["created"]), FinishedAt: microsTime(h["fin"])}
	w.Steps, _ = strconv.Atoi(h["n"])
	if res, ok := rec.Val()[len(workflowFields)-1].(string); ok && w.Status == queue.Succeeded {
		w.Result = []byte(res)
	}
	type placed struct {
		place int
		st    queue.StepState
	}
	all := make([]placed, 0, len(steps.Val()))
	for stepName, v := range steps.Val() {
		f, ok := netstrings(v)
		if !ok || len(f) != 4 {
			continue
		}
		place, _ := strconv.Atoi(f[1])
		parents, _ := netstrings(f[3])
		all = append(all, placed{place, queue.StepState{Name: stepName, ID: queue.StepID(id, stepName), Queue: f[0], Task: f[2],
			Parents: parents}})
	}
	slices.SortFunc(all, func(a, b placed) int { return cmp.Compare(a.place, b.place) })
	states := make([]*redis.SliceCmd, len(all))
	_, err = q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range all {
			states[i] = p.HMGet(ctx, k.state(s.st.Queue, s.st.ID), "status", "attempt", "kind", "error")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("worker: workflow %s: %w", id, unavailable(ctx, err))
	}
	w.StepStates = make([]queue.StepState, len(all))
	for i, s := range all {
		st := s.st
		v := states[i].Val()
		str := func(j int) string { s, _ := v[j].(string); return s }
		st.Status, st.Kind, st.Error = queue.Status(str(0)), str(2), str(3)
		st.Attempt, _ = strconv.Atoi(str(1))
		if st.Status == "" { // its state expired: how it ended is in the workflow
			st.Status = queue.Status(ended.Val()[st.Name])
		}
		w.StepStates[i] = st
	}
	return w, nil
}

// WaitWorkflow implements queue.Workflows, as Wait does: each look at the
// record marks it waited for, so that the script that ends the workflow
// announces it on the backend's channel.
func (q *Queue) WaitWorkflow(ctx context.Context, name, id string) (*queue.WorkflowState, error) {
	var w *queue.WorkflowState
	key := q.b.keys.workflow(name, id)
	err := q.b.hub.wait(ctx, workflowNotice(name, id), func(ctx context.Context) (bool, error) {
		status, err := q.run(ctx, waitWorkflowScript, []string{key}).Text()
		if errors.Is(err, redis.Nil) {
			return false, &queue.NotFoundError{Queue: name, ID: id}
		}
		if err != nil {
			return false, fmt.Errorf("worker: workflow %s: %w", id, unavailable(ctx, err))
		}
		if s := queue.Status(status); s != queue.Succeeded && s != queue.Failed && s != queue.Canceled {
			return false, nil
		}
		w, err = q.Workflow(ctx, name, id)
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// CancelWorkflow implements queue.Workflows, in one script: the
// workflow's end, the cancel of its steps not started, and the notices to
// the workers running the others. Sent again after a lost reply, it finds
// its nonce in the record and answers as the first time.
func (q *Queue) CancelWorkflow(ctx context.Context, name, id string) (*queue.WorkflowCancel, error) {
	k := q.b.keys
	res, err := q.run(ctx, cancelWorkflowScript, []string{k.workflow(name, id), k.workflowSteps(name, id), k.workflowEnded(name, id)},
		q.b.prefixArg, id, name, nonce(), time.Now().UnixMicro(), q.b.stateTTLArg, q.b.channelArg).Slice()
	if err == nil && len(res) == 0 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		return nil, fmt.Errorf("worker: cancel workflow %s: %w", id, unavailable(ctx, err))
	}
	switch toString(res[0]) {
	case "missing":
		return nil, &queue.NotFoundError{Queue: name, ID: id}
	case "ended":
		return &queue.WorkflowCancel{Ended: true}, nil
	}
	if len(res) != 3 {
		return nil, fmt.Errorf("worker: cancel workflow %s: unexpected reply %v", id, res)
	}
	return &queue.WorkflowCancel{Canceled: int(toInt(res[1])), Sent: int(toInt(res[2]))}, nil
}

// RetryStep implements queue.Workflows, in one script (see
// lua/retry_step.lua). Sent again after a lost reply, it finds its nonce
// in the record and succeeds again.
func (q *Queue) RetryStep(ctx context.Context, name, id, step string) error {
	k := q.b.keys
	res, err := q.run(ctx, retryStepScript, []string{k.workflow(name, id), k.workflowSteps(name, id), k.workflowEnded(name, id)},
		q.b.prefixArg, id, name, step, nonce(), time.Now().UnixMicro(), q.b.stateTTLArg, q.b.channelArg).Text()
	if err != nil {
		return fmt.Errorf("worker: retry step %s of workflow %s: %w", step, id, unavailable(ctx, err))
	}
	switch res {
	case "ok":
		return nil
	case "missing":
		return &queue.NotFoundError{Queue: name, ID: queue.StepID(id, step)}
	case "refused":
		return fmt.Errorf("worker: retry step %s of workflow %s: %w", step, id, queue.ErrNotRetryable)
	}
	return fmt.Errorf("worker: retry step %s of workflow %s: unexpected reply %q", step, id, res)
}
