// Package suite runs a conformance suite: a tree of named promises, each
// checked as a subtest of its own, on a backend made for it. The queue,
// lock and store suites (queuetest, locktest, storetest) share it.
package suite

import "testing"

// Promise is one subtest: a promise a backend keeps, checked by Check on
// what the suite makes for it, or, with Cases and no Check, a group of
// promises.
type Promise[T any] struct {
	Name  string
	Check func(T)
	Cases []Promise[T]
}

// Run runs each of ps as a subtest of t, named after its path through its
// groups ("Finish/RetryKeepsFailureRecord"), each Check on what begin makes
// for its own subtest.
func Run[T any](t *testing.T, ps []Promise[T], begin func(t *testing.T) T) {
	t.Helper()
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			if p.Check == nil {
				Run(t, p.Cases, begin)
				return
			}
			p.Check(begin(t))
		})
	}
}

// Names returns the path of every promise of ps that Run checks, in the
// order it runs them.
func Names[T any](ps []Promise[T]) []string {
	var out []string
	var walk func(prefix string, ps []Promise[T])
	walk = func(prefix string, ps []Promise[T]) {
		for _, p := range ps {
			if p.Check != nil {
				out = append(out, prefix+p.Name)
			}
			walk(prefix+p.Name+"/", p.Cases)
		}
	}
	walk("", ps)
	return out
}
