package memorybackend_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue/queuetest"
)

// clock is the backend's clock, which the suites move.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// stateTTL is the memory queue's state TTL under the suite: not the
// default, so that the suite sees the option honoured.
const stateTTL = 90 * time.Minute

// newBackend returns a fresh memory backend on a clock of its own.
func newBackend(opts ...memorybackend.Option) (*memorybackend.Backend, *clock) {
	c := &clock{}
	return memorybackend.New(append([]memorybackend.Option{memorybackend.Clock(c.Now)}, opts...)...), c
}

// The memory queue keeps every promise of queue.Queue.
func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Backend {
		b, c := newBackend(memorybackend.StateTTL(stateTTL))
		return queuetest.Backend{Queue: b.Queue(), Store: b.Store(), Locker: b.Locker(), StateTTL: stateTTL, Advance: c.Advance}
	})
}
