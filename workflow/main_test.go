package workflow_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// worker's loops, a waiting WaitWorkflow.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
