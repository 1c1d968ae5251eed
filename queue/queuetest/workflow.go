package queuetest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// The Workflow group drives workflows by hand, as a worker would: it
// enqueues a spec it builds itself, takes the steps released, and
// finishes them with the outcomes each promise needs. Every step taken is
// checked to be exactly those expected, in each of the queues read, so
// that a step released twice, or too early, fails the promise.
func workflowPromises() []promise {
	return []promise{
		{Name: "EnqueueStoresWaiting", Check: enqueueStoresWaiting},
		{Name: "EnqueueTwiceSameDigest", Check: enqueueTwiceSameDigest},
		{Name: "EnqueueOtherDigest", Check: enqueueOtherDigest},
		{Name: "InvalidSpec", Check: invalidSpec},
		{Name: "ChainReleasesOnLastParent", Check: chainReleasesOnLastParent},
		{Name: "InputsInDelivery", Check: inputsInDelivery},
		{Name: "FinishSentTwiceReleasesOnce", Check: finishSentTwiceReleasesOnce},
		{Name: "SupersededFinishReleasesNothing", Check: supersededFinishReleasesNothing},
		{Name: "FailureCancelsWaitingAndQueued", Check: failureCancelsWaitingAndQueued},
		{Name: "AbsorbedFailureRuns", Check: absorbedFailureRuns},
		{Name: "SkipPolicies", Cases: skipPolicyPromises()},
		{Name: "StepCancelFails", Check: stepCancelFails},
		{Name: "CancelWorkflow", Check: cancelWorkflow},
		{Name: "RetryReopensAndResumes", Check: retryReopensAndResumes},
		{Name: "RetryNotFailedRefused", Check: retryNotFailedRefused},
		{Name: "RetryAfterLateFailure", Check: retryAfterLateFailure},
		{Name: "RetryOfAWaitingStepCanceled", Check: retryOfAWaitingStepCanceled},
		{Name: "DeadStepStaysForRetry", Check: deadStepStaysForRetry},
		{Name: "StepResultTooLarge", Check: stepResultTooLarge},
		{Name: "MalformedStepEnds", Check: malformedStepEnds},
		{Name: "StatsCountWaiting", Check: statsCountWaiting},
		{Name: "WaitWorkflow", Check: waitWorkflow},
		{Name: "SucceededHasResult", Check: succeededHasResult},
		{Name: "TTLsAfterEnd", Check: workflowTTLsAfterEnd},
		{Name: "DelayedRoots", Check: delayedRoots},
		{Name: "List", Cases: workflowListPromises()},
		{Name: "FinishTellsWorkflowEnd", Check: finishTellsWorkflowEnd},
		{Name: "EnqueueTellsExisted", Check: enqueueTellsExisted},
	}
}

// node is one step of a workflow the suite builds: its name, its
// parents' names (steps named before it), and its options.
type node struct {
	name, queue string // queue "" is the workflow's home queue
	parents     []string
	outcomes    bool
	ifSkipped   queue.SkipPolicy
	output      bool
	fields      []string
}

func step(name string, parents ...string) node { return node{name: name, parents: parents} }

func (n node) on(q string) node                 { n.queue = q; return n }
func (n node) takesOutcomes() node              { n.outcomes = true; return n }
func (n node) ifSkip(p queue.SkipPolicy) node   { n.ifSkipped = p; return n }
func (n node) isOutput() node                   { n.output = true; return n }
func (n node) bindFields(fields ...string) node { n.fields = fields; return n }

// flow is a workflow's spec, as package workflow would make it, and its
// steps' messages by name.
type flow struct {
	spec  *queue.WorkflowSpec
	steps map[string]*queue.Message
}

// id is step name's task ID, and queueOf its queue.
func (f *flow) id(name string) string      { return queue.StepID(f.spec.ID, name) }
func (f *flow) queueOf(name string) string { return f.steps[name].Queue }

// nameOf is the name of d's step, if d is a step of f.
func (f *flow) nameOf(d *queue.Delivery) (string, bool) {
	return strings.CutPrefix(d.ID, f.spec.ID+":")
}

