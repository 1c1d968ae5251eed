package task

import "time"

// Reserved headers. Header names that begin with "taskware-" belong to
// taskware: a producer sets them (worker.Retries, worker.Timeout)
// to change how one run is treated, and the policies read them from
// Invocation.Headers. A producer in another language may set them too, in
// the formats below. Do not use the prefix for headers of your own.
const (
	// HeaderRetries overrides, for one enqueued run, how many times
	// middleware.Retry (or RetryUpTo) retries it: a decimal count of
	// retries after the first run, "0" for none. A count above
	// MaxHeaderRetries counts as MaxHeaderRetries; anything else that is
	// not a count of 0 or more is ignored, and the configured count holds.
	HeaderRetries = "taskware-retries"
	// HeaderTimeout overrides, for one enqueued run, the time
	// middleware.Timeout gives it: a Go duration ("50ms", "1m30s", as
	// time.ParseDuration reads it). A duration above MaxHeaderTimeout
	// counts as MaxHeaderTimeout; one that is not positive, or does not
	// parse, is ignored, and the configured timeout holds.
	HeaderTimeout = "taskware-timeout"

	// MaxHeaderRetries bounds HeaderRetries, so that a message cannot keep
	// a failing run going for days: sidekiq's default count of retries.
	MaxHeaderRetries = 25
	// MaxHeaderTimeout bounds HeaderTimeout.
	MaxHeaderTimeout = 24 * time.Hour
)

// RetriesHeader returns the count of retries the run's HeaderRetries
// header asks for, bounded by MaxHeaderRetries, and whether there is a
// valid one. It does not allocate when the header is absent or valid.
func (inv *Invocation) RetriesHeader() (retries int, ok bool) {
	if len(inv.Headers) == 0 {
		return 0, false
	}
	v, ok := inv.Headers[HeaderRetries]
	if !ok {
		return 0, false
	}
	return parseRetries(v)
}

// TimeoutHeader returns the timeout the run's HeaderTimeout header asks
// for, bounded by MaxHeaderTimeout, and whether there is a valid one. It
// does not allocate when the header is absent or valid.
func (inv *Invocation) TimeoutHeader() (timeout time.Duration, ok bool) {
	if len(inv.Headers) == 0 {
		return 0, false
	}
	v, ok := inv.Headers[HeaderTimeout]
	if !ok {
		return 0, false
	}
	return parseTimeout(v)
}

// parseRetries reads a HeaderRetries value: a decimal count of 0 or more,
// bounded by MaxHeaderRetries. ok is false if v is not one.
func parseRetries(v string) (retries int, ok bool) {
	if v == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= MaxHeaderRetries { // past the bound, only the digits matter
			n = n*10 + int(c-'0')
		}
	}
	return min(n, MaxHeaderRetries), true
}

// parseTimeout reads a HeaderTimeout value: a positive Go duration,
// bounded by MaxHeaderTimeout. ok is false if v is not one.
func parseTimeout(v string) (timeout time.Duration, ok bool) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, false
	}
	return min(d, MaxHeaderTimeout), true
}
