package worker

import (
	"fmt"

	"github.com/taskware/taskware/task"
)

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: worker: %s", task.ErrInvalidConfig, fmt.Sprintf(format, args...))
}