// newFlow builds workflow id of home queue from nodes, parents first: each
// step's Children are filled from its children's Parents, a step whose
// children all take outcomes is Absorbed, and the output is the node marked
// so, else the last.
func newFlow(id, home string, nodes ...node) *flow {
	f := &flow{
		spec:  &queue.WorkflowSpec{ID: id, Name: "flow " + id, Queue: home, Digest: "digest of " + id},
		steps: make(map[string]*queue.Message, len(nodes)),
	}
	hasOutput := slices.ContainsFunc(nodes, func(n node) bool { return n.output })
	for i, n := range nodes {
		s := &queue.Step{Workflow: id, Home: home, Name: n.name, Outcomes: n.outcomes, IfSkipped: n.ifSkipped,
			Output: n.output || !hasOutput && i == len(nodes)-1, Fields: n.fields}
		m := &queue.Message{ID: queue.StepID(id, n.name), Task: "wf." + n.name, Queue: cmp.Or(n.queue, home),
			Payload: []byte("args of " + n.name), EnqueuedAt: at, Headers: map[string]string{"workflow": id}, Step: s}
		for _, p := range n.parents {
			q := home
			if pm := f.steps[p]; pm != nil {
				q = pm.Queue
				pm.Step.Children = append(pm.Step.Children, queue.StepRef{Queue: m.Queue, Name: n.name})
			}
			s.Parents = append(s.Parents, queue.StepRef{Queue: q, Name: p})
		}
		switch {
		case n.fields != nil:
			s.Bind = task.BindFields
		case n.outcomes:
			s.Bind = task.BindOutcomes
		case len(n.parents) == 1:
			s.Bind = task.BindOne
		case len(n.parents) > 1:
			s.Bind = task.BindAll
		}
		f.spec.Steps = append(f.spec.Steps, m)
		f.steps[n.name] = m
	}
	for _, m := range f.spec.Steps {
		s := m.Step
		s.Absorbed = len(s.Children) > 0 && !slices.ContainsFunc(s.Children, func(c queue.StepRef) bool {
			return !f.steps[c.Name].Step.Outcomes
		})
	}
	return f
}

// chainFlow is a chain of steps of one queue, each the child of the one
// before.
func chainFlow(id, home string, names ...string) *flow {
	nodes := make([]node, len(names))
	for i, name := range names {
		nodes[i] = step(name)
		if i > 0 {
			nodes[i].parents = []string{names[i-1]}
		}
	}
	return newFlow(id, home, nodes...)
}

func (t *tester) enqueueFlow(f *flow, runAt time.Time) {
	t.Helper()
	if err := t.q.EnqueueWorkflow(t.Context(), f.spec, runAt); err != nil {
		t.Fatalf("EnqueueWorkflow(%q): %v", f.spec.ID, err)
	}
}

// takeSteps takes every ready message of queue name, which must be steps
// names of f and nothing else, each handed out once, and returns them by
// step name. Each comes as it was enqueued: its task, arguments, headers
// and place in the workflow.
func (t *tester) takeSteps(f *flow, name string, names ...string) map[string]*queue.Delivery {
	t.Helper()
	return t.takeStepsBy(f, name, "c1", names...)
}

func (t *tester) takeStepsBy(f *flow, name, consumer string, names ...string) map[string]*queue.Delivery {
	t.Helper()
	ds := t.take(name, consumer, 1000)
	got := make(map[string]*queue.Delivery, len(ds))
	for _, d := range ds {
		s, ok := f.nameOf(d)
		if _, twice := got[s]; !ok || twice || f.steps[s] == nil {
			t.Fatalf("Take of %s: got %q; want steps %q of workflow %s, each once", name, ids(ds), names, f.spec.ID)
		}
		got[s] = d
		want := *f.steps[s]
		want.Attempt, want.LastKind, want.LastError = d.Attempt, d.LastKind, d.LastError // a retry's: checked where one is
		sameMessage(t, "step "+s, d.Message, want)
		sameStep(t, "step "+s, d.Step, want.Step)
	}
	if gotNames := slices.Sorted(maps.Keys(got)); !slices.Equal(gotNames, slices.Sorted(slices.Values(names))) {
		t.Fatalf("Take of %s: got steps %q; want %q", name, gotNames, slices.Sorted(slices.Values(names)))
	}
	return got
}

