package humantime

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", -time.Second: "0s", 400 * time.Microsecond: "1ms", 1500 * time.Microsecond: "2ms",
		1234567 * time.Microsecond: "1.2s", 61*time.Second + 400*time.Millisecond: "1m1s", 90 * time.Second: "1m30s",
		time.Hour - time.Millisecond: "1h0m", 2*time.Hour + 40*time.Second: "2h1m", 25*time.Hour + 31*time.Second: "25h1m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
