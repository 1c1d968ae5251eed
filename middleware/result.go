package middleware

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// Defaults of StoreResult.
const (
	// DefaultResultTTL is how long a record is kept unless told.
	DefaultResultTTL = 24 * time.Hour
	// DefaultMaxResult caps an encoded result, in bytes: far below Redis's
	// 512 MB, past which it resets the connection, and large enough for a
	// report.
	DefaultMaxResult = 4 << 20
	// MaxResultLimit is the largest MaxResultSize: Redis's 512 MB for a
	// string, less a MiB for the record's other fields.
	MaxResultLimit = 511 << 20
)

// StoreOption configures StoreResult.
type StoreOption interface{ apply(*storeConfig) }

type storeConfig struct {
	resultTTL, errorTTL, skipTTL time.Duration
	ignore                       []func(error) bool
	skipNil                      bool
	maxResult                    int
}

type storeOptionFunc func(*storeConfig)

func (f storeOptionFunc) apply(c *storeConfig) { f(c) }

// ResultTTL sets how long successes are kept, DefaultResultTTL by default.
// It is also the TTL of failures unless ErrorTTL says otherwise.
func ResultTTL(d time.Duration) StoreOption {
	return storeOptionFunc(func(c *storeConfig) { c.resultTTL = d })
}

// ErrorTTL sets how long failures are kept.
func ErrorTTL(d time.Duration) StoreOption {
	return storeOptionFunc(func(c *storeConfig) { c.errorTTL = d })
}

// IgnoreErrors leaves out failures that match any of errs under errors.Is:
// the analogue of overriding Huey's put_result to drop TaskLockedException.
func IgnoreErrors(errs ...error) StoreOption {
	return storeOptionFunc(func(c *storeConfig) {
		for _, target := range errs {
			if target == nil {
				configPanic("StoreResult: IgnoreErrors(nil)")
			}
			c.ignore = append(c.ignore, func(err error) bool { return errors.Is(err, target) })
		}
	})
}

// IgnoreErrorsFunc leaves out failures for which ignore returns true.
func IgnoreErrorsFunc(ignore func(err error) bool) StoreOption {
	return storeOptionFunc(func(c *storeConfig) {
		if ignore == nil {
			configPanic("StoreResult: IgnoreErrorsFunc(nil)")
		}
		c.ignore = append(c.ignore, ignore)
	})
}

// MaxResultSize caps an encoded result at n bytes (DefaultMaxResult), at
// most MaxResultLimit. A larger result is not stored: the run ends as a
// permanent failure of its own kind (task.ErrTooLarge), which is stored,
// small, and not retried. Encoding stops at the cap (task.MarshalCapped),
// so a huge result costs no more than the cap.
func MaxResultSize(n int) StoreOption {
	return storeOptionFunc(func(c *storeConfig) { c.maxResult = n })
}

// SkipNilResults leaves out successes whose result is nil, for tasks run for
// their effect. By default they are stored, with no value, so that a caller
// waiting for the outcome learns that the run succeeded.
func SkipNilResults() StoreOption {
	return storeOptionFunc(func(c *storeConfig) { c.skipNil = true })
}

// StoreSkips keeps skips too, for ttl, with status store.Skipped and the
// skip's reason, so that a caller waiting on the run learns it was skipped.
// By default skips are not stored.
func StoreSkips(ttl time.Duration) StoreOption {
	return storeOptionFunc(func(c *storeConfig) {
		if ttl <= 0 {
			configPanic("StoreResult: StoreSkips TTL must be positive, got %v", ttl)
		}
		c.skipTTL = ttl
	})
}

