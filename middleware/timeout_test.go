package middleware_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
)

func TestTimeout(t *testing.T) {
	slow := func(ctx context.Context, inv *task.Invocation) (any, error) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Second):
			return "late", nil
		}
	}
	start := time.Now()
	_, err := middleware.Timeout(20*time.Millisecond)(slow)(context.Background(), &task.Invocation{})
	if !errors.Is(err, context.DeadlineExceeded) || task.KindOf(err) != task.KindTimeout || time.Since(start) > time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
	if res, err := middleware.Timeout(time.Second)(returns("quick", nil))(context.Background(), &task.Invocation{}); res != "quick" || err != nil {
		t.Fatalf("%v, %v", res, err)
	}
}
