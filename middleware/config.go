package middleware

import (
	"fmt"

	"github.com/taskware/taskware/task"
)

func configPanic(format string, args ...any) {
	panic(fmt.Errorf("%w: middleware.%s", task.ErrInvalidConfig, fmt.Sprintf(format, args...)))
}
