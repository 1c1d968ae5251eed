package queuetest_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue/queuetest"
)

// clock is a backend's clock that a test moves.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// newMemory makes a fresh memory backend for one promise: on a clock the
// suite moves, with a state TTL of its own.
func newMemory(t *testing.T) queuetest.Backend {
	const stateTTL = 90 * time.Minute
	c := &clock{}
	b := memorybackend.New(memorybackend.Clock(c.Now), memorybackend.StateTTL(stateTTL))
	return queuetest.Backend{Queue: b.Queue(), Store: b.Store(), Locker: b.Locker(), StateTTL: stateTTL, Advance: c.Advance}
}

// conformance is a backend's conformance test: call it from a Test
// function of the backend's package.
func conformance(t *testing.T) { queuetest.Run(t, newMemory) }

// A backend's test hands Run a function that makes it fresh; each promise
// of the contract is then a subtest of its own, named as Names lists them.
func Example() {
	_ = conformance // func TestConformance(t *testing.T) { conformance(t) }
	for _, name := range queuetest.Names() {
		if strings.HasPrefix(name, "Finish/") {
			fmt.Println(name)
		}
	}
	// Output:
	// Finish/Outcomes
	// Finish/NotAnOutcome
	// Finish/Retry
	// Finish/OthersFirst
	// Finish/FinalWrites/Succeeded
	// Finish/FinalWrites/Failed
	// Finish/FinalWrites/Skipped
	// Finish/FinalWrites/Dead
	// Finish/FinalWrites/Canceled
	// Finish/FinalWrites/Retry
	// Finish/FinalWrites/Reschedule
	// Finish/RetryKeepsFailureRecord
}
