package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

var (
	nextRe   = regexp.MustCompile(`href="([^"]+)" rel="next"`)
	prevRe   = regexp.MustCompile(`href="([^"]+)" rel="prev"`)
	firstRe  = regexp.MustCompile(`href="([^"]+)" data-testid="page-first"`)
	rowRe    = regexp.MustCompile(`data-testid="task-([^"]*)" data-row=`)
	recordRe = regexp.MustCompile(`data-testid="record-[^"]*"`)
)

// nextLink returns the page's "next page" link, "" if none.
func nextLink(body string) string { return link(nextRe, body) }

// prevLink returns the page's "previous page" link, "" if none.
func prevLink(body string) string { return link(prevRe, body) }

func link(re *regexp.Regexp, body string) string {
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// listed returns the keys of the rows of a tasks listing, in order.
func listed(body string) string {
	var keys []string
	for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
		keys = append(keys, m[1])
	}
	return strings.Join(keys, " ")
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

// "Previous page" goes back along the trail of cursors the "next" links
// carry, to the very rows shown before, filters kept; the trail holds at
// most maxTrail cursors, so past that many pages "previous" leads back to
// where it starts, and "first" to the first page.
func TestPreviousPage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		const pages = maxTrail + 5
		for i := range pages + 1 {
			m := &queue.Message{ID: fmt.Sprintf("m-%02d", i), Task: "email", Queue: "many", Payload: []byte(`"x"`)}
			if err := e.b.q.Enqueue(t.Context(), m, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		p := "tasks?queue=many&state=ready&task=email&limit=1"
		body := e.page(t, p)
		if prevLink(body) != "" || strings.Contains(body, `data-testid="page-first"`) {
			t.Error("the first page links to a previous or first page")
		}
		var shown []string // the rows of each page, from the first
		for i := range pages {
			shown = append(shown, listed(body))
			if p = nextLink(body); p == "" {
				t.Fatalf("page %d has no next link", i)
			}
			u, err := url.Parse(p)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(u.Query()["prev"]); n != min(i+1, maxTrail) {
				t.Fatalf("the next link of page %d carries %d cursors back, want %d: %s", i, n, min(i+1, maxTrail), p)
			}
			body = e.page(t, p)
		}
		shown = append(shown, listed(body))
		first := html.UnescapeString(firstRe.FindStringSubmatch(body)[1])

		// Back from the last page along the trail, to where it starts.
		at := pages
		for p = prevLink(body); p != ""; p = prevLink(body) {
			if !strings.Contains(p, "task=email") || !strings.Contains(p, "limit=1") {
				t.Fatalf("previous link %q does not keep the filters", p)
			}
			body = e.page(t, p)
			at--
			if got := listed(body); got != shown[at] {
				t.Fatalf("back to page %d: rows %q, want %q as before", at, got, shown[at])
			}
		}
		if at != pages-maxTrail {
			t.Errorf("previous leads back to page %d, want %d (%d pages back)", at, pages-maxTrail, maxTrail)
		}
		if !strings.Contains(body, `data-testid="page-first"`) {
			t.Error("where the trail starts, no link to the first page")
		}
		if got := listed(e.page(t, first)); got != shown[0] {
			t.Errorf("first page: rows %q, want %q", got, shown[0])
		}
		// Next then previous, on the first pages: the same rows.
		body = e.page(t, nextLink(e.page(t, first)))
		if got := listed(e.page(t, prevLink(body))); got != shown[0] {
			t.Errorf("next then previous: rows %q, want %q", got, shown[0])
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
		records := func(body string) string { return fmt.Sprint(recordRe.FindAllString(body, -1)) }
		first := e.page(t, "results?limit=1&status=failed")
		second := e.page(t, nextLink(first))
		if back := e.page(t, prevLink(second)); records(back) != records(first) || records(first) == records(second) {
			t.Errorf("results: next then previous shows %s, want %s as before (the second page: %s)",
				records(back), records(first), records(second))
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

// seedFailed puts on queue "bad" the tasks of "email" fail-1 and fail-2,
// failed for good, and fine-1, succeeded, all ended by a worker "w-bad";
// it returns the failed ones' payloads by ID.
func (e *env) seedFailed(t *testing.T) map[string]string {
	t.Helper()
	ctx := t.Context()
	c := worker.NewClient(e.b.q, nil)
	email := task.New("email", func(ctx context.Context, to string) (string, error) { return "", nil })
	for _, id := range []string{"fail-1", "fail-2", "fine-1"} {
		if _, err := worker.Enqueue(ctx, c, email, id+"@example.com", worker.ID(id), worker.OnQueue("bad")); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := e.b.q.Take(ctx, "bad", "w-bad", 3, 0)
	if err != nil || len(ds) != 3 {
		t.Fatalf("took %d tasks, %v; want 3", len(ds), err)
	}
	payloads := map[string]string{}
	for _, d := range ds {
		o := queue.Outcome{Status: queue.Failed, Attempt: d.Attempt, Kind: "test.bounced", Error: "mailbox full"}
		if d.ID == "fine-1" {
			o = queue.Outcome{Status: queue.Succeeded, Attempt: d.Attempt}
		} else {
			payloads[d.ID] = string(d.Payload)
		}
		if err := e.b.q.Finish(ctx, d, o); err != nil {
			t.Fatal(err)
		}
	}
	return payloads
}

// Failed and dead tasks selected in a listing are retried together, after
// a confirmation that lists them: each becomes a new ready task of the
// same name and arguments, from attempt 1. Only failed and dead rows can
// be selected for it.
func TestBulkRetry(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		payloads := e.seedFailed(t)
		body := e.page(t, "tasks?queue=bad&state=finished")
		for _, id := range []string{"fail-1", "fail-2"} {
			if !strings.Contains(body, `data-testid="select-`+id+`"`) {
				t.Errorf("the finished listing offers no box to select %s", id)
			}
		}
		if !strings.Contains(body, `data-testid="bulk-retry"`) || strings.Contains(body, `data-testid="select-fine-1"`) ||
			strings.Contains(body, `data-testid="bulk-requeue"`) {
			t.Errorf("the finished listing offers a retry of the succeeded fine-1, none at all, or a requeue:\n%s", body)
		}
		body = e.page(t, "tasks?queue=bad&state=finished&status=succeeded")
		if strings.Contains(body, `data-testid="bulk-retry"`) || strings.Contains(body, `data-select-all="bulk"`) {
			t.Error("a listing of succeeded tasks alone offers a bulk retry")
		}
		if !strings.Contains(e.page(t, "tasks?queue=side&state=dead"), `data-testid="bulk-retry"`) {
			t.Error("the dead listing offers no bulk retry")
		}
		if strings.Contains(e.page(t, "tasks?queue=default&state=ready"), `data-testid="bulk-retry"`) {
			t.Error("the ready listing offers a bulk retry")
		}

		body = e.page(t, "confirm?do=retry&queue=bad&state=finished&id=fail-1&id=fail-2&id=fine-1")
		if !strings.Contains(body, "Retry 3 tasks of queue bad") || !strings.Contains(body, "<dd>fail-2</dd>") ||
			!strings.Contains(body, `href="tasks?queue=bad&amp;state=finished"`) {
			t.Fatalf("the retry confirmation does not list the tasks, or leads back elsewhere:\n%s", body)
		}
		// fine-1 (succeeded) and a task that is not there are counted, not retried.
		loc := e.act(t, "retry", url.Values{"queue": {"bad"}, "id": {"fail-1", "fail-2", "fine-1", "gone-1"}})
		if !strings.HasPrefix(loc, "tasks?notice=") || !strings.Contains(loc, "state=ready") {
			t.Errorf("bulk retry went to %q", loc)
		}
		wantCell(t, e.page(t, loc), "", "notice",
			"Retried 2 tasks of queue bad: each enqueued again as a new task, from attempt 1. "+
				"2 were not: they are gone, no longer failed or dead, or their arguments are not kept.")
		e.wantRetried(t, "bad", "email "+payloads["fail-1"], "email "+payloads["fail-2"])
		for _, id := range []string{"fail-1", "fail-2"} { // the old tasks stay as they were
			if st, err := e.b.q.State(ctx, "bad", id); err != nil || st.Status != queue.Failed {
				t.Errorf("%s after the retry: %+v, %v; want it failed still", id, st, err)
			}
		}

		// The dead letters of "side", from their listing.
		dls, err := e.b.q.DeadLetters(ctx, "side", 10)
		if err != nil || len(dls) != 2 {
			t.Fatalf("dead letters of side: %+v, %v; want 2", dls, err)
		}
		reads := &deadReads{Queue: e.h.src.Queue}
		e.h.src.Queue = reads
		loc = e.act(t, "retry", url.Values{"queue": {"side"}, "id": {"ghost-1", "evil-1"}})
		e.h.src.Queue = reads.Queue
		if n := reads.n.Load(); n != 1 {
			t.Errorf("a bulk retry of 2 dead letters read the dead letters %d times, want once", n)
		}
		wantCell(t, e.page(t, loc), "", "notice", "Retried 2 tasks of queue side: each enqueued again as a new task, from attempt 1.")
		e.wantRetried(t, "side", dls[0].Task+" "+string(dls[0].Payload), dls[1].Task+" "+string(dls[1].Payload))

		for _, form := range []url.Values{{"queue": {"bad"}}, {"queue": {"bad"}, "id": {"fail-1", ""}}} {
			form.Set("csrf", e.token(t, ""))
			if code, _ := e.post(t, "retry", form); code != http.StatusBadRequest {
				t.Errorf("POST retry %v: %d, want 400", form, code)
			}
		}
	})
}

// wantRetried checks that queue name's ready tasks are exactly one new
// task for each of want ("<task name> <payload>"), each at attempt 1.
func (e *env) wantRetried(t *testing.T, name string, want ...string) {
	t.Helper()
	ctx := t.Context()
	page, err := e.b.q.ListTasks(ctx, name, queue.TaskQuery{Set: queue.ReadyTasks, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ti := range page.Tasks {
		m, err := e.b.q.Message(ctx, name, ti.ID)
		if err != nil {
			t.Fatalf("the message of retried task %s: %v", ti.ID, err)
		}
		if m.Attempt != 1 {
			t.Errorf("retried task %s (%s) is at attempt %d, want 1", ti.ID, m.Task, m.Attempt)
		}
		got = append(got, m.Task+" "+string(m.Payload))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ready tasks of %s after the retry: %q, want %q", name, got, want)
	}
}

// deadReads counts the calls of DeadLetters.
type deadReads struct {
	queue.Queue
	n atomic.Int32
}

func (d *deadReads) DeadLetters(ctx context.Context, name string, n int) ([]queue.DeadLetter, error) {
	d.n.Add(1)
	return d.Queue.DeadLetters(ctx, name, n)
}
