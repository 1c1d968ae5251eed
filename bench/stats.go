package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Summary is the median, the least and the greatest of a sample: what the
// commands print of a figure measured in several rounds.
type Summary struct {
	N                int
	Median, Min, Max float64
}

// Summarize returns the Summary of xs, without reordering xs. The median of
// an even count is the mean of the two middle values. An empty xs gives
// the zero Summary (N 0), a NaN in xs a NaN median and spread.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	if slices.ContainsFunc(s, math.IsNaN) {
		return Summary{N: len(s), Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{N: n, Median: med, Min: s[0], Max: s[n-1]}
}

// Text prints the summary as "median (min–max)", each number with format
// (a verb such as "%.2f"): the median alone if there was one value, "n/a"
// if there was none.
func (s Summary) Text(format string) string {
	switch s.N {
	case 0:
		return "n/a"
	case 1:
		return fmt.Sprintf(format, s.Median)
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", s.Median, s.Min, s.Max)
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of ds by the
// nearest rank: the least d such that at least p% of ds are at most d. It
// sorts ds in place, and returns 0 for an empty ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	return ds[min(max(rank, 1), len(ds))-1]
}
