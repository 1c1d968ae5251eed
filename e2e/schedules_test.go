package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/taskware/taskware/queue"
)

// TestStoredSchedules drives the stored schedule entries of the
// schedules page in Chromium, on a seeded Redis: they are listed (an
// entry whose name and arguments are the payload, as text); Pause, Resume
// and Remove each go through their confirmation and change Redis, which
// the notice says; a form another site makes the browser post is refused
// and changes nothing.
func TestStoredSchedules(t *testing.T) {
	b := newBackend(t)
	seed(t, b)
	base := serve(t, b)
	br := newBrowser(t)
	ctx := context.Background()
	q := b.Queue()
	if err := q.PutSchedule(ctx, queue.ScheduleDef{Name: xss, Spec: "every 1h", Task: "send-email", Queue: mailQueue,
		Args: []byte(`{"to":"` + strings.ReplaceAll(xss, "/", `\/`) + `"}`)}); err != nil {
		t.Fatal(err)
	}
	stored := func(t *testing.T) map[string]queue.ScheduleDef {
		t.Helper()
		defs, _, err := q.ScheduleDefs(ctx)
		if err != nil {
			t.Fatalf("Redis: stored schedules: %v", err)
		}
		m := map[string]queue.ScheduleDef{}
		for _, d := range defs {
			m[d.Name] = d
		}
		return m
	}
	// act follows the link of data-testid link, confirms, and returns the
	// page it lands on.
	act := func(br *browser, t *testing.T, link, question string) *pageView {
		t.Helper()
		br.open(base + "schedules")
		br.clickAndLoad(link)
		p := br.read()
		checkClean(t, base, p)
		if !strings.Contains(p.IDs["question"], question) {
			t.Fatalf("%s: the confirmation asks %q, want %q", link, p.IDs["question"], question)
		}
		br.clickAndLoad("confirm")
		p = br.read()
		checkClean(t, base, p)
		return p
	}

	t.Run("listed", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "schedules")
		p := br.read()
		checkClean(t, base, p)
		if err := checkShownAsText(p, own(base)); err != nil {
			t.Error(err)
		}
		row := "stored-" + nightlySchedule
		p.wantIn(t, row, "spec", "every 24h")
		p.wantIn(t, row, "task", "render-report")
		p.wantIn(t, row, "queue", reportQueue)
		p.wantIn(t, row, "state", "running")
		if next := p.Within[row]["next"]; !strings.HasPrefix(next, "in ") {
			t.Errorf("%s: next tick %q, want the published one", row, next)
		}
		p.wantIn(t, "stored-"+weeklySchedule, "state", "paused")
		p.wantIn(t, "stored-"+weeklySchedule, "next", "-")
		p.wantIn(t, "stored-"+xss, "name", xss)
		p.wantIn(t, "schedule-"+nightlySchedule, "scheduler", "e2e-scheduler")
	})

	t.Run("pause", func(t *testing.T) {
		br := br.in(t)
		p := act(br, t, "pause-"+nightlySchedule, "Pause schedule "+nightlySchedule+"?")
		p.want(t, "notice", "Paused schedule "+nightlySchedule+": the schedulers enqueue none of its ticks until it is resumed.")
		p.wantIn(t, "stored-"+nightlySchedule, "state", "paused")
		if d := stored(t)[nightlySchedule]; !d.Paused {
			t.Errorf("Redis: %+v, want paused", d)
		}
	})

	t.Run("resume", func(t *testing.T) {
		br := br.in(t)
		p := act(br, t, "resume-"+weeklySchedule, "Resume schedule "+weeklySchedule+"?")
		p.want(t, "notice", "Resumed schedule "+weeklySchedule+": it ticks again from its next tick.")
		p.wantIn(t, "stored-"+weeklySchedule, "state", "running")
		if d := stored(t)[weeklySchedule]; d.Paused {
			t.Errorf("Redis: %+v, want running", d)
		}
	})

	t.Run("remove", func(t *testing.T) {
		br := br.in(t)
		p := act(br, t, "remove-"+weeklySchedule, "Remove schedule "+weeklySchedule+"?")
		p.want(t, "notice", "Removed schedule "+weeklySchedule+".")
		p.wantNone(t, "stored-"+weeklySchedule)
		if defs := stored(t); len(defs) != 2 || defs[weeklySchedule].Name != "" {
			t.Errorf("Redis: %+v, want the other two entries", defs)
		}
	})

	// Another site's page posts a form to the view: the browser sends the
	// view's cookie with it, but neither a token nor the view's Origin.
	t.Run("forged", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "schedules") // the view's CSRF cookie is set
		for _, token := range []string{"", "forged-token"} {
			evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><title>evil</title><form method="post" action="%sremove-schedule">
<input name="name" value="%s"><input name="csrf" value="%s"></form><script>document.forms[0].submit()</script>`,
					html.EscapeString(base), nightlySchedule, token)
			}))
			br.open(evil.URL)
			eventually(t, "the forged form is posted, and refused", func() (bool, error) {
				p := br.read()
				return strings.HasSuffix(p.URL, "remove-schedule") && strings.Contains(p.Text, "Refused"),
					fmt.Errorf("at %s: %.200q", p.URL, p.Text)
			})
			evil.Close()
			if _, ok := stored(t)[nightlySchedule]; !ok {
				t.Fatalf("a forged POST (token %q) removed the entry", token)
			}
		}
	})
}
