package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskware/taskware/queue"

	"golang.org/x/sync/errgroup"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/internal/runctx"
	"github.com/taskware/taskware/task"
)

// Defaults of a Worker.
const (
	DefaultConcurrency   = 10
	DefaultVisibility    = 30 * time.Second
	DefaultGrace         = 10 * time.Second
	DefaultPollWait      = time.Second
	DefaultPromoteEvery  = 100 * time.Millisecond
	DefaultMaxDeliveries = 10
	DefaultMaxOutages    = 20
)

// Pauses before a task whose run met an unavailable backend runs again:
// doubling from a second to a minute, jittered.
var outagePauses = backoff.Policy{Min: time.Second, Max: time.Minute}

// Worker takes tasks from a Consumer and runs them through their chains, at
// most Concurrency at once. Create it with New, register tasks with
// Register, then call Run.
type Worker struct {
	queue                       Queue
	concurrency, maxDeliveries  int
	maxOutages, prefetch        int
	queues                      []string
	grace, visibility, pollWait time.Duration
	promoteEvery                time.Duration
	weights                     []int // of queues, see Queues
	strict                      bool
	defaults, around            []task.Middleware
	consumer                    string
	onError                     func(error)
	events                      events
	progressEvents              bool // publish EventProgress (ProgressEvents)
	logger                      *slog.Logger

	finishCtx context.Context // set by Run

	mu       sync.Mutex
	tasks    map[string]task.Func
	batches  map[string]*batchTask // see RegisterBatch
	policies []queue.GroupPolicy   // of batches, set by Run
	running  bool
	stopping bool // Run's ctx ended: a run that parks is handed back
	inflight map[*queue.Delivery]*flight
	spare    []*flight // flights of deliveries let go, for reuse
	parked   int       // runs that gave back their slot (see park)

	work   chan *queue.Delivery // to the runners, set by Run
	runner func()               // starts a runner, set by Run
}

// Queue is the side of a queue a worker uses: it takes, runs and finishes
// deliveries, batches included. A backend's queue.Queue is one.
type Queue interface {
	queue.Consumer
	queue.Batches
}

// New returns a Worker that takes tasks from q (a backend's Queue). It panics with an error matching
// task.ErrInvalidConfig on a nil queue or an option out of range.
func New(q Queue, opts ...Option) *Worker {
	w := &Worker{
		queue: q, concurrency: DefaultConcurrency, prefetch: -1, maxDeliveries: DefaultMaxDeliveries, maxOutages: DefaultMaxOutages,
		queues: []string{queue.Default}, grace: DefaultGrace, visibility: DefaultVisibility,
		pollWait: DefaultPollWait, promoteEvery: DefaultPromoteEvery,
		tasks: make(map[string]task.Func), batches: make(map[string]*batchTask), inflight: make(map[*queue.Delivery]*flight),
	}
	w.spare = make([]*flight, 0, 64)
	host, _ := os.Hostname()
	w.consumer = host + ":" + strconv.Itoa(os.Getpid()) + ":" + randid.New()[:6]
	for _, o := range opts {
		o.apply(w)
	}
	if w.onError == nil {
		w.onError = defaultOnError
		if l := w.logger; l != nil {
			w.onError = func(err error) { l.Error("taskware worker", "err", err) }
		}
	}
	if w.prefetch == -1 {
		w.prefetch = defaultPrefetch(w.concurrency)
	}
	switch {
	case q == nil:
		panic(configError("New: nil Queue"))
	case w.concurrency < 1 || w.maxDeliveries < 1 || w.maxOutages < 1 || w.prefetch < 0:
		panic(configError("New: Concurrency, MaxDeliveries and MaxOutages must be at least 1, Prefetch not negative"))
	case w.grace < 0 || w.visibility <= 0 || w.pollWait <= 0 || w.promoteEvery <= 0:
		panic(configError("New: Visibility, PollWait and PromoteEvery must be positive, Grace not negative"))
	case len(w.queues) == 0 || w.consumer == "":
		panic(configError("New: no queues, or no consumer name"))
	}
	for _, name := range w.queues {
		if err := queue.ValidateName(name); err != nil {
			panic(err)
		}
	}
	if len(w.weights) != len(w.queues) { // the default queue
		w.weights = make([]int, len(w.queues))
		for i := range w.weights {
			w.weights[i] = 1
		}
	}
	return w
}

