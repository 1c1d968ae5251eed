package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy doubles a pause from Min up to Max.
type Policy struct {
	Min, Max time.Duration
}

// Delay returns the pause before try n (0 for the first pause): Min doubled
// n times, at most Max, without jitter.
func (p Policy) Delay(n int) time.Duration {
	d := p.Min
	for range min(max(n, 0), 62) {
		if d >= p.Max/2 {
			return p.Max
		}
		d *= 2
	}
	return min(d, p.Max)
}

// Jittered is Delay(n) less up to half of it, at random.
func (p Policy) Jittered(n int) time.Duration { return Jitter(p.Delay(n)) }

// Jitter returns d less up to half of it, at random.
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits d, or until ctx ends; then it returns context.Cause(ctx).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Backoff counts tries under a Policy, for a loop that retries until it
// succeeds. The zero value is not usable: make it with New.
type Backoff struct {
	Policy
	n int
}

// New returns a Backoff at its first try.
func New(min, max time.Duration) *Backoff { return &Backoff{Policy: Policy{Min: min, Max: max}} }

// Next returns the next pause, jittered, and counts a try.
func (b *Backoff) Next() time.Duration {
	d := b.Jittered(b.n)
	b.n++
	return d
}

// Reset starts over from Min.
func (b *Backoff) Reset() { b.n = 0 }
