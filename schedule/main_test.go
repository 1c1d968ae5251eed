package schedule_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// scheduler's Run, a worker's loops.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
