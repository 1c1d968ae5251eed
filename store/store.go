package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/task"
)

// ErrNotFound means no record is stored under the ID: none was written, or
// it expired.
var ErrNotFound = task.NewError("not_found", "store: record not found")

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

// Record is the stored outcome of one run.
type Record struct {
	// ID is the run's ID, the record's key.
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

// Store keeps records with TTLs. Implementations are safe for concurrent
// use.
type Store interface {
	// Put stores rec under rec.ID for ttl, replacing any record there, and
	// wakes the ID's waiters. A ttl <= 0 is refused: every record expires.
	Put(ctx context.Context, rec *Record, ttl time.Duration) error
	// Get returns the record stored under id, or an error matching
	// ErrNotFound.
	Get(ctx context.Context, id string) (*Record, error)
	// Delete removes the record stored under id, if any.
	Delete(ctx context.Context, id string) error
	// Wait returns the record stored under id, waiting until one is put or
	// ctx ends. It does not poll in a loop.
	Wait(ctx context.Context, id string) (*Record, error)
	// List returns the records stored now, for inspection and cleanup.
	List(ctx context.Context) ([]*Record, error)
}

func checkPut(rec *Record, ttl time.Duration) error {
	switch {
	case rec == nil:
		return errors.New("store: nil record")
	case rec.ID == "":
		return errors.New("store: record without an ID")
	case ttl <= 0:
		return fmt.Errorf("%w: store: TTL must be positive, got %v", task.ErrInvalidConfig, ttl)
	}
	return nil
}

func notFound(id string) error { return fmt.Errorf("store: %q: %w", id, ErrNotFound) }
