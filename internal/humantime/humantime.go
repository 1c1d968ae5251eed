package humantime

import (
	"strings"
	"time"
)

// Duration shows d rounded to what a reader cares for: milliseconds under
// a second, tenths under a minute, seconds under an hour, then minutes. A
// negative d shows as 0s.
func Duration(d time.Duration) string {
	switch d = max(d, 0); {
	case d == 0:
		return "0s"
	case d < time.Second:
		return max(d.Round(time.Millisecond), time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d.Round(time.Second) < time.Hour:
		return d.Round(time.Second).String()
	default:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
}
