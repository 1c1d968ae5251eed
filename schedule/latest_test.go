package schedule

import (
	"testing"
	"time"
)

// counting counts the calls of its schedule's Next.
type counting struct {
	Schedule
	n int
}

func (c *counting) Next(after time.Time) time.Time { c.n++; return c.Schedule.Next(after) }

// burst ticks at seconds 0 to 9 of every minute: an irregular schedule.
type burst struct{}

func (burst) Next(after time.Time) time.Time {
	t := after.Truncate(time.Second).Add(time.Second)
	for t.Second() > 9 {
		t = t.Truncate(time.Minute).Add(time.Minute)
	}
	return t
}

// walk finds the latest tick of s in (after, now] one tick at a time.
func walk(s Schedule, after, now time.Time) time.Time {
	var last time.Time
	for t := s.Next(after); !t.IsZero() && !t.After(now); t = s.Next(t) {
		last = t
	}
	return last
}

func TestLatest(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		sched      Schedule
		after, now time.Time
		maxCalls   int
	}{
		{"one due", Every(time.Second), base, base.Add(1500 * time.Millisecond), 3},
		{"none due", Every(time.Minute), base, base.Add(30 * time.Second), 1},
		{"exactly at now", Every(time.Minute), base, base.Add(time.Minute), 3},
		{"a few", Every(time.Second), base, base.Add(3*time.Second + 1), 5},
		{"five", Every(time.Second), base, base.Add(5*time.Second + 1), 80},
		{"six", Every(time.Second), base, base.Add(6*time.Second + 1), 80},
		{"stall, 1ms ticks", Every(time.Millisecond), base, base.Add(10*time.Minute + 123456789), 80},
		{"stall, before the epoch", Every(7 * time.Second), time.Unix(-100000, 5), time.Unix(-3, 0), 80},
		{"irregular, stall", burst{}, base, base.Add(time.Hour + 30*time.Second), 80},
		{"irregular, in a gap", burst{}, base.Add(8 * time.Second), base.Add(59 * time.Second), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &counting{Schedule: tc.sched}
			got := latest(c, tc.after, tc.now)
			if want := walk(tc.sched, tc.after, tc.now); !got.Equal(want) {
				t.Errorf("latest = %v, want %v", got, want)
			}
			if c.n > tc.maxCalls {
				t.Errorf("latest called Next %d times, want at most %d", c.n, tc.maxCalls)
			}
		})
	}
}
