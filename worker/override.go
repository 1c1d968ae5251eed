package worker

import (
	"maps"
	"strconv"
	"time"

	"github.com/taskware/taskware/task"
)

// Retries lets this one task be retried up to n times after its first
// run (n+1 runs at most) instead of the count its chain's middleware.Retry
// or middleware.RetryUpTo was built with. It changes a Retry the chain
// has: a task without one is not retried either way. n is bounded by
// task.MaxHeaderRetries; a negative n leaves the configured count.
//
// It travels as the reserved header task.HeaderRetries, next to those of
// Headers, whichever option comes first.
func Retries(n int) EnqueueOption {
	if n < 0 {
		return reservedHeader(task.HeaderRetries, "")
	}
	return reservedHeader(task.HeaderRetries, strconv.Itoa(min(n, task.MaxHeaderRetries)))
}

// Timeout gives this one task at most d per run, shorter or longer than
// the timeout its chain's middleware.Timeout was built with. It changes a
// Timeout the chain has: a task without one has no deadline either way. d
// is bounded by task.MaxHeaderTimeout; a d that is not positive leaves the
// configured timeout.
//
// It travels as the reserved header task.HeaderTimeout, next to those of
// Headers, whichever option comes first.
func Timeout(d time.Duration) EnqueueOption {
	if d <= 0 {
		return reservedHeader(task.HeaderTimeout, "")
	}
	return reservedHeader(task.HeaderTimeout, min(d, task.MaxHeaderTimeout).String())
}

// reservedHeader sets the header key to value on a copy of the headers so
// far ("" removes it): the map of a Headers is shared by every Enqueue
// that passes it, and stays as it is.
func reservedHeader(key, value string) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) {
		if _, ok := c.headers[key]; !ok && value == "" {
			return
		}
		h := make(map[string]string, len(c.headers)+1)
		maps.Copy(h, c.headers)
		if value == "" {
			delete(h, key)
		} else {
			h[key] = value
		}
		if len(h) == 0 {
			h = nil
		}
		c.headers = h
	})
}

// reservedHeaders are the headers Retries and Timeout set.
var reservedHeaders = [...]string{task.HeaderRetries, task.HeaderTimeout}

// keepReserved returns the headers h of a Headers applied after prev:
// h, with the reserved headers of prev (set by Retries or Timeout
// before it) kept over h's own. It returns h itself, uncopied, when prev
// has none.
func keepReserved(prev, h map[string]string) map[string]string {
	var out map[string]string
	for _, key := range reservedHeaders {
		v, ok := prev[key]
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(h)+len(reservedHeaders))
			maps.Copy(out, h)
		}
		out[key] = v
	}
	if out == nil {
		return h
	}
	return out
}
