package web

import (
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// The schedules page lists what the schedulers publish, each entry with
// its schedule, task, queue, ticks and missed ticks; and says so when
// none publishes.
func TestSchedulesPage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		body := e.page(t, "schedules")
		if !strings.Contains(body, `data-testid="no-schedules"`) || !strings.Contains(body, `aria-current="page" data-testid="nav-schedules"`) {
			t.Fatalf("no scheduler: the page does not say so, or is not marked in the navigation\n%s", body)
		}
		now := time.Now()
		err := e.b.q.PublishSchedules(t.Context(), "host-1", []queue.ScheduleEntry{{Name: "report" + xss, Spec: "0 3 * * *",
			Task: "email", Queue: "default", Next: now.Add(time.Hour), Last: now.Add(-23 * time.Hour), LastStatus: "enqueued",
			Missed: 3, Published: now}}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		body = e.page(t, "schedules")
		row := "schedule-report" + template.HTMLEscapeString(xss)
		wantCell(t, body, row, "spec", "0 3 * * *")
		wantCell(t, body, row, "task", "email")
		wantCell(t, body, row, "queue", "default")
		wantCell(t, body, row, "missed", "3")
		wantCell(t, body, row, "last-status", "enqueued")
		wantCell(t, body, row, "scheduler", "host-1")
		if got := cell(t, body, row, "next"); !strings.HasPrefix(got, "in 59m") && got != "in 1h0m" {
			t.Errorf("next tick %q, want in an hour", got)
		}
		if got := cell(t, body, row, "last"); got != "23h0m ago" {
			t.Errorf("last tick %q, want 23h ago", got)
		}
		var d schedulesData
		e.api(t, "schedules", &d)
		if len(d.Entries) != 1 || d.Entries[0].Missed != 3 || d.Entries[0].Scheduler != "host-1" {
			t.Errorf("api/schedules %+v", d.Entries)
		}
	})
}
