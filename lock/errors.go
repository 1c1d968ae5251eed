package lock

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/taskware/taskware/task"
)

var (
	// ErrLocked means the lock is held by another owner. The error returned
	// is a *LockedError that says who holds it.
	ErrLocked = task.NewError("lock.locked", "lock: held by another owner")
	// ErrNotHeld means a release or refresh was refused because the caller's
	// lease is not the current one: it expired, or someone else owns the key.
	// The error returned is a *NotHeldError.
	ErrNotHeld = task.NewError("lock.not_held", "lock: lease not held")
	// ErrLeaseLost is the cause with which a Hold's context is cancelled when
	// its lease can no longer be renewed.
	ErrLeaseLost = task.NewError("lock.lease_lost", "lock: lease lost")
)

// LockedError reports a lock held by another owner. It matches ErrLocked.
type LockedError struct {
	Key string
	// Holder and Since describe the current holder, when the backend knows.
	Holder string
	Since  time.Time
	// Remaining is the holder's remaining TTL, when the backend knows.
	Remaining time.Duration
	// Task is the holder's task run, when the lock was taken for one (see
	// WithOwnerTask): where its result will be stored.
	Task TaskRef
}

// Error says which lock is held and, when known, by whom and for how much
// longer. A holder's task run is named as "(task queue/id)", or "(task id)"
// for a run in-process, right after the holder, as TaskRef.String writes
// it:
//
//	lock "report:42": held by host:4711 (task default/5f0c…) (expires in 29.8s)
//
// That text is stable: ParseHolderTask reads the run back from it, as
// HolderTask does from a failure rebuilt from a stored message.
func (e *LockedError) Error() string {
	holder := e.Holder
	if holder == "" {
		holder = "another owner"
	}
	var task string
	if !e.Task.IsZero() {
		task = taskMark + e.Task.String() + ")"
	}
	if e.Holder == "" {
		return fmt.Sprintf("lock %q: held by %s%s", e.Key, holder, task)
	}
	return fmt.Sprintf("lock %q: held by %s%s (expires in %v)", e.Key, holder, task, e.Remaining.Round(time.Millisecond))
}

// taskMark opens the holder's task run in a LockedError's message.
const taskMark = " (task "

// HolderTask returns the task run that holds the lock err reports: that of
// the first *LockedError in err's chain that names one or, for an error
// rebuilt from a stored kind and message (a *task.Failure of ErrLocked's
// kind, as a worker's Handle.Get returns for a skipped or failed run), the
// run its message names (see ParseHolderTask). It reports false if err
// names no holder's run: the lock was taken outside a task run, or by a
// locker that does not record it.
func HolderTask(err error) (TaskRef, bool) {
	var found TaskRef
	walk(err, func(e error) bool {
		switch e := e.(type) {
		case *LockedError:
			found = e.Task
		case *task.Failure:
			if e.Kind == ErrLocked.ErrorKind() {
				found, _ = ParseHolderTask(e.Message)
			}
		}
		return !found.IsZero()
	})
	return found, !found.IsZero()
}

// walk calls fn on err and the errors it wraps, depth first, as errors.As
// visits them, until fn returns true.
func walk(err error, fn func(error) bool) bool {
	for err != nil {
		if fn(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walk(e, fn) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// ParseHolderTask reads the holder's task run from the text of a
// LockedError, alone or inside a longer message ("task: skipped: lock …"),
// as LockedError.Error writes it: `lock "key": held by holder (task
// queue/id)`, or "(task id)" for a run in-process, each part bare or a
// quoted Go string. It reports false if msg names none. Use it on a
// message stored as text; on a live error, HolderTask. (A holder name
// that itself holds " (task " would mislead it: holders are "host:pid"
// unless configured otherwise.)
func ParseHolderTask(msg string) (TaskRef, bool) {
	for {
		i := strings.Index(msg, lockedPrefix)
		if i < 0 {
			return TaskRef{}, false
		}
		msg = msg[i+len(lockedPrefix)-1:] // from the key's opening quote
		key, err := strconv.QuotedPrefix(msg)
		if err != nil {
			continue
		}
		rest, ok := strings.CutPrefix(msg[len(key):], ": held by ")
		if !ok {
			continue
		}
		msg = rest
		if next := strings.Index(rest, lockedPrefix); next >= 0 {
			rest = rest[:next] // this error's text ends where the next one's starts
		}
		if j := strings.Index(rest, taskMark); j >= 0 {
			if t, ok := parseRef(rest[j+len(taskMark):]); ok {
				return t, true
			}
		}
	}
}

// lockedPrefix opens a LockedError's text.
const lockedPrefix = `lock "`

// parseRef reads "part[/part])" from the start of s.
func parseRef(s string) (TaskRef, bool) {
	first, s, ok := refPartPrefix(s)
	if !ok {
		return TaskRef{}, false
	}
	if strings.HasPrefix(s, ")") { // "(task id)": a run in-process
		return TaskRef{ID: first}, first != ""
	}
	s, ok = strings.CutPrefix(s, "/")
	if !ok {
		return TaskRef{}, false
	}
	id, s, ok := refPartPrefix(s)
	if !ok || id == "" || !strings.HasPrefix(s, ")") {
		return TaskRef{}, false
	}
	return TaskRef{Queue: first, ID: id}, true
}

// refPartPrefix reads one part of a TaskRef's text from the start of s, and
// returns it and the rest of s.
func refPartPrefix(s string) (part, rest string, ok bool) {
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", s, false
		}
		part, err = strconv.Unquote(q)
		return part, s[len(q):], err == nil
	}
	n := 0
	for n < len(s) && refSafe(s[n]) {
		n++
	}
	return s[:n], s[n:], n > 0
}

// ErrorKind reports ErrLocked's kind.
func (e *LockedError) ErrorKind() string { return ErrLocked.ErrorKind() }

// Is matches ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// NotHeldError reports a release or refresh of a lease that does not own
// its key. It matches ErrNotHeld.
type NotHeldError struct{ Key string }

func (e *NotHeldError) Error() string { return fmt.Sprintf("lock %q: lease not held", e.Key) }

// ErrorKind reports ErrNotHeld's kind.
func (e *NotHeldError) ErrorKind() string { return ErrNotHeld.ErrorKind() }

// Is matches ErrNotHeld.
func (e *NotHeldError) Is(target error) bool { return target == ErrNotHeld }

// LeaseLostError is the cause of a Hold's cancellation. It matches
// ErrLeaseLost and wraps what made the renewal fail.
type LeaseLostError struct {
	Key string
	Err error
}

func (e *LeaseLostError) Error() string {
	return fmt.Sprintf("lock %q: lease lost: %v", e.Key, e.Err)
}

// ErrorKind reports ErrLeaseLost's kind.
func (e *LeaseLostError) ErrorKind() string { return ErrLeaseLost.ErrorKind() }

// Is matches ErrLeaseLost.
func (e *LeaseLostError) Is(target error) bool { return target == ErrLeaseLost }

// Unwrap returns the renewal's error.
func (e *LeaseLostError) Unwrap() error { return e.Err }

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: lock: %s", task.ErrInvalidConfig, fmt.Sprintf(format, args...))
}
