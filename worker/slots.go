package worker

import (
	"sync/atomic"

	"github.com/taskware/taskware/task"
)

// maxParked bounds the runs a worker keeps parked; beyond it, a run that
// would park waits in its slot. Each costs a goroutine and a claim to
// extend, not a slot.
const maxParked = 1000

// slots count what a worker holds: its deliveries, running or
// prefetched, and of those the ones running.
type slots struct {
	running chan struct{} // one per running delivery, up to Concurrency
	held    atomic.Int64  // deliveries held, up to Concurrency and Prefetch
	ended   atomic.Int64  // deliveries let go, ever
	wake    chan struct{} // told when one is let go
}

func newSlots(concurrency int) *slots {
	return &slots{running: make(chan struct{}, concurrency), wake: make(chan struct{}, 1)}
}

// free lets go of a running delivery.
func (s *slots) free() {
	<-s.running
	s.release(1)
}

// release lets go of n deliveries held.
func (s *slots) release(n int64) {
	s.held.Add(-n)
	s.ended.Add(n)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Park implements task.Parker.
func (r *run) Park() { r.w.park(r) }

// park is Invocation.Park for r's run of d: it gives back d's slots, so
// that the worker takes and starts other tasks while r waits on another
// run. d stays tracked, so its claim is extended and a Cancel reaches it.
// At a stop, a parked run is abandoned at once, to be handed back, rather
// than keep the stop waiting for the run it waits on.
func (w *Worker) park(r *run) {
	w.mu.Lock()
	f := w.inflight[r.d]
	if f == nil || w.parked >= maxParked || !r.state.CompareAndSwap(runRunning, runParked) {
		w.mu.Unlock()
		return
	}
	f.parked = true
	w.parked++
	if w.stopping && f.cancel != nil {
		f.cancel(task.ErrAbandoned)
	}
	w.mu.Unlock()
	w.runner() // in this run's runner's place, which the run keeps
	r.slots.free()
}

// handBackParked abandons the parked runs, once Run's ctx has ended: they
// go back to their queue at once, for a worker that stays.
func (w *Worker) handBackParked() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopping = true
	for _, f := range w.inflight {
		if f.parked && f.cancel != nil {
			f.cancel(task.ErrAbandoned)
		}
	}
}
