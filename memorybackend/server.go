package memorybackend

import (
	"context"
	"fmt"

	"github.com/taskware/taskware/queue"
)

// ServerInfo implements queue.Server: the memory backend has no server.
func (q *Queue) ServerInfo(context.Context) (*queue.ServerInfo, error) {
	return nil, fmt.Errorf("memorybackend: server info: it runs in-process: %w", queue.ErrNotSupported)
}
