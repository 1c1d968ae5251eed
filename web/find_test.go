package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/taskware/taskware/queue"
)

var nextRe = regexp.MustCompile(`href="([^"]+)" rel="next"`)

// nextLink returns the page's "next page" link, "" if none.
func nextLink(body string) string {
	m := nextRe.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// The tasks listing searches IDs, task names and arguments, filters, and
// pages by cursor, its filters kept in the links; a cursor it did not make
// is a 400.
func TestFindTasks(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		body := e.page(t, "tasks?queue=default&state=ready&q=E-3")
		wantCell(t, body, "", "listed", "1")
		wantCell(t, body, "task-e-3", "name", "email")
		body = e.page(t, "tasks?queue=default&state=ready&q="+url.QueryEscape("E-2@EXAMPLE"))
		wantCell(t, body, "", "listed", "1")
		wantCell(t, body, "task-e-2", "name", "email")
		body = e.page(t, "tasks?queue=default&state=ready&task=nothing")
		wantCell(t, body, "", "listed", "0")

		body = e.page(t, "tasks?queue=default&state=ready&limit=1&task=email")
		wantCell(t, body, "", "listed", "1")
		wantCell(t, body, "task-e-2", "name", "email")
		next := nextLink(body)
		if !strings.Contains(next, "task=email") || !strings.Contains(next, "limit=1") || !strings.Contains(next, "after=") {
			t.Fatalf("next link %q does not keep the filters", next)
		}
		body = e.page(t, next)
		wantCell(t, body, "task-e-3", "name", "email")
		if strings.Contains(body, `data-testid="task-e-2"`) {
			t.Error("the second page lists e-2 again")
		}
		if !strings.Contains(body, `data-testid="page-first"`) {
			t.Error("the second page has no link to the first")
		}
		if n := nextLink(body); n != "" {
			body = e.page(t, n) // a page may end the listing empty
			wantCell(t, body, "", "listed", "0")
		}

		body = e.page(t, "tasks?queue=side&state=dead&kind=worker.unknown_task")
		wantCell(t, body, "", "listed", "1")
		wantCell(t, body, "task-ghost-1", "name", "ghost")
		if !strings.Contains(body, `data-testid="bulk-requeue"`) || !strings.Contains(body, `data-select-all="bulk"`) {
			t.Error("the dead listing offers no bulk requeue")
		}
		body = e.page(t, "tasks?queue=side&state=finished&status=succeeded")
		wantCell(t, body, "", "listed", "1")
		wantCell(t, body, "task-e-5", "status", "succeeded")

		for _, p := range []string{
			"tasks?queue=default&state=ready&after=garbage",
			"tasks?queue=default&state=ready&since=yesterday",
			"tasks?queue=default&state=ready&q=" + strings.Repeat("x", 201),
		} {
			if code, body := e.get(t, p); code != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400\n%s", p, code, body)
			}
		}
	})
}

// The results page filters its records by status and search, and pages
// them.
func TestFindResults(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		body := e.page(t, "results?status=failed")
		for _, id := range []string{"in-1", "evil-1"} {
			if !strings.Contains(body, `data-testid="record-`) || !strings.Contains(body, ">"+id+"<") {
				t.Errorf("failed records: no %s", id)
			}
		}
		if strings.Contains(body, ">e-5<") {
			t.Error("failed records list e-5, which succeeded")
		}
		body = e.page(t, "results?q=acct-1")
		if !strings.Contains(body, ">in-1<") || strings.Contains(body, ">e-5<") {
			t.Error("a search for acct-1 (in in-1's error) does not find in-1 alone")
		}
		seen := map[string]int{}
		p := "results?limit=1"
		for range 10 {
			body = e.page(t, p)
			for _, m := range regexp.MustCompile(`data-testid="record-([^"]*)"`).FindAllStringSubmatch(body, -1) {
				seen[m[1]]++
			}
			if p = nextLink(body); p == "" {
				break
			}
		}
		if len(seen) != 3 {
			t.Errorf("paged records %v, want the 3 stored once each", seen)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("record %s listed %d times", k, n)
			}
		}
		if code, _ := e.get(t, "results?after=%21%21"); code != http.StatusBadRequest {
			t.Errorf("results with a bad cursor: %d, want 400", code)
		}
	})
}

// Rows selected in a listing are canceled, requeued or purged together,
// after a confirmation that lists them.
func TestBulkActions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		body := e.page(t, "confirm?do=cancel&queue=default&state=ready&id=e-2&id=e-3")
		if !strings.Contains(body, "Cancel 2 tasks of queue default") || !strings.Contains(body, "<dd>e-2</dd>") ||
			!strings.Contains(body, "<dd>e-3</dd>") {
			t.Fatalf("the cancel confirmation does not list the tasks:\n%s", body)
		}
		loc := e.act(t, "cancel", url.Values{"queue": {"default"}, "id": {"e-2", "e-3"}})
		if !strings.HasPrefix(loc, "tasks?notice=") {
			t.Errorf("bulk cancel went to %q", loc)
		}
		wantCell(t, e.page(t, loc), "", "notice", "Canceled 2 tasks of queue default, or told their workers to stop them.")
		if st := e.stats(t, "default"); st.Ready != 0 {
			t.Errorf("after a bulk cancel: %d ready, want 0", st.Ready)
		}

		body = e.page(t, "confirm?do=requeue&queue=side&id=ghost-1&id=evil-1")
		if !strings.Contains(body, "Requeue the 2 dead letters listed of queue side") || !strings.Contains(body, "<dd>ghost-1</dd>") {
			t.Fatalf("the requeue confirmation does not list the letters:\n%s", body)
		}
		e.act(t, "purge", url.Values{"queue": {"side"}, "id": {"ghost-1", "evil-1"}})
		if st := e.stats(t, "side"); st.Dead != 0 {
			t.Errorf("after a bulk purge: %d dead, want 0", st.Dead)
		}
		for _, p := range []string{"confirm?do=cancel&queue=default", "confirm?do=cancel&queue=default&id="} {
			if code, _ := e.get(t, p); code != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400", p, code)
			}
		}
	})
}

func (e *env) stats(t *testing.T, name string) *queue.Stats {
	t.Helper()
	st, err := e.b.q.Stats(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
