package workflow

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/taskware/taskware/task"
)

// Errors of Build: each matches under errors.Is, and the first two have a
// typed error behind them, for errors.As.
var (
	// ErrCycle matches a workflow whose steps wait on each other
	// (*CycleError).
	ErrCycle = task.NewError("workflow.cycle", "workflow: a cycle of steps")
	// ErrTypeMismatch matches an input a step cannot take: an Input field
	// that is missing or of another type than its parent's result, or a
	// parent whose codec is not the step's (*MismatchError).
	ErrTypeMismatch = task.NewError("workflow.type_mismatch", "workflow: a step's input does not fit")
	// ErrDuplicateStep matches two steps of one name.
	ErrDuplicateStep = task.NewError("workflow.duplicate_step", "workflow: two steps of one name")
	// ErrForeignStep matches a step of another Builder, or a zero Step.
	ErrForeignStep = task.NewError("workflow.foreign_step", "workflow: a step of another workflow")
	// ErrBadStepName matches a step name that is empty, longer than
	// MaxStepName, or has a character other than A-Z, a-z, 0-9, '.', '_'
	// and '-'.
	ErrBadStepName = task.NewError("workflow.bad_step_name", "workflow: a bad step name")
	// ErrNoOutput matches a Build whose output step is not the Builder's.
	ErrNoOutput = task.NewError("workflow.no_output", "workflow: the output is no step of the workflow")
	// ErrEmpty matches a Build of a workflow without steps.
	ErrEmpty = task.NewError("workflow.empty", "workflow: no steps")
)

// ErrFailed matches the error of a Handle's Get when the workflow failed
// (*Error). Its kind is the one a step canceled by the failure ends with
// (queue.KindWorkflowFailed), so such a step's error matches it too.
var ErrFailed = task.NewError("workflow.failed", "workflow: failed")

// CycleError is a cycle found by Build. It matches ErrCycle.
type CycleError struct {
	// Path is one cycle: step names, each a parent of the next, the first
	// again at the end.
	Path []string
}

func (e *CycleError) Error() string {
	return "workflow: a cycle of steps: " + strings.Join(e.Path, " -> ")
}

// Is matches ErrCycle.
func (e *CycleError) Is(target error) bool { return target == ErrCycle }

// MismatchError is an input a step cannot take. It matches
// ErrTypeMismatch.
type MismatchError struct {
	// Step is the step, Parent the step its input comes from, and Field
	// the Input field ("" for an input that is the whole argument).
	Step, Parent, Field string
	// Want is the type the step takes there (nil for a field it does not
	// have), and Got the type it is given: the parent's result type, or,
	// for a codec mismatch (Codec set), the codecs' types.
	Want, Got reflect.Type
	Codec     bool
}

func (e *MismatchError) Error() string {
	where := fmt.Sprintf("workflow: step %q", e.Step)
	if e.Field != "" {
		where += fmt.Sprintf(", field %s,", e.Field)
	}
	switch {
	case e.Codec:
		return fmt.Sprintf("%s decodes with codec %v its parent %q's result, encoded with %v", where, e.Want, e.Parent, e.Got)
	case e.Want == nil:
		return fmt.Sprintf("%s: no such exported field for parent %q's %v", where, e.Parent, e.Got)
	}
	return fmt.Sprintf("%s takes %v, parent %q gives %v", where, e.Want, e.Parent, e.Got)
}

// Is matches ErrTypeMismatch.
func (e *MismatchError) Is(target error) bool { return target == ErrTypeMismatch }

// Error is a failed workflow, as a Handle's Get returns it: the step that
// failed it, and that step's error. It matches ErrFailed, and through Err
// the step's kind (a dead letter's reason, queue.ErrCanceled, ...).
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("workflow: step %q failed: %v", e.Step, e.Err) }

// Is matches ErrFailed.
func (e *Error) Is(target error) bool { return target == ErrFailed }

// Unwrap returns the step's error.
func (e *Error) Unwrap() error { return e.Err }
