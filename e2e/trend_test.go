package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/web"
)

// TestTrend drives the overview's chart window and its live bars, the
// schedules page and the Redis page in Chromium, on a seeded Redis.
func TestTrend(t *testing.T) {
	b := newBackend(t)
	seed(t, b)
	base := serve(t, b, web.Refresh(200*time.Millisecond))
	br := newBrowser(t)
	ctx := context.Background()
	q := b.Queue()

	t.Run("window", func(t *testing.T) {
		br := br.in(t)
		br.open(base)
		br.clickAndLoad("window-24h")
		p := br.read()
		checkClean(t, base, p)
		if !strings.Contains(p.URL, "window=24h") || !strings.Contains(p.Text, "Outcomes over the last 24 h") {
			t.Fatalf("after the 24 h link: %s, %q", p.URL, p.Text[:min(len(p.Text), 200)])
		}
		var current string
		br.eval("the current window", `document.querySelector('[data-testid=windows] [aria-current]').textContent`, &current)
		if current != "24 h" {
			t.Errorf("the switch marks %q, want 24 h", current)
		}
		br.screenshot("overview-24h.png")

		// A task that succeeds now grows a bar without a reload, with its
		// count in its hover text.
		chart := `svg[data-chart="succeeded"][data-queue="` + mailQueue + `"]`
		var before int
		br.eval("the bars", `document.querySelectorAll('`+chart+` rect').length`, &before)
		if err := q.Enqueue(ctx, &queue.Message{ID: "trend-1", Task: "send-email", Queue: mailQueue}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		ds, err := q.Take(ctx, mailQueue, "trend-worker", 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if err := q.Finish(ctx, d, queue.Outcome{Status: queue.Succeeded, Attempt: d.Attempt}); err != nil {
				t.Fatal(err)
			}
		}
		var title string
		eventually(t, "a bar of the last quarter hour shows the success", func() (bool, error) {
			br.eval("the last bar's title", `(() => { const r = [...document.querySelectorAll('`+chart+` rect')].pop();
				return r ? r.querySelector('title').textContent : ''; })()`, &title)
			return strings.Contains(title, mailQueue+", ") && strings.Contains(title, " UTC: ") &&
				!strings.HasSuffix(title, ": 0"), fmt.Errorf("the last bar says %q", title)
		})
	})

	t.Run("schedules", func(t *testing.T) {
		br := br.in(t)
		err := q.PublishSchedules(ctx, "e2e-host", []queue.ScheduleEntry{{Name: "nightly", Spec: "0 3 * * *", Task: "report",
			Queue: reportQueue, Next: time.Now().Add(3 * time.Hour), Last: time.Now().Add(-21 * time.Hour), LastStatus: "enqueued",
			Missed: 1, Published: time.Now()}}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		br.open(base)
		br.clickAndLoad("nav-schedules")
		p := br.read()
		checkClean(t, base, p)
		p.wantIn(t, "schedule-nightly", "spec", "0 3 * * *")
		p.wantIn(t, "schedule-nightly", "queue", reportQueue)
		p.wantIn(t, "schedule-nightly", "missed", "1")
		p.wantIn(t, "schedule-nightly", "scheduler", "e2e-host")
	})

	t.Run("redis", func(t *testing.T) {
		br := br.in(t)
		br.open(base)
		br.clickAndLoad("nav-redis")
		p := br.read()
		checkClean(t, base, p)
		if p.IDs["version"] == "" || !strings.Contains(p.IDs["used-memory"], "iB") {
			t.Errorf("the Redis page shows version %q, memory %q", p.IDs["version"], p.IDs["used-memory"])
		}
		si, err := q.ServerInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p.wantIn(t, "kind-dead", "count", itoa(si.Keys["dead"]))
		if si.Keys["stream"] < 2 {
			t.Errorf("Redis holds %d streams under the prefix, want the seeded queues'", si.Keys["stream"])
		}
	})
}
