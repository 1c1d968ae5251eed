package everyspec

import (
	"fmt"
	"strings"
	"time"
)

// Prefix begins every interval spec.
const Prefix = "every "

// Is reports whether spec begins with Prefix (after spaces): an interval
// spec, well-formed or not.
func Is(spec string) bool {
	_, ok := strings.CutPrefix(strings.TrimSpace(spec), Prefix)
	return ok
}

// Parse returns the interval of "every <duration>" ("every 1h0m0s",
// "every 90s"), or an error saying what is wrong.
func Parse(spec string) (time.Duration, error) {
	text, ok := strings.CutPrefix(strings.TrimSpace(spec), Prefix)
	if !ok {
		return 0, fmt.Errorf("spec %q: want \"every <duration>\"", spec)
	}
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("spec %q: want a positive duration after \"every\"", spec)
	}
	return d, nil
}

// Next returns the first whole multiple of d since the Unix epoch after
// after, in after's location. d must be positive.
func Next(d time.Duration, after time.Time) time.Time {
	n, step := after.UnixNano(), int64(d)
	q := n / step
	if n%step < 0 {
		q-- // floor, before the epoch
	}
	return time.Unix(0, (q+1)*step).In(after.Location())
}
