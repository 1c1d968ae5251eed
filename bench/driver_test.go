package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// memContender is an in-process Contender that fails if two goroutines ever
// hold one key at once, or if a key is released by a lease it does not own.
type memContender struct {
	mu     sync.Mutex
	held   map[string]int
	seq    int
	failAt int // Acquire fails on this call, if > 0
	calls  map[string]int
}

type memLease struct {
	key string
	id  int
}

func newMem() *memContender { return &memContender{held: map[string]int{}, calls: map[string]int{}} }

func (m *memContender) Acquire(_ context.Context, key string) (any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	m.calls[key]++
	if m.seq == m.failAt {
		return nil, errors.New("boom")
	}
	if _, ok := m.held[key]; ok {
		return nil, fmt.Errorf("%w: %s", ErrHeld, key)
	}
	m.held[key] = m.seq
	return memLease{key, m.seq}, nil
}

func (m *memContender) Release(_ context.Context, l any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ml := l.(memLease)
	if m.held[ml.key] != ml.id {
		return fmt.Errorf("%s not held by lease %d", ml.key, ml.id)
	}
	delete(m.held, ml.key)
	return nil
}

func (m *memContender) Close() error { return nil }

func TestDriveBudgetAndDistinctKeys(t *testing.T) {
	m := newMem()
	keys := Keys("p:", 32)
	n, err := Drive(context.Background(), m, keys, Budget(1000))
	if err != nil || n != 1000 {
		t.Fatalf("Drive = %d, %v; want 1000, nil", n, err)
	}
	// Every acquire is on one of the run's keys. That no two goroutines
	// share a key, memContender checks: a shared key would fail Drive with
	// ErrHeld. (How many of the 32 goroutines get a turn within the budget
	// is up to the scheduler.)
	total := 0
	for _, k := range keys {
		total += m.calls[k]
	}
	if total != 1000 || len(m.calls) > 32 {
		t.Errorf("acquires = %d on %d keys; want 1000 on at most 32", total, len(m.calls))
	}
}

func TestDriveStopsOnError(t *testing.T) {
	m := newMem()
	m.failAt = 50
	n, err := Drive(context.Background(), m, Keys("p:", 4), Budget(1_000_000))
	if err == nil || err.Error() != "boom" {
		t.Fatalf("err = %v, want boom", err)
	}
	if n >= 1_000_000 {
		t.Errorf("Drive went on after the error: %d pairs", n)
	}
}

func TestMeasure(t *testing.T) {
	res, err := Measure(context.Background(), newMem(), Keys("p:", 2), 20*time.Millisecond)
	if err != nil || res.Pairs == 0 || res.Elapsed < 20*time.Millisecond {
		t.Fatalf("Measure = %+v, %v", res, err)
	}
	if res.PerSec() <= 0 || res.AllocsPerPair() < 0 {
		t.Errorf("PerSec %v, AllocsPerPair %v", res.PerSec(), res.AllocsPerPair())
	}
}

func TestKeys(t *testing.T) {
	got := Keys("x:", 3)
	want := []string{"x:g0", "x:g1", "x:g2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
}

func TestResultAdd(t *testing.T) {
	a := Result{Pairs: 10, Elapsed: time.Second, Mallocs: 300}
	b := Result{Pairs: 30, Elapsed: 3 * time.Second, Mallocs: 100}
	got := a.Add(b)
	if got != (Result{Pairs: 40, Elapsed: 4 * time.Second, Mallocs: 400}) || got.PerSec() != 10 || got.AllocsPerPair() != 10 {
		t.Errorf("Add = %+v", got)
	}
}
