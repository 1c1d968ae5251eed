package task

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// MaxProgressMessage caps a progress message, in bytes: a longer one is
// cut, on a character's boundary, so that a task's state stays small.
const MaxProgressMessage = 200

// ErrBadProgress matches progress that cannot be reported: a negative
// count, or done beyond a known total.
var ErrBadProgress = NewError("task.bad_progress", "task: bad progress")

// Reporter takes a run's progress. Whoever runs the invocation (a worker)
// sets Invocation.Reporter to one; Progress calls it. It must not block:
// a worker keeps the latest value and writes it later.
type Reporter interface {
	// Report records that done of total units are done (total 0: unknown),
	// with msg, at most MaxProgressMessage bytes.
	Report(done, total int64, msg string)
}

// Progress reports the progress of the run whose context ctx is: done of
// total units (total 0 if unknown), and a short message, cut to
// MaxProgressMessage bytes. A worker shows it in the task's state (see
// queue.State.Progress), writing at most about once a second, the latest
// value winning; reporting is cheap enough to call in a loop.
//
//	for i, doc := range docs {
//		_ = task.Progress(ctx, int64(i), int64(len(docs)), "indexing")
//		...
//	}
//
// Outside a run that has a reporter (Task.Call, a test) it does nothing.
// Bad input (a negative count, done > total with total known) returns an
// error matching ErrBadProgress, and reports nothing.
func Progress(ctx context.Context, done, total int64, msg string) error {
	if done < 0 || total < 0 || (total > 0 && done > total) {
		return fmt.Errorf("%w: %d/%d", ErrBadProgress, done, total)
	}
	inv, ok := InvocationFrom(ctx)
	if !ok || inv.Reporter == nil {
		return nil
	}
	inv.Reporter.Report(done, total, CapProgressMessage(msg))
	return nil
}

// CapProgressMessage returns msg cut to at most MaxProgressMessage bytes,
// on a character's boundary.
func CapProgressMessage(msg string) string {
	if len(msg) <= MaxProgressMessage {
		return msg
	}
	n := MaxProgressMessage
	for n > 0 && !utf8.RuneStart(msg[n]) {
		n--
	}
	return msg[:n]
}
