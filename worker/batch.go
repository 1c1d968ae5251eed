package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/internal/runctx"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// Defaults of RegisterBatch.
const (
	DefaultBatchSize  = 100
	DefaultBatchDelay = time.Second
)

// BatchOption configures RegisterBatch: when a group becomes a batch.
type BatchOption interface{ applyBatch(*queue.GroupPolicy) }

type batchOptionFunc func(*queue.GroupPolicy)

func (f batchOptionFunc) applyBatch(p *queue.GroupPolicy) { f(p) }

// BatchSize caps a batch's tasks (DefaultBatchSize); a group that reaches
// it is a batch at once.
func BatchSize(n int) BatchOption { return batchOptionFunc(func(p *queue.GroupPolicy) { p.Size = n }) }

// BatchDelay is how long a group's oldest task waits at most before its
// group is a batch (DefaultBatchDelay).
func BatchDelay(d time.Duration) BatchOption {
	return batchOptionFunc(func(p *queue.GroupPolicy) { p.Delay = d })
}

// BatchGrace makes a group a batch once its newest task waited d, no
// other having come since (0, the default: not used).
func BatchGrace(d time.Duration) BatchOption {
	return batchOptionFunc(func(p *queue.GroupPolicy) { p.Grace = d })
}

// BatchError is what a batch handler returns to end each task of its
// batch its own way: Errs[i] is the error of args[i], nil for a success
// (whose result is results[i]). It must have one entry per task; match it
// with errors.As.
type BatchError struct{ Errs []error }

func (e *BatchError) Error() string {
	failed, first := 0, error(nil)
	for _, err := range e.Errs {
		if err != nil {
			if failed++; first == nil {
				first = err
			}
		}
	}
	if first == nil {
		return fmt.Sprintf("worker: batch of %d tasks: no task failed", len(e.Errs))
	}
	return fmt.Sprintf("worker: %d of %d tasks of the batch failed, the first: %v", failed, len(e.Errs), first)
}