// noneReady fails t if any of queues hands out a message.
func (t *tester) noneReady(queues ...string) {
	t.Helper()
	for _, name := range queues {
		if ds := t.take(name, "c1", 1000); ds != nil {
			t.Fatalf("Take of %s: got %q; want nothing ready", name, ids(ds))
		}
	}
}

// sameStep fails t unless got places a delivery where want does.
func sameStep(t *tester, what string, got, want *queue.Step) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: delivery without its Step; want %+v", what, *want)
	}
	if got.Workflow != want.Workflow || got.Home != want.Home || got.Name != want.Name ||
		!slices.Equal(got.Parents, want.Parents) || !slices.Equal(got.Children, want.Children) ||
		got.Bind != want.Bind || !slices.Equal(got.Fields, want.Fields) || got.Outcomes != want.Outcomes ||
		got.IfSkipped != want.IfSkipped || got.Absorbed != want.Absorbed || got.Output != want.Output {
		t.Fatalf("%s: Step\n got  %+v\n want %+v", what, *got, *want)
	}
}

// succeed ends d as a success whose result is result.
func (t *tester) succeed(d *queue.Delivery, result string) {
	t.Helper()
	t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: d.Attempt, Result: []byte(result)})
}

// input is a parent's success with value, as a child receives it.
func input(step, value string) task.Input {
	return task.Input{Step: step, Status: string(queue.Succeeded), Value: []byte(value)}
}

// wantInputs fails t unless d carries want, in order.
func wantInputs(t *tester, d *queue.Delivery, want ...task.Input) {
	t.Helper()
	ok := len(d.Inputs) == len(want)
	for i := 0; ok && i < len(want); i++ {
		g, w := d.Inputs[i], want[i]
		ok = g.Step == w.Step && g.Status == w.Status && g.Kind == w.Kind && g.Error == w.Error && bytes.Equal(g.Value, w.Value)
	}
	if !ok {
		t.Fatalf("%s: Inputs\n got  %+v\n want %+v", d.ID, d.Inputs, want)
	}
}

// wantStep fails t unless step name of f has status, attempt and kind.
func (t *tester) wantStep(f *flow, name string, status queue.Status, attempt int, kind string) *queue.State {
	t.Helper()
	st := t.state(f.queueOf(name), f.id(name))
	if st.Status != status || st.Attempt != attempt || st.Kind != kind || st.Task != f.steps[name].Task {
		t.Fatalf("step %s: state %+v; want status %q, attempt %d, kind %q", name, *st, status, attempt, kind)
	}
	if status.Terminal() == st.FinishedAt.IsZero() {
		t.Fatalf("step %s: state %+v; want a FinishedAt if and only if it ended", name, *st)
	}
	return st
}

// wantSteps fails t unless each of names is at attempt 1 with status and
// kind.
func (t *tester) wantSteps(f *flow, status queue.Status, kind string, names ...string) {
	t.Helper()
	for _, name := range names {
		t.wantStep(f, name, status, 1, kind)
	}
}

