package taskcron_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the zones of the tests, whatever the machine has

	"github.com/taskware/taskware/queue"

	taskcron "github.com/taskware/taskware/contrib/cron"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

func TestParse(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// Friday 6 March 2026, 12:00 UTC; New York moves to summer time on
	// Sunday 8 March.
	from := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	utc := func(d, h, m, s int) string { return time.Date(2026, 3, d, h, m, s, 0, time.UTC).Format(time.RFC3339) }
	for _, tc := range []struct {
		expr string
		opts []taskcron.Option
		want []string // the next ticks after from, in UTC
	}{
		{"*/20 * * * *", nil, []string{utc(6, 12, 20, 0), utc(6, 12, 40, 0), utc(6, 13, 0, 0)}},
		{"0 3 * * *", nil, []string{utc(7, 3, 0, 0), utc(8, 3, 0, 0)}}, // UTC, not the local zone
		{"30 */20 * * * *", nil, []string{utc(6, 12, 0, 30), utc(6, 12, 20, 30)}},
		{"  15 0 12 * * fri  ", nil, []string{utc(6, 12, 0, 15), utc(13, 12, 0, 15)}},
		{"@hourly", nil, []string{utc(6, 13, 0, 0), utc(6, 14, 0, 0)}},
		{"@daily", nil, []string{utc(7, 0, 0, 0)}},
		{"@every 90s", nil, []string{utc(6, 12, 1, 30), utc(6, 12, 3, 0)}}, // multiples of 90 s since the epoch
		{"@every 1h", nil, []string{utc(6, 13, 0, 0)}},
		{"CRON_TZ=America/New_York 0 9 * * mon-fri", nil, []string{utc(6, 14, 0, 0), utc(9, 13, 0, 0), utc(10, 13, 0, 0)}},
		{"TZ=America/New_York 0 9 * * mon-fri", nil, []string{utc(6, 14, 0, 0), utc(9, 13, 0, 0)}},
		{"CRON_TZ=America/New_York   0 9 * * 1-5", nil, []string{utc(6, 14, 0, 0)}},
		{"0 9 * * mon-fri", []taskcron.Option{taskcron.In(newYork)}, []string{utc(6, 14, 0, 0), utc(9, 13, 0, 0)}},
		{"CRON_TZ=UTC 0 9 * * mon-fri", []taskcron.Option{taskcron.In(newYork)}, []string{utc(9, 9, 0, 0)}}, // the prefix wins
		{"CRON_TZ=America/New_York @every 1h", nil, []string{utc(6, 13, 0, 0)}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := taskcron.Parse(tc.expr, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			at := from
			for i, want := range tc.want {
				at = s.Next(at)
				if got := at.UTC().Format(time.RFC3339); got != want {
					t.Fatalf("tick %d: %s, want %s", i, got, want)
				}
			}
		})
	}
}

// "@every" gives every process the same ticks, whenever it started.
func TestEveryAligned(t *testing.T) {
	s := taskcron.MustParse("@every 10s")
	a := s.Next(time.Date(2026, 3, 6, 12, 0, 3, 0, time.UTC))
	b := s.Next(time.Date(2026, 3, 6, 12, 0, 7, 123, time.UTC))
	if !a.Equal(b) || a.Second() != 10 {
		t.Errorf("ticks %v and %v: want both 12:00:10", a, b)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ expr, says string }{
		{"", "empty spec"},
		{"* * * *", "expected 5 to 6 fields, found 4"},
		{"* * * * * * *", "expected 5 to 6 fields, found 7"},
		{"61 * * * *", "above maximum"},
		{"* * * * mon-xyz", "failed to parse"},
		{"*/0 * * * *", "step of range should be a positive number"},
		{"0 0 30 2 *", "never fires"},
		{"@fortnightly", "unrecognized descriptor"},
		{"@reboot", "unrecognized descriptor"},
		{"@every", "@every"},
		{"@every soon", "@every"},
		{"@every -5m", "at least 1s"},
		{"@every 500ms", "at least 1s"},
		{"@every 1.5s", "whole number of seconds"},
		{"CRON_TZ=UTC", "no schedule after the time zone"},
		{"CRON_TZ= 0 * * * *", "empty time zone"},
		{"CRON_TZ=Nowhere/Land 0 * * * *", `time zone "Nowhere/Land"`},
		{"TZ=Nowhere/Land @every 1m", `time zone "Nowhere/Land"`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := taskcron.Parse(tc.expr)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, task.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.says) ||
				!strings.Contains(err.Error(), fmt.Sprintf("%q", tc.expr)) {
				t.Errorf("error %q: want one matching task.ErrInvalidConfig, quoting the expression, saying %q", err, tc.says)
			}
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("MustParse panicked with %v", err)
				}
			}()
			taskcron.MustParse(tc.expr)
		})
	}
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("In(nil) panicked with %v", err)
		}
	}()
	taskcron.In(nil)
}

