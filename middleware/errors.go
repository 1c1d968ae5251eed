package middleware

import (
	"fmt"

	"github.com/taskware/taskware/task"
)

// ErrNotStored means StoreResult could not write an outcome to its store.
// The outcome it returns then matches both ErrNotStored and the task's own
// error, if any.
var ErrNotStored = task.NewError("not_stored", "middleware: outcome not stored")

func configPanic(format string, args ...any) {
	panic(fmt.Errorf("%w: middleware.%s", task.ErrInvalidConfig, fmt.Sprintf(format, args...)))
}