// workflow returns f's state, and fails t unless it is f's, its steps in
// the spec's order, each as its own state says, Ended their count, and
// its end, failure and result present exactly when its status says.
func (t *tester) workflow(f *flow) *queue.WorkflowState {
	t.Helper()
	w, err := t.q.Workflow(t.Context(), f.spec.Queue, f.spec.ID)
	if err != nil {
		t.Fatalf("Workflow(%q, %q): %v", f.spec.Queue, f.spec.ID, err)
	}
	output := ""
	for _, m := range f.spec.Steps {
		if m.Step.Output {
			output = m.Step.Name
		}
	}
	if w.ID != f.spec.ID || w.Name != f.spec.Name || w.Queue != f.spec.Queue || w.Output != output ||
		w.Steps != len(f.spec.Steps) || len(w.StepStates) != len(f.spec.Steps) || w.CreatedAt.IsZero() {
		t.Fatalf("Workflow(%q) = %+v; want ID %q, name %q, queue %q, output %q, %d steps listed, a CreatedAt",
			f.spec.ID, *w, f.spec.ID, f.spec.Name, f.spec.Queue, output, len(f.spec.Steps))
	}
	ended := 0
	for i, m := range f.spec.Steps {
		ss := w.StepStates[i]
		var parents []string
		for _, p := range m.Step.Parents {
			parents = append(parents, p.Name)
		}
		st := t.state(m.Queue, m.ID)
		if ss.Name != m.Step.Name || ss.ID != m.ID || ss.Queue != m.Queue || ss.Task != m.Task || !slices.Equal(ss.Parents, parents) ||
			ss.Status != st.Status || ss.Attempt != st.Attempt || ss.Kind != st.Kind || ss.Error != st.Error {
			t.Fatalf("Workflow(%q).StepStates[%d] = %+v; want step %q of queue %q, task %q, parents %q, as its state says: %+v",
				f.spec.ID, i, ss, m.Step.Name, m.Queue, m.Task, parents, *st)
		}
		if ss.Status.Terminal() {
			ended++
		}
	}
	failed := w.Status == queue.Failed
	if w.Ended != ended || w.Terminal() == w.FinishedAt.IsZero() || failed != (w.FailedStep != "") ||
		!failed && (w.Kind != "" || w.Error != "") || w.Status != queue.Succeeded && w.Result != nil {
		t.Fatalf("Workflow(%q) = %+v; want Ended %d (its steps that ended), a FinishedAt once it ended, "+
			"a FailedStep, Kind and Error only if it failed, a Result only if it succeeded", f.spec.ID, *w, ended)
	}
	return w
}

// wantWorkflow fails t unless f has status, ended steps, and the failed
// step and kind.
func (t *tester) wantWorkflow(f *flow, status queue.Status, ended int, failedStep, kind string) *queue.WorkflowState {
	t.Helper()
	w := t.workflow(f)
	if w.Status != status || w.Ended != ended || w.FailedStep != failedStep || w.Kind != kind {
		t.Fatalf("Workflow(%q) = status %q, %d ended, failed step %q of kind %q; want %q, %d, %q, %q",
			f.spec.ID, w.Status, w.Ended, w.FailedStep, w.Kind, status, ended, failedStep, kind)
	}
	return w
}

// wantNoWorkflow fails t unless f's queue knows no workflow f.
func (t *tester) wantNoWorkflow(f *flow) {
	t.Helper()
	if w, err := t.q.Workflow(t.Context(), f.spec.Queue, f.spec.ID); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Workflow(%q, %q) = %+v, %v; want queue.ErrNotFound", f.spec.Queue, f.spec.ID, w, err)
	}
}