// Register adds t to w's tasks, under t's name: with t's own chain if it
// has one, else with w's default chain. The chain is built here, once. It
// panics with an error matching task.ErrInvalidConfig if the name is taken
// or w is running.
func Register[A, R any](w *Worker, t *task.Task[A, R]) {
	fn := t.Func()
	if len(t.Middleware()) == 0 && len(w.defaults) > 0 {
		fn = t.FuncWith(w.defaults...)
	}
	if len(w.around) > 0 {
		fn = task.Chain(w.around...)(fn)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		panic(configError("Register(%q): the worker is running", t.Name()))
	}
	if _, ok := w.tasks[t.Name()]; ok {
		panic(configError("Register(%q): a task of that name is registered", t.Name()))
	}
	w.tasks[t.Name()] = fn
}

// Run takes and runs tasks until ctx ends. It then stops taking tasks, lets
// running ones finish within the grace period, and cancels the rest, which
// go back to their queue at once, for another worker; then it leaves its
// queues' consumer group. It returns nil after a clean stop, or an error if
// Run was called twice.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.running {
		w.mu.Unlock()
		return errors.New("worker: Run called twice")
	}
	w.running = true
	w.policies = w.groupPolicies()
	w.mu.Unlock()

	defer w.queue.WatchCancels(w.canceled)()
	// Tasks run under runCtx, which outlives ctx by the grace period.
	runCtx, hardStop := context.WithCancelCause(context.WithoutCancel(ctx))
	defer hardStop(nil)
	w.finishCtx = context.WithoutCancel(runCtx) // finishes go on after a hard stop
	// Claims are kept alive, due tasks promoted and dead workers' tasks
	// recovered until the last task ends.
	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	var bg errgroup.Group
	bg.Go(func() error { w.every(bgCtx, w.visibility/3, w.extendAll); return nil })
	bg.Go(func() error { w.every(bgCtx, w.promoteEvery, w.promoteAll); return nil })
	bg.Go(func() error { w.every(bgCtx, w.recoverEvery(), w.recoverAll); return nil })

	// slots count the deliveries held, running or prefetched, and those
	// that run. One goroutine starts them in the order taken, each on one
	// of Concurrency runners (a goroutine per task would cost its start
	// and stack growth); at a stop, those not started go back to their
	// queue unrun.
	held := w.concurrency + w.prefetch
	slots := newSlots(w.concurrency)
	var tasks sync.WaitGroup
	ready := make(chan *queue.Delivery, held)
	w.work = make(chan *queue.Delivery)
	w.runner = func() { tasks.Go(func() { w.runRunner(runCtx, slots) }) }
	for range w.concurrency {
		w.runner()
	}
	started := make(chan struct{})
	go func() {
		defer close(started)
		defer close(w.work)
		for d := range ready {
			select {
			case slots.running <- struct{}{}:
			case <-ctx.Done():
				tasks.Go(func() {
					defer slots.release(1)
					defer w.track(d, false)
					if d.Batch != nil && d.Malformed == nil {
						w.handBackBatch(runCtx, d)
						return
					}
					o := queue.Outcome{Status: queue.Scheduled, RunAt: time.Now(), Attempt: d.Attempt}
					if w.finish(runCtx, d, o) && w.events.on() {
						w.publish(EventHandedBack, d, &o, nil, nil, 0)
					}
				})
				continue
			}
			// A runner that is not in a parked run holds no slot, or is
			// about to give its own back: one is always there to take d.
			w.work <- d
		}
	}()
	dispatch := func(ds []*queue.Delivery) {
		for _, d := range ds {
			w.track(d, true)
			ready <- d // never blocks: takeLoop bounds what is held
		}
	}
	w.takeLoop(ctx, slots, dispatch)
	close(ready)
	<-started
	w.handBackParked()

	done := make(chan struct{})
	go func() { tasks.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.grace):
		hardStop(task.ErrAbandoned)
		<-done
	}
	stopBg()
	_ = bg.Wait()
	w.leaveAll(context.WithoutCancel(ctx))
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), w.grace)
	_ = w.events.flush(flushCtx) // up to the grace period, as documented
	cancelFlush()
	return nil
}

