package bench

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want Summary
		text string
	}{
		{"empty", nil, Summary{}, "n/a"},
		{"one", []float64{3}, Summary{1, 3, 3, 3}, "3.00"},
		{"odd count", []float64{5, 1, 4, 2, 3}, Summary{5, 3, 1, 5}, "3.00 (1.00–5.00)"},
		{"even count: mean of the middle two", []float64{4, 1, 10, 2}, Summary{4, 3, 1, 10}, "3.00 (1.00–10.00)"},
		{"ties", []float64{2, 2, 2}, Summary{3, 2, 2, 2}, "2.00 (2.00–2.00)"},
		{"negatives", []float64{-1, -3, 0.5}, Summary{3, -1, -3, 0.5}, "-1.00 (-3.00–0.50)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.xs)
			got := Summarize(in)
			if got != tt.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tt.xs, got, tt.want)
			}
			if !slices.Equal(in, tt.xs) {
				t.Errorf("Summarize reordered its argument: %v, was %v", in, tt.xs)
			}
			if s := got.Text("%.2f"); s != tt.text {
				t.Errorf("Text = %q, want %q", s, tt.text)
			}
		})
	}
	if s := Summarize([]float64{1, math.NaN(), 3}); s.N != 3 || !math.IsNaN(s.Median) || !math.IsNaN(s.Min) || !math.IsNaN(s.Max) {
		t.Errorf("Summarize with a NaN = %+v, want NaNs", s)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		ds := make([]time.Duration, len(xs))
		for i, x := range xs {
			ds[i] = time.Duration(x) * time.Millisecond
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, reversed
	}
	tests := []struct {
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 100, 100 * time.Millisecond},
		{ms(hundred...), 0.1, time.Millisecond},
		{ms(3, 1, 2, 4), 50, 2 * time.Millisecond},
		{ms(3, 1, 2, 4), 51, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(slices.Clone(tt.ds), tt.p); got != tt.want {
			t.Errorf("Percentile(%d values, %v) = %v, want %v", len(tt.ds), tt.p, got, tt.want)
		}
	}
}