// EnqueueWorkflow stores every step as an ordinary task's state: the
// roots queued, each in its own queue, the others waiting, listed in none
// of a queue's sets and counted in its stats as Waiting only, but found,
// and their IDs taken. The workflow's record, in its home queue only, lists
// every step.
func enqueueStoresWaiting(t *tester) {
	f := newFlow("w1", "wf",
		step("A"), step("B").on("wf-b"),
		step("C", "A"),
		step("D", "B", "C").on("wf-b").bindFields("Left", ""))
	before := time.Now()
	t.enqueueFlow(f, time.Time{})
	w := t.wantWorkflow(f, queue.Running, 0, "", "")
	if w.CreatedAt.Before(before.Add(-time.Minute)) || w.CreatedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("Workflow.CreatedAt = %v; want about %v", w.CreatedAt, before)
	}
	t.wantSteps(f, queue.Queued, "", "A", "B")
	t.wantSteps(f, queue.Waiting, "", "C", "D")
	if w, err := t.q.Workflow(t.Context(), "wf-b", "w1"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Workflow of a queue that is not its home = %+v, %v; want queue.ErrNotFound", w, err)
	}
	t.wantStats("wf", 1, 0, 0, 0)
	t.wantStats("wf-b", 1, 0, 0, 0)
	t.wantWaiting("wf", 1)
	t.wantWaiting("wf-b", 1)
	found, err := t.q.Find(t.Context(), f.id("D"))
	if err != nil || len(found) != 1 || found[0].Queue != "wf-b" || found[0].Status != queue.Waiting || found[0].Task != "wf.D" {
		t.Fatalf("Find(%q) = %+v, %v; want it waiting on wf-b", f.id("D"), found, err)
	}
	for _, name := range []string{"wf", "wf-b"} {
		for _, set := range queue.TaskSets {
			page, err := t.q.ListTasks(t.Context(), name, queue.TaskQuery{Set: set})
			if err != nil {
				t.Fatalf("ListTasks(%s, %s): %v", name, set, err)
			}
			tasks, err := t.q.Tasks(t.Context(), name, set, 0)
			if err != nil {
				t.Fatalf("Tasks(%s, %s): %v", name, set, err)
			}
			for _, ti := range append(page.Tasks, tasks...) {
				if ti.Status == queue.Waiting || ti.ID != f.id("A") && ti.ID != f.id("B") {
					t.Fatalf("the %s tasks of %s list %+v; want only the roots, ready", set, name, ti)
				}
			}
		}
	}
	if t.b.Partitioned {
		// A step waits in partition 0, and a plain task goes to the
		// partition of its ID: an ID is unique within its partition only.
		t.Log("partitions: an Enqueue of a waiting step's ID in another partition is not refused (passed over)")
	} else {
		t.duplicate("while its step waits", msg("wf", f.id("C")), time.Time{}, f.id("C"))
	}
	a := t.takeSteps(f, "wf", "A")["A"]
	b := t.takeSteps(f, "wf-b", "B")["B"]
	if a.Inputs != nil || b.Inputs != nil || a.Attempt != 1 {
		t.Fatalf("a root's delivery: attempt %d, Inputs %+v and %+v; want attempt 1, none", a.Attempt, a.Inputs, b.Inputs)
	}
}

// An enqueue sent again, with the same digest, is a success that changes
// nothing: no step is stored or queued again, whatever ran meanwhile.
func enqueueTwiceSameDigest(t *tester) {
	f := chainFlow("w2", "wf", "A", "B")
	t.enqueueFlow(f, time.Time{})
	t.enqueueFlow(f, time.Time{})
	t.wantStats("wf", 1, 0, 0, 0)
	t.succeed(t.takeSteps(f, "wf", "A")["A"], "a")
	t.enqueueFlow(f, time.Time{})
	t.wantSteps(f, queue.Succeeded, "", "A")
	t.wantSteps(f, queue.Queued, "", "B")
	t.wantWorkflow(f, queue.Running, 1, "", "")
	t.takeSteps(f, "wf", "B")
	t.noneReady("wf")
}

// An enqueue of another workflow under a known ID of the same home queue
// is a duplicate, and stores none of its steps; on another home queue,
// the ID is free.
func enqueueOtherDigest(t *tester) {
	f := chainFlow("w3", "wf", "A", "B")
	t.enqueueFlow(f, time.Time{})
	other := chainFlow("w3", "wf", "A", "B")
	other.spec.Digest = "another definition"
	bigger := chainFlow("w3", "wf", "X", "Y", "Z")
	bigger.spec.Digest = "a third definition"
	for _, o := range []*flow{other, bigger} {
		if err := t.q.EnqueueWorkflow(t.Context(), o.spec, time.Time{}); !errors.Is(err, queue.ErrDuplicate) {
			t.Fatalf("EnqueueWorkflow of another definition (%s) under a known ID = %v; want queue.ErrDuplicate", o.spec.Digest, err)
		}
	}
	t.wantNotFound("wf", bigger.id("X"))
	t.wantNotFound("wf", bigger.id("Y"))
	t.wantWorkflow(f, queue.Running, 0, "", "")
	t.takeSteps(f, "wf", "A")
	elsewhere := chainFlow("w3", "wf-2", "A", "B")
	elsewhere.spec.Digest = "another definition"
	t.enqueueFlow(elsewhere, time.Time{})
	t.wantWorkflow(elsewhere, queue.Running, 0, "", "")
	t.takeSteps(elsewhere, "wf-2", "A")
}