// recoverEvery is how often the worker looks for dead workers' tasks: a
// quarter of the visibility timeout, at most half a second, so that they
// are taken over within it and half a second.
func (w *Worker) recoverEvery() time.Duration {
	return max(min(w.visibility/4, 500*time.Millisecond), time.Millisecond)
}

// recoverAll puts the tasks of dead workers back in their queues, all of
// them, a hundred per call.
func (w *Worker) recoverAll(ctx context.Context) {
	for _, q := range w.queues {
		for range 100 { // bounded: 10,000 a look
			n, err := w.queue.Recover(ctx, q, w.visibility, 100)
			if err != nil && ctx.Err() == nil {
				w.onError(err)
			}
			if err != nil || n < 100 {
				break
			}
		}
	}
}

// leaveAll leaves the consumer group of each queue, at a clean stop.
func (w *Worker) leaveAll(ctx context.Context) {
	for _, q := range w.queues {
		if err := w.queue.Leave(ctx, q, w.consumer); err != nil {
			w.onError(err)
		}
	}
}

func (w *Worker) track(d *queue.Delivery, add bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if add {
		var f *flight
		if n := len(w.spare); n > 0 {
			f, w.spare = w.spare[n-1], w.spare[:n-1]
		} else {
			f = new(flight)
		}
		*f = flight{claimed: time.Now()}
		w.inflight[d] = f
		return
	}
	f := w.inflight[d]
	if f == nil {
		return
	}
	if f.parked {
		w.parked--
	}
	delete(w.inflight, d)
	if len(w.spare) < cap(w.spare) { // no one keeps f past its delivery's end
		*f = flight{}
		w.spare = append(w.spare, f)
	}
}

// runRunner runs the deliveries handed to w.work until it closes, or until
// one of its runs parks: that run's park started a runner in its place.
func (w *Worker) runRunner(runCtx context.Context, s *slots) {
	for d := range w.work {
		parked := w.execute(runCtx, d, s)
		w.track(d, false)
		if parked {
			return
		}
		s.free()
	}
}

// canceled is told of a canceled task (see CancelWatcher): if the worker
// holds it, its run's context is cancelled with cause ErrCanceled, or, not
// started yet, it never starts. IDs are unique per queue, over its
// partitions too: so the queues are compared by their logical names,
// whichever partition's name the backend gives.
func (w *Worker) canceled(queueName, id string) {
	queueName, _ = queue.SplitPartition(queueName)
	w.mu.Lock()
	defer w.mu.Unlock()
	for d, f := range w.inflight {
		if d.ID != id {
			continue
		}
		if q, _ := queue.SplitPartition(d.Queue); q == queueName {
			f.canceled = true
			if f.cancel != nil {
				f.cancel(queue.ErrCanceled)
			}
		}
	}
}

// promoteAll moves due tasks to their queues' ready ones (or groups), and
// makes batches of the groups of the worker's batch tasks that are due.
func (w *Worker) promoteAll(ctx context.Context) {
	for _, q := range w.queues {
		if _, err := w.queue.Promote(ctx, q, time.Now(), 100); err != nil && ctx.Err() == nil {
			w.onError(err)
		}
		if len(w.policies) == 0 {
			continue
		}
		if _, err := w.queue.FlushGroups(ctx, q, w.policies, time.Now()); err != nil && ctx.Err() == nil {
			w.onError(err)
		}
	}
}

