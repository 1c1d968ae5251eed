package task_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/taskware/taskware/task"
)

// reports records what a run reported.
type reports struct{ got []string }

func (r *reports) Report(done, total int64, msg string) {
	r.got = append(r.got, strings.Join([]string{itoa(done), itoa(total), msg}, " "))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Progress reaches the run's reporter through whatever wraps its context;
// bad input is refused and reaches nothing.
func TestProgressReachesReporter(t *testing.T) {
	r := &reports{}
	inv := &task.Invocation{ID: "p1", Reporter: r}
	ctx, cancel := context.WithCancel(task.WithInvocation(context.Background(), inv))
	defer cancel()
	tests := []struct {
		done, total int64
		msg         string
		bad         bool
	}{
		{0, 0, "", false},
		{3, 0, "unknown total", false},
		{40, 100, "indexing", false},
		{100, 100, "done", false},
		{-1, 10, "negative done", true},
		{1, -10, "negative total", true},
		{11, 10, "beyond total", true},
	}
	var want []string
	for _, tt := range tests {
		err := task.Progress(ctx, tt.done, tt.total, tt.msg)
		if tt.bad != (err != nil) {
			t.Fatalf("Progress(%d, %d, %q) = %v, bad input is %v", tt.done, tt.total, tt.msg, err, tt.bad)
		}
		if tt.bad {
			if !errors.Is(err, task.ErrBadProgress) {
				t.Fatalf("Progress(%d, %d) = %v, want ErrBadProgress", tt.done, tt.total, err)
			}
			continue
		}
		want = append(want, itoa(tt.done)+" "+itoa(tt.total)+" "+tt.msg)
	}
	if strings.Join(r.got, "|") != strings.Join(want, "|") {
		t.Fatalf("reported %q, want %q", r.got, want)
	}
}

// A message too long is cut to the cap, on a character's boundary.
func TestProgressMessageCapped(t *testing.T) {
	r := &reports{}
	ctx := task.WithInvocation(context.Background(), &task.Invocation{Reporter: r})
	long := "a" + strings.Repeat("é", task.MaxProgressMessage) // 2-byte runes, odd start
	if err := task.Progress(ctx, 1, 2, long); err != nil {
		t.Fatal(err)
	}
	msg := strings.TrimPrefix(r.got[0], "1 2 ")
	if len(msg) > task.MaxProgressMessage || len(msg) < task.MaxProgressMessage-1 || !utf8.ValidString(msg) || !strings.HasPrefix(long, msg) {
		t.Fatalf("message of %d bytes, valid %v: want a prefix of at most %d bytes", len(msg), utf8.ValidString(msg), task.MaxProgressMessage)
	}
	if got := task.CapProgressMessage("short"); got != "short" {
		t.Fatalf("CapProgressMessage(short) = %q", got)
	}
}

// Without a run, or a run without a reporter, Progress does nothing, and
// allocates nothing.
func TestProgressWithoutReporter(t *testing.T) {
	for name, ctx := range map[string]context.Context{
		"no run":      context.Background(),
		"no reporter": task.WithInvocation(context.Background(), &task.Invocation{ID: "x"}),
	} {
		if err := task.Progress(ctx, 1, 2, "m"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := testing.AllocsPerRun(1000, func() { _ = task.Progress(ctx, 1, 2, "m") }); n != 0 {
			t.Fatalf("%s: Progress allocates %v, want 0", name, n)
		}
	}
}

// BenchmarkProgressUnused is a report with nobody to take it (a run in
// process): 0 allocs/op.
func BenchmarkProgressUnused(b *testing.B) {
	ctx := task.WithInvocation(context.Background(), &task.Invocation{ID: "x"})
	b.ReportAllocs()
	for b.Loop() {
		_ = task.Progress(ctx, 1, 2, "m")
	}
}
