package memorybackend_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"
)

// What the memory queue does beyond the contract (which TestConformance
// checks): how a waiting Take ends, and its dead-letter cap.

func enqueue(t *testing.T, q *memorybackend.Queue, name, id string) {
	t.Helper()
	if err := q.Enqueue(t.Context(), &queue.Message{ID: id, Task: "email", Queue: name}, time.Time{}); err != nil {
		t.Fatalf("Enqueue(%q): %v", id, err)
	}
}

// A waiting Take returns the cause of its context's end, and an ended
// context takes nothing.
func TestTakeContext(t *testing.T) {
	q := memorybackend.New().Queue()
	cause := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := q.Take(ctx, "q", "c1", 1, time.Minute)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel(cause)
	select {
	case err := <-done:
		if !errors.Is(err, cause) {
			t.Fatalf("Take after cancel: %v, want the cause", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Take did not return within 5s of its context ending")
	}
	enqueue(t, q, "q", "m")
	if ds, err := q.Take(ctx, "q", "c1", 1, 0); !errors.Is(err, cause) || ds != nil {
		t.Fatalf("Take with an ended context = %v, %v", ds, err)
	}
	if ds, err := q.Take(t.Context(), "q", "c1", 1, 0); err != nil || len(ds) != 1 || ds[0].ID != "m" {
		t.Fatalf("Take = %v, %v; want m", ds, err)
	}
}

// The memory queue keeps the newest dead letters of a queue,
// DefaultDeadLetterMax unless told otherwise.
func TestDeadLetterCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []memorybackend.Option
		max  int
	}{
		{"default", nil, queue.DefaultDeadLetterMax},
		{"DeadLetterMax", []memorybackend.Option{memorybackend.DeadLetterMax(3)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := memorybackend.New(tc.opts...).Queue()
			const extra = 5
			for i := range tc.max + extra {
				id := fmt.Sprint(i)
				enqueue(t, q, "cap", id)
				ds, err := q.Take(t.Context(), "cap", "c1", 1, 0)
				if err != nil || len(ds) != 1 {
					t.Fatalf("Take = %v, %v", ds, err)
				}
				if err := q.Finish(t.Context(), ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"}); err != nil {
					t.Fatal(err)
				}
			}
			dl, err := q.DeadLetters(t.Context(), "cap", tc.max+100)
			if err != nil || len(dl) != tc.max {
				t.Fatalf("DeadLetters = %d entries, %v; want %d", len(dl), err, tc.max)
			}
			if dl[0].ID != fmt.Sprint(extra) || dl[len(dl)-1].ID != fmt.Sprint(tc.max+extra-1) {
				t.Fatalf("DeadLetters run from %s to %s; want the newest", dl[0].ID, dl[len(dl)-1].ID)
			}
		})
	}
}

// A minute's counts are kept a day (queue.RatesKept), and dropped after.
func TestRatesKeptADay(t *testing.T) {
	now := time.Now()
	q := memorybackend.New(memorybackend.Clock(func() time.Time { return now })).Queue()
	enqueue(t, q, "q", "a")
	ds, err := q.Take(t.Context(), "q", "c1", 1, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Take = %v, %v", ds, err)
	}
	if err := q.Finish(t.Context(), ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	sum := func() int64 {
		rates, err := q.Rates(t.Context(), "q", now.Add(-queue.RatesKept))
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, r := range rates {
			n += r.Succeeded
		}
		return n
	}
	now = now.Add(queue.RatesKept - 2*time.Minute)
	if n := sum(); n != 1 {
		t.Fatalf("a day later, %d succeeded counted; want 1", n)
	}
	now = now.Add(2 * time.Hour)
	if n := sum(); n != 0 {
		t.Fatalf("a day and two hours later, %d succeeded counted; want 0", n)
	}
}
