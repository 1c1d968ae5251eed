package redisbackend_test

import (
	"testing"
	"time"

	"github.com/taskware/taskware/queue/queuetest"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// The Redis queue keeps every promise of queue.Queue, on miniredis and on
// a real Redis (skipped without one, unless TASKWARE_REQUIRE_REDIS=1).
func TestConformance(t *testing.T) {
	for _, kit := range []struct {
		name string
		// stateTTL is not the default, so that the suite sees the option
		// honoured; a real Redis's clock cannot move, so the suite waits
		// it out there.
		stateTTL time.Duration
	}{
		{"miniredis", 90 * time.Minute},
		{"redis", 3 * time.Second},
	} {
		t.Run(kit.name, func(t *testing.T) {
			if kit.name == "redis" {
				taskwaretest.Redis(t) // skip, or fail, at once without one
			}
			queuetest.Run(t, func(t *testing.T) queuetest.Backend {
				kb := taskwaretest.New(t, kit.name)
				b := redisbackend.New(kb.Client, redisbackend.WithPrefix(kb.Prefix()), redisbackend.WithStateTTL(kit.stateTTL))
				qb := queuetest.Backend{Queue: b.Queue(), Store: b.Store(), Locker: b.Locker(), StateTTL: kit.stateTTL}
				if !kb.Real {
					qb.Advance = kb.Advance
				}
				return qb
			})
		})
	}
}
