package redisbackend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// Store is the backend's store.Store and store.FinalPutter. A record is one
// string, "<prefix>result:{<queue>}:<id>", written whole by a SET with its
// TTL and announced on the backend's channel, in one round trip.
type Store struct{ b *Backend }

// putOp returns the put of rec, stamped with the time now if rec.At is
// zero: what the script that ends a task needs to write it, and, made only
// if it goes on its own (Apply), a SET and a PUBLISH.
func (s *Store) putOp(rec *store.Record, ttl time.Duration) *finalOp {
	at := rec.At
	if at.IsZero() {
		at = time.Now()
	}
	p := &put{finalOp: finalOp{b: s.b, queue: rec.Queue, id: rec.ID, ttlMs: max(ttl.Milliseconds(), 1)}}
	p.value = appendRecord(p.buf[:], rec, at)
	return &p.finalOp
}

// put is a record's write and its encoding, in one allocation when the
// record is small, as most are.
type put struct {
	finalOp
	buf [128]byte
}

// Put implements store.Writer: a SET with the TTL and a PUBLISH to wake
// waiters, in one pipeline.
func (s *Store) Put(ctx context.Context, rec *store.Record, ttl time.Duration) error {
	w, err := s.FinalPut(rec, ttl)
	if err != nil {
		return err
	}
	if err := w.Apply(ctx); err != nil {
		return fmt.Errorf("store: put %q: %w", rec.ID, err)
	}
	return nil
}

// FinalPut implements store.FinalPutter: the put, for the round trip that
// ends the task. The backend's Queue writes the record in the script that
// ends the task, only if the delivery is still the one to end it: a worker
// that finishes late, after its task was taken over and ended, does not
// overwrite the record of the run that stands.
func (s *Store) FinalPut(rec *store.Record, ttl time.Duration) (task.FinalWrite, error) {
	if err := store.ValidatePut(rec, ttl); err != nil {
		return nil, err
	}
	return s.putOp(rec, ttl), nil
}

// Get implements store.Reader. It reads the record and its TTL in one
// round trip. A task's record is in its partition's keys: on a
// partitioned queue Get looks as Queue.State does (see lookup.go).
func (s *Store) Get(ctx context.Context, queue, id string) (*store.Record, error) {
	ops, err := s.b.queue.lookup(ctx, queue, id, func(physical string) reads {
		key := s.b.keys.result(physical, id)
		return reads{op{cmd: redis.NewStringCmd(ctx, "get", key)}, op{cmd: redis.NewDurationCmd(ctx, time.Millisecond, "pttl", key)}}
	}, func(ops reads) bool {
		return !errors.Is(ops[0].cmd.Err(), redis.Nil)
	})
	var v valueTTL
	if err == nil {
		v.val, err = ops[0].cmd.(*redis.StringCmd).Result()
		v.ok, v.ttl = err == nil, ops[1].cmd.(*redis.DurationCmd).Val()
	}
	if errors.Is(err, redis.Nil) {
		return nil, &store.NotFoundError{Queue: queue, ID: id}
	}
	if err != nil {
		return nil, fmt.Errorf("store: get %q: %w", id, unavailable(ctx, err))
	}
	key, _ := ops[0].cmd.Args()[1].(string) // the GET's
	return s.decode(key, v, time.Now())
}

// decode rebuilds the record stored under key. A record of a partition
// of a queue is its logical queue's.
func (s *Store) decode(key string, v valueTTL, now time.Time) (*store.Record, error) {
	queue, id, ok := splitTagged(key[len(s.b.keys.prefix)+len("result:{"):])
	if !ok || len(id) == 0 || id[0] != ':' {
		return nil, fmt.Errorf("store: read %s: %w", key, errBadRecord)
	}
	rec, err := decodeRecord(v.val)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", key, err)
	}
	rec.Queue, rec.ID = logicalName(queue), id[1:]
	if v.ttl > 0 {
		rec.ExpiresAt = now.Add(v.ttl)
	}
	return rec, nil
}

