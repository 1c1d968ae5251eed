package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// bare runs fn on each backend, served with opts, without the seed.
func bare(t *testing.T, fn func(t *testing.T, e *env), opts ...Option) {
	t.Helper()
	for _, kind := range []string{"memory", "miniredis", "redis"} {
		t.Run(kind, func(t *testing.T) { fn(t, newEnv(t, kind, opts...)) })
	}
}

// diamond enqueues workflow id: "a" feeds "b" and "c", which "d" joins;
// c fails while fail holds. With run, a worker runs it.
func (e *env) diamond(t *testing.T, id string, run bool, fail *atomic.Bool) {
	t.Helper()
	up := task.New("up", func(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil })
	flaky := task.New("flaky", func(ctx context.Context, s string) (string, error) {
		if fail.Load() {
			return "", errors.New("flaky " + xss)
		}
		return s + "!", nil
	})
	join := task.New("join", func(ctx context.Context, ss []string) (string, error) { return strings.Join(ss, "+"), nil })
	if run {
		w := worker.New(e.b.q, worker.PollWait(20*time.Millisecond), worker.PromoteEvery(10*time.Millisecond),
			worker.Grace(2*time.Second), worker.OnError(func(error) {}))
		worker.Register(w, up)
		worker.Register(w, flaky)
		worker.Register(w, join)
		taskwaretest.StartWorker(t, w)
	}
	f := workflow.New("diamond")
	a := workflow.Start(f, up, "x", workflow.Name("a"))
	b := workflow.Then(f, a, up, workflow.Name("b"))
	c := workflow.Then(f, a, flaky, workflow.Name("c"))
	d := workflow.Join(f, []workflow.Step[string]{b, c}, join, workflow.Name("d"))
	def, err := workflow.Build(f, d)
	if err != nil {
		t.Fatal(err)
	}
	client := worker.NewClient(e.b.q, e.b.store, worker.WithWorkflows(e.b.q))
	if _, err := workflow.Enqueue(t.Context(), client, def, workflow.ID(id)); err != nil {
		t.Fatal(err)
	}
}

// waitWorkflow waits for workflow id of queue default to end with want,
// and its steps to end.
func (e *env) waitWorkflow(t *testing.T, id string, want queue.Status) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	st, err := e.b.q.WaitWorkflow(ctx, queue.Default, id)
	if err != nil || st.Status != want {
		t.Fatalf("workflow %s: %v, %v; want %s", id, st, err, want)
	}
	// A step running when another failed the workflow ends after it.
	for st.Ended < st.Steps {
		if ctx.Err() != nil {
			t.Fatalf("workflow %s: %d of %d steps ended", id, st.Ended, st.Steps)
		}
		time.Sleep(10 * time.Millisecond)
		if st, err = e.b.q.Workflow(ctx, queue.Default, id); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	nodeRe = regexp.MustCompile(`<a href="([^"]*)" class="wf-node" data-state="([a-z]+)"[^>]*data-testid="step-([^"]+)"`)
	edgeRe = regexp.MustCompile(`<polyline points="[0-9, ]+" class="wf-edge"`)
)

// samePage says whether relative URLs a and b are of the same page and
// query.
func samePage(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && ua.Path == ub.Path && ua.Query().Encode() == ub.Query().Encode()
}

// graphNodes reads the step boxes of a workflow's page: their states and
// links, by name.
func graphNodes(body string) (states, links map[string]string) {
	states, links = map[string]string{}, map[string]string{}
	for _, m := range nodeRe.FindAllStringSubmatch(body, -1) {
		states[m[3]], links[m[3]] = m[2], htmlUnescape(m[1])
	}
	return states, links
}

