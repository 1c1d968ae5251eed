package lock

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/taskware/taskware/internal/lockerstate"
	"github.com/taskware/taskware/task"
)

// Locker takes and gives back leases on named locks. Implementations must be
// safe for concurrent use, and only the owner of a lease (the holder of its
// Token, matched whole; an empty one owns nothing) may release or refresh
// it. A release may come while a refresh of the same lease is in flight.
//
// A backend may have run a call whose reply it lost, and run it again: each
// call must then answer as if it ran once. An acquire that finds the lock
// held by its own new token succeeds; a release that finds the lock already
// released by its token succeeds.
type Locker interface {
	// TryAcquire makes one attempt to take key for ttl, for the task run
	// ctx works for, if any (OwnerTaskFrom), which the lock records: the
	// lease, Inspector.Held and the LockedError another owner meets name
	// it. If another owner holds key, the error is a *LockedError, which
	// matches ErrLocked; if ctx ends first, the error matches its cause
	// (context.Cause), as Guard's waits do.
	TryAcquire(ctx context.Context, key string, ttl time.Duration) (*Lease, error)
	// Release frees the lease's key if the lease still owns it, and returns
	// an error matching ErrNotHeld if it does not.
	Release(ctx context.Context, lease *Lease) error
	// Refresh sets the lease's remaining TTL to ttl if the lease still owns
	// its key, and returns an error matching ErrNotHeld if it does not.
	Refresh(ctx context.Context, lease *Lease, ttl time.Duration) error
}

// Inspector shows and breaks the locks of a backend, for operators, the
// command line and tests.
type Inspector interface {
	// Held lists the locks held now, sorted by key.
	Held(ctx context.Context) ([]Info, error)
	// Break removes key's lock whoever holds it. The holder learns of it at
	// its next renewal, as ErrLeaseLost.
	Break(ctx context.Context, key string) error
}

// FinalReleaser is a Locker that can defer a release to the end of a run,
// so that a worker sends it in the round trip that ends the task.
// middleware.WithLock uses it; nothing else should.
type FinalReleaser interface {
	// FinalRelease returns the release of lease, to be made later.
	FinalRelease(lease *Lease) task.FinalWrite
}

// Lease is one ownership of a lock, as TryAcquire returns it.
type Lease struct {
	Key string
	// Token is the owner's random token, the proof of ownership.
	Token string
	// Fence is the fencing token: it grows with every lease on Key, so a
	// resource that remembers the largest fence it has seen can refuse
	// writes from a holder whose lease was lost.
	Fence int64
	// TTL is the time to live the lease was taken or last refreshed with.
	TTL time.Duration
	// AcquiredAt is when the lease was taken, by the caller's clock: no
	// later than the lock's TTL started running, so renewal can count on it.
	AcquiredAt time.Time
	// Task is the task run the lease was taken for, as WithOwnerTask put it
	// in the acquire's context (Guard.HoldFor, and so middleware.WithLock,
	// does); zero if none.
	Task TaskRef

	// state is the Locker's own state for this lease, if it keeps any: the
	// Redis locker keeps its command arguments there (internal/lockerstate).
	state any
}

func init() {
	lockerstate.Lease = func(lease any) *any { return &lease.(*Lease).state }
}

// Info describes a held lock, for inspection.
type Info struct {
	Key string
	// Holder names the holder, "host:pid" unless the locker was told
	// otherwise.
	Holder string
	Fence  int64
	// Since is when the lock was taken.
	Since time.Time
	// Remaining is the time left before the lock expires unless renewed.
	Remaining time.Duration
	// Task is the task run that holds the lock, zero if it was taken
	// outside one (see WithOwnerTask).
	Task TaskRef
}

// DefaultHolder is "host:pid" of this process, the holder recorded by
// lockers that are not given another.
func DefaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Validate checks the arguments of an acquire or refresh, for Locker
// implementations: the key must not be empty and the TTL must be positive.
func Validate(key string, ttl time.Duration) error {
	if key == "" {
		return configError("empty key")
	}
	if ttl <= 0 {
		return configError("TTL must be positive, got %v", ttl)
	}
	return nil
}

type leaseKey struct{}

// LeaseFrom returns the lease held for ctx by a Hold (and so by Do and
// middleware.WithLock), if any.
func LeaseFrom(ctx context.Context) (*Lease, bool) {
	l, ok := ctx.Value(leaseKey{}).(*Lease)
	return l, ok
}

// Fence returns the fencing token of the lease held for ctx, if any. Pass it
// to the resource the lock protects, so that it can refuse a stale holder.
func Fence(ctx context.Context) (int64, bool) {
	l, ok := LeaseFrom(ctx)
	if !ok {
		return 0, false
	}
	return l.Fence, true
}

// TaskRef names one task run: the queue it came from ("" for a run
// in-process) and its ID, under which its result is stored. The zero
// TaskRef names none.
type TaskRef struct {
	Queue, ID string
}

// IsZero reports whether t names no run (it has no ID).
func (t TaskRef) IsZero() bool { return t.ID == "" }

// String returns "queue/id", or "id" for a run in-process; "" for the
// zero TaskRef. It is for people: read a run from the TaskRef itself.
func (t TaskRef) String() string {
	if t.Queue == "" {
		return t.ID
	}
	return t.Queue + "/" + t.ID
}

// ownerCtx carries the task run that locks taken under it are taken for.
type ownerCtx struct {
	context.Context
	task TaskRef
}

type ownerKey struct{}

// Value serves the task to OwnerTaskFrom, without boxing it.
func (c *ownerCtx) Value(key any) any {
	if key == (ownerKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// WithOwnerTask returns ctx marked as working for the task run id of queue
// ("" for a run in-process): a Locker that sees it in TryAcquire records
// the run with the lease, so that a LockedError met by another run names
// it (LockedError.Task), and Inspector.Held lists it. Guard.HoldFor, and
// so middleware.WithLock, marks its acquire's context this way; an empty
// id leaves ctx unmarked.
func WithOwnerTask(ctx context.Context, queue, id string) context.Context {
	if id == "" {
		return ctx
	}
	t := TaskRef{Queue: queue, ID: id}
	if cur, ok := OwnerTaskFrom(ctx); ok && cur == t {
		return ctx
	}
	return &ownerCtx{Context: ctx, task: t}
}

// OwnerTaskFrom returns the task run that ctx works for, as WithOwnerTask
// or a Hold taken for a run (Guard.HoldFor, and so middleware.WithLock)
// set it: what Locker implementations record with a lease.
func OwnerTaskFrom(ctx context.Context) (TaskRef, bool) {
	if c, ok := ctx.Value(ownerKey{}).(*ownerCtx); ok {
		return c.task, true
	}
	return TaskRef{}, false
}
