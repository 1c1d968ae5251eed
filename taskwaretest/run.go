package taskwaretest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// RunOption sets a fact of the invocation that Run makes.
type RunOption interface {
	apply(*task.Invocation, *Backend)
}

type runOptionFunc func(*task.Invocation, *Backend)

func (f runOptionFunc) apply(inv *task.Invocation, b *Backend) { f(inv, b) }

// ID gives the run an ID of the test's choosing; by default it is random.
func ID(id string) RunOption {
	return runOptionFunc(func(inv *task.Invocation, _ *Backend) { inv.ID = id })
}

// Queue runs the invocation as if taken from queue, so that its record is
// stored under that queue; by default it is "", a run in-process.
func Queue(queue string) RunOption {
	return runOptionFunc(func(inv *task.Invocation, _ *Backend) { inv.Queue = queue })
}

// EnqueuedAgo makes the run look enqueued d before the backend's now.
func EnqueuedAgo(d time.Duration) RunOption {
	return runOptionFunc(func(inv *task.Invocation, b *Backend) { inv.EnqueuedAt = b.Now().Add(-d) })
}

// ExpiresAt sets the deadline an enqueuer gave the run (see
// worker.ExpiresAt).
func ExpiresAt(at time.Time) RunOption {
	return runOptionFunc(func(inv *task.Invocation, _ *Backend) { inv.ExpiresAt = at })
}

// Attempt makes the run attempt n (1 by default).
func Attempt(n int) RunOption {
	return runOptionFunc(func(inv *task.Invocation, _ *Backend) { inv.Attempt = n })
}

// Run runs tk's chain on args synchronously, in-process, on b's clock: as
// an invocation enqueued at b.Now(), attempt 1, with a random ID unless an
// option says otherwise. It returns the task's result and outcome, for
// RequireOutcome, and leaves locks and records for the Require methods to
// check.
func Run[A, R any](t testing.TB, b *Backend, tk *task.Task[A, R], args A, opts ...RunOption) (R, error) {
	t.Helper()
	return RunContext(context.Background(), b, tk, args, opts...)
}

// RunContext is Run under ctx, for a test that cancels it or sets a
// deadline.
func RunContext[A, R any](ctx context.Context, b *Backend, tk *task.Task[A, R], args A, opts ...RunOption) (R, error) {
	inv := &task.Invocation{EnqueuedAt: b.Now(), Attempt: 1, Args: args, Clock: b.Now}
	for _, o := range opts {
		o.apply(inv, b)
	}
	if inv.ID == "" {
		inv.ID = "run-" + fmt.Sprint(b.runs.Add(1))
	}
	return tk.Invoke(ctx, inv)
}

// Outcome names an outcome for a test to compare: "succeeded", or the
// outcome's class and kind, as "skipped: lock.locked", "failed:
// store.not_stored", "requeued: error" or "failed: timeout".
func Outcome(err error) string {
	switch {
	case err == nil:
		return "succeeded"
	case task.IsSkipped(err):
		var se *task.SkipError
		errors.As(err, &se)
		return "skipped: " + task.KindOf(se.Reason)
	case errors.Is(err, task.ErrRequeued):
		var re *task.RequeueError
		errors.As(err, &re)
		return "requeued: " + task.KindOf(re.Err)
	}
	return "failed: " + task.KindOf(err)
}

// RequireOutcome fails t unless Outcome(err) is want.
func RequireOutcome(t testing.TB, err error, want string) {
	t.Helper()
	if got := Outcome(err); got != want {
		t.Fatalf("outcome %q (%v), want %q", got, err, want)
	}
}

// Records returns what the store holds, one line per record, sorted:
// "<queue>/<id> <status> <kind>", the kind only for a failure or a skip.
func (b *Backend) Records(t testing.TB) []string {
	t.Helper()
	recs, err := b.Store.List(context.Background())
	if err != nil {
		t.Fatalf("taskwaretest: list records: %v", err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = strings.TrimSpace(r.Queue + "/" + r.ID + " " + string(r.Status) + " " + r.Kind)
	}
	return out
}

// RequireRecord returns the record of queue and id, and fails t if there
// is none.
func (b *Backend) RequireRecord(t testing.TB, queue, id string) *store.Record {
	t.Helper()
	rec, err := b.Store.Get(context.Background(), queue, id)
	if err != nil {
		t.Fatalf("taskwaretest: record %s/%s: %v", queue, id, err)
	}
	return rec
}

// RequireNoRecord fails t if a record of queue and id is stored.
func (b *Backend) RequireNoRecord(t testing.TB, queue, id string) {
	t.Helper()
	rec, err := b.Store.Get(context.Background(), queue, id)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("taskwaretest: record %s/%s: %+v, %v; want none", queue, id, rec, err)
	}
}

// Locks returns the locks held now.
func (b *Backend) Locks(t testing.TB) []lock.Info {
	t.Helper()
	held, err := b.Locker.Held(context.Background())
	if err != nil {
		t.Fatalf("taskwaretest: locks held: %v", err)
	}
	return held
}

// RequireNoLocks fails t if any lock is held.
func (b *Backend) RequireNoLocks(t testing.TB) {
	t.Helper()
	if held := b.Locks(t); len(held) != 0 {
		t.Fatalf("taskwaretest: locks held: %+v", held)
	}
}