// A failed diamond: its page draws 4 boxes and 4 edges, each box in its
// state, linked to its task; the failed step's page links back and
// offers no plain retry; the workflow's retry, confirmed, resumes it.
func TestWorkflowPage(t *testing.T) {
	bare(t, func(t *testing.T, e *env) {
		var fail atomic.Bool
		fail.Store(true)
		e.diamond(t, "wf-1", true, &fail)
		e.waitWorkflow(t, "wf-1", queue.Failed)

		page := "workflow?queue=default&id=wf-1"
		body := e.page(t, page)
		states, links := graphNodes(body)
		want := map[string]string{"a": "succeeded", "b": "succeeded", "c": "failed", "d": "canceled"}
		for name, st := range want {
			if states[name] != st {
				t.Errorf("step %s's box is %q, want %q (all: %v)", name, states[name], st, states)
			}
			if !samePage(links[name], "task?queue=default&id=wf-1:"+name) {
				t.Errorf("step %s's box links to %q", name, links[name])
			}
		}
		if len(states) != 4 || len(edgeRe.FindAllString(body, -1)) != 4 {
			t.Errorf("%d boxes and %d edges, want 4 and 4", len(states), len(edgeRe.FindAllString(body, -1)))
		}
		if !strings.Contains(body, `data-testid="step-state" data-live="step/c/label">✗ failed</text>`) {
			t.Error("step c's box does not say failed in words")
		}
		wantCell(t, body, "", "workflow-status", "failed")
		if problems, named := labelProblems(body); len(problems) > 0 || named == 0 {
			t.Errorf("the steps' table: %d cells named, problems %q", named, problems)
		}
		wantCell(t, body, "", "workflow-failed-step", "c")
		wantCell(t, body, "", "workflow-progress", "4/4 steps ended")
		wantCell(t, body, "", "workflow-error", "flaky "+xss)
		wantCell(t, body, "row-d", "kind", queue.KindWorkflowFailed)
		if strings.Contains(body, "<script>alert") {
			t.Error("the page shows the error unescaped")
		}
		if strings.Contains(body, "data-api=") || strings.Contains(body, "action-cancel-workflow") {
			t.Error("a failed workflow's page polls, or offers to cancel it")
		}

		var api map[string]any
		e.api(t, "workflow?queue=default&id=wf-1", &api)
		if api["status"] != "failed" || api["failed_step"] != "c" || api["steps"] != 4.0 || api["step_states"] == nil {
			t.Errorf("api/workflow: %v", api)
		}
		for k := range api {
			if k != strings.ToLower(k) {
				t.Errorf("api/workflow has field %q, not snake_case", k)
			}
		}

		// The failed step's task page.
		task := e.page(t, links["c"])
		if got := regexpHref(task, "task-workflow"); !samePage(got, page) {
			t.Errorf("step c's page links to its workflow at %q, want %q", got, page)
		}
		if strings.Contains(task, "action-retry") {
			t.Error("step c's page offers the plain retry")
		}
		form := url.Values{"queue": {"default"}, "id": {"wf-1:c"}, "csrf": {e.token(t, "")}}
		if code, _ := e.post(t, "retry", form); code != http.StatusConflict {
			t.Errorf("a plain retry of step c: %d, want 409", code)
		}

		// Retry another step: the confirm page refuses.
		body = e.page(t, "confirm?do=retry-step&queue=default&id=wf-1&step=b")
		if strings.Contains(body, `data-testid="confirm"`) || !strings.Contains(body, "Step b did not fail workflow wf-1") {
			t.Errorf("the confirm page offers to retry step b:\n%s", body)
		}
		fail.Store(false)
		loc := e.confirmAndPost(t, page, "action-retry-step")
		body = e.page(t, loc)
		wantCell(t, body, "", "notice", "Step c runs again, from attempt 1; the workflow resumes from it.")
		e.waitWorkflow(t, "wf-1", queue.Succeeded)
		body = e.page(t, page)
		if states, _ := graphNodes(body); states["c"] != "succeeded" || states["d"] != "succeeded" {
			t.Errorf("after the retry: %v", states)
		}
		if strings.Contains(body, "action-retry-step") {
			t.Error("a succeeded workflow offers a retry")
		}
	})
}

