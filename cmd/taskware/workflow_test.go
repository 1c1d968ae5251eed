package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// flowWait bounds each wait for a workflow to end.
const flowWait = 20 * time.Second

// flowEnv is a cliEnv with a chain "load" → "shout" enqueued as
// workflow id, and, if run, a worker running it; shout fails while
// fail holds.
type flowEnv struct {
	*cliEnv
	h    *workflow.Handle[string]
	fail atomic.Bool
}

func newFlow(t *testing.T, e *cliEnv, id string, run, fail bool) *flowEnv {
	t.Helper()
	f := &flowEnv{cliEnv: e}
	f.fail.Store(fail)
	load := task.New("load", func(ctx context.Context, s string) (string, error) { return s + "!", nil })
	shout := task.New("shout", func(ctx context.Context, s string) (string, error) {
		if f.fail.Load() {
			return "", errors.New("too quiet")
		}
		return strings.ToUpper(s), nil
	})
	q := e.b.Queue()
	if run {
		w := worker.New(q, worker.PollWait(20*time.Millisecond), worker.PromoteEvery(10*time.Millisecond),
			worker.Grace(2*time.Second))
		worker.Register(w, load)
		worker.Register(w, shout)
		taskwaretest.StartWorker(t, w)
	}
	flow := workflow.New("greeting")
	def, err := workflow.Build(flow, workflow.Then(flow, workflow.Start(flow, load, "hi"), shout))
	if err != nil {
		t.Fatal(err)
	}
	c := worker.NewClient(q, e.b.Store(), worker.WithWorkflows(q))
	if f.h, err = workflow.Enqueue(t.Context(), c, def, workflow.ID(id)); err != nil {
		t.Fatal(err)
	}
	return f
}

// waitEnd waits for the workflow to end, and returns its state.
func (f *flowEnv) waitEnd(t *testing.T) *queue.WorkflowState {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), flowWait)
	defer cancel()
	st, err := f.b.Queue().WaitWorkflow(ctx, queue.Default, f.h.ID)
	if err != nil {
		t.Fatalf("WaitWorkflow: %v", err)
	}
	return st
}