// Unwrap returns the tasks' errors, nil ones left out.
func (e *BatchError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// batchTask is a task registered with RegisterBatch.
type batchTask struct {
	policy queue.GroupPolicy
	// member runs one task of a batch through the task's chain, which
	// ends in its batch (see collector), or alone if it runs in none.
	member task.Func
	// run calls the batch handler with args, and returns one result and
	// one error per argument.
	run func(ctx context.Context, args []any) ([]any, []error)
}

// RegisterBatch registers fn as t's batch handler: the tasks of t
// enqueued with Group run together, a batch per group, when the group
// holds opts' BatchSize tasks, its oldest waited BatchDelay, or its newest
// BatchGrace. The worker's promote loop makes the batches, of the groups
// of each queue it serves.
//
// fn gets the tasks' arguments, in the order they were enqueued, and
// returns len(args) results (or nil: zero values) and nil; or an error for
// every task; or a *BatchError, for one outcome per task. Each task of the
// batch still runs through t's chain (or the worker's default chain)
// around its share of the batch, and keeps its own state, outcome, result
// (a StoreResult in the chain stores each task's own, which its Handle
// reads), retries and events; a middleware that runs a task again in
// process runs it alone, in a batch of one. A task whose arguments do not
// decode fails alone, dead with task.ErrBadPayload. A task of t enqueued
// without a group runs as a batch of one.
//
// A batch is delivered at least once, as a task is: a batch whose worker
// dies is taken over, and runs again with its tasks that had not ended. A
// task canceled while its batch runs does not stop the batch: it ends
// canceled whatever fn returned for it. A Cancel of the batch's own ID
// (see queue.Batches) does stop it: fn's context ends with cause
// queue.ErrCanceled, and its tasks end canceled. fn's context ends as a plain
// run's does (a stop past the grace period: the tasks go back to their
// group; a lost claim: the batch is the other worker's). In a batch,
// task.Progress and Invocation.Park do nothing, and fn waits for every
// task's chain to reach its share or return: a middleware that waits on
// another task of the same batch (a lock they all share) delays the batch
// until it gives up.
//
// A worker that took a batch of a task it has no batch handler for runs
// each of its tasks with the task's plain handler (Register), one after
// the other; with neither, each is dead-lettered with ErrUnknownTask.
//
// RegisterBatch panics with an error matching task.ErrInvalidConfig on a
// nil fn, an option out of range, a task of that name registered with
// RegisterBatch already, or a running worker.
func RegisterBatch[A, R any](w *Worker, t *task.Task[A, R], fn func(ctx context.Context, args []A) ([]R, error), opts ...BatchOption) {
	if fn == nil {
		panic(configError("RegisterBatch(%q): nil function", t.Name()))
	}
	p := queue.GroupPolicy{Task: t.Name(), Size: DefaultBatchSize, Delay: DefaultBatchDelay}
	for _, o := range opts {
		o.applyBatch(&p)
	}
	if err := queue.ValidateGroupPolicies([]queue.GroupPolicy{p}); err != nil {
		panic(fmt.Errorf("worker: RegisterBatch: %w", err))
	}
	run := func(ctx context.Context, args []any) ([]any, []error) {
		as := make([]A, len(args))
		for i, a := range args {
			as[i], _ = a.(A)
		}
		rs, err := callBatch(fn, ctx, as)
		return spread(t.Name(), len(as), rs, err)
	}
	share := func(ctx context.Context, a A) (R, error) {
		var out any
		var err error
		if s, ok := ctx.Value(slotKey{}).(*slot); ok {
			out, err = s.submit(ctx, a)
		} else { // in no batch: a batch of one
			outs, errs := run(ctx, []any{a})
			out, err = outs[0], errs[0]
		}
		r, _ := out.(R)
		return r, err
	}
	mt := task.NewWithOptions(t.Name(), share, task.WithCodec(t.Codec()), task.WithMiddleware(t.Middleware()...))
	member := mt.Func()
	if len(t.Middleware()) == 0 && len(w.defaults) > 0 {
		member = mt.FuncWith(w.defaults...)
	}
	if len(w.around) > 0 {
		member = task.Chain(w.around...)(member)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		panic(configError("RegisterBatch(%q): the worker is running", t.Name()))
	}
	if _, ok := w.batches[t.Name()]; ok {
		panic(configError("RegisterBatch(%q): a batch handler of that name is registered", t.Name()))
	}
	w.batches[t.Name()] = &batchTask{policy: p, member: member, run: run}
}

// callBatch runs fn, turning a panic into every task's failure.
func callBatch[A, R any](fn func(context.Context, []A) ([]R, error), ctx context.Context, args []A) (rs []R, err error) {
	defer func() {
		if v := recover(); v != nil {
			rs, err = nil, task.Recovered(v)
		}
	}()
	return fn(ctx, args)
}

// spread turns a batch handler's return into one result and one error per
// task of n.
func spread[R any](name string, n int, rs []R, err error) ([]any, []error) {
	outs, errs := make([]any, n), make([]error, n)
	be, per := errors.AsType[*BatchError](err)
	switch {
	case per && len(be.Errs) != n:
		err = fmt.Errorf("worker: batch handler of %s returned %d errors for %d tasks", name, len(be.Errs), n)
	case per:
		copy(errs, be.Errs)
		err = nil
	}
	if err == nil && rs != nil && len(rs) != n {
		err = fmt.Errorf("worker: batch handler of %s returned %d results for %d tasks", name, len(rs), n)
	}
	for i := range n {
		switch {
		case err != nil:
			errs[i] = err
		case errs[i] != nil:
		case rs != nil:
			outs[i] = rs[i]
		default:
			var zero R
			outs[i] = zero
		}
	}
	return outs, errs
}

// groupPolicies returns the policies of the worker's batch tasks. w.mu is
// held.
func (w *Worker) groupPolicies() []queue.GroupPolicy {
	var ps []queue.GroupPolicy
	for _, b := range w.batches {
		ps = append(ps, b.policy)
	}
	return ps
}

// collector gathers the arguments of a batch's tasks, as each task's chain
// reaches its share, and calls the batch handler once every task has
// either reached it or returned without (skipped by a middleware, its
// arguments bad): the last to do so calls it.
type collector struct {
	b    *batchTask
	ctx  context.Context // the batch's run
	mu   sync.Mutex
	args []any
	in   []bool // which tasks reached their share
	open int    // tasks that have neither reached it nor returned
	done chan struct{}
	outs []any
	errs []error
}

func newCollector(b *batchTask, ctx context.Context, n int) *collector {
	return &collector{b: b, ctx: ctx, args: make([]any, n), in: make([]bool, n), open: n, done: make(chan struct{}),
		outs: make([]any, n), errs: make([]error, n)}
}

// slot is one task's place in its batch, found in its run's context.
type slot struct {
	c    *collector
	i    int
	used atomic.Bool // it reached its share, or returned
}

type slotKey struct{}

// submit hands a, the task's arguments, to the batch, and returns the
// task's result and error once the handler returned.
func (s *slot) submit(ctx context.Context, a any) (any, error) {
	c := s.c
	if s.used.Swap(true) { // its chain runs it again: alone
		outs, errs := c.b.run(ctx, []any{a})
		return outs[0], errs[0]
	}
	c.mu.Lock()
	c.args[s.i], c.in[s.i] = a, true
	c.open--
	last := c.open == 0
	c.mu.Unlock()
	if last {
		c.runBatch()
	}
	select {
	case <-c.done:
		return c.outs[s.i], c.errs[s.i]
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// left tells the batch that the task's run returned: if it never reached
// its share, the batch waits for it no more.
func (s *slot) left() {
	if s.used.Swap(true) {
		return
	}
	c := s.c
	c.mu.Lock()
	c.open--
	last := c.open == 0
	c.mu.Unlock()
	if last {
		c.runBatch()
	}
}

// runBatch calls the handler with the arguments that came, once.
func (c *collector) runBatch() {
	var idx []int
	var args []any
	for i, in := range c.in {
		if in {
			idx, args = append(idx, i), append(args, c.args[i])
		}
	}
	if len(args) > 0 {
		outs, errs := c.b.run(c.ctx, args)
		for j, i := range idx {
			c.outs[i], c.errs[i] = outs[j], errs[j]
		}
	}
	close(c.done)
}

// executeBatch runs batch delivery d: each of its tasks that has not ended
// through its chain, around one call of the batch handler (or, without
// one, through the task's plain handler), then ends them all and d in one
// FinishBatch.
func (w *Worker) executeBatch(runCtx context.Context, d *queue.Delivery) {
	b := w.batches[d.Task]
	plain, hasPlain := w.tasks[d.Task]
	ev := w.events.on()
	var why *task.Error
	var whyMsg string
	switch {
	case b == nil && !hasPlain:
		why, whyMsg = ErrUnknownTask, fmt.Sprintf("no task %q is registered", d.Task)
	case d.Deliveries > w.maxDeliveries:
		why, whyMsg = ErrTooManyDeliveries, fmt.Sprintf("batch %s handed out %d times without finishing", d.ID, d.Deliveries)
	}
	ctx, cancel, stop := w.startRun(runCtx, d)
	defer cancel(nil)
	if stop == queue.ErrClaimLost { // taken over before it started: another worker's
		if ev {
			w.publish(EventSuperseded, d, nil, nil, stop, 0)
		}
		return
	}
	start := time.Now()
	members, err := w.startBatch(runCtx, d, start)
	if err != nil {
		return // d stays claimed: it runs again once recovered
	}
	n := len(members)
	mds := make([]*queue.Delivery, n)
	outcomes, errs := make([]queue.Outcome, n), make([]error, n)
	runs := make([]*run, n)
	var c *collector
	if b != nil {
		c = newCollector(b, ctx, n)
	}
	for i, m := range members {
		mds[i] = &queue.Delivery{Message: *m, Receipt: d.Receipt, Deliveries: d.Deliveries}
		md := mds[i]
		md.Attempt = max(m.Attempt, 1)
		if ev && d.Deliveries > 1 {
			w.publish(EventTakenOver, md, nil, nil, nil, 0)
		}
		switch {
		case m.Attempt < 1: // the queue could not read it (see queue.Batches.StartBatch)
			outcomes[i], errs[i] = deadOutcome(md, queue.ErrBadMessage, "the queue could not read the task's message")
		case why != nil:
			outcomes[i], errs[i] = deadOutcome(md, why, whyMsg)
		default:
			runs[i] = w.memberRun(ctx, md, c, i)
			if ev {
				w.publish(EventStarted, md, nil, &runs[i].inv, nil, 0)
			}
		}
		if runs[i] == nil && c != nil {
			c.open-- // not run: the batch waits for the others only
		}
	}
	// Each task's result goes through its own chain (its StoreResult),
	// not to the queue: a batch is never a workflow step.
	if b != nil {
		if c.open == 0 {
			close(c.done)
		}
		var wg sync.WaitGroup
		for i, r := range runs {
			if r != nil {
				wg.Go(func() {
					_, errs[i] = call(b.member, &r.ctx, &r.inv)
					r.ctx.Value(slotKey{}).(*slot).left()
				})
			}
		}
		wg.Wait()
	} else {
		for i, r := range runs {
			if r != nil {
				_, errs[i] = call(plain, &r.ctx, &r.inv)
			}
		}
	}
	took := time.Since(start)
	for i, r := range runs {
		if r != nil {
			outcomes[i], errs[i] = w.runEnd(ctx, mds[i], &r.inv, &r.final, errs[i])
			outcomes[i].Worker, outcomes[i].StartedAt = w.consumer, start
			outcomes[i].Final = &r.final
		}
	}
	cancel(nil)
	ferr := w.endBatch(runCtx, d, members, outcomes)
	if !ev {
		return
	}
	for i, md := range mds {
		var inv *task.Invocation
		if runs[i] != nil {
			inv = &runs[i].inv
		}
		switch {
		case ferr == nil:
			w.publishEnd(md, &outcomes[i], inv, errs[i], took)
		case errors.Is(ferr, queue.ErrSuperseded):
			err := ferr
			if errors.Is(errs[i], queue.ErrClaimLost) { // the worker knew before the run ended
				err = errs[i]
			}
			w.publish(EventSuperseded, md, nil, inv, err, took)
		}
	}
}

// memberRun makes the run of md, the i-th task of a batch whose
// arguments c gathers (nil: run alone), under the batch's ctx.
func (w *Worker) memberRun(ctx context.Context, md *queue.Delivery, c *collector, i int) *run {
	r := &run{w: w, d: md, inv: task.Invocation{ID: md.ID, Name: md.Task, Queue: md.Queue, Payload: md.Payload,
		EnqueuedAt: md.EnqueuedAt, ExpiresAt: md.ExpiresAt, Attempt: max(md.Attempt, 1), Headers: md.Headers,
		CanRequeue: true}}
	if md.LastKind != "" || md.LastError != "" {
		r.inv.LastErr = &task.Failure{Kind: md.LastKind, Message: md.LastError}
	}
	r.final.Releases, r.final.Results = r.releases[:0], r.results[:0]
	r.inv.Final, r.inv.Locks = &r.final, r.locks[:0]
	if c != nil {
		ctx = context.WithValue(ctx, slotKey{}, &slot{c: c, i: i})
	}
	r.ctx = runctx.Context[*task.Invocation]{Context: ctx, Inv: &r.inv}
	return r
}

// startBatch starts d's tasks (Batches.StartBatch), trying again while the
// backend is unavailable, as end does.
func (w *Worker) startBatch(runCtx context.Context, d *queue.Delivery, at time.Time) ([]*queue.Message, error) {
	pause := backoff.New(50*time.Millisecond, time.Second)
	deadline := time.Now().Add(w.visibility)
	for {
		ms, err := w.queue.StartBatch(w.finishCtx, d, w.consumer, at)
		if err == nil {
			return ms, nil
		}
		if !errors.Is(err, task.ErrUnavailable) || time.Now().After(deadline) || runCtx.Err() != nil {
			w.onError(err)
			return nil, err
		}
		_ = backoff.Sleep(runCtx, pause.Next())
	}
}

// endBatch ends d's tasks and d (Batches.FinishBatch), as end ends a
// delivery.
func (w *Worker) endBatch(runCtx context.Context, d *queue.Delivery, members []*queue.Message, outcomes []queue.Outcome) error {
	pause := backoff.New(50*time.Millisecond, time.Second)
	deadline := time.Now().Add(w.visibility)
	for {
		err := w.queue.FinishBatch(w.finishCtx, d, members, outcomes)
		if err == nil || errors.Is(err, queue.ErrSuperseded) {
			return err
		}
		if !errors.Is(err, task.ErrUnavailable) || time.Now().After(deadline) || runCtx.Err() != nil {
			w.onError(err)
			return err
		}
		_ = backoff.Sleep(runCtx, pause.Next())
	}
}

// handBackBatch gives batch d, taken and not started at a stop, back: its
// tasks go back to their groups at once, to make a new batch.
func (w *Worker) handBackBatch(runCtx context.Context, d *queue.Delivery) {
	w.mu.Lock()
	f := w.inflight[d]
	lost := f != nil && f.lost
	w.mu.Unlock()
	if lost {
		return // another worker's now
	}
	members, err := w.startBatch(runCtx, d, time.Now())
	if err != nil {
		return
	}
	outcomes := make([]queue.Outcome, len(members))
	for i, m := range members {
		outcomes[i] = queue.Outcome{Status: queue.Scheduled, RunAt: time.Now(), Attempt: max(m.Attempt, 1)}
	}
	if w.endBatch(runCtx, d, members, outcomes) != nil || !w.events.on() {
		return
	}
	for i, m := range members {
		w.publish(EventHandedBack, &queue.Delivery{Message: *m}, &outcomes[i], nil, nil, 0)
	}
}
