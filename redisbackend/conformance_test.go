package redisbackend_test

import (
	"testing"
	"time"

	"github.com/taskware/taskware/queue/queuetest"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// The Redis queue keeps every promise of queue.Queue, on miniredis and on
// a real Redis.
func TestConformance(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		// The state TTL is not the default, so that the suite sees the
		// option honoured; a real Redis's clock cannot move, so the suite
		// waits it out there.
		stateTTL := 90 * time.Minute
		if name == "redis" {
			stateTTL = 3 * time.Second
		}
		queuetest.Run(t, func(t *testing.T) queuetest.Backend {
			kb := taskwaretest.New(t, name)
			b := redisbackend.New(kb.Client, redisbackend.Prefix(kb.Prefix()), redisbackend.StateTTL(stateTTL))
			qb := queuetest.Backend{Queue: b.Queue(), Store: b.Store(), Locker: b.Locker(), StateTTL: stateTTL}
			if !kb.Real {
				qb.Advance = kb.Advance
			}
			return qb
		})
	})
}