// every calls fn every d until ctx ends.
func (w *Worker) every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// States of a run.
const (
	runRunning = iota
	runParked
	runEnded
)

// run is what one run allocates: its invocation and its last writes.
type run struct {
	w        *Worker
	d        *queue.Delivery
	slots    *slots
	state    atomic.Int32 // running, then parked (slots given back, see park) or ended
	inv      task.Invocation
	final    task.FinalWrites
	releases [2]task.FinalWrite // room for the usual few, without allocating
	results  [1]task.FinalWrite
	locks    [1]task.LockUse
	progress atomic.Pointer[progress]         // its reports, once it made one (see Report)
	ctx      runctx.Context[*task.Invocation] // the run's context, which carries inv
	cancel   context.CancelCauseFunc          // of ctx
}

// CancelOf implements task.Canceler: a lock held for the run ends it
// through the run's own context.
func (r *run) CancelOf(ctx context.Context) context.CancelCauseFunc {
	// The run's context itself is the usual case, told without Done,
	// which would make its channel.
	if r.cancel != nil && (ctx == context.Context(&r.ctx) || ctx.Done() == r.ctx.Done()) {
		return r.cancel
	}
	return nil
}

// execute runs one delivery, which holds s, and ends it in its queue. It
// reports whether the run parked, having given back s already.
func (w *Worker) execute(runCtx context.Context, d *queue.Delivery, s *slots) (parked bool) {
	if d.Batch != nil && d.Malformed == nil {
		w.executeBatch(runCtx, d)
		return false
	}
	fn, ok := w.tasks[d.Task]
	if b := w.batches[d.Task]; !ok && b != nil { // a task enqueued without a group: a batch of one
		fn, ok = b.member, true
	}
	ev := w.events.on()
	if ev && d.Deliveries > 1 {
		w.publish(EventTakenOver, d, nil, nil, nil, 0)
	}
	var o queue.Outcome
	var err error
	var inv *task.Invocation
	var took time.Duration
	switch {
	case d.Malformed != nil:
		o, err = deadOutcome(d, queue.ErrBadMessage, d.Malformed.Error())
	case !ok:
		o, err = deadOutcome(d, ErrUnknownTask, fmt.Sprintf("no task %q is registered", d.Task))
	case d.Deliveries > w.maxDeliveries:
		o, err = deadOutcome(d, ErrTooManyDeliveries, fmt.Sprintf("handed out %d times without finishing", d.Deliveries))
	default:
		r := &run{inv: task.Invocation{ID: d.ID, Name: d.Task, Queue: d.Queue, Payload: d.Payload,
			EnqueuedAt: d.EnqueuedAt, ExpiresAt: d.ExpiresAt, Attempt: max(d.Attempt, 1), Headers: d.Headers,
			CanRequeue: true}} // a requeue goes back to the queue
		if d.LastKind != "" || d.LastError != "" {
			r.inv.LastErr = &task.Failure{Kind: d.LastKind, Message: d.LastError}
		}
		if d.Step != nil { // a workflow step: its arguments come from its parents
			r.inv.Bind, r.inv.Inputs, r.inv.Fields = d.Step.Bind, d.Inputs, d.Step.Fields
		}
		r.final.Releases, r.final.Results = r.releases[:0], r.results[:0]
		r.inv.Final, r.inv.Locks = &r.final, r.locks[:0]
		r.w, r.d, r.slots = w, d, s
		r.inv.Parker, r.inv.Reporter, r.inv.Canceler = r, r, r
		inv = &r.inv
		ctx, cancel, why := w.startRun(runCtx, d)
		if why == queue.ErrClaimLost { // taken over before it started: another worker's
			if ev {
				w.publish(EventSuperseded, d, nil, nil, why, 0)
			}
			return
		}
		if why != nil { // canceled before it started: it never runs
			o, err = canceledOutcome(d), queue.ErrCanceled
			break
		}
		start := time.Now()
		w.queue.Started(w.finishCtx, d, w.consumer, start)
		if ev {
			w.publish(EventStarted, d, nil, inv, nil, 0)
		}
		r.ctx = runctx.Context[*task.Invocation]{Context: ctx, Inv: &r.inv}
		r.cancel = cancel
		var res any
		res, err = call(fn, &r.ctx, &r.inv)
		r.endProgress()
		parked = !r.state.CompareAndSwap(runRunning, runEnded)
		took = time.Since(start)
		o, err = w.runEnd(ctx, d, &r.inv, &r.final, err)
		if d.Step != nil && o.Status == queue.Succeeded {
			err = stepResult(&o, &r.inv, res)
			if err != nil {
				r.final.Results = nil // a step that ends dead stores no success
			}
		}
		cancel(nil)
		o.Worker, o.StartedAt = w.consumer, start
		o.Final = &r.final
	}
	ferr := w.end(runCtx, d, o)
	switch {
	case !ev:
	case ferr == nil:
		w.publishEnd(d, &o, inv, err, took)
	case errors.Is(ferr, queue.ErrSuperseded):
		if errors.Is(err, queue.ErrClaimLost) { // the worker knew before the run ended
			ferr = err
		}
		w.publish(EventSuperseded, d, nil, inv, ferr, took)
	}
	return parked
}

