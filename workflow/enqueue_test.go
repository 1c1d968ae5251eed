package workflow_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// recorder is a queue's workflow side that keeps what Enqueue sends and
// answers Wait with a state of the test's: how Build's messages and a
// handle's readings are checked without a backend.
type recorder struct {
	queue.Producer // unused: a Client needs one
	specs          []*queue.WorkflowSpec
	runAts         []time.Time
	errs           []error // EnqueueWorkflow's answers, in turn; nil after them
	state          *queue.WorkflowState
}

func (r *recorder) EnqueueWorkflow(ctx context.Context, wf *queue.WorkflowSpec, runAt time.Time) error {
	r.specs, r.runAts = append(r.specs, wf), append(r.runAts, runAt)
	if len(r.errs) > 0 {
		err := r.errs[0]
		r.errs = r.errs[1:]
		return err
	}
	return nil
}

func (r *recorder) Workflow(ctx context.Context, q, id string) (*queue.WorkflowState, error) {
	return r.state, nil
}

func (r *recorder) WaitWorkflow(ctx context.Context, q, id string) (*queue.WorkflowState, error) {
	return r.state, nil
}

func (r *recorder) CancelWorkflow(ctx context.Context, q, id string) (*queue.WorkflowCancel, error) {
	return nil, queue.ErrNotFound
}

func (r *recorder) RetryStep(ctx context.Context, q, id, step string) error {
	return queue.ErrNotRetryable
}

func (r *recorder) ListWorkflows(ctx context.Context, q string, wq queue.WorkflowQuery) (*queue.WorkflowPage, error) {
	return &queue.WorkflowPage{}, nil
}

func (r *recorder) client() *worker.Client {
	return worker.NewClient(r, nil, worker.WithWorkflows(r))
}

