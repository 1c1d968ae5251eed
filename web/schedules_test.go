package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/memorybackend"
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

// storedDefs returns the stored entries by name.
func storedDefs(t *testing.T, e *env) map[string]queue.ScheduleDef {
	t.Helper()
	defs, _, err := e.src.Queue.ScheduleDefs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]queue.ScheduleDef{}
	for _, d := range defs {
		m[d.Name] = d
	}
	return m
}

// The schedules page lists the stored entries, their arguments as text
// and their next tick, with Pause, Resume and Remove through a confirm
// page, each changing the backend and saying so in a signed notice; a
// POST without the form's token, or from another site, changes nothing.
func TestStoredSchedulesPage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		q := e.src.Queue
		for _, d := range []queue.ScheduleDef{
			{Name: "nightly", Spec: "every 1h", Task: "report", Queue: "reports", Args: []byte(`{"to":"` + xss + `"}`)},
			{Name: "weekly", Spec: "0 6 * * mon", Task: "digest", Queue: "default", Paused: true},
		} {
			if err := q.PutSchedule(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		body := e.page(t, "schedules")
		if strings.Contains(body, xss) {
			t.Fatal("the page shows an entry's arguments unescaped")
		}
		wantCell(t, body, "stored-nightly", "spec", "every 1h")
		wantCell(t, body, "stored-nightly", "task", "report")
		wantCell(t, body, "stored-nightly", "queue", "reports")
		wantCell(t, body, "stored-nightly", "args", "{\n  \"to\": \""+xss+"\"\n}") // the text, escaped in the page
		wantCell(t, body, "stored-nightly", "state", "running")
		if next := cell(t, body, "stored-nightly", "next"); !strings.HasPrefix(next, "in ") {
			t.Errorf("nightly's next tick %q, want in under an hour", next)
		}
		wantCell(t, body, "stored-weekly", "state", "paused")
		wantCell(t, body, "stored-weekly", "next", "-")
		if regexpHref(body, "resume-weekly") == "" || regexpHref(body, "pause-nightly") == "" || regexpHref(body, "pause-weekly") != "" {
			t.Errorf("a paused entry offers Resume, a running one Pause:\n%s", body)
		}
		var d schedulesData
		e.api(t, "schedules", &d)
		if len(d.Stored) != 2 || d.Stored[0].Name != "nightly" || d.Stored[0].NextFrom != "spec" || !d.Stored[1].Paused ||
			d.Live["stored/weekly/next"] != "-" {
			t.Fatalf("api/schedules: stored %+v, live %v", d.Stored, d.Live)
		}

		token := e.cookieToken(t)
		for _, tc := range []struct {
			name   string
			form   url.Values
			header []string
		}{
			{"no token", url.Values{"name": {"nightly"}}, nil},
			{"bad token", url.Values{"name": {"nightly"}, "csrf": {"AAAA" + token[4:]}}, nil},
			{"another site", url.Values{"name": {"nightly"}, "csrf": {token}}, []string{"Origin", "https://evil.example"}},
		} {
			for _, path := range []string{"pause-schedule", "resume-schedule", "remove-schedule"} {
				if code, _ := e.post(t, path, tc.form, tc.header...); code != http.StatusForbidden {
					t.Errorf("%s %s: %d, want 403", tc.name, path, code)
				}
			}
		}
		if defs := storedDefs(t, e); len(defs) != 2 || defs["nightly"].Paused {
			t.Fatalf("a refused POST changed the stored entries: %+v", defs)
		}
		if code, _ := e.get(t, "pause-schedule?name=nightly"); code != http.StatusMethodNotAllowed {
			t.Errorf("GET pause-schedule: %d, want 405", code)
		}

		loc := e.confirmAndPost(t, "schedules", "pause-nightly")
		wantCell(t, e.page(t, loc), "", "notice", "Paused schedule nightly: the schedulers enqueue none of its ticks until it is resumed.")
		if !storedDefs(t, e)["nightly"].Paused {
			t.Fatal("Pause left nightly running")
		}
		resumed := time.Now()
		loc = e.confirmAndPost(t, "schedules", "resume-weekly")
		wantCell(t, e.page(t, loc), "", "notice", "Resumed schedule weekly: it ticks again from its next tick.")
		if w := storedDefs(t, e)["weekly"]; w.Paused || w.Since.Before(resumed.Add(-time.Second)) {
			t.Fatalf("after Resume: %+v, want running since the resume", w)
		}
		confirm := e.page(t, regexpHref(e.page(t, "schedules"), "remove-weekly"))
		if !strings.Contains(confirm, "Remove schedule weekly?") || !strings.Contains(confirm, "0 6 * * mon") {
			t.Errorf("the remove confirmation does not say what it removes:\n%s", confirm)
		}
		loc = e.confirmAndPost(t, "schedules", "remove-weekly")
		wantCell(t, e.page(t, loc), "", "notice", "Removed schedule weekly.")
		if defs := storedDefs(t, e); len(defs) != 1 || defs["nightly"].Name == "" {
			t.Fatalf("after Remove: %+v, want nightly alone", defs)
		}
		// Gone: the confirm page offers nothing, a POST finds nothing.
		if body := e.page(t, "confirm?do=remove-schedule&name=weekly"); strings.Contains(body, `data-testid="confirm"`) {
			t.Errorf("the confirm page offers to remove a removed entry:\n%s", body)
		}
		if code, _ := e.post(t, "remove-schedule", url.Values{"name": {"weekly"}, "csrf": {e.cookieToken(t)}}); code != http.StatusNotFound {
			t.Errorf("remove a removed entry: %d, want 404", code)
		}
	})
}

