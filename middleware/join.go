package middleware

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// DefaultJoinWait is how long JoinLocked waits for the holder's outcome
// unless JoinWait says otherwise: lock.DefaultTTL, the default lease of
// WithLock.
const DefaultJoinWait = lock.DefaultTTL

// JoinOption configures JoinLocked.
type JoinOption interface{ applyJoin(*joinConfig) }

type joinConfig struct {
	r    store.Reader
	wait time.Duration
	// decode turns the holder's encoded result into the run's own; nil
	// means json.RawMessage, for the JSON codec only.
	decode func(c task.Codec, data []byte) (any, error)
}

type joinOptionFunc func(*joinConfig)

func (f joinOptionFunc) applyJoin(c *joinConfig) { f(c) }

// JoinWait bounds how long a run waits for the holder's outcome
// (DefaultJoinWait); the run's context bounds it too. It must be positive.
func JoinWait(d time.Duration) JoinOption {
	return joinOptionFunc(func(c *joinConfig) {
		if d <= 0 {
			configPanic("JoinLocked: JoinWait must be positive, got %v", d)
		}
		c.wait = d
	})
}

// JoinAs makes JoinLocked return the holder's result decoded, with the
// run's codec, into an R: the task's result type. Give it for a typed task
// (task.New[A, R]), so that an in-process Task.Call gets the R, and so
// that a codec other than JSON can be joined. StoreResult then encodes
// that R again, to the holder's bytes for any codec that encodes a value
// it decoded the same way (plain data does, with JSON and most codecs).
func JoinAs[R any]() JoinOption {
	return joinOptionFunc(func(c *joinConfig) {
		c.decode = func(codec task.Codec, data []byte) (any, error) {
			var r R
			if err := codec.Unmarshal(data, &r); err != nil {
				return nil, err
			}
			return r, nil
		}
	})
}

// ErrJoined is the kind of the skip of a run that joined a holder that
// failed (see JoinedError): the holder's failure is one failure, counted,
// logged and stored once, by the holder.
var ErrJoined = task.NewError("middleware.joined", "joined: the holder failed")

// JoinedError is the reason of the skip of a run that joined a holder that
// failed: it carries the holder's failure, rebuilt from its record (a
// *task.Failure, which matches the original's kind). It matches ErrJoined
// and, in-process, the holder's failure under errors.Is; its kind is
// ErrJoined's, so that events, logs and metrics tell it from a failure.
type JoinedError struct {
	// Holder is the run whose outcome was joined.
	Holder lock.TaskRef
	// Err is the holder's failure.
	Err error
}

// Error names the holder and reads as its failure: "joined: the holder
// failed (default/abc123): upstream down".
func (e *JoinedError) Error() string {
	return ErrJoined.Error() + " (" + e.Holder.String() + "): " + e.Err.Error()
}

// ErrorKind reports ErrJoined's kind.
func (e *JoinedError) ErrorKind() string { return ErrJoined.ErrorKind() }

// Is matches ErrJoined.
func (e *JoinedError) Is(target error) bool { return target == ErrJoined }

// Unwrap returns the holder's failure.
func (e *JoinedError) Unwrap() error { return e.Err }

