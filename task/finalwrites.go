package task

import (
	"context"
	"errors"
)

// FinalWrite is one of a run's last writes, which a policy of the run's own
// chain hands to whoever runs the invocation instead of making it: the
// release of WithLock's lock, the record of StoreResult. Backends make them
// (lock.FinalReleaser, store.FinalPutter). A worker's queue sends those of
// its own backend in the round trip that ends the task, and applies any
// other one itself, first.
type FinalWrite interface {
	// Apply makes the write now, on its own.
	Apply(ctx context.Context) error
}

// FinalWrites collects a run's deferred last writes. A worker sets
// Invocation.Final to a fresh one for each run, and ends the run with them;
// when Final is nil (Task.Call, a sub-task called in-process) policies
// write at once. Nothing else defers: lock.Do, and any Locker or Store call
// of the task's own code, takes effect at once.
type FinalWrites struct {
	// Releases are lock releases: sent even if the run is abandoned.
	Releases []FinalWrite
	// Results are result records: if one fails, no result is stored.
	Results []FinalWrite
}

// Release defers a lock release.
func (f *FinalWrites) Release(w FinalWrite) { f.Releases = append(f.Releases, w) }

// Result defers a result write.
func (f *FinalWrites) Result(w FinalWrite) { f.Results = append(f.Results, w) }

// ApplyReleases makes the deferred releases now, and forgets them: before a
// chain takes a lock again in the same run (a retry loop), and when a
// worker abandons the run. A release that fails is left to expire with its
// TTL.
func (f *FinalWrites) ApplyReleases(ctx context.Context) {
	for _, w := range f.Releases {
		_ = w.Apply(ctx)
	}
	clear(f.Releases)
	f.Releases = f.Releases[:0]
}

// Apply makes every deferred write now, releases first, and returns the
// result writes' errors, joined.
func (f *FinalWrites) Apply(ctx context.Context) error {
	f.ApplyReleases(ctx)
	var errs []error
	for _, w := range f.Results {
		if err := w.Apply(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