// Delete implements store.Store: one DEL (see lookup.go for a
// partitioned queue).
func (s *Store) Delete(ctx context.Context, queue, id string) error {
	ops, err := s.b.queue.lookup(ctx, queue, id, func(physical string) reads {
		return reads{op{cmd: redis.NewIntCmd(ctx, "del", s.b.keys.result(physical, id))}}
	}, func(ops reads) bool {
		c := ops[0].cmd.(*redis.IntCmd)
		return c.Err() != nil || c.Val() > 0
	})
	if err == nil {
		err = ops[0].cmd.Err()
	}
	if err != nil {
		return fmt.Errorf("store: delete %q: %w", id, unavailable(ctx, err))
	}
	return nil
}

// List implements store.Store. It scans the result keyspace, on every
// master of a *redis.ClusterClient.
func (s *Store) List(ctx context.Context) ([]*store.Record, error) {
	var out []*store.Record
	err := s.b.scan(ctx, escapeGlob(s.b.keys.prefix)+"result:{*}:*", func(ctx context.Context, node redis.Cmdable, keys []string) error {
		vals, err := readWithTTL(ctx, node, keys)
		now := time.Now()
		for i, v := range vals {
			if !v.ok {
				continue // expired after SCAN
			}
			rec, err := s.decode(keys[i], v, now)
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return err
	})
	if err != nil {
		err = fmt.Errorf("store: list: %w", unavailable(ctx, err))
	}
	slices.SortFunc(out, store.Compare)
	return out, err
}

// Wait implements store.Reader. Waiters share the backend's one Pub/Sub
// subscription, opened while anyone waits. A notice lost to a reconnect is
// covered by re-reading the record now and then, backing off to once
// every few seconds. The record of a queued task is announced only if
// someone waits for it: each look marks the task's state, as the queue's
// Wait does. On a partitioned queue the waiter waits for its logical
// queue's notice, and each look finds the partition that holds the
// task's record or state as Get does.
func (s *Store) Wait(ctx context.Context, queue, id string) (*store.Record, error) {
	var rec *store.Record
	err := s.b.hub.wait(ctx, resultNotice(queue, id), func(ctx context.Context) (bool, error) {
		var err error
		rec, err = s.look(ctx, queue, id)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// look is Get, which also marks the task's state as waited for if there
// is no record yet. A record of no queue ("") has no state.
func (s *Store) look(ctx context.Context, queue, id string) (*store.Record, error) {
	if queue == "" {
		return s.Get(ctx, queue, id)
	}
	ops, err := s.b.queue.lookup(ctx, queue, id, func(physical string) reads {
		return reads{scriptOpOf(lookScript, []string{s.b.keys.result(physical, id), s.b.keys.state(physical, id)})}
	}, func(ops reads) bool {
		res, err := ops[0].cmd.(*redis.Cmd).Slice()
		return err != nil && !errors.Is(err, redis.Nil) || len(res) > 0
	})
	var res []any
	if err == nil {
		res, err = ops[0].cmd.(*redis.Cmd).Slice()
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: get %q: %w", id, unavailable(ctx, err))
	}
	if len(res) != 2 {
		return nil, &store.NotFoundError{Queue: queue, ID: id}
	}
	v := valueTTL{ok: true}
	v.val, _ = res[0].(string)
	ms, _ := res[1].(int64)
	v.ttl = time.Duration(ms) * time.Millisecond
	key, _ := ops[0].cmd.Args()[3].(string) // the script's first key
	return s.decode(key, v, time.Now())
}

// KEYS: record, state. Returns the record and its TTL (ms), or marks the
// state, if there is one, as waited for, and returns {1}; or false.
var lookScript = newScript(`
local v = redis.call('GET', KEYS[1])
if v then return {v, redis.call('PTTL', KEYS[1])} end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSETNX', KEYS[2], 'w', '1') return {1} end
return false`)
