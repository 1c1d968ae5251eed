package rows

import (
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// A stored entry's next tick is the earliest its schedulers published for
// the same name, spec and task; else an every spec's, after now or its
// Since, whichever is later; none while paused, or for a cron spec no
// scheduler publishes.
func TestStoredSchedulesNext(t *testing.T) {
	now := time.Date(2026, 12, 4, 13, 20, 0, 0, time.UTC)
	soon, later := now.Add(10*time.Minute), now.Add(20*time.Minute)
	defs := []queue.ScheduleDef{
		{Name: "a", Spec: "every 1h", Task: "t"},
		{Name: "b", Spec: "every 1h", Task: "t", Since: now.Add(90 * time.Minute)},
		{Name: "c", Spec: "0 3 * * *", Task: "t"},
		{Name: "d", Spec: "0 3 * * *", Task: "t"},
		{Name: "e", Spec: "every 1h", Task: "t", Paused: true},
	}
	published := []queue.ScheduleEntry{
		{Name: "c", Spec: "0 3 * * *", Task: "t", Scheduler: "s1", Next: later},
		{Name: "c", Spec: "0 3 * * *", Task: "t", Scheduler: "s2", Next: soon},
		{Name: "d", Spec: "0 4 * * *", Task: "t", Scheduler: "s1", Next: soon}, // a code entry of that name
		{Name: "e", Spec: "every 1h", Task: "t", Scheduler: "s1", Next: soon},
	}
	want := map[string]struct {
		next time.Time
		from string
	}{
		"a": {now.Truncate(time.Hour).Add(time.Hour), "spec"},
		"b": {now.Truncate(time.Hour).Add(2 * time.Hour), "spec"},
		"c": {soon, "scheduler"},
		"d": {time.Time{}, ""},
		"e": {time.Time{}, ""},
	}
	for _, s := range StoredSchedulesOf(defs, published, now) {
		if w := want[s.Name]; !s.Next.Equal(w.next) || s.NextFrom != w.from {
			t.Errorf("%s: next %v from %q, want %v from %q", s.Name, s.Next, s.NextFrom, w.next, w.from)
		}
	}
}