// JoinLocked is a singleflight across processes: a run that finds its lock
// held by another run of the same task waits for that run's outcome, in r,
// and returns it as its own. Fifty requests for one account's report make
// one report, and all fifty get it.
//
// It acts on an error matching lock.ErrLocked from WithLock inside it,
// whose *lock.LockedError names the holder's run in its Task (WithLock
// records the run with the lock, in the backend). It waits for that run's
// record with r.Wait, without polling, for up to JoinWait
// (DefaultJoinWait) and while ctx lets it. If the holder succeeded, the
// run returns its result as its own (StoreResult stores it under the run's
// ID, and it counts as a success). If the holder failed, the run is
// skipped (task.Skip) with a *JoinedError as its reason, of kind
// "middleware.joined", that carries the holder's failure: one failure is
// one failure, however many joined it, in events (EventSkipped), logs
// (Info), metrics (skipped, reason middleware.joined) and the store
// (nothing stored, or a skip record under StoreSkips). r must be the store
// the task's StoreResult writes to, and the holder must store its outcome
// there.
//
// Under a worker, a run parks while it waits (task.Invocation.Park): it
// gives back its worker slot, so that joiners (up to 1000 a worker, then
// each waits in its slot) wait on one holder while the worker goes on
// taking and running tasks, their claims kept alive meanwhile. So every run that starts while the holder runs
// joins it: 50 tasks for one report enqueued at once make 1 run on a
// worker of default settings. A run that starts after the holder ended
// finds the lock free and runs again. A worker that stops hands its parked
// runs back to their queue at once, and those of a worker that dies are
// taken over, like any claimed task; a holder whose worker dies is waited
// for until JoinWait.
//
// The result: with JoinAs[R], the holder's value decoded into an R with
// the run's codec. Without it, and only with the JSON codec, its encoded
// bytes as a json.RawMessage, which StoreResult stores as the same bytes,
// so that a worker's typed Handle.Get decodes the same value; an
// in-process Task.Call then gets the zero R, unless R is json.RawMessage,
// so give JoinAs for in-process callers.
//
// It returns the original error, unchanged, whenever it cannot join: the
// holder is unknown (the lock was taken outside a task run, or for another
// key than WithLock's inside), the holder is this very run, the wait ends
// (JoinWait or ctx) or fails, the holder's record is of another task,
// without JoinAs the codec is not JSON or the result does not decode, or
// the holder was skipped (a record of status store.Skipped). A holder that
// stores no outcome (no StoreResult, IgnoreErrors, SkipNilResults) is
// waited for until JoinWait. So SkipLocked outside JoinLocked still skips
// what could not be joined:
//
//	task.New("report", build,
//		middleware.StoreResult(results),
//		middleware.SkipLocked(),
//		middleware.JoinLocked(results, middleware.JoinAs[Report]()),
//		middleware.WithLock(locker, "report"),
//	)
//
// That is the order to use: StoreResult outermost stores each joiner's
// outcome under its own ID, as the holder's own is stored; SkipLocked,
// outside JoinLocked, sees only what could not be joined (and requeues a
// retry that could not, as it does). JoinLocked outside SkipLocked joins
// too: it sees the lock error inside the skip, and returns the skip
// unchanged when it cannot join.
//
// Joins do not chain, and cannot loop: only a run that holds the lock is
// joined, a joiner never holds it, and a joined run's outcome is the one
// record of its holder. A holder that was itself skipped is not followed
// further (the original lock error is returned), and a holder whose
// earlier attempt failed and is retried is waited for until its final
// outcome is stored, within JoinWait.
//
// Under a worker the holder's record is written in the round trip that
// ends its task, and wakes the joiners at once. Run in-process (Task.Call,
// no worker), a joiner joins a holder run by a worker, or a holder run
// in-process whose StoreResult writes to r (its record is stored under
// queue "" and its call's ID).
func JoinLocked(r store.Reader, opts ...JoinOption) task.Middleware {
	if r == nil {
		configPanic("JoinLocked: nil store")
	}
	c := joinConfig{r: r, wait: DefaultJoinWait}
	for _, o := range opts {
		if o == nil {
			configPanic("JoinLocked: nil option")
		}
		o.applyJoin(&c)
	}
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			// A skip of the lock's error (SkipLocked inside) may still be
			// joined; any other outcome stays as it is.
			if err == nil || !errors.Is(err, lock.ErrLocked) || task.IsOutcome(err) && !task.IsSkipped(err) {
				return res, err
			}
			if joined, jres, jerr := c.join(ctx, inv, err); joined {
				return jres, jerr
			}
			return res, err
		}
	}
}

// join waits for the outcome of the holder of the lock that err reports,
// and returns it, or reports false.
func (c *joinConfig) join(ctx context.Context, inv *task.Invocation, err error) (bool, any, error) {
	le, ok := errors.AsType[*lock.LockedError](err)
	if !ok || le.Task.IsZero() || !askedFor(inv, le.Key) {
		return false, nil, nil
	}
	holder := le.Task
	if holder.Queue == inv.Queue && holder.ID == inv.ID {
		return false, nil, nil // its own earlier lease: nothing to wait for
	}
	codec := inv.CodecOrJSON()
	if c.decode == nil && codec != task.JSON {
		return false, nil, nil
	}
	inv.Park() // the wait keeps no worker slot
	wctx, cancel := context.WithTimeout(ctx, c.wait)
	rec, werr := c.r.Wait(wctx, holder.Queue, holder.ID)
	cancel()
	if werr != nil || rec.Task != inv.Name {
		return false, nil, nil
	}
	switch rec.Status {
	case store.Succeeded:
		if len(rec.Value) == 0 {
			return true, nil, nil
		}
		if c.decode == nil {
			return true, json.RawMessage(rec.Value), nil
		}
		v, derr := c.decode(codec, rec.Value)
		if derr != nil {
			return false, nil, nil
		}
		return true, v, nil
	case store.Failed:
		return true, nil, task.Skip(&JoinedError{Holder: holder, Err: rec.Err()})
	}
	return false, nil, nil // skipped: not followed
}

// askedFor reports whether the run asked for key and did not get it, as
// WithLock records in inv.Locks: the lock error is WithLock's, not one of
// a lock the task's own code took.
func askedFor(inv *task.Invocation, key string) bool {
	for i := len(inv.Locks) - 1; i >= 0; i-- {
		if u := inv.Locks[i]; u.Key == key && u.Fence == 0 {
			return true
		}
	}
	return false
}
