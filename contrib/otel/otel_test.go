package taskotel_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

func TestTraceMemory(t *testing.T) {
	b := memorybackend.New()
	scenario(t, b.Queue(), b.Locker())
}

// On Redis, the trace context travels in the stream entry's headers.
func TestTraceMiniredis(t *testing.T) {
	b := taskwaretest.NewMiniredis(t) // a miniredis of t's own
	scenario(t, b.Queue, b.Locker)
}

func TestTraceRedis(t *testing.T) {
	c, _ := taskwaretest.Redis(t) // closed when t ends, after the cleanups below
	prefix := fmt.Sprintf("tw-otel-%s:%d:", strings.ReplaceAll(t.Name(), "/", "_"), os.Getpid())
	// Cleanups run last first: this one runs once the worker has stopped.
	t.Cleanup(func() { taskwaretest.DeletePrefix(t, c, prefix) })
	b := redisbackend.New(c, redisbackend.Prefix(prefix))
	scenario(t, b.Queue(), b.Locker())
}
