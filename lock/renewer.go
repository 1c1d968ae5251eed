package lock

import (
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// linger is how long a renewer's goroutine outlives its last hold, so that
// holds taken one after another share it instead of starting one each.
const linger = 50 * time.Millisecond

// maxConcurrentRenewals bounds the refreshes a renewer has in flight.
const maxConcurrentRenewals = 16

// renewer renews a Guard's holds from one goroutine, which runs while the
// Guard has holds open, and a little longer. A hold then costs no timer of
// its own: it is an entry in a set, checked every quarter renewal interval
// (or quarter TTL, without renewal). A lease is so refreshed between one
// and one and a quarter intervals after the last refresh.
type renewer struct {
	guard *Guard
	kick  chan struct{} // wakes the goroutine from a long sleep

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
		r.renewAll(due, time.Now())
		clear(due)
		timer.Reset(r.tick())
	}
}

// renewAll renews the holds in due, several at once, so that one slow
// refresh does not hold up the others past their TTL.
func (r *renewer) renewAll(due []*Hold, now time.Time) {
	var g errgroup.Group
	g.SetLimit(maxConcurrentRenewals)
	for _, h := range due {
		if h.due(now) {
			g.Go(func() error { h.renew(now); return nil })
		}
	}
	_ = g.Wait()
}