// A workflow not run yet: its page polls, and offers Cancel; a POST
// without its token, or from another site, changes nothing; confirmed,
// it cancels every step.
func TestWorkflowCancelPage(t *testing.T) {
	bare(t, func(t *testing.T, e *env) {
		var fail atomic.Bool
		e.diamond(t, "wf-2", false, &fail)
		page := "workflow?queue=default&id=wf-2"
		body := e.page(t, page)
		if !strings.Contains(body, `data-api="api/workflow?queue=default&amp;id=wf-2"`) {
			t.Error("a running workflow's page does not poll")
		}
		if states, _ := graphNodes(body); states["a"] != "queued" || states["d"] != "waiting" {
			t.Errorf("states %v, want a queued and d waiting", states)
		}
		token := e.token(t, "")
		for _, tc := range []struct {
			name   string
			form   url.Values
			header []string
		}{
			{"no token", url.Values{"queue": {"default"}, "id": {"wf-2"}}, nil},
			{"bad token", url.Values{"queue": {"default"}, "id": {"wf-2"}, "csrf": {"AAAA" + token[4:]}}, nil},
			{"another site", url.Values{"queue": {"default"}, "id": {"wf-2"}, "csrf": {token}}, []string{"Origin", "https://evil.example"}},
		} {
			for _, path := range []string{"cancel-workflow", "retry-step"} {
				if code, _ := e.post(t, path, tc.form, tc.header...); code != http.StatusForbidden {
					t.Errorf("%s %s: %d, want 403", tc.name, path, code)
				}
			}
		}
		if st, _ := e.b.q.Workflow(t.Context(), "default", "wf-2"); st.Status != queue.Running {
			t.Fatalf("a refused POST left the workflow %s", st.Status)
		}
		if code, _ := e.get(t, "cancel-workflow?queue=default&id=wf-2"); code != http.StatusMethodNotAllowed {
			t.Errorf("GET cancel-workflow: %d, want 405", code)
		}

		loc := e.confirmAndPost(t, page, "action-cancel-workflow")
		body = e.page(t, loc)
		wantCell(t, body, "", "notice", "Canceled the workflow: 4 steps canceled, 0 running told to stop.")
		wantCell(t, body, "", "workflow-status", "canceled")
		if states, _ := graphNodes(body); len(states) != 4 || states["a"] != "canceled" || states["d"] != "canceled" {
			t.Errorf("after cancel: %v", states)
		}
		// Again: the confirm page says it has ended.
		body = e.page(t, "confirm?do=cancel-workflow&queue=default&id=wf-2")
		if strings.Contains(body, `data-testid="confirm"`) || !strings.Contains(body, "has ended (canceled)") {
			t.Errorf("the confirm page offers to cancel an ended workflow:\n%s", body)
		}
		if code, _ := e.get(t, "workflow?queue=default&id=nope"); code != http.StatusNotFound {
			t.Errorf("an unknown workflow: %d, want 404", code)
		}
		if code, _ := e.get(t, "workflow?queue=default"); code != http.StatusBadRequest {
			t.Errorf("no id: %d, want 400", code)
		}
	})
}

// Read-only, the page offers no action.
func TestWorkflowPageReadOnly(t *testing.T) {
	e := newEnv(t, "memory", ReadOnly())
	var fail atomic.Bool
	e.diamond(t, "wf-3", false, &fail)
	body := e.page(t, "workflow?queue=default&id=wf-3")
	if strings.Contains(body, "workflow-actions") || !strings.Contains(body, `data-testid="workflow-graph"`) {
		t.Error("read-only: actions offered, or no graph")
	}
}

// Past maxDrawnSteps, the graph draws layers with their steps counted by
// state, and the table lists the steps not done, at most maxDrawnSteps.
func TestWorkflowPageLayers(t *testing.T) {
	bare(t, func(t *testing.T, e *env) {
		up := task.New("up", func(ctx context.Context, s string) (string, error) { return s, nil })
		join := task.New("join", func(ctx context.Context, ss []string) (string, error) { return "", nil })
		f := workflow.New("fan")
		args := make([]string, 600)
		fan := workflow.Group(f, up, args)
		def, err := workflow.Build(f, workflow.Join(f, fan, join, workflow.Name("all")))
		if err != nil {
			t.Fatal(err)
		}
		client := worker.NewClient(e.b.q, e.b.store, worker.WithWorkflows(e.b.q))
		if _, err := workflow.Enqueue(t.Context(), client, def, workflow.ID("wf-big")); err != nil {
			t.Fatal(err)
		}
		body := e.page(t, "workflow?queue=default&id=wf-big")
		if n := len(nodeRe.FindAllString(body, -1)); n != 0 {
			t.Errorf("%d step boxes drawn, want none past %d steps", n, maxDrawnSteps)
		}
		for _, want := range []string{
			`data-testid="layer-0"`, "Layer 0: 600 steps", `○ queued: <tspan data-live="layer/0/queued">600</tspan>`,
			`data-testid="layer-1"`, "Layer 1: 1 steps", `… waiting: <tspan data-live="layer/1/waiting">1</tspan>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the layered graph does not say %q", want)
			}
		}
		if !strings.Contains(body, `data-refresh="30000"`) {
			t.Error("a big workflow's page does not poll slowly")
		}
		wantCell(t, body, "", "unlisted", "101 steps are not listed: those that succeeded or were skipped, and past the first 500 others.")
		if n := strings.Count(body, `<tr data-testid="row-`); n != maxDrawnSteps {
			t.Errorf("%d steps listed, want %d", n, maxDrawnSteps)
		}
		var api struct {
			Live map[string]string `json:"live"`
			Rows []string          `json:"rows"`
		}
		e.api(t, "workflow?queue=default&id=wf-big", &api)
		if api.Live["layer/0/queued"] != "600" || len(api.Rows) != 3 {
			t.Errorf("api/workflow live %v rows %v", api.Live["layer/0/queued"], api.Rows)
		}
	})
}
