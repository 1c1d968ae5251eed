package lock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// pinLocker grants every lock; its refreshes never end, so only the clock
// can tell a Hold that its lease's validity is over.
type pinLocker struct{ Locker }

func (pinLocker) TryAcquire(_ context.Context, key string, ttl time.Duration) (*Lease, error) {
	return &Lease{Key: key, Token: "t", Fence: 1, AcquiredAt: time.Now()}, nil
}

func (pinLocker) Release(context.Context, *Lease) error { return nil }

// A Hold whose validity has ended says so at once, through Err, though
// its renewer has not woken yet: a late timer never makes a lost lease
// look held.
func TestHoldErrReadsTheClock(t *testing.T) {
	g, err := NewGuard(pinLocker{}, TTL(time.Hour), NoRenewal())
	if err != nil {
		t.Fatal(err)
	}
	h, err := g.Hold(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.Release(context.Background()) }()
	if err := h.Err(); err != nil {
		t.Fatalf("a fresh hold: Err = %v", err)
	}
	h.mu.Lock()
	h.sent = time.Now().Add(-g.validity) // as if the renewer slept through the end
	h.mu.Unlock()
	if err := h.Err(); !errors.Is(err, context.Canceled) || !errors.Is(context.Cause(h), ErrLeaseLost) {
		t.Fatalf("past its validity: Err = %v, cause %v; want canceled, with ErrLeaseLost", err, context.Cause(h))
	}
	select {
	case <-h.Done():
	default:
		t.Fatal("past its validity, Err said so but Done is open")
	}
	if !errors.Is(h.Outcome(nil), ErrLeaseLost) {
		t.Fatalf("Outcome = %v, want ErrLeaseLost", h.Outcome(nil))
	}
}
