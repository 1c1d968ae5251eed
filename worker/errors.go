package worker

import (
	"fmt"

	"github.com/taskware/taskware/task"
)

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: worker: %s", task.ErrInvalidConfig, fmt.Sprintf(format, args...))
}

var (
	// ErrNotReady is what Handle.TryGet returns while the task has no
	// outcome yet.
	ErrNotReady = task.NewError("worker.not_ready", "worker: no outcome yet")
	// ErrUnknownTask is the reason a task is dead-lettered when no task of
	// its name is registered with the worker that took it.
	ErrUnknownTask = task.NewError("worker.unknown_task", "worker: no task of that name is registered")
	// ErrTooManyDeliveries is the reason a task is dead-lettered when it was
	// handed out more often than MaxDeliveries without finishing: it kills
	// its worker every time.
	ErrTooManyDeliveries = task.NewError("worker.too_many_deliveries", "worker: delivered too often without finishing")
)
