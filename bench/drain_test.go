package bench

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeQueue runs its tasks in process, on one goroutine, each once, except
// those listed in twice.
type fakeQueue struct {
	n     int
	twice map[int]bool
	wg    sync.WaitGroup
}

func (f *fakeQueue) Enqueue(_ context.Context, n int) error { f.n += n; return nil }

func (f *fakeQueue) EnqueueSerial(_ context.Context, from, to, _ int) error {
	if from != f.n {
		return errors.New("fakeQueue: arguments out of order")
	}
	f.n = to
	return nil
}

func (f *fakeQueue) Start(ran func(int)) (func() error, error) {
	f.wg.Go(func() {
		for i := range f.n {
			ran(i)
			if f.twice[i] {
				ran(i)
			}
		}
	})
	return func() error { f.wg.Wait(); return nil }, nil
}

func (f *fakeQueue) Close() error { return nil }

func TestDrain(t *testing.T) {
	ctx := context.Background()
	f := &fakeQueue{}
	f.Enqueue(ctx, 100)
	res, err := Drain(ctx, f, 100, Meter{})
	if err != nil || res.Tasks != 100 || res.Elapsed <= 0 {
		t.Fatalf("Drain = %+v, %v", res, err)
	}

	f = &fakeQueue{twice: map[int]bool{99: true}}
	f.Enqueue(ctx, 100)
	if _, err := Drain(ctx, f, 100, Meter{}); err == nil || !strings.Contains(err.Error(), "task 99 ran 2 times") {
		t.Errorf("a task run twice: err = %v", err)
	}

	f = &fakeQueue{}
	f.Enqueue(ctx, 99) // one short
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := Drain(tctx, f, 100, Meter{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a task never run: err = %v, want the deadline", err)
	}

	f = &fakeQueue{}
	f.Enqueue(ctx, 101) // one too many
	if _, err := Drain(ctx, f, 100, Meter{}); err == nil || !strings.Contains(err.Error(), "not enqueued") {
		t.Errorf("a task not enqueued: err = %v", err)
	}
}

func TestRoundOrder(t *testing.T) {
	want := [][]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 1, 2}}
	for round, w := range want {
		if got := RoundOrder(round, 3); !slices.Equal(got, w) {
			t.Errorf("RoundOrder(%d, 3) = %v, want %v", round, got, w)
		}
	}
	if got := RoundOrder(4, 0); len(got) != 0 {
		t.Errorf("RoundOrder(4, 0) = %v, want none", got)
	}
}

func TestDrainResult(t *testing.T) {
	r := DrainResult{Tasks: 300, Elapsed: 2 * time.Second, Trips: 600, Mallocs: 3000, RedisCPU: 15 * time.Millisecond}
	if r.PerSec() != 150 || r.TripsPerTask() != 2 || r.AllocsPerTask() != 10 || r.RedisMicrosPerTask() != 50 {
		t.Errorf("PerSec %v, TripsPerTask %v, AllocsPerTask %v, RedisMicrosPerTask %v",
			r.PerSec(), r.TripsPerTask(), r.AllocsPerTask(), r.RedisMicrosPerTask())
	}
	sum := r.Add(DrainResult{Tasks: 100, Elapsed: time.Second, Trips: 200, Mallocs: 500, RedisCPU: time.Millisecond})
	if sum != (DrainResult{Tasks: 400, Elapsed: 3 * time.Second, Trips: 800, Mallocs: 3500, RedisCPU: 16 * time.Millisecond}) {
		t.Errorf("Add = %+v", sum)
	}
}
