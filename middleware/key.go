package middleware

import (
	"fmt"

	"github.com/taskware/taskware/task"
)

// KeyFunc derives a lock key from an invocation, for example from its
// arguments (see KeyFromArgs).
type KeyFunc func(inv *task.Invocation) (string, error)

// of derives inv's key, refusing an empty one: what names a lock or limit,
// for the error.
func (key KeyFunc) of(inv *task.Invocation, what string) (string, error) {
	k, err := key(inv)
	if err == nil && k == "" {
		err = fmt.Errorf("middleware: empty %s key", what)
	}
	return k, err
}

// KeyFromArgs returns a KeyFunc that calls fn with the invocation's typed
// arguments: one lock per user, say. It fails the run if the arguments are
// not an A.
func KeyFromArgs[A any](fn func(args A) string) KeyFunc {
	return func(inv *task.Invocation) (string, error) {
		a, ok := task.ArgsOf[A](inv)
		if !ok {
			var want A
			return "", fmt.Errorf("middleware: lock key: arguments are %T, want %T", inv.Args, want)
		}
		return fn(a), nil
	}
}
