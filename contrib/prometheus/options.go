package taskprom

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// DefaultScrapeTimeout bounds the calls to the inspectors that one scrape
// makes, all of them together.
const DefaultScrapeTimeout = 5 * time.Second

// DefaultDurationBuckets are the buckets, in seconds, of the run duration
// and lock hold histograms: from a millisecond to a quarter of an hour,
// since background tasks run long.
var DefaultDurationBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900}

// DefaultLockWaitBuckets are the buckets, in seconds, of the lock wait
// histogram: most takes are one round trip, and a wait for a held lock is
// bounded by lock.Wait.
var DefaultLockWaitBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	queues                       queue.Admin
	queueNames                   []string
	locks                        lock.Inspector
	timeout                      time.Duration
	duration, lockWait, lockHeld []float64
	constLabels                  prometheus.Labels
	onError                      func(error)
}

// InspectQueues reports, at each scrape, the tasks of queues by state, the
// age of their oldest ready task and their live workers, as i (a backend's
// Queue) counts them. Without queue names, it reports every queue that
// i.Queues lists; a queue that empties then drops out of the scrape, so
// name the queues to keep them at zero. It panics with an error matching
// task.ErrInvalidConfig on a nil i or an invalid queue name.
func InspectQueues(i queue.Admin, queues ...string) Option {
	if i == nil {
		panic(configError("InspectQueues: nil queue.Admin"))
	}
	for _, q := range queues {
		if err := queue.ValidateName(q); err != nil {
			panic(configError("InspectQueues: %v", err))
		}
	}
	var names []string
	for _, q := range queues {
		if !slices.Contains(names, q) {
			names = append(names, q)
		}
	}
	return optionFunc(func(c *config) { c.queues, c.queueNames = i, names })
}

// InspectLocks reports, at each scrape, how many locks i (a backend's
// Locker) holds. On Redis that scans the lock keyspace, once per scrape.
// It panics with an error matching task.ErrInvalidConfig on a nil i.
func InspectLocks(i lock.Inspector) Option {
	if i == nil {
		panic(configError("InspectLocks: nil lock.Inspector"))
	}
	return optionFunc(func(c *config) { c.locks = i })
}

// ScrapeTimeout bounds the inspectors' calls of one scrape, all together
// (DefaultScrapeTimeout). What has not answered by then is left out of the
// scrape and counted in taskware_scrape_errors_total. It panics with an
// error matching task.ErrInvalidConfig if d is not positive.
func ScrapeTimeout(d time.Duration) Option {
	if d <= 0 {
		panic(configError("ScrapeTimeout: %v is not positive", d))
	}
	return optionFunc(func(c *config) { c.timeout = d })
}

// DurationBuckets sets the buckets, in seconds, of
// taskware_task_duration_seconds (DefaultDurationBuckets). It panics with
// an error matching task.ErrInvalidConfig unless they are finite and
// strictly increasing.
func DurationBuckets(b ...float64) Option {
	b = buckets("DurationBuckets", b)
	return optionFunc(func(c *config) { c.duration = b })
}

// LockWaitBuckets sets the buckets, in seconds, of
// taskware_lock_wait_seconds (DefaultLockWaitBuckets). It panics as
// DurationBuckets does.
func LockWaitBuckets(b ...float64) Option {
	b = buckets("LockWaitBuckets", b)
	return optionFunc(func(c *config) { c.lockWait = b })
}

// LockHeldBuckets sets the buckets, in seconds, of
// taskware_lock_held_seconds (DefaultDurationBuckets). It panics as
// DurationBuckets does.
func LockHeldBuckets(b ...float64) Option {
	b = buckets("LockHeldBuckets", b)
	return optionFunc(func(c *config) { c.lockHeld = b })
}

// ConstLabels adds labels with fixed values to every metric: to tell
// apart two Metrics registered with one registry, say. New panics with an
// error matching task.ErrInvalidConfig if a name is invalid or is one of
// the metrics' own labels.
func ConstLabels(l prometheus.Labels) Option {
	cp := make(prometheus.Labels, len(l))
	for k, v := range l {
		cp[k] = v
	}
	return optionFunc(func(c *config) { c.constLabels = cp })
}

// OnError sets where scrape errors go (a queue or lock inspector that
// failed or timed out), besides taskware_scrape_errors_total. By default
// they go to slog.Default, as warnings. It panics with an error matching
// task.ErrInvalidConfig on a nil fn.
func OnError(fn func(error)) Option {
	if fn == nil {
		panic(configError("OnError: nil func"))
	}
	return optionFunc(func(c *config) { c.onError = fn })
}

func defaultOnError(err error) { slog.Default().Warn("taskware prometheus", "err", err) }

func buckets(name string, b []float64) []float64 {
	if len(b) == 0 {
		panic(configError("%s: no buckets", name))
	}
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			panic(configError("%s: bucket %v is not finite", name, v))
		}
		if i > 0 && v <= b[i-1] {
			panic(configError("%s: buckets must be strictly increasing, got %v after %v", name, v, b[i-1]))
		}
	}
	return append([]float64(nil), b...)
}

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: taskprom: %s", task.ErrInvalidConfig, fmt.Sprintf(format, args...))
}