// Read-only, the schedules page offers no action on the stored entries,
// and their actions are refused.
func TestStoredSchedulesReadOnly(t *testing.T) {
	e := newEnv(t, "memory", ReadOnly())
	if err := e.src.Queue.PutSchedule(t.Context(), queue.ScheduleDef{Name: "nightly", Spec: "every 1h", Task: "report", Queue: "default"}); err != nil {
		t.Fatal(err)
	}
	body := e.page(t, "schedules")
	wantCell(t, body, "stored-nightly", "state", "running")
	if strings.Contains(body, "confirm?do=") {
		t.Errorf("read-only: the page offers actions:\n%s", body)
	}
	token := e.cookieToken(t)
	for _, path := range []string{"pause-schedule", "resume-schedule", "remove-schedule"} {
		if code, _ := e.post(t, path, url.Values{"name": {"nightly"}, "csrf": {token}}); code != http.StatusForbidden {
			t.Errorf("POST %s in read-only mode: %d, want 403", path, code)
		}
	}
	if defs := storedDefs(t, e); defs["nightly"].Paused || len(defs) != 1 {
		t.Errorf("read-only changed the stored entries: %+v", defs)
	}
}

// noStoredSchedules is a queue that stores no schedule entries, as a
// third-party backend may be.
type noStoredSchedules struct{ queue.Queue }

func (noStoredSchedules) ScheduleDefs(context.Context) ([]queue.ScheduleDef, int64, error) {
	return nil, 0, queue.ErrNotSupported
}

// On a backend that stores no schedule entries, the schedules page says
// so and still lists what the schedulers publish.
func TestStoredSchedulesNotSupported(t *testing.T) {
	mb := memorybackend.New()
	if err := mb.Queue().PublishSchedules(t.Context(), "host-1", []queue.ScheduleEntry{{Name: "report", Spec: "every 1h",
		Task: "email", Queue: "default"}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	e := &env{}
	e.serve(t, New(Source{Queue: noStoredSchedules{mb.Queue()}}))
	body := e.page(t, "schedules")
	if !strings.Contains(body, `data-testid="no-stored-support"`) {
		t.Errorf("the page does not say the backend stores no entries:\n%s", body)
	}
	wantCell(t, body, "schedule-report", "scheduler", "host-1")
	if code, _ := e.get(t, "confirm?do=pause-schedule&name=report"); code != http.StatusNotImplemented {
		t.Errorf("confirm of a stored entry's action: %d, want 501", code)
	}
}
