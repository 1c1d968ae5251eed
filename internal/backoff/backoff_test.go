package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelayDoublesUpToMax(t *testing.T) {
	p := Policy{Min: 10 * time.Millisecond, Max: 75 * time.Millisecond}
	want := []time.Duration{10, 20, 40, 75, 75}
	for n, w := range want {
		if got := p.Delay(n); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", n, got, w*time.Millisecond)
		}
	}
	if got := p.Delay(1 << 30); got != p.Max {
		t.Errorf("Delay(huge) = %v, want Max", got)
	}
}

func TestJitterStaysInUpperHalf(t *testing.T) {
	for range 1000 {
		if d := Jitter(100); d < 50 || d > 100 {
			t.Fatalf("Jitter(100) = %d", d)
		}
	}
	b := New(time.Millisecond, 4*time.Millisecond)
	for i, hi := range []time.Duration{1, 2, 4, 4} {
		if d := b.Next(); d < hi*time.Millisecond/2 || d > hi*time.Millisecond {
			t.Fatalf("pause %d = %v, want in [%v, %v]", i, d, hi*time.Millisecond/2, hi*time.Millisecond)
		}
	}
	b.Reset()
	if d := b.Next(); d > time.Millisecond {
		t.Fatalf("after Reset: %v", d)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	cause := errors.New("stop")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, cause) || time.Since(start) > time.Second {
		t.Fatalf("Sleep on an ended ctx: %v after %v", err, time.Since(start))
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