func TestEnqueueSendsSteps(t *testing.T) {
	w := workflow.New("shapes", workflow.OnQueue("home"))
	a := workflow.Start(w, inc, 1, workflow.Name("a"))
	b := workflow.Then(w, a, inc, workflow.Name("b"), workflow.OnQueue("other"), workflow.IfSkipped(queue.RunWithout))
	c := workflow.ThenOutcome(w, a, task.New("c", func(ctx context.Context, u task.Upstream[int]) (int, error) { return u.Value, nil }))
	g := workflow.Group(w, inc, []int{5, 6}, workflow.Name("g"))
	j := workflow.Join(w, append(g, b), sum, workflow.Name("j"), workflow.After(c))
	r := workflow.Add(w, lines, Report{Title: "t"}, workflow.Name("r"), workflow.Input("Count", j), workflow.Input("Status", c))
	def, err := workflow.Build(w, r)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	before := time.Now()
	h, err := workflow.Enqueue(context.Background(), rec.client(), def, workflow.ID("wf1"), workflow.Delay(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != "wf1" || h.Queue != "home" || len(rec.specs) != 1 {
		t.Fatalf("handle %s on %s, %d calls", h.ID, h.Queue, len(rec.specs))
	}
	if at := rec.runAts[0]; at.Before(before.Add(time.Hour)) || at.After(time.Now().Add(time.Hour)) {
		t.Fatalf("runAt %v, want an hour from now", at)
	}
	spec := rec.specs[0]
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	if spec.ID != "wf1" || spec.Name != "shapes" || spec.Queue != "home" || spec.Digest != def.Digest() {
		t.Fatalf("spec %s %s %s %s", spec.ID, spec.Name, spec.Queue, spec.Digest)
	}
	ref := func(q, name string) queue.StepRef { return queue.StepRef{Queue: q, Name: name} }
	want := map[string]struct {
		queue     string
		payload   string
		step      queue.Step
		childrenN int
	}{
		"a":   {"home", "1", queue.Step{Children: []queue.StepRef{ref("other", "b"), ref("home", "c")}}, 2},
		"b":   {"other", "", queue.Step{Parents: []queue.StepRef{ref("home", "a")}, Bind: task.BindOne, IfSkipped: queue.RunWithout, Children: []queue.StepRef{ref("home", "j")}}, 1},
		"c":   {"home", "", queue.Step{Parents: []queue.StepRef{ref("home", "a")}, Bind: task.BindOutcomes, Outcomes: true, Children: []queue.StepRef{ref("home", "j"), ref("home", "r")}}, 2},
		"g-1": {"home", "5", queue.Step{Children: []queue.StepRef{ref("home", "j")}}, 1},
		"g-2": {"home", "6", queue.Step{Children: []queue.StepRef{ref("home", "j")}}, 1},
		"j": {"home", "", queue.Step{Parents: []queue.StepRef{ref("home", "g-1"), ref("home", "g-2"), ref("other", "b"), ref("home", "c")},
			Bind: task.BindAll, Fields: []string{"*", "*", "*", ""}, Children: []queue.StepRef{ref("home", "r")}}, 1},
		"r": {"home", `{"Title":"t","Count":0,"Label":"","Status":{"Step":"","Value":0,"Err":null},"Any":null}`, queue.Step{Parents: []queue.StepRef{ref("home", "j"), ref("home", "c")},
			Bind: task.BindFields, Fields: []string{"Count", "Status"}, Output: true}, 0},
	}
	seen := map[string]bool{}
	for _, m := range spec.Steps {
		s := m.Step
		wt, ok := want[s.Name]
		if !ok {
			t.Fatalf("unexpected step %q", s.Name)
		}
		for _, p := range s.Parents {
			if !seen[p.Name] {
				t.Errorf("step %s comes before its parent %s", s.Name, p.Name)
			}
		}
		seen[s.Name] = true
		if m.ID != "wf1:"+s.Name || m.Queue != wt.queue || string(m.Payload) != wt.payload || m.Attempt != 1 || m.EnqueuedAt.Before(before) {
			t.Errorf("step %s: message %s on %s, payload %s, attempt %d", s.Name, m.ID, m.Queue, m.Payload, m.Attempt)
		}
		ws := wt.step
		ws.Name, ws.Workflow, ws.Home = s.Name, "wf1", "home"
		if !reflect.DeepEqual(*s, ws) {
			t.Errorf("step %s:\n got %+v\nwant %+v", s.Name, *s, ws)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d steps sent, want %d", len(seen), len(want))
	}
}

// TestEnqueueMarksAbsorbed: a step whose children all take its outcome
// does not fail the workflow; one with a child that needs it to succeed
// does.
func TestEnqueueMarksAbsorbed(t *testing.T) {
	outcome := task.New("outcome", func(ctx context.Context, u task.Upstream[int]) (int, error) { return u.Value, nil })
	outcomes := task.New("outcomes", func(ctx context.Context, us []task.Upstream[int]) (int, error) { return len(us), nil })
	w := workflow.New("absorb")
	a := workflow.Start(w, inc, 1, workflow.Name("a"))
	workflow.ThenOutcome(w, a, outcome, workflow.Name("a1"))
	workflow.JoinOutcomes(w, []workflow.Step[int]{a}, outcomes, workflow.Name("a2"))
	b := workflow.Start(w, inc, 1, workflow.Name("b"))
	workflow.ThenOutcome(w, b, outcome, workflow.Name("b1"))
	workflow.Then(w, b, inc, workflow.Name("b2"))
	c := workflow.Start(w, inc, 1, workflow.Name("c"))
	s := workflow.Start(w, show, 1, workflow.Name("s"))
	mixed := workflow.Add(w, lines, Report{}, workflow.Name("mixed"), workflow.Input("Status", c), workflow.Input("Label", s))
	d := workflow.Start(w, inc, 1, workflow.Name("d"))
	up := workflow.Add(w, lines, Report{}, workflow.Name("up"), workflow.Input("Status", d))
	def, err := workflow.Build(w, workflow.Join(w, []workflow.Step[string]{mixed, up}, task.New("j", func(ctx context.Context, ss []string) (int, error) { return 0, nil })))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if _, err := workflow.Enqueue(context.Background(), rec.client(), def); err != nil {
		t.Fatal(err)
	}
	absorbed := map[string]bool{}
	outcomesOf := map[string]bool{}
	for _, m := range rec.specs[0].Steps {
		absorbed[m.Step.Name], outcomesOf[m.Step.Name] = m.Step.Absorbed, m.Step.Outcomes
	}
	wantAbsorbed := map[string]bool{"a": true, "b": false, "c": false, "s": false, "d": true, "mixed": false, "up": false}
	for name, want := range wantAbsorbed {
		if absorbed[name] != want {
			t.Errorf("step %s absorbed = %v, want %v", name, absorbed[name], want)
		}
	}
	if outcomesOf["mixed"] || !outcomesOf["up"] || !outcomesOf["a1"] || outcomesOf["b2"] {
		t.Errorf("outcomes: %v", outcomesOf)
	}
	if id := rec.specs[0].ID; len(id) != 32 {
		t.Errorf("default ID %q, want a random one", id)
	}
}

func TestEnqueueErrors(t *testing.T) {
	def, err := diamond(1, "q")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Unavailable, then done: tried again; another error is the caller's.
	rec := &recorder{errs: []error{task.Unavailable(errors.New("down")), task.Unavailable(errors.New("down"))}}
	if _, err := workflow.Enqueue(ctx, rec.client(), def, workflow.ID("x")); err != nil || len(rec.specs) != 3 {
		t.Fatalf("Enqueue = %v after %d calls, want success on the third", err, len(rec.specs))
	}
	dup := &recorder{errs: []error{queue.ErrDuplicate}}
	if h, err := workflow.Enqueue(ctx, dup.client(), def, workflow.ID("x")); !errors.Is(err, queue.ErrDuplicate) || h != nil || len(dup.specs) != 1 {
		t.Fatalf("Enqueue = %v, %v after %d calls; want ErrDuplicate at once", h, err, len(dup.specs))
	}
	// Unavailable until ctx ends: the backend's error.
	down := &recorder{errs: slices.Repeat([]error{task.Unavailable(errors.New("down"))}, 1000)}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := workflow.Enqueue(short, down.client(), def); !errors.Is(err, task.ErrUnavailable) {
		t.Fatalf("Enqueue = %v, want ErrUnavailable", err)
	}

	noFlows := worker.NewClient(&recorder{}, nil)
	for name, call := range map[string]func() error{
		"no workflow side": func() error { _, err := workflow.Enqueue(ctx, noFlows, def); return err },
		"nil client":       func() error { _, err := workflow.Enqueue(ctx, nil, def); return err },
		"nil def":          func() error { _, err := workflow.Enqueue[int](ctx, rec.client(), nil); return err },
		"bad ID":           func() error { _, err := workflow.Enqueue(ctx, rec.client(), def, workflow.ID("a{b}")); return err },
		"nil option":       func() error { _, err := workflow.Enqueue(ctx, rec.client(), def, nil); return err },
		"HandleOf without": func() error { _, err := workflow.HandleOf(noFlows, def, "x"); return err },
	} {
		if err := call(); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

// TestGetReadsTheEnd: how each end of a workflow reads, from the state
// the queue gives.
func TestGetReadsTheEnd(t *testing.T) {
	def, err := diamond(1, "q")
	if err != nil {
		t.Fatal(err)
	}
	steps := func(out queue.StepState) []queue.StepState {
		return []queue.StepState{{Name: "a", ID: "x:a", Status: queue.Succeeded}, out}
	}
	tests := []struct {
		name  string
		state queue.WorkflowState
		want  int
		is    []error
		isnt  []error
	}{
		{"succeeded", queue.WorkflowState{Status: queue.Succeeded, Output: "d", Result: []byte("42"),
			StepStates: steps(queue.StepState{Name: "d", ID: "x:d", Status: queue.Succeeded})}, 42, nil, nil},
		{"output skipped", queue.WorkflowState{Status: queue.Succeeded, Output: "d",
			StepStates: steps(queue.StepState{Name: "d", ID: "x:d", Status: queue.Skipped, Kind: "lock.locked", Error: "held"})},
			0, []error{task.ErrSkipped}, []error{workflow.ErrFailed}},
		{"failed", queue.WorkflowState{Status: queue.Failed, Output: "d", FailedStep: "a", Kind: "workflow_test.boom", Error: "boom",
			StepStates: []queue.StepState{{Name: "a", ID: "x:a", Status: queue.Failed}}},
			0, []error{workflow.ErrFailed, errBoom}, []error{queue.ErrDeadLettered, queue.ErrCanceled}},
		{"dead", queue.WorkflowState{Status: queue.Failed, Output: "d", FailedStep: "a", Kind: "workflow_test.boom", Error: "boom",
			StepStates: []queue.StepState{{Name: "a", ID: "x:a", Status: queue.Dead}}},
			0, []error{workflow.ErrFailed, errBoom, queue.ErrDeadLettered}, nil},
		{"a step canceled", queue.WorkflowState{Status: queue.Failed, Output: "d", FailedStep: "a", Kind: "queue.canceled", Error: "canceled",
			StepStates: []queue.StepState{{Name: "a", ID: "x:a", Status: queue.Canceled}}},
			0, []error{workflow.ErrFailed, queue.ErrCanceled}, nil},
		{"canceled", queue.WorkflowState{Status: queue.Canceled, Output: "d"}, 0, []error{queue.ErrCanceled}, []error{workflow.ErrFailed}},
		{"a result that does not decode", queue.WorkflowState{Status: queue.Succeeded, Output: "d", Result: []byte(`"x"`)}, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{state: &tt.state}
			h, err := workflow.HandleOf(rec.client(), def, "x")
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Get(context.Background())
			if got != tt.want {
				t.Errorf("Get = %d, want %d", got, tt.want)
			}
			if tt.name == "a result that does not decode" {
				if err == nil {
					t.Fatal("Get of a bad result: no error")
				}
				return
			}
			if (err == nil) != (len(tt.is) == 0) {
				t.Fatalf("Get error %v, want one matching %v", err, tt.is)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error %v does not match %v", err, target)
				}
			}
			for _, target := range tt.isnt {
				if errors.Is(err, target) {
					t.Errorf("error %v matches %v", err, target)
				}
			}
			if we, ok := errors.AsType[*workflow.Error](err); ok && we.Step != "a" {
				t.Errorf("*Error names step %q, want a", we.Step)
			}
		})
	}
}

var errBoom = task.NewError("workflow_test.boom", "boom")