// StoreResult writes each run's final outcome to s, under the invocation's
// queue and ID, with a TTL: successes for ResultTTL, failures for
// ErrorTTL, so the store cannot grow without bound. Skips are not stored
// unless StoreSkips asks, and requeues (retries, reschedules), runs
// abandoned by a stopping worker and errors of the infrastructure
// (task.ErrUnavailable) are not final, so not stored: the run will run
// again. Results are encoded with the invocation's codec.
//
// Under a worker the write goes in the round trip that ends the task, when
// the store can defer it (store.FinalPutter), and the task's state says
// whether it was stored (see worker.Handle.Get). Run in-process, it is
// made at once.
//
// The task's outcome is returned unchanged. If a write made at once fails,
// the outcome also matches store.ErrNotStored, so that the caller can tell
// an outcome nobody will find.
func StoreResult(s store.Writer, opts ...StoreOption) task.Middleware {
	if s == nil {
		configPanic("StoreResult: nil store")
	}
	c := storeConfig{resultTTL: DefaultResultTTL, maxResult: DefaultMaxResult}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.errorTTL == 0 {
		c.errorTTL = c.resultTTL
	}
	if c.resultTTL <= 0 || c.errorTTL <= 0 {
		configPanic("StoreResult: TTLs must be positive, got ResultTTL %v, ErrorTTL %v", c.resultTTL, c.errorTTL)
	}
	if c.maxResult <= 0 || c.maxResult > MaxResultLimit {
		configPanic("StoreResult: MaxResultSize must be positive and at most %d (what Redis can take), got %d",
			MaxResultLimit, c.maxResult)
	}
	deferrer, _ := s.(store.FinalPutter)
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			if err != nil && task.Abandoned(ctx) {
				return res, err // not final: the run will run again
			}
			rec, ttl, err := c.record(inv, res, err)
			if rec == nil {
				return res, err
			}
			var perr error
			if deferrer != nil && inv.Final != nil {
				var w task.FinalWrite
				if w, perr = deferrer.FinalPut(rec, ttl); perr == nil {
					inv.Final.Result(w)
				}
			} else {
				perr = s.Put(uncancelled(ctx), rec, ttl)
			}
			if perr != nil {
				perr = fmt.Errorf("%w: %w", store.ErrNotStored, perr)
				if err == nil {
					return res, perr
				}
				return res, errors.Join(err, perr)
			}
			return res, err
		}
	}
}

// record returns what to store for an outcome, and for how long (nil if
// nothing), and the outcome to return, which differs from err only when a
// result does not encode.
func (c *storeConfig) record(inv *task.Invocation, res any, err error) (*store.Record, time.Duration, error) {
	rec := &store.Record{Queue: inv.Queue, ID: inv.ID, Task: inv.Name, Attempt: inv.Attempt} // the store stamps At
	if err == nil && res != nil {
		rec.Value, err = task.MarshalCapped(inv.CodecOrJSON(), res, c.maxResult, "")
		switch {
		case errors.Is(err, task.ErrTooLarge):
			if tl, ok := errors.AsType[*task.TooLargeError](err); ok && tl.What == "" {
				tl.What = "result of " + inv.Name // named only when it fails
			}
			err = task.Permanent(err)
		case err != nil:
			err = fmt.Errorf("middleware: result of %s does not encode: %w", inv.Name, err)
		}
	}
	switch {
	case err == nil:
		if res == nil && c.skipNil {
			return nil, 0, nil
		}
		rec.Status = store.Succeeded
		return rec, c.resultTTL, nil
	case errors.Is(err, task.ErrRequeued), errors.Is(err, task.ErrUnavailable):
		return nil, 0, err // not final: the next run's outcome will be
	case task.IsSkipped(err):
		if c.skipTTL == 0 {
			return nil, 0, err
		}
		// Keep the reason, so that the stored skip still matches its kind.
		reason := err
		if se, ok := errors.AsType[*task.SkipError](err); ok && se.Reason != nil {
			reason = se.Reason
		}
		rec.Status, rec.Error, rec.Kind = store.Skipped, task.ErrorText(reason), task.KindOf(reason)
		return rec, c.skipTTL, err
	}
	for _, ignore := range c.ignore {
		if ignore(err) {
			return nil, 0, err
		}
	}
	rec.Status, rec.Error, rec.Kind = store.Failed, task.ErrorText(err), task.KindOf(err)
	return rec, c.errorTTL, err
}
