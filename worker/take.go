package worker

import (
	"context"
	"time"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/queue"
)

// takeLoop fills free slots with new tasks until ctx ends, over the
// queues by their weights (or strictly in order: StrictPriority). A take
// asks for the free slots and as many more as ended since the last take
// (or half as many as the last take asked for, if more), up to Prefetch,
// at least one: while tasks end fast, enough to hide a round trip; while
// they end slowly, next to nothing, so that a burst spreads over the
// workers instead of going to the first that takes.
func (w *Worker) takeLoop(ctx context.Context, s *slots, dispatch func([]*queue.Delivery)) {
	pause := backoff.New(100*time.Millisecond, 5*time.Second)
	turns := newTurns(w.weights)
	wait := w.pollWait
	if len(w.queues) > 1 {
		wait /= time.Duration(len(w.queues))
	}
	var seen int64 // of s.ended, at the last take
	ahead := 1     // asked for beyond the free slots, at the last take
	for ctx.Err() == nil {
		ended := s.ended.Load()
		// Half as many as the last take's at least: it decays while
		// fewer end, as when the worker idles.
		more := min(w.prefetch, max(1, int(ended-seen), ahead/2))
		n := w.concurrency + more - int(s.held.Load())
		if n <= 0 {
			select {
			case <-s.wake:
			case <-ctx.Done():
			}
			continue
		}
		seen, ahead = ended, more
		s.held.Add(int64(n))
		var ds []*queue.Delivery
		var err error
		if w.strict {
			ds, err = w.takeStrict(ctx, n, wait)
		} else {
			ds, err = w.takeWeighted(ctx, turns, n, wait)
		}
		s.held.Add(int64(len(ds) - n))
		dispatch(ds) // those taken before an error too
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.onError(err)
			_ = backoff.Sleep(ctx, pause.Next())
			continue
		}
		pause.Reset()
	}
}

// takeWeighted takes up to n tasks over the queues by their weights: the
// next n turns of the weighted round robin say how many from each, so
// that weights hold per task taken, whatever the size of a take. If none
// of those queues has a task, it waits on the queue of the next turn for
// up to wait.
func (w *Worker) takeWeighted(ctx context.Context, t *turns, n int, wait time.Duration) ([]*queue.Delivery, error) {
	if len(w.queues) == 1 {
		return w.queue.Take(ctx, w.queues[0], w.consumer, n, wait)
	}
	var ds []*queue.Delivery
	for i, want := range t.next(n) {
		if want == 0 {
			continue
		}
		got, err := w.queue.Take(ctx, w.queues[i], w.consumer, want, 0)
		ds = append(ds, got...)
		if err != nil {
			return ds, err
		}
	}
	if len(ds) > 0 {
		return ds, nil
	}
	return w.queue.Take(ctx, w.queues[t.peek()], w.consumer, n, wait)
}

// takeStrict takes up to n tasks from the first queue that has any, in
// order; if none has, it waits on the first for up to wait.
func (w *Worker) takeStrict(ctx context.Context, n int, wait time.Duration) ([]*queue.Delivery, error) {
	if len(w.queues) > 1 {
		for _, q := range w.queues {
			ds, err := w.queue.Take(ctx, q, w.consumer, n, 0)
			if err != nil || len(ds) > 0 {
				return ds, err
			}
		}
	}
	return w.queue.Take(ctx, w.queues[0], w.consumer, n, wait)
}
