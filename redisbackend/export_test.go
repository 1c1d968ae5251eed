package redisbackend

import (
	"context"

	"github.com/taskware/taskware/queue"
)

// ServerInfoWithin is ServerInfo with a scan budget of budget keys.
func ServerInfoWithin(ctx context.Context, q *Queue, budget int64) (*queue.ServerInfo, error) {
	return q.serverInfo(ctx, budget)
}
