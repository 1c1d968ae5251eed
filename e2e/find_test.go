package e2e

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/taskware/taskware/queue"
)

// TestFind drives the tasks listing in Chromium as an operator would: a
// search typed in the box, a filter, paging by the "next" link and back by
// "previous", then every dead letter of the page selected with "select
// all", retried and then requeued through the confirmation, which lists
// them; Redis holds the new tasks of the retry, and the letters ready
// afterwards.
func TestFind(t *testing.T) {
	b := newBackend(t)
	s := seed(t, b)
	base := serve(t, b)
	br := newBrowser(t)
	q := b.Queue()
	c := s.queues[mailQueue]

	br.open(base + "tasks?queue=" + mailQueue + "&state=ready")
	run(br, "type a search", chromedp.SetValue(sel("search"), "READY-2"))
	br.clickAndLoad("find-submit")
	p := br.read()
	checkClean(t, base, p)
	p.want(t, "listed", "1")
	if _, ok := p.Within["task-ready-2"]; !ok {
		t.Errorf("%s: the search for READY-2 does not list ready-2 (the page has %s)", p.URL, describeIDs(p.idsWith("task-")))
	}
	if u, _ := url.Parse(p.URL); u.Query().Get("q") != "READY-2" {
		t.Errorf("%s: the search is not kept in the URL", p.URL)
	}

	// A page of one, then the next: another task, and a way back.
	br.open(base + "tasks?queue=" + mailQueue + "&state=ready&limit=1")
	first := br.read().idsWith("task-")
	br.clickAndLoad("page-next")
	p = br.read()
	second := p.idsWith("task-")
	if len(first) != 1 || len(second) != 1 || first[0] == second[0] {
		t.Errorf("paging by one: %q then %q, want two tasks", first, second)
	}
	if _, ok := p.IDs["page-first"]; !ok {
		t.Errorf("%s: no link to the first page", p.URL)
	}
	br.clickAndLoad("page-previous")
	p = br.read()
	if back := p.idsWith("task-"); len(back) != 1 || len(first) != 1 || back[0] != first[0] {
		t.Errorf("%s: next then previous lists %q, want %q as before", p.URL, back, first)
	}
	if u, _ := url.Parse(p.URL); u.Query().Get("limit") != "1" || u.Query().Get("state") != "ready" {
		t.Errorf("%s: the previous page does not keep the filters", p.URL)
	}

	// Both dead letters, filtered by kind, selected and retried: two new
	// tasks of the same names and arguments, at attempt 1; the letters stay.
	olds := map[string]queue.Message{}
	for _, id := range []string{xssID, poisonID} {
		olds[id] = deadMessage(t, q, mailQueue, id)
	}
	br.open(base + "tasks?queue=" + mailQueue + "&state=dead&kind=e2e.poisoned")
	run(br, "select all", chromedp.Click(sel("select-all")))
	br.clickAndLoad("bulk-retry")
	p = br.read()
	if !strings.Contains(p.IDs["question"], "Retry 2 tasks") || !strings.Contains(p.Text, xssID) || !strings.Contains(p.Text, poisonID) {
		t.Fatalf("%s: the retry confirmation does not list the selection: %q\n%s", p.URL, p.IDs["question"], p.Text)
	}
	br.clickAndLoad("confirm")
	p = br.read()
	checkClean(t, base, p)
	if want := "Retried 2 tasks of queue " + mailQueue; !strings.Contains(p.IDs["notice"], want) {
		t.Errorf("%s: notice %q, want %q", p.URL, p.IDs["notice"], want)
	}
	if u, _ := url.Parse(p.URL); !strings.HasSuffix(u.Path, "/tasks") || u.Query().Get("state") != "ready" {
		t.Errorf("after the bulk retry the browser is on %s, want the ready tasks", p.URL)
	}
	c.Ready += 2
	wantStats(t, q, mailQueue, c)
	ctx := context.Background()
	ready, err := q.ListTasks(ctx, mailQueue, queue.TaskQuery{Set: queue.ReadyTasks, Limit: 100})
	if err != nil {
		t.Fatalf("Redis: ready tasks: %v", err)
	}
	var retried []string
	for _, ti := range ready.Tasks {
		if strings.HasPrefix(ti.ID, "ready-") {
			continue // the seed's
		}
		m, err := q.Message(ctx, mailQueue, ti.ID)
		if err != nil {
			t.Fatalf("Redis: message of %s: %v", ti.ID, err)
		}
		st, err := q.State(ctx, mailQueue, ti.ID)
		if err != nil || st.Status != queue.Queued || st.Attempt != 1 || m.Attempt != 1 {
			t.Errorf("Redis: retried task %s: state %+v, %v, message attempt %d; want queued at attempt 1", ti.ID, st, err, m.Attempt)
		}
		retried = append(retried, m.Task+"("+string(m.Payload)+")")
	}
	want := []string{olds[xssID].Task + "(" + string(olds[xssID].Payload) + ")",
		olds[poisonID].Task + "(" + string(olds[poisonID].Payload) + ")"}
	slices.Sort(retried)
	slices.Sort(want)
	if !slices.Equal(retried, want) {
		t.Errorf("Redis: new ready tasks %q, want %q", retried, want)
	}

	// A filter by kind, then both dead letters selected and requeued.
	br.open(base + "tasks?queue=" + mailQueue + "&state=dead&kind=e2e.poisoned")
	p = br.read()
	p.want(t, "listed", "2")
	run(br, "select all", chromedp.Click(sel("select-all")))
	var checked int
	br.eval("count the boxes checked", `document.querySelectorAll('input[form="bulk"]:checked').length`, &checked)
	if checked != 2 {
		t.Fatalf("select all checked %d boxes, want 2", checked)
	}
	br.clickAndLoad("bulk-requeue")
	p = br.read()
	if !strings.Contains(p.IDs["question"], "2 dead letters") || !strings.Contains(p.Text, xssID) || !strings.Contains(p.Text, poisonID) {
		t.Fatalf("%s: the confirmation does not list the selection: %q\n%s", p.URL, p.IDs["question"], p.Text)
	}
	br.clickAndLoad("confirm")
	c.Ready += c.Dead
	c.Dead = 0
	wantStats(t, q, mailQueue, c)
	for _, id := range []string{xssID, poisonID} {
		st, err := q.State(context.Background(), mailQueue, id)
		if err != nil || st.Status != "queued" {
			t.Errorf("%s after the bulk requeue: %+v, %v; want queued", id, st, err)
		}
	}
}
