package everyspec

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		spec string
		want time.Duration
		ok   bool
	}{
		{"every 1h0m0s", time.Hour, true},
		{" every 90s ", 90 * time.Second, true},
		{"every 0s", 0, false},
		{"every -1s", 0, false},
		{"every soon", 0, false},
		{"0 6 * * mon", 0, false},
	} {
		d, err := Parse(c.spec)
		if (err == nil) != c.ok || d != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok %v", c.spec, d, err, c.want, c.ok)
		}
	}
	if !Is("every soon") || Is("@every 1s") {
		t.Error("Is tells an interval spec by its prefix only")
	}
}

func TestNext(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 17, 3, 0, time.UTC)
	for _, c := range []struct {
		d     time.Duration
		after time.Time
		want  time.Time
	}{
		{time.Hour, at, time.Date(2026, 12, 4, 11, 0, 0, 0, time.UTC)},
		{time.Hour, time.Date(2026, 12, 4, 11, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}, // strictly after
		{time.Second, time.Unix(-1, 500), time.Unix(0, 0)},                                                        // before the epoch: floor
	} {
		if got := Next(c.d, c.after); !got.Equal(c.want) {
			t.Errorf("Next(%v, %v) = %v, want %v", c.d, c.after, got, c.want)
		}
	}
}