// showJSON runs workflow ID --json and decodes it.
func (f *flowEnv) showJSON(t *testing.T, args ...string) rows.WorkflowDetail {
	t.Helper()
	out := f.cli(t, append([]string{"workflow", f.h.ID, "--json"}, args...)...)
	var doc struct {
		Workflow rows.WorkflowDetail `json:"workflow"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("workflow --json: %v\n%s", err, out)
	}
	for _, camel := range []string{`"ID"`, `"StepStates"`, `"FailedStep"`, `"Parents"`} {
		if strings.Contains(out, camel) {
			t.Errorf("workflow --json has Go's field name %s:\n%s", camel, out)
		}
	}
	return doc.Workflow
}

// cliCode runs args against e and returns the exit status, stdout and
// stderr, as main would.
func (e *cliEnv) cliCode(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := cli(ctx, append(args, "--redis", e.url, "--prefix", e.prefix), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestWorkflowShowSucceeded(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		f := newFlow(t, e, "wf-ok", true, false)
		if st := f.waitEnd(t); st.Status != queue.Succeeded {
			t.Fatalf("workflow ended %s, want succeeded", st.Status)
		}
		out := f.cli(t, "workflow", "wf-ok")
		checkFields(t, out, map[string]string{"STATUS": "succeeded", "NAME": "greeting", "PROGRESS": "2/2 steps ended",
			"RESULT": `"HI!"`, "FAILED STEP": "-", "ERROR": "-"})
		table := out[strings.Index(out, "STEP "):]
		if ids := listedSteps(table); strings.Join(ids, " ") != "load shout" {
			t.Errorf("steps listed %q, want load shout:\n%s", ids, out)
		}
		if !regexp.MustCompile(`(?m)^shout\s+succeeded\s+1\s+shout\s+wf-ok:shout\s+-\s+-\s+load$`).MatchString(table) {
			t.Errorf("shout's row is not succeeded, attempt 1, after load:\n%s", table)
		}
		if got := f.cli(t, "workflow", "show", "wf-ok", "--queue", queue.Default); !strings.HasSuffix(got, table) {
			t.Errorf("workflow show --queue printed other steps:\n%s\nwant\n%s", got, table)
		}

		d := f.showJSON(t)
		if d.ID != "wf-ok" || d.Status != "succeeded" || d.Steps != 2 || d.Ended != 2 || d.Result != `"HI!"` ||
			d.CreatedAt.IsZero() || d.FinishedAt.IsZero() || len(d.StepStates) != 2 {
			t.Fatalf("workflow --json: %+v", d)
		}
		if s := d.StepStates[1]; s.Name != "shout" || s.Status != "succeeded" || s.ID != "wf-ok:shout" ||
			len(s.Parents) != 1 || s.Parents[0] != "load" {
			t.Errorf("shout in --json: %+v", s)
		}
	})
}

// checkFields checks the fields of workflow ID's output: each key's
// value as want says, "" for any but "-".
func checkFields(t *testing.T, out string, want map[string]string) {
	t.Helper()
	for key, value := range want {
		m := regexp.MustCompile(`(?m)^` + key + `:\s+(.*)$`).FindStringSubmatch(out)
		switch {
		case m == nil:
			t.Errorf("no field %s in:\n%s", key, out)
		case value == "" && m[1] == "-", value != "" && m[1] != value:
			t.Errorf("%s: %q, want %q, in:\n%s", key, m[1], cmp.Or(value, "something"), out)
		}
	}
}

// listedSteps are the first cells of a table's rows.
func listedSteps(table string) []string {
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		if line == "" {
			break
		}
		names = append(names, strings.Fields(line)[0])
	}
	return names
}

// A failed workflow says which step failed it; retrying another step is
// refused, retrying that one resumes the workflow to its end.
func TestWorkflowRetry(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		f := newFlow(t, e, "wf-fail", true, true)
		if st := f.waitEnd(t); st.Status != queue.Failed {
			t.Fatalf("workflow ended %s, want failed", st.Status)
		}
		out := f.cli(t, "workflow", "wf-fail")
		checkFields(t, out, map[string]string{"STATUS": "failed", "FAILED STEP": "shout", "ERROR": "too quiet",
			"FINISHED": "", "KIND": ""})
		if !strings.Contains(out, "taskware workflow retry wf-fail shout") {
			t.Errorf("workflow wf-fail does not say how to retry:\n%s", out)
		}
		d := f.showJSON(t)
		if d.FailedStep != "shout" || d.Error != "too quiet" || d.StepStates[1].Status != "failed" {
			t.Errorf("workflow --json: %+v", d)
		}

		code, _, stderr := f.cliCode(t, "workflow", "retry", "wf-fail", "load")
		if code != 1 || !strings.Contains(stderr, `step "load" did not fail workflow "wf-fail"; step "shout" did`) {
			t.Errorf("retry of load: exit %d, stderr %q; want 1 and why", code, stderr)
		}
		code, _, stderr = f.cliCode(t, "workflow", "retry", "wf-fail")
		if code != 2 || !strings.Contains(stderr, "no STEP given") {
			t.Errorf("retry without a step: exit %d, stderr %q; want 2", code, stderr)
		}

		f.fail.Store(false)
		out = f.cli(t, "workflow", "retry", "wf-fail", "shout", "--json")
		var act map[string]any
		if err := json.Unmarshal([]byte(out), &act); err != nil || act["retried"] != "shout" || act["id"] != "wf-fail" {
			t.Errorf("retry --json printed %s (%v)", out, err)
		}
		if st := f.waitEnd(t); st.Status != queue.Succeeded {
			t.Fatalf("retried workflow ended %s, want succeeded", st.Status)
		}
		if d := f.showJSON(t); d.Status != "succeeded" || d.StepStates[1].Status != "succeeded" || d.Result != `"HI!"` {
			t.Errorf("after the retry: %+v", d)
		}
		code, _, stderr = f.cliCode(t, "workflow", "retry", "wf-fail", "shout")
		if code != 1 || !strings.Contains(stderr, "is succeeded, not failed") {
			t.Errorf("retry of a succeeded workflow: exit %d, stderr %q", code, stderr)
		}
	})
}

// Cancel ends a workflow that no worker runs, its steps canceled; again,
// it says the workflow had ended.
func TestWorkflowCancel(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		f := newFlow(t, e, "wf-stop", false, false)
		out := f.cli(t, "workflow", "wf-stop")
		checkFields(t, out, map[string]string{"STATUS": "running", "PROGRESS": "0/2 steps ended", "FINISHED": "-"})
		out = f.cli(t, "workflow", "cancel", "wf-stop")
		if out != "workflow wf-stop canceled: 2 steps canceled, 0 running told to stop\n" {
			t.Errorf("cancel printed %q", out)
		}
		d := f.showJSON(t)
		if d.Status != "canceled" || d.StepStates[0].Status != "canceled" || d.StepStates[1].Status != "canceled" ||
			d.StepStates[1].Kind != queue.KindWorkflowCanceled {
			t.Errorf("after cancel: %+v", d)
		}
		out = f.cli(t, "workflow", "cancel", "wf-stop", "--json")
		var act map[string]any
		if err := json.Unmarshal([]byte(out), &act); err != nil || act["ended"] != true || act["canceled"] != 0.0 {
			t.Errorf("cancel again --json printed %s (%v)", out, err)
		}
	})
}

func TestWorkflowErrors(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"workflow", "nope"}, 1, `workflow "nope" not found in any queue`},
			{[]string{"workflow", "nope", "--queue", "q1"}, 1, `workflow "nope" not found in queue "q1"`},
			{[]string{"workflow", "cancel", "nope"}, 1, `workflow "nope" not found`},
			{[]string{"workflow"}, 2, "no workflow ID given"},
			{[]string{"workflow", "a", "b"}, 2, `unexpected argument "b"`},
			{[]string{"workflow", "cancel"}, 2, "no workflow ID given"},
		} {
			code, _, stderr := e.cliCode(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
			}
		}
	})
}
