package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/task"
)

var (
	// ErrNotFound means no record is stored under the queue and ID: none was
	// written, or it expired. The error returned is a *NotFoundError.
	ErrNotFound = task.NewError("store.not_found", "store: record not found")
	// ErrNotStored means a run's outcome was meant to be stored and the
	// write failed: nobody will find it. StoreResult returns it joined with
	// the task's own outcome, and a worker's handle returns it when the
	// write it deferred failed.
	ErrNotStored = task.NewError("store.not_stored", "store: outcome not stored")
)

// NotFoundError reports a record that is not stored. It matches
// ErrNotFound.
type NotFoundError struct{ Queue, ID string }

func (e *NotFoundError) Error() string {
	if e.Queue == "" {
		return fmt.Sprintf("store: no record of %q", e.ID)
	}
	return fmt.Sprintf("store: no record of %q on queue %q", e.ID, e.Queue)
}

// ErrorKind reports ErrNotFound's kind.
func (e *NotFoundError) ErrorKind() string { return ErrNotFound.ErrorKind() }

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Status is the outcome a record holds.
type Status string

const (
	// Succeeded records a run that returned a result.
	Succeeded Status = "succeeded"
	// Failed records a run that returned an error.
	Failed Status = "failed"
	// Skipped records a run that was deliberately not done. Stores keep it
	// only when asked to (see middleware.StoreSkips).
	Skipped Status = "skipped"
)

// Record is the stored outcome of one run. It is keyed by Queue and ID:
// task IDs are unique per queue.
type Record struct {
	// Queue is the queue the run came from, "" for a run in-process.
	Queue string
	// ID is the run's ID.
	ID string
	// Task is the task's name.
	Task   string
	Status Status
	// Value holds the result encoded by the task's codec, when it succeeded.
	Value []byte
	// Error holds the error's text, and Kind its kind (see task.KindOf),
	// when it failed or was skipped.
	Error string
	Kind  string
	// Attempt is the attempt that produced the outcome.
	Attempt int
	// At is when the outcome was recorded; Put fills it in if it is zero.
	At time.Time
	// ExpiresAt is when the record expires. Get and List fill it in; Put
	// ignores it and takes a TTL.
	ExpiresAt time.Time
}

// Err returns nil for a success, and otherwise the stored error as a
// *task.Failure, which matches the original error's kind under errors.Is.
// A stored skip comes back as task.Skip of its reason, so it matches
// task.ErrSkipped as well as the reason's kind (lock.ErrLocked, say).
func (r *Record) Err() error {
	switch r.Status {
	case Succeeded:
		return nil
	case Skipped:
		return task.Skip(&task.Failure{Kind: r.Kind, Message: r.Error})
	}
	return &task.Failure{Kind: r.Kind, Message: r.Error}
}

// Writer puts records: all that middleware.StoreResult needs.
type Writer interface {
	// Put stores rec under rec.Queue and rec.ID for ttl, replacing any
	// record there, and wakes its waiters. A ttl <= 0 is refused: every
	// record expires.
	Put(ctx context.Context, rec *Record, ttl time.Duration) error
}

// Reader reads records: all that a worker's handles need.
type Reader interface {
	// Get returns the record stored under queue and id, or an error
	// matching ErrNotFound.
	Get(ctx context.Context, queue, id string) (*Record, error)
	// Wait returns the record stored under queue and id, waiting until one
	// is put or ctx ends. It does not poll in a loop.
	Wait(ctx context.Context, queue, id string) (*Record, error)
}

// Store keeps records with TTLs. Implementations are safe for concurrent
// use.
type Store interface {
	Writer
	Reader
	// Delete removes the record stored under queue and id, if any.
	Delete(ctx context.Context, queue, id string) error
	// List returns the records stored now, sorted by queue and ID, for
	// inspection and cleanup.
	List(ctx context.Context) ([]*Record, error)
	// Purge deletes the records of the given queues ("" is that of runs
	// made in-process), or every record if none is given, and returns how
	// many it deleted.
	Purge(ctx context.Context, queues ...string) (int, error)
}

// FinalPutter is a Writer that can defer a put to the end of a run, so that
// a worker sends it in the round trip that ends the task.
// middleware.StoreResult uses it; nothing else should.
type FinalPutter interface {
	// FinalPut returns the put of rec for ttl, to be made later. It checks
	// rec and ttl as Put does, now.
	FinalPut(rec *Record, ttl time.Duration) (task.FinalWrite, error)
}

// ValidatePut checks the arguments of a Put, for Store implementations.
// A queue name with a brace is refused, as queue.ValidateName
// refuses it: it would break a Redis key's hash tag.
func ValidatePut(rec *Record, ttl time.Duration) error {
	switch {
	case rec == nil:
		return errors.New("store: nil record")
	case rec.ID == "":
		return errors.New("store: record without an ID")
	case ttl <= 0:
		return fmt.Errorf("%w: store: TTL must be positive, got %v", task.ErrInvalidConfig, ttl)
	case strings.ContainsAny(rec.Queue, "{}"):
		return fmt.Errorf("%w: store: queue %q of record %q contains a brace", task.ErrInvalidConfig, rec.Queue, rec.ID)
	}
	return nil
}

// Compare orders records by queue, then ID, as List returns them.
func Compare(a, b *Record) int {
	return cmp.Or(strings.Compare(a.Queue, b.Queue), strings.Compare(a.ID, b.ID))
}
