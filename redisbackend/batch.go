package redisbackend

import (
	"context"
	"sync"
)

// maxBatch caps the callers whose commands share one pipeline.
const maxBatch = 256

// maxInFlight caps the pipelines in flight at once: Redis works on one
// while the client reads the replies of the other and writes the next.
// (Measured: 2 keeps the end-to-end drain's batches large; 4 gains lock
// pairs some 15% but costs the drain round trips and Redis CPU.)
const maxInFlight = 2

// batcher sends the hot commands of concurrent callers (acquires,
// releases, refreshes, finishes) in shared pipelines: a group commit. A
// caller that finds fewer than maxInFlight pipelines in flight, and nobody
// waiting, sends its commands at once, on its own goroutine; callers that
// come meanwhile join the next batch, which goes out as soon as a pipeline
// lands. So a command waits at most about one round trip for company, an
// idle backend adds no delay at all, and under load many tasks' writes
// share one write and one read of the connection, for the client and for
// Redis alike.
//
// Each caller reads its own commands' replies: one command's failure marks
// no other caller's.
type batcher struct {
	b *Backend

	mu       sync.Mutex
	inFlight int      // pipelines in flight
	pending  []*batch // waiting for one to land, oldest first
}

// batch is the commands of several callers, to send in one pipeline.
type batch struct {
	calls [][]op // each caller's ops, its own slice: a NOSCRIPT retry replaces its cmd there
	n     int
	done  chan struct{} // closed once every command has its reply
}

// do sends ops, in a pipeline shared with other callers if others are
// sending, and returns once they have their replies: read them from each
// op's cmd. If ctx ends first, do returns its error, and the commands may
// still run.
func (bt *batcher) do(ctx context.Context, ops []op) error {
	bt.mu.Lock()
	if bt.inFlight < maxInFlight && len(bt.pending) == 0 {
		bt.inFlight++
		bt.mu.Unlock()
		bt.b.exec(ctx, ops)
		bt.next()
		return nil
	}
	var cur *batch
	if n := len(bt.pending); n > 0 && bt.pending[n-1].n < maxBatch {
		cur = bt.pending[n-1]
	} else {
		cur = &batch{done: make(chan struct{})}
		bt.pending = append(bt.pending, cur)
	}
	cur.calls = append(cur.calls, ops)
	cur.n++
	bt.mu.Unlock()
	select {
	case <-cur.done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// post sends ops as do does, without waiting for their replies: for
// writes whose outcome nobody needs (a task's start). Nobody reads their
// replies; a post that fails is lost.
func (bt *batcher) post(ops []op) {
	bt.mu.Lock()
	if n := len(bt.pending); n > 0 && bt.pending[n-1].n < maxBatch {
		cur := bt.pending[n-1]
		cur.calls = append(cur.calls, ops)
		cur.n++
	} else {
		bt.pending = append(bt.pending, &batch{calls: [][]op{ops}, n: 1, done: make(chan struct{})})
	}
	if bt.inFlight < maxInFlight {
		bt.inFlight++
		bt.mu.Unlock()
		go bt.flush()
		return
	}
	bt.mu.Unlock()
}

// next hands what waits to a goroutine that sends it, batch after batch,
// or marks one pipeline fewer in flight.
func (bt *batcher) next() {
	bt.mu.Lock()
	if len(bt.pending) == 0 {
		bt.inFlight--
		bt.mu.Unlock()
		return
	}
	bt.mu.Unlock()
	go bt.flush()
}

// flush sends the waiting batches in turn until none is left.
func (bt *batcher) flush() {
	for {
		bt.mu.Lock()
		if len(bt.pending) == 0 {
			bt.inFlight--
			bt.mu.Unlock()
			return
		}
		cur := bt.pending[0]
		bt.pending[0] = nil
		bt.pending = bt.pending[1:]
		bt.mu.Unlock()
		bt.b.execAll(context.Background(), cur.calls)
		close(cur.done)
	}
}
