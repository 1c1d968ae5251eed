package web

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

var workflowRowRe = regexp.MustCompile(`data-testid="workflow-([^"]*)" data-row=`)

// listedWorkflows returns the IDs of the rows of a workflows listing, in
// order.
func listedWorkflows(body string) string {
	var ids []string
	for _, m := range workflowRowRe.FindAllStringSubmatch(body, -1) {
		ids = append(ids, html.UnescapeString(m[1]))
	}
	return strings.Join(ids, " ")
}

// seedWorkflows enqueues workflows of one step on queue "flows", one a
// millisecond, the last the newest: w-1, w-2, w-3, and w-4 named xss,
// whose step fails, with xss as its error.
func (e *env) seedWorkflows(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []string{"w-1", "w-2", "w-3", "w-4"} {
		s := &queue.Step{Workflow: id, Home: "flows", Name: "a", Output: true}
		m := &queue.Message{ID: queue.StepID(id, "a"), Task: "job", Queue: "flows", Payload: []byte(`[]`), Attempt: 1, Step: s}
		name := "flow " + id
		if id == "w-4" {
			name = xss
		}
		spec := &queue.WorkflowSpec{ID: id, Name: name, Queue: "flows", Digest: "d", Steps: []*queue.Message{m}}
		if err := e.b.q.EnqueueWorkflow(ctx, spec, time.Time{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	ds, err := e.b.q.Take(ctx, "flows", "w", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == queue.StepID("w-4", "a") {
			if err := e.b.q.Finish(ctx, d, queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k.fail", Error: xss}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The workflows page lists a queue's workflows newest first, a page at a
// time with first, previous and next links, filtered by status, each
// linked to its own page, everything escaped and each cell named for a
// phone; api/workflows returns the same.
func TestWorkflowsPage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.seedWorkflows(t)
		body := e.page(t, "workflows?queue=flows&limit=3")
		if got := listedWorkflows(body); got != "w-4 w-3 w-2" {
			t.Fatalf("first page lists %q; want w-4 w-3 w-2, newest first", got)
		}
		wantCell(t, body, "workflow-w-4", "status", "failed")
		wantCell(t, body, "workflow-w-4", "ended", "1/1")
		wantCell(t, body, "workflow-w-4", "failed-step", "a")
		wantCell(t, body, "workflow-w-3", "status", "running")
		if !strings.Contains(body, `href="workflow?queue=flows&amp;id=w-3"`) {
			t.Errorf("no link to workflow w-3's page:\n%s", body)
		}
		if strings.Contains(body, xss) || !strings.Contains(body, html.EscapeString(xss)) {
			t.Errorf("the name and error %q are not shown escaped", xss)
		}
		if !strings.Contains(body, `data-testid="nav-workflows"`) || !regexp.MustCompile(`href="workflows" aria-current="page"`).MatchString(body) {
			t.Errorf("the navigation has no current Workflows entry")
		}
		if problems, named := labelProblems(body); len(problems) > 0 || named == 0 {
			t.Errorf("cell labels: %q, %d named", problems, named)
		}
		next := nextLink(body)
		if next == "" || prevLink(body) != "" {
			t.Fatalf("first page: next %q, previous %q; want a next only", next, prevLink(body))
		}
		body = e.page(t, next)
		if got := listedWorkflows(body); got != "w-1" || nextLink(body) != "" {
			t.Fatalf("second page lists %q, next %q; want w-1 alone, no next", got, nextLink(body))
		}
		if got := listedWorkflows(e.page(t, prevLink(body))); got != "w-4 w-3 w-2" {
			t.Errorf("the previous page lists %q; want the first", got)
		}

		body = e.page(t, "workflows?queue=flows&status=failed")
		if got := listedWorkflows(body); got != "w-4" {
			t.Errorf("failed ones: %q; want w-4", got)
		}
		if got := listedWorkflows(e.page(t, "workflows?queue=flows&status=succeeded")); got != "" {
			t.Errorf("succeeded ones: %q; want none", got)
		}

		var d workflowsData
		e.api(t, "workflows?queue=flows&limit=2", &d)
		if len(d.Workflows) != 2 || d.Workflows[0].ID != "w-4" || d.Workflows[0].Error != xss || d.Page.Cursor == "" ||
			d.Live[liveKey("workflow", "w-4", "status")] != "failed" || strings.Join(d.Rows, " ") != "w-4 w-3" {
			t.Errorf("api/workflows: %+v", d)
		}

		// Without a queue, the page offers the queues.
		if body := e.page(t, "workflows"); !strings.Contains(body, `href="workflows?queue=flows"`) {
			t.Errorf("no queue asked for: no link to queue flows:\n%s", body)
		}
	})
}

// A bad status, limit, cursor or queue name is a 400 that says so.
func TestWorkflowsPageBadInput(t *testing.T) {
	e := newEnv(t, "memory")
	for path, want := range map[string]string{
		"workflows?queue=flows&status=waiting": "Bad status",
		"workflows?queue=flows&limit=0":        "Bad limit",
		"workflows?queue=flows&limit=501":      "Bad limit",
		"workflows?queue=flows&after=nope":     "Bad page cursor",
		"workflows?queue=a%7Bb":                "Bad queue name",
	} {
		code, body := e.get(t, path)
		if code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d; want 400 saying %q:\n%s", path, code, want, body)
		}
	}
}