// runEnd returns how a run of d (inv, with its final writes) that
// returned err under ctx ends, and the error to tell of it.
func (w *Worker) runEnd(ctx context.Context, d *queue.Delivery, inv *task.Invocation, final *task.FinalWrites, err error) (queue.Outcome, error) {
	switch {
	case err != nil && task.Abandoned(ctx): // a hard stop, or parked at a stop
		// Cut short by a stop: no result, but the locks go, and the task
		// goes back to its queue at once, for another worker.
		final.Results = nil
		return queue.Outcome{Status: queue.Scheduled, RunAt: time.Now(), Attempt: inv.Attempt,
			Kind: task.KindOf(task.ErrAbandoned), Error: task.ErrAbandoned.Error()}, task.ErrAbandoned
	case err != nil && errors.Is(context.Cause(ctx), queue.ErrClaimLost):
		// Taken over while it ran: its end changes nothing (the finish
		// is superseded) but for its locks, which go.
		final.Results = nil
		return queue.Outcome{Status: queue.Scheduled, RunAt: time.Now(), Attempt: inv.Attempt,
			Kind: queue.ErrClaimLost.ErrorKind(), Error: queue.ErrClaimLost.Error()}, queue.ErrClaimLost
	case err != nil && errors.Is(context.Cause(ctx), queue.ErrCanceled):
		// Canceled while it ran: it ends so, with no result, and is
		// not retried.
		final.Results = nil
		o := canceledOutcome(d)
		o.Attempt = inv.Attempt
		return o, queue.ErrCanceled
	}
	return w.outcome(d, inv, err), err
}

// finish ends d, not run, in its queue (see end), and reports whether it
// did. A delivery taken over by another worker is not finished: it is
// that worker's. Either publishes EventSuperseded.
func (w *Worker) finish(runCtx context.Context, d *queue.Delivery, o queue.Outcome) bool {
	w.mu.Lock()
	f := w.inflight[d]
	lost := f != nil && f.lost
	w.mu.Unlock()
	if lost {
		if w.events.on() {
			w.publish(EventSuperseded, d, nil, nil, queue.ErrClaimLost, 0)
		}
		return false
	}
	err := w.end(runCtx, d, o)
	if errors.Is(err, queue.ErrSuperseded) && w.events.on() {
		w.publish(EventSuperseded, d, nil, nil, err, 0)
	}
	return err == nil
}

