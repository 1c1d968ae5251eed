package worker_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// waiting Take or Wait, the shared Pub/Sub subscription, or a worker's loops.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