// A spec that fails Validate is refused with an error matching
// task.ErrInvalidConfig, and nothing of it is stored.
func invalidSpec(t *tester) {
	cases := []struct {
		name  string
		spoil func(f *flow)
	}{
		{"no steps", func(f *flow) { f.spec.Steps = nil }},
		{"a bad queue name", func(f *flow) { f.spec.Queue = "w{x}" }},
		{"an ID with braces", func(f *flow) { f.spec.ID = "{w}" }},
		{"a step of another ID", func(f *flow) { f.steps["B"].ID = "w5:other" }},
		{"a step of another workflow", func(f *flow) { f.steps["B"].Step.Workflow = "w6" }},
		{"a message that is no step", func(f *flow) { f.steps["B"].Step = nil }},
		{"a parent after its child", func(f *flow) { slices.Reverse(f.spec.Steps) }},
		{"a parent that is no step", func(f *flow) { f.steps["B"].Step.Parents[0].Name = "nowhere" }},
		{"a step named twice", func(f *flow) { f.spec.Steps = append(f.spec.Steps, f.steps["B"]) }},
		{"a step name with a colon", func(f *flow) { rename(f, "B", "B:1") }},
		{"an empty step name", func(f *flow) { rename(f, "B", "") }},
	}
	for _, c := range cases {
		t.sub(c.name, func(t *tester) {
			f := chainFlow("w4", "wf", "A", "B")
			c.spoil(f)
			if err := t.q.EnqueueWorkflow(t.Context(), f.spec, time.Time{}); !errors.Is(err, task.ErrInvalidConfig) {
				t.Fatalf("EnqueueWorkflow of a spec with %s = %v; want task.ErrInvalidConfig", c.name, err)
			}
			if w, err := t.q.Workflow(t.Context(), "wf", "w4"); !errors.Is(err, queue.ErrNotFound) {
				t.Fatalf("Workflow after a refused enqueue = %+v, %v; want queue.ErrNotFound", w, err)
			}
			t.wantNotFound("wf", queue.StepID("w4", "A"))
			t.wantStats("wf", 0, 0, 0, 0)
		})
	}
}

// rename renames step name of f, a leaf, to to, and its ID with it.
func rename(f *flow, name, to string) {
	m := f.steps[name]
	m.Step.Name, m.ID = to, f.id(to)
	for _, p := range m.Step.Parents {
		for i, c := range f.steps[p.Name].Step.Children {
			if c.Name == name {
				f.steps[p.Name].Step.Children[i].Name = to
			}
		}
	}
}

