package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bsm/redislock"
	"github.com/go-redsync/redsync/v4"
	redsyncgoredis "github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/redisbackend"
)

// ErrHeld is what every Contender's Acquire returns, wrapping the library's
// own error, when another owner holds the key.
var ErrHeld = errors.New("bench: key held by another owner")

// Contender is one lock library, set up with a fixed TTL. A Contender is
// safe for concurrent use; a lease belongs to the goroutine that took it.
type Contender interface {
	// Acquire makes one attempt to take key. The lease it returns is the
	// library's own handle, to be passed to Release.
	Acquire(ctx context.Context, key string) (lease any, err error)
	// Release gives back a lease that Acquire returned.
	Release(ctx context.Context, lease any) error
	// Close frees what the Contender holds beyond the client it was given.
	Close() error
}

// Lib names a lock library and opens it as a Contender.
type Lib struct {
	Name string
	// Peer is true for the libraries taskware is compared with.
	Peer bool
	// Open sets the library up on client. Every key the Contender writes
	// starts with prefix, provided the keys given to Acquire do.
	Open func(client *redis.Client, prefix string, ttl time.Duration) (Contender, error)
}

// Libs lists the contenders, taskware first.
var Libs = []Lib{
	{Name: "taskware", Open: openTaskware},
	{Name: "taskware+autopipeline", Open: openTaskwareAuto},
	{Name: "redsync", Peer: true, Open: openRedsync},
	{Name: "redislock", Peer: true, Open: openRedislock},
}

// pair is the measured operation: acquire key, then release it.
func pair(ctx context.Context, c Contender, key string) error {
	l, err := c.Acquire(ctx, key)
	if err != nil {
		return err
	}
	return c.Release(ctx, l)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// taskware: the Redis backend's locker over a plain client, or over go-redis's
// AutoPipeliner in full-duplex mode, which batches the commands of
// concurrent callers; of its modes, it was the fastest on loopback here.

type taskware struct {
	locker *redisbackend.Locker
	ttl    time.Duration
	closer interface{ Close() error }
}

func openTaskware(client *redis.Client, prefix string, ttl time.Duration) (Contender, error) {
	return &taskware{redisbackend.New(client, redisbackend.Prefix(prefix)).Locker(), ttl, nopCloser{}}, nil
}

func openTaskwareAuto(client *redis.Client, prefix string, ttl time.Duration) (Contender, error) {
	ap, err := client.AutoPipelineWithOptions(&redis.AutoPipelineOptions{FullDuplex: true})
	if err != nil {
		return nil, err
	}
	return &taskware{redisbackend.New(ap, redisbackend.Prefix(prefix)).Locker(), ttl, ap}, nil
}

func (t *taskware) Acquire(ctx context.Context, key string) (any, error) {
	l, err := t.locker.TryAcquire(ctx, key, t.ttl)
	if errors.Is(err, lock.ErrLocked) {
		return nil, fmt.Errorf("%w: %w", ErrHeld, err)
	}
	return l, err
}

func (t *taskware) Release(ctx context.Context, l any) error {
	return t.locker.Release(ctx, l.(*lock.Lease))
}

func (t *taskware) Close() error { return t.closer.Close() }

// redsync: one pool, through its go-redis v9 adapter; a Mutex per pair, as
// for a lock whose name changes from call to call.

type redsyncLib struct {
	rs   *redsync.Redsync
	opts []redsync.Option // built once, so that no pair pays for them
	nopCloser
}

func openRedsync(client *redis.Client, _ string, ttl time.Duration) (Contender, error) {
	rs := redsync.New(redsyncgoredis.NewPool(client))
	return &redsyncLib{rs: rs, opts: []redsync.Option{redsync.WithExpiry(ttl), redsync.WithTries(1)}}, nil
}

func (r *redsyncLib) Acquire(ctx context.Context, key string) (any, error) {
	m := r.rs.NewMutex(key, r.opts...)
	if err := m.TryLockContext(ctx); err != nil {
		var taken *redsync.ErrTaken
		if errors.Is(err, redsync.ErrFailed) || errors.As(err, &taken) {
			return nil, fmt.Errorf("%w: %w", ErrHeld, err)
		}
		return nil, err
	}
	return m, nil
}

func (r *redsyncLib) Release(ctx context.Context, l any) error {
	m := l.(*redsync.Mutex)
	ok, err := m.UnlockContext(ctx)
	if err == nil && !ok {
		err = fmt.Errorf("redsync: %q not released", m.Name())
	}
	return err
}

// redislock: one client, default options (no retry).

type redislockLib struct {
	c   *redislock.Client
	ttl time.Duration
	nopCloser
}

func openRedislock(client *redis.Client, _ string, ttl time.Duration) (Contender, error) {
	return &redislockLib{c: redislock.New(client), ttl: ttl}, nil
}

func (r *redislockLib) Acquire(ctx context.Context, key string) (any, error) {
	l, err := r.c.Obtain(ctx, key, r.ttl, nil)
	if errors.Is(err, redislock.ErrNotObtained) {
		return nil, fmt.Errorf("%w: %w", ErrHeld, err)
	}
	return l, err
}

func (r *redislockLib) Release(ctx context.Context, l any) error {
	return l.(*redislock.Lock).Release(ctx)
}
