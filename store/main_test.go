package store_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// waiter's timer, the shared Pub/Sub subscription, or go-redis's reader of it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