// A step is released by the Finish that ends its last parent, and not
// before: not by a parent's retry, nor by the end of a parent of two. A
// step on another queue than its parent is released there. The workflow
// succeeds with its last step, and Wait of a step's task waits for the
// step's end.
func chainReleasesOnLastParent(t *tester) {
	f := newFlow("w7", "wf", step("A"), step("B", "A"), step("C", "A").on("wf-c"), step("D", "B", "C"))
	t.enqueueFlow(f, time.Time{})
	waited := make(chan *queue.State, 1)
	go func() {
		st, _ := t.q.Wait(t.Context(), "wf", f.id("D"))
		waited <- st
	}()
	a := t.takeSteps(f, "wf", "A")["A"]
	t.finish(a, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Retry: true, Kind: "boom", Error: "x"})
	t.wantSteps(f, queue.Waiting, "", "B", "C", "D")
	t.wantWorkflow(f, queue.Running, 0, "", "")
	t.promote("wf", time.Now(), 10)
	a = t.takeSteps(f, "wf", "A")["A"]
	if a.Attempt != 2 || a.LastKind != "boom" {
		t.Fatalf("A's retry: attempt %d, last kind %q; want 2, boom", a.Attempt, a.LastKind)
	}
	t.succeed(a, "a")
	t.wantStep(f, "A", queue.Succeeded, 2, "")
	t.wantSteps(f, queue.Queued, "", "B", "C")
	t.wantSteps(f, queue.Waiting, "", "D")
	t.wantWorkflow(f, queue.Running, 1, "", "")
	b := t.takeSteps(f, "wf", "B")["B"]
	c := t.takeSteps(f, "wf-c", "C")["C"]
	t.succeed(b, "b")
	t.wantSteps(f, queue.Waiting, "", "D")
	t.noneReady("wf", "wf-c")
	t.succeed(c, "c")
	d := t.takeSteps(f, "wf", "D")["D"]
	wantInputs(t, d, input("B", "b"), input("C", "c"))
	t.wantWorkflow(f, queue.Running, 3, "", "")
	select {
	case st := <-waited:
		t.Fatalf("Wait of step D returned %+v before D ended", st)
	default:
	}
	t.succeed(d, "d")
	t.wantWorkflow(f, queue.Succeeded, 4, "", "")
	select {
	case st := <-waited:
		if st == nil || st.Status != queue.Succeeded {
			t.Fatalf("Wait of step D = %+v; want it succeeded", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait of step D did not return within 5s of its end")
	}
	t.noneReady("wf", "wf-c")
}

// A released step's delivery carries its parents' outcomes in the order
// of its Parents, whatever order they ended in, each parent's result as
// it was (bytes that are no text included), and carries them again on
// each delivery of the step: its retry, and a takeover. A fan-in of 25
// parents gets 25 inputs.
func inputsInDelivery(t *tester) {
	const n = 25
	nodes := make([]node, 0, n+1)
	join := step("join")
	value := func(i int) string { return fmt.Sprintf("%d\x00\xff\n%q", i, "result") }
	for i := range n {
		nodes = append(nodes, step(fmt.Sprintf("p%02d", i)))
		join.parents = append(join.parents, fmt.Sprintf("p%02d", (i*7+3)%n)) // not the order of the names
	}
	f := newFlow("w8", "wf", append(nodes, join)...)
	t.enqueueFlow(f, time.Time{})
	roots := make([]string, n)
	for i := range n {
		roots[i] = fmt.Sprintf("p%02d", i)
	}
	ds := t.takeSteps(f, "wf", roots...)
	for k := range n {
		i := (k*11 + 5) % n // nor the order of the parents
		t.wantSteps(f, queue.Waiting, "", "join")
		t.succeed(ds[fmt.Sprintf("p%02d", i)], value(i))
	}
	want := make([]task.Input, n)
	for k, p := range join.parents {
		var i int
		fmt.Sscanf(p, "p%02d", &i)
		want[k] = input(p, value(i))
	}
	d := t.takeSteps(f, "wf", "join")["join"]
	wantInputs(t, d, want...)

	// Its retry carries them, and so does its takeover.
	t.finish(d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Retry: true, Kind: "boom", Error: "x"})
	t.promote("wf", time.Now(), 10)
	d = t.takeStepsBy(f, "wf", "slow", "join")["join"]
	if d.Attempt != 2 {
		t.Fatalf("join's retry: attempt %d, want 2", d.Attempt)
	}
	wantInputs(t, d, want...)
	wantInputs(t, t.reclaimSteps(f, "wf", "fast", "join")["join"], want...)

	// A success without a result is an input without a value.
	g := chainFlow("w9", "wf", "A", "B")
	t.enqueueFlow(g, time.Time{})
	t.succeed(t.takeSteps(g, "wf", "A")["A"], "")
	wantInputs(t, t.takeSteps(g, "wf", "B")["B"], task.Input{Step: "A", Status: string(queue.Succeeded)})
}

