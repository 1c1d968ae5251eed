package faults_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// Holders on connections of their own contend for one lock while their
// connections stall, some for longer than the TTL. A stalled holder's
// refresh hangs, so its lease runs out on the server and another takes the
// lock: its context must be done by then. Every acquire checks that no
// other holder inside still has a live context: that would be two at work
// under one lock.
func TestFaultLockOverlapUnderStalls(t *testing.T) {
	direct, prefix := taskwaretest.Redis(t)
	const holders, wantRuns = 4, 200
	ttl := 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	type inside struct {
		ctx context.Context
		who int
	}
	var (
		mu                   sync.Mutex
		in                   []inside
		runs, overlaps, lost atomic.Int64
		stalls               atomic.Int64
		proxies              []*taskwaretest.Proxy
		wg                   sync.WaitGroup
	)
	for who := range holders {
		p := taskwaretest.NewProxy(t, direct.Options().Addr)
		proxies = append(proxies, p)
		locker := redisbackend.New(through(t, direct, p), redisbackend.Prefix(prefix)).Locker()
		g, err := lock.NewGuard(locker, lock.TTL(ttl), lock.Wait(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for ctx.Err() == nil && runs.Load() < wantRuns {
				err := g.Do(ctx, "k", func(hctx context.Context) error {
					mu.Lock()
					for _, o := range in {
						if o.ctx.Err() == nil {
							overlaps.Add(1)
							t.Errorf("holder %d took the lock while holder %d's context was live", who, o.who)
						}
					}
					in = append(in, inside{hctx, who})
					mu.Unlock()
					runs.Add(1)
					defer func() {
						mu.Lock()
						for i, o := range in {
							if o.ctx == hctx {
								in = append(in[:i], in[i+1:]...)
								break
							}
						}
						mu.Unlock()
					}()
					// Work in small steps that heed the context: mostly for
					// 10-40ms, one run in eight for two TTLs, which needs renewal.
					work := time.Duration(10+rand.IntN(30)) * time.Millisecond
					if rand.IntN(8) == 0 {
						work = 2 * ttl
					}
					until := time.Now().Add(work)
					for time.Now().Before(until) {
						select {
						case <-hctx.Done():
							return context.Cause(hctx)
						case <-time.After(2 * time.Millisecond):
						}
					}
					return nil
				})
				if errors.Is(err, lock.ErrLeaseLost) {
					lost.Add(1)
				}
			}
		})
	}
	// Chaos: now and then, stall the connection of the holder inside, for
	// half a TTL to two TTLs: its refresh hangs, and its lease may run out.
	wg.Go(func() {
		for ctx.Err() == nil && runs.Load() < wantRuns {
			time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
			mu.Lock()
			who := -1
			if len(in) > 0 {
				who = in[0].who
			}
			mu.Unlock()
			if who >= 0 {
				proxies[who].StallFor(ttl/2 + time.Duration(rand.Int64N(int64(3*ttl/2))))
				stalls.Add(1)
			}
		}
	})
	wg.Wait()
	for _, p := range proxies {
		p.Resume()
	}
	if runs.Load() < wantRuns {
		t.Fatalf("only %d runs before the deadline, want %d", runs.Load(), wantRuns)
	}
	figure(t, "lock overlaps under stalls", "%d overlaps in %d contended runs (%d holders, TTL %v, %d stalls, %d leases lost to them); "+
		"no acquire returned while another holder's context was live", overlaps.Load(), runs.Load(), holders, ttl, stalls.Load(), lost.Load())
	if overlaps.Load() != 0 {
		t.Fatalf("%d overlaps", overlaps.Load())
	}
	if lost.Load() == 0 {
		t.Fatalf("no lease was lost to a stall: the faults did not bite")
	}
}
