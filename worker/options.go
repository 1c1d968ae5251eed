package worker

import (
	"time"

	"github.com/taskware/taskware/task"
)

// Option configures a Worker.
type Option interface{ apply(*Worker) }

type optionFunc func(*Worker)

func (f optionFunc) apply(w *Worker) { f(w) }

// Concurrency sets how many tasks run at once (DefaultConcurrency).
func Concurrency(n int) Option { return optionFunc(func(w *Worker) { w.concurrency = n }) }

// Grace sets how long Run lets running tasks finish after its ctx ends
// (DefaultGrace). Tasks still running then are cancelled, and go back to
// their queue at once, for another worker, without counting an attempt.
func Grace(d time.Duration) Option { return optionFunc(func(w *Worker) { w.grace = d }) }

// Visibility sets how long a taken task stays claimed without a sign of
// life from its worker (DefaultVisibility). A live worker renews its claims
// every third of it, so only a dead worker's tasks are taken over. Every
// worker looks for such tasks every quarter of it (at least twice a
// second), and puts them back in their queue: a dead worker's tasks are all
// taken over within Visibility and a fraction of a second, whatever the
// free slots of the live ones.
func Visibility(d time.Duration) Option { return optionFunc(func(w *Worker) { w.visibility = d }) }

// PollWait sets how long one Take waits for work (DefaultPollWait); it
// bounds how long Run takes to notice its ctx ended while idle.
func PollWait(d time.Duration) Option { return optionFunc(func(w *Worker) { w.pollWait = d }) }

// PromoteEvery sets how often delayed tasks that are due move to their
// queue (DefaultPromoteEvery): the precision of delays and retries.
func PromoteEvery(d time.Duration) Option { return optionFunc(func(w *Worker) { w.promoteEvery = d }) }

// MaxDeliveries dead-letters a task handed out more often than n without
// finishing (DefaultMaxDeliveries): one that kills its worker every time.
func MaxDeliveries(n int) Option { return optionFunc(func(w *Worker) { w.maxDeliveries = n }) }

// MaxOutages dead-letters a task, with task.ErrUnavailable, once it has
// gone back to its queue n times because the backend was unavailable
// (DefaultMaxOutages). Each time it waits longer, from a second up to a
// minute, and uses no attempt.
func MaxOutages(n int) Option { return optionFunc(func(w *Worker) { w.maxOutages = n }) }

// DefaultChain sets the chain of tasks registered without one of their own:
// the worker-wide default, as with Huey's overridden put_result. A task
// defined with middlewares runs with its own chain instead; to extend the
// default, include it: task.New(name, fn, task.Chain(defaults...), extra).
func DefaultChain(mws ...task.Middleware) Option {
	return optionFunc(func(w *Worker) { w.defaults = mws })
}

// Around wraps every task the worker runs in mws, outside its own chain
// or the default one: a tracing or metrics middleware for all of them
// (the OpenTelemetry module's, say). The first is outermost.
func Around(mws ...task.Middleware) Option {
	return optionFunc(func(w *Worker) { w.around = append(w.around, mws...) })
}

// ProgressEvents makes the worker publish an EventProgress to its
// subscribers (OnEvent, Logger) each time it writes a run's progress
// report (task.Progress): at most once a second per run. Without it no
// such event is made, so subscribers written before the kind existed see
// none, and a worker without subscribers pays nothing for it.
func ProgressEvents() Option { return optionFunc(func(w *Worker) { w.progressEvents = true }) }

// Prefetch sets how many tasks, at most, the worker takes beyond those it
// runs, so that a slot that frees finds its next task at hand instead of
// waiting a round trip for it (by default, as many as Concurrency). It
// adapts: a take asks for the free slots and as many more as ended since
// the last take, up to n, at least one. So while tasks end fast the
// worker holds up to n ready, and while they end slowly (a burst of long
// ones) it holds one, leaving the rest to other workers. Prefetched tasks
// are claimed, and kept alive, like running ones; at a stop they go back
// to their queue at once, unrun. 0 takes tasks only for free slots.
func Prefetch(n int) Option { return optionFunc(func(w *Worker) { w.prefetch = n }) }

// defaultPrefetch is Prefetch's default for a concurrency of n.
func defaultPrefetch(n int) int { return n }

// Name names the worker, in its queues' consumer group too
// (host:pid:random by default). Names must differ between live workers.
func Name(name string) Option { return optionFunc(func(w *Worker) { w.consumer = name }) }

// OnError sets where the worker reports errors it cannot return: a queue it
// cannot reach, a finish that failed. By default they go to slog.Default.
func OnError(fn func(error)) Option {
	if fn == nil {
		panic(configError("OnError: nil func"))
	}
	return optionFunc(func(w *Worker) { w.onError = fn })
}