// end ends d in its queue. While the backend is unavailable it tries
// again, for up to the visibility timeout (the claim is kept alive
// meanwhile) or until a hard stop: a finish is safe to repeat, and a run
// whose end is lost runs again, its lock perhaps still held by itself. It
// returns the error of a finish that failed (reported to OnError) or was
// superseded (queue.ErrSuperseded: not a failure, not reported).
func (w *Worker) end(runCtx context.Context, d *queue.Delivery, o queue.Outcome) error {
	ctx := w.finishCtx
	pause := backoff.New(50*time.Millisecond, time.Second)
	deadline := time.Now().Add(w.visibility)
	for {
		err := w.queue.Finish(ctx, d, o)
		if err == nil || errors.Is(err, queue.ErrSuperseded) {
			return err
		}
		if !errors.Is(err, task.ErrUnavailable) || time.Now().After(deadline) || runCtx.Err() != nil {
			// The delivery stays claimed, and is run again once recovered.
			w.onError(err)
			return err
		}
		_ = backoff.Sleep(runCtx, pause.Next())
	}
}

// stepResult sets o.Result to a workflow step's result, encoded with the
// run's codec, for its children. A result over queue.MaxStepResult (kind
// task.too_large), or one that does not encode, ends the step dead
// instead: no retry mends it. It returns that error.
func stepResult(o *queue.Outcome, inv *task.Invocation, res any) error {
	b, err := task.MarshalCapped(inv.CodecOrJSON(), res, queue.MaxStepResult, "result of "+inv.Name)
	if err != nil {
		if !errors.Is(err, task.ErrTooLarge) {
			err = fmt.Errorf("result of %s does not encode: %w", inv.Name, err)
		}
		o.Status, o.Kind, o.Error = queue.Dead, task.KindOf(err), task.ErrorText(err)
		return err
	}
	o.Result = b
	return nil
}

// canceledOutcome is the outcome of a canceled delivery.
func canceledOutcome(d *queue.Delivery) queue.Outcome {
	return queue.Outcome{Status: queue.Canceled, Attempt: d.Attempt, Kind: queue.ErrCanceled.ErrorKind(), Error: queue.ErrCanceled.Error()}
}

// deadOutcome is the outcome of a delivery that cannot run, and its error.
func deadOutcome(d *queue.Delivery, reason *task.Error, msg string) (queue.Outcome, error) {
	msg = task.CapErrorText(msg)
	return queue.Outcome{Status: queue.Dead, Attempt: d.Attempt, Kind: reason.ErrorKind(), Error: msg},
		&queue.DeadLetterError{ID: d.ID, Reason: &task.Failure{Kind: reason.ErrorKind(), Message: msg}} // matches reason
}

// publishEnd publishes the events that end a run that o ended: a lease
// lost first, if the run lost one.
func (w *Worker) publishEnd(d *queue.Delivery, o *queue.Outcome, inv *task.Invocation, err error, took time.Duration) {
	if inv != nil {
		for i := range inv.Locks {
			if inv.Locks[i].Lost {
				w.publish(EventLeaseLost, d, o, inv, err, took)
				break
			}
		}
	}
	var kind EventKind
	switch o.Status {
	case queue.Succeeded:
		kind = EventSucceeded
	case queue.Failed:
		kind = EventFailed
	case queue.Skipped:
		kind = EventSkipped
	case queue.Canceled:
		kind = EventCanceled
	case queue.Dead:
		kind = EventDeadLettered
		if _, ok := errors.AsType[*queue.DeadLetterError](err); !ok {
			err = &queue.DeadLetterError{ID: d.ID, Reason: err}
		}
	default:
		switch {
		case errors.Is(err, task.ErrAbandoned):
			kind = EventAbandoned
		case o.Retry:
			kind = EventRetrying
		default:
			kind = EventRescheduled
		}
	}
	w.publish(kind, d, o, inv, err, took)
	if d.Step != nil && d.WorkflowEnd != "" { // this finish ended the workflow
		e := Event{Kind: EventWorkflowSucceeded, Queue: d.Step.Home, Workflow: d.Step.Workflow, Step: d.Step.Name,
			Worker: w.consumer, At: time.Now()}
		if d.WorkflowEnd == queue.Failed {
			e.Kind = EventWorkflowFailed
			if kind != EventSkipped {
				e.Err = err
			}
		}
		w.events.publish(&e)
	}
}

