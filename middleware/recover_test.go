package middleware_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
)

func TestRecover(t *testing.T) {
	boom := func(ctx context.Context, inv *task.Invocation) (any, error) { panic("boom") }
	_, err := middleware.Recover()(boom)(context.Background(), &task.Invocation{})
	var pe *task.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" || !strings.Contains(string(pe.Stack), "recover_test.go") || task.KindOf(err) != "task.panic" {
		t.Fatalf("%v", err)
	}
}