// A Finish sent again releases nothing more, and counts its parent once:
// a step of two parents whose first parent's finish came twice still waits
// for the second. A finish sent again after its step's children ran
// changes nothing either, nor does the workflow's result.
func finishSentTwiceReleasesOnce(t *tester) {
	f := newFlow("w10", "wf", step("A"), step("B", "A"), step("C", "A"), step("D", "B", "C"))
	t.enqueueFlow(f, time.Time{})
	a := t.takeSteps(f, "wf", "A")["A"]
	t.succeed(a, "a")
	t.succeed(a, "a again")
	ds := t.takeSteps(f, "wf", "B", "C")
	wantInputs(t, ds["B"], input("A", "a"))
	t.noneReady("wf")
	t.succeed(ds["B"], "b")
	t.succeed(ds["B"], "b")
	t.wantSteps(f, queue.Waiting, "", "D")
	t.noneReady("wf")
	t.wantWorkflow(f, queue.Running, 2, "", "")
	t.succeed(ds["C"], "c")
	t.succeed(ds["C"], "c")
	t.succeed(a, "a")
	d := t.takeSteps(f, "wf", "D")["D"]
	wantInputs(t, d, input("B", "b"), input("C", "c"))
	t.noneReady("wf")
	t.succeed(d, "d")
	t.succeed(d, "d again")
	if w := t.wantWorkflow(f, queue.Succeeded, 4, "", ""); string(w.Result) != "d" {
		t.Fatalf("Workflow.Result = %q; want the first finish's, %q", w.Result, "d")
	}
	t.noneReady("wf")
}

// The late finish of a delivery that Recover took over releases nothing
// and counts no parent, whatever its outcome: a failure does not fail the
// workflow, a success releases no child. The new delivery's finish does.
func supersededFinishReleasesNothing(t *tester) {
	f := newFlow("w11", "wf", step("A"), step("B", "A"), step("C"), step("D", "B", "C"))
	t.enqueueFlow(f, time.Time{})
	slow := t.takeStepsBy(f, "wf", "slow", "A", "C")
	fast := t.reclaimSteps(f, "wf", "fast", "A", "C")
	t.superseded(slow["A"], queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "boom", Error: "late"})
	t.superseded(slow["C"], queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("late c")})
	t.wantWorkflow(f, queue.Running, 0, "", "")
	t.wantSteps(f, queue.Queued, "", "A", "C")
	t.wantSteps(f, queue.Waiting, "", "B", "D")
	t.noneReady("wf")

	t.succeed(fast["A"], "a")
	b := t.takeSteps(f, "wf", "B")["B"]
	wantInputs(t, b, input("A", "a"))
	t.succeed(b, "b")
	t.wantSteps(f, queue.Waiting, "", "D")
	t.noneReady("wf")
	t.succeed(fast["C"], "c")
	t.superseded(slow["C"], queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("late c")})
	d := t.takeSteps(f, "wf", "D")["D"]
	wantInputs(t, d, input("B", "b"), input("C", "c"))
	t.succeed(d, "d")
	t.wantWorkflow(f, queue.Succeeded, 4, "", "")
	t.noneReady("wf")
}

// reclaimSteps takes over every delivery of queue name (Recover), which
// must be steps names of f, and hands them to consumer.
func (t *tester) reclaimSteps(f *flow, name, consumer string, names ...string) map[string]*queue.Delivery {
	t.Helper()
	if moved, err := t.q.Recover(t.Context(), name, 0, 1000); err != nil || moved != len(names) {
		t.Fatalf("Recover(%q) = %d, %v; want %d moved", name, moved, err, len(names))
	}
	ds := t.takeStepsBy(f, name, consumer, names...)
	for _, d := range ds {
		if d.Deliveries != 2 {
			t.Fatalf("%s taken over: Deliveries %d, want 2", d.ID, d.Deliveries)
		}
	}
	return ds
}