// publish sends one event of d's to the subscribers.
func (w *Worker) publish(kind EventKind, d *queue.Delivery, o *queue.Outcome, inv *task.Invocation, err error, took time.Duration) {
	e := w.event(kind, d, err)
	switch kind {
	case EventStarted:
		if !d.EnqueuedAt.IsZero() {
			e.Waited = e.At.Sub(d.EnqueuedAt)
		}
	case EventTakenOver:
	default:
		e.Duration = took
	}
	if o != nil && o.Status == queue.Scheduled {
		e.RunAt = o.RunAt
	}
	if inv != nil && len(inv.Locks) > 0 {
		l := &inv.Locks[len(inv.Locks)-1]
		if kind == EventLeaseLost {
			for i := range inv.Locks {
				if inv.Locks[i].Lost {
					l = &inv.Locks[i]
				}
			}
		}
		e.LockKey, e.Fence, e.LockWait, e.LockHeld = l.Key, l.Fence, l.Wait, l.Held
	}
	w.events.publish(&e)
}

// event is an event of kind about d, now, naming d's task and step.
func (w *Worker) event(kind EventKind, d *queue.Delivery, err error) Event {
	logical, _ := queue.SplitPartition(d.Queue) // a partition's events are its queue's
	e := Event{Kind: kind, Task: d.Task, Queue: logical, ID: d.ID, Attempt: max(d.Attempt, 1), Worker: w.consumer,
		At: time.Now(), Err: err}
	if d.Step != nil {
		e.Workflow, e.Step = d.Step.Workflow, d.Step.Name
	}
	return e
}

// call runs fn, turning a panic into a failure even without
// middleware.Recover, so that no task can take the worker down.
func call(fn task.Func, ctx context.Context, inv *task.Invocation) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, task.Recovered(v)
		}
	}()
	return fn(ctx, inv)
}

// outcome maps a run's error to how its delivery ends. Its text is capped
// (task.ErrorText): a huge one would be stored whole, or not at all.
func (w *Worker) outcome(d *queue.Delivery, inv *task.Invocation, err error) queue.Outcome {
	o := queue.Outcome{Attempt: inv.Attempt}
	if err == nil {
		o.Status = queue.Succeeded
		return o
	}
	// A skip of a retry hides a failure: it ends as that failure.
	err = task.AfterFailure(err, inv.LastErr)
	o.Kind, o.Error = task.KindOf(err), task.ErrorText(err)
	if pe, ok := errors.AsType[*task.PanicError](err); ok {
		o.Stack = queue.CapStack(string(pe.Stack))
	}
	var rq *task.RequeueError
	var skip *task.SkipError
	switch {
	case errors.As(err, &rq):
		o.Status, o.RunAt, o.Retry = queue.Scheduled, time.Now().Add(rq.After), rq.Retry
		if rq.Retry {
			o.Attempt++
		}
		if rq.Err != nil {
			o.Kind, o.Error = task.KindOf(rq.Err), task.ErrorText(rq.Err)
		}
	case errors.As(err, &skip):
		o.Status = queue.Skipped
		if skip.Reason != nil {
			o.Kind, o.Error = task.KindOf(skip.Reason), task.ErrorText(skip.Reason)
		}
	case errors.Is(err, task.ErrUnavailable) && !errors.Is(err, task.ErrPermanent):
		// Not the task's failure: run it again later, without an attempt.
		if d.Outages >= w.maxOutages {
			o.Status = queue.Dead
			o.Kind, o.Error = task.KindOf(task.ErrUnavailable), task.CapErrorText(fmt.Sprintf("backend unavailable %d times in a row: %v", d.Outages+1, err))
			break
		}
		o.Status, o.RunAt, o.Outage = queue.Scheduled, time.Now().Add(outagePauses.Jittered(d.Outages)), true
	case errors.Is(err, task.ErrPermanent):
		o.Status = queue.Dead
	default:
		o.Status = queue.Failed
	}
	return o
}
