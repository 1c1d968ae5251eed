package e2e

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: the
// browser's (chromedp's reader of its pipe, its event loop), the worker's,
// the HTTP server's. None is ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
