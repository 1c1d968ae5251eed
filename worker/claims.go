package worker

import (
	"context"
	"time"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/queue"
)

// flight is what the worker knows of a delivery it holds: whether it was
// canceled or its claim lost, when its claim was last renewed, how to
// cancel its run once started, and whether the run parked.
type flight struct {
	canceled, lost, parked bool
	claimed                time.Time               // when the claim was last taken or renewed (sent)
	cancel                 context.CancelCauseFunc // of the run, once it started
}

// startRun returns the context of d's run, to be cancelled by a Cancel or
// a lost claim, or the reason d must not run: queue.ErrCanceled (canceled
// before it started) or queue.ErrClaimLost (taken over by another
// worker). A claim not renewed for half the visibility timeout (the worker
// was cut off from its queue) may have been taken over: it is asked
// about first, for as long as the queue is out of reach.
func (w *Worker) startRun(runCtx context.Context, d *queue.Delivery) (context.Context, context.CancelCauseFunc, error) {
	ctx, cancel := context.WithCancelCause(runCtx)
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.inflight[d]
	if f == nil {
		return ctx, cancel, nil
	}
	if !f.canceled && !f.lost && time.Since(f.claimed) >= w.visibility/2 {
		w.mu.Unlock()
		w.confirmClaim(runCtx, d)
		w.mu.Lock()
	}
	switch {
	case f.canceled:
		cancel(queue.ErrCanceled)
		return ctx, cancel, queue.ErrCanceled
	case f.lost:
		cancel(queue.ErrClaimLost)
		return ctx, cancel, queue.ErrClaimLost
	}
	f.cancel = cancel
	return ctx, cancel, nil
}

// confirmClaim renews d's claim, and learns whether it was lost, trying
// again while the queue is unavailable, until runCtx ends.
func (w *Worker) confirmClaim(runCtx context.Context, d *queue.Delivery) {
	pause := backoff.New(50*time.Millisecond, time.Second)
	ds := []*queue.Delivery{d}
	for runCtx.Err() == nil {
		at := time.Now()
		lost, err := w.queue.Extend(runCtx, d.Queue, w.consumer, ds)
		if err == nil {
			w.renewed(at, ds, lost)
			return
		}
		_ = backoff.Sleep(runCtx, pause.Next())
	}
}

// extendAll renews the claims of the deliveries held, one call per queue
// (the partitions of a split queue in one: Extend routes each delivery by
// its own Queue), and stops or drops those whose claim was lost.
func (w *Worker) extendAll(ctx context.Context) {
	byQueue := make(map[string][]*queue.Delivery)
	w.mu.Lock()
	for d := range w.inflight {
		q, _ := queue.SplitPartition(d.Queue)
		byQueue[q] = append(byQueue[q], d)
	}
	w.mu.Unlock()
	for q, ds := range byQueue {
		at := time.Now()
		lost, err := w.queue.Extend(ctx, q, w.consumer, ds)
		if err != nil {
			if ctx.Err() == nil {
				w.onError(err)
			}
			continue
		}
		w.renewed(at, ds, lost)
	}
}

// renewed notes that the claims of ds were renewed at at, but for those
// lost: a run of one of those is cancelled with cause queue.ErrClaimLost,
// and one not started never starts. (A delivery this worker has just
// finished is lost too; its run is over, so nothing changes.)
func (w *Worker) renewed(at time.Time, ds, lost []*queue.Delivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range ds {
		if f := w.inflight[d]; f != nil {
			f.claimed = at
		}
	}
	for _, d := range lost {
		if f := w.inflight[d]; f != nil && !f.lost {
			f.lost = true
			if f.cancel != nil {
				f.cancel(queue.ErrClaimLost)
			}
		}
	}
}
