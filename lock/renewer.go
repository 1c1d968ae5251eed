package lock

import (
	"sync"
	"time"
)

// linger is how long a renewer's goroutine outlives its last hold, so that
// holds taken one after another share it instead of starting one each.
const linger = 50 * time.Millisecond

// maxConcurrentRenewals bounds the refreshes a renewer has in flight.
const maxConcurrentRenewals = 16

// renewer looks after a Guard's holds from one goroutine, which runs while
// the Guard has holds open, and a little longer. A hold then costs no timer
// of its own: it is an entry in a set. The goroutine wakes every quarter
// renewal interval (or quarter TTL, without renewal), or sooner at the end
// of a hold's validity, gives up the holds whose validity has ended, and
// starts the refreshes that are due. It never waits for a refresh: each
// runs on a goroutine of its own, so one stalled refresh holds up neither
// the others nor the end of a lease's validity.
type renewer struct {
	guard *Guard
	kick  chan struct{} // wakes the goroutine from a long sleep
	slots chan struct{} // a token per refresh in flight

	mu      sync.Mutex
	holds   map[*Hold]struct{}
	running bool
	adds    uint64 // holds added so far, to tell a quiet period
	dozing  bool   // the goroutine sleeps a whole tick: kick it when idle
	due     []*Hold
}

func (r *renewer) tick() time.Duration {
	if r.guard.renew > 0 {
		return max(r.guard.renew/4, time.Millisecond)
	}
	return max(r.guard.ttl/4, time.Millisecond)
}

func (r *renewer) add(h *Hold) {
	r.mu.Lock()
	r.holds[h] = struct{}{}
	r.adds++
	if !r.running {
		r.running, r.dozing = true, true
		go r.run()
	}
	r.mu.Unlock()
}

func (r *renewer) remove(h *Hold) {
	r.mu.Lock()
	delete(r.holds, h)
	if len(r.holds) == 0 && r.dozing {
		r.dozing = false
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	r.mu.Unlock()
}

func (r *renewer) run() {
	timer := time.NewTimer(r.tick())
	defer timer.Stop()
	seen := ^uint64(0)
	for {
		select {
		case <-timer.C:
		case <-r.kick:
		}
		r.mu.Lock()
		if len(r.holds) == 0 {
			if r.adds == seen { // no hold for a whole linger: stop
				r.running, r.dozing = false, false
				r.mu.Unlock()
				return
			}
			seen = r.adds
			r.dozing = false
			r.mu.Unlock()
			timer.Reset(linger)
			continue
		}
		seen = r.adds
		r.dozing = true
		due := r.due[:0]
		for h := range r.holds {
			due = append(due, h)
		}
		r.due = due
		r.mu.Unlock()
		now := time.Now()
		next := now.Add(r.tick())
		for _, h := range due {
			if at := h.service(now, r.start); !at.IsZero() && at.Before(next) {
				next = at
			}
		}
		clear(due)
		timer.Reset(max(time.Until(next), 0))
	}
}

// start runs h's refresh on a goroutine of its own, if fewer than
// maxConcurrentRenewals are in flight; it reports whether it did.
func (r *renewer) start(h *Hold) bool {
	select {
	case r.slots <- struct{}{}:
	default:
		return false
	}
	go func() {
		defer func() { <-r.slots }()
		h.refresh()
	}()
	return true
}