// A scheduler on a six-field expression enqueues a task each second, and
// a worker runs each.
func TestScheduler(t *testing.T) {
	b := taskwaretest.NewMemory(t)
	var mu sync.Mutex
	var ticks []schedule.Tick
	ran := make(map[string]bool)
	beat := task.New("beat", func(ctx context.Context, _ string) (int, error) { return 1, nil },
		func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				mu.Lock()
				ran[inv.ID] = true
				mu.Unlock()
				return next(ctx, inv)
			}
		})
	w := worker.New(b.Queue, worker.PollWait(100*time.Millisecond))
	worker.Register(w, beat)
	taskwaretest.StartWorker(t, w)
	client := worker.NewClient(b.Queue, b.Store)
	s := schedule.New(client, schedule.MissedTicks(schedule.Skip), schedule.OnTick(func(tk schedule.Tick) {
		mu.Lock()
		ticks = append(ticks, tk)
		mu.Unlock()
	}))
	schedule.Add(s, "beat", taskcron.MustParse("* * * * * *"), beat, "")
	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]schedule.Tick(nil), ticks...)
	mu.Unlock()
	// The ticks in (start-1s, start+3.5s]: Skip takes the one less than
	// SkipTolerance past at the start.
	if len(got) < 4 || len(got) > 5 {
		t.Fatalf("%d ticks in 3.5s, want 4 or 5: %v", len(got), got)
	}
	for i, tk := range got {
		if tk.Status != schedule.Enqueued || tk.At.Nanosecond() != 0 || (i > 0 && tk.At.Sub(got[i-1].At) != time.Second) {
			t.Errorf("tick %d: %s %v at %v", i, tk.ID, tk.Status, tk.At)
		}
		h := worker.HandleOf(client, beat, queue.Default, tk.ID)
		if _, err := taskwaretest.Get(h, 5*time.Second); err != nil {
			t.Errorf("tick %s: %v", tk.ID, err)
		}
		mu.Lock()
		if !ran[tk.ID] {
			t.Errorf("tick %s did not run", tk.ID)
		}
		mu.Unlock()
	}
}

// A scheduler with Parser as its SpecParser runs a stored entry's cron
// expression, at its tick.
func TestStoredCronEntry(t *testing.T) {
	b := taskwaretest.NewMemory(t)
	var mu sync.Mutex
	now := time.Date(2027, 11, 25, 2, 59, 59, 0, time.UTC) // after the put
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ticks := make(chan schedule.Tick, 10)
	report := task.New("report", func(ctx context.Context, day string) (int, error) { return 0, nil })
	if err := schedule.Put(t.Context(), b.Queue, "nightly", "CRON_TZ=Europe/Paris 0 4 * * *", report, "today"); err != nil {
		t.Fatal(err)
	}
	s := schedule.New(worker.NewClient(b.Queue, nil), schedule.Clock(clock), schedule.Stored(b.Queue),
		schedule.SpecParser(taskcron.Parser()), schedule.OnTick(func(tk schedule.Tick) { ticks <- tk }),
		schedule.OnError(func(err error) { t.Errorf("OnError: %v", err) }))
	taskwaretest.Start(t, s)
	time.Sleep(1500 * time.Millisecond) // loaded
	mu.Lock()
	now = now.Add(time.Second) // 04:00 in Paris
	mu.Unlock()
	select {
	case tk := <-ticks:
		if tk.Status != schedule.Enqueued || !tk.At.Equal(time.Date(2027, 11, 25, 3, 0, 0, 0, time.UTC)) {
			t.Fatalf("tick %s %v; want 03:00 UTC enqueued", tk.ID, tk.Status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no tick within 10s")
	}
}
