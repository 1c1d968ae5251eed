package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestFind drives the tasks listing in Chromium as an operator would: a
// search typed in the box, a filter, paging by the "next" link, then every
// dead letter of the page selected with "select all" and requeued through
// the confirmation, which lists them; Redis holds them ready afterwards.
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
