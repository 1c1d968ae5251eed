package redisbackend

import (
	"context"
	"time"

	"github.com/taskware/taskware/internal/backoff"

	"github.com/taskware/taskware/queue"
)

// ServerInfoWithin is ServerInfo with a scan budget of budget keys.
func ServerInfoWithin(ctx context.Context, q *Queue, budget int64) (*queue.ServerInfo, error) {
	return q.serverInfo(ctx, budget)
}

// RecheckEvery sets how often b's waiters check again in case a notice
// was lost: a test sets it long to see that a notice alone wakes them.
func RecheckEvery(b *Backend, d time.Duration) { b.hub.recheck = backoff.Policy{Min: d, Max: d} }
