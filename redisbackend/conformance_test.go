package redisbackend_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/randid"
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

// A queue split into 3 partitions keeps every promise of queue.Queue, on
// miniredis, a real Redis and a Cluster of three masters: the suite is
// told so (Partitioned), and checks the order of one OrderKey where it
// checks a queue's order.
func TestConformancePartitioned(t *testing.T) {
	const parts = 3
	for _, name := range []string{"miniredis", "redis", "cluster"} {
		t.Run(name, func(t *testing.T) {
			stateTTL := 90 * time.Minute
			var cluster *redis.ClusterClient
			switch name {
			case "redis":
				taskwaretest.Redis(t) // skips t without a Redis
				stateTTL = 3 * time.Second
			case "cluster": // one for the whole suite, a prefix per promise
				cluster = taskwaretest.Cluster(t)
				stateTTL = 3 * time.Second
			}
			queuetest.Run(t, func(t *testing.T) queuetest.Backend {
				var client redis.UniversalClient
				var prefix string
				var advance func(time.Duration)
				if cluster != nil {
					client, prefix = cluster, "taskware-test:"+randid.New()[:8]+":"
					t.Cleanup(func() { taskwaretest.DeletePrefix(t, cluster, prefix) })
				} else {
					kb := taskwaretest.NewPartitioned(t, name, parts)
					client, prefix = kb.Client, kb.Prefix()
					if !kb.Real {
						advance = kb.Advance
					}
				}
				b := redisbackend.New(client, redisbackend.Prefix(prefix), redisbackend.StateTTL(stateTTL), redisbackend.DefaultPartitions(parts))
				return queuetest.Backend{Queue: b.Queue(), Store: b.Store(), Locker: b.Locker(), StateTTL: stateTTL,
					Advance: advance, Partitioned: true, SingleQueueWorkflows: cluster != nil}
			})
		})
	}
}
