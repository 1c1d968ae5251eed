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
	return &finalOp{b: s.b, queue: rec.Queue, id: rec.ID, value: encodeRecord(rec, at), ttlMs: max(ttl.Milliseconds(), 1)}
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
	first, rest, err := s.b.queue.partitionsOf(ctx, queue, id)
	if err != nil {
		return nil, fmt.Errorf("store: get %q: %w", id, err)
	}
	key := s.b.keys.result(first, id)
	vals, err := readWithTTL(ctx, s.b.client, []string{key})
	if err == nil && !vals[0].ok && len(rest) > 0 {
		keys := make([]string, len(rest))
		for i, physical := range rest {
			keys[i] = s.b.keys.result(physical, id)
		}
		vals, err = readWithTTL(ctx, s.b.client, keys)
		for i := range vals {
			if vals[i].ok {
				key, vals = keys[i], vals[i:]
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: get %q: %w", id, unavailable(ctx, err))
	}
	if !vals[0].ok {
		return nil, &store.NotFoundError{Queue: queue, ID: id}
	}
	return s.decode(key, vals[0], time.Now())
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

// Delete implements store.Store: one DEL, of every partition's key in
// one pipeline on a partitioned queue.
func (s *Store) Delete(ctx context.Context, queue, id string) error {
	first, rest, err := s.b.queue.partitionsOf(ctx, queue, id)
	if err != nil {
		return fmt.Errorf("store: delete %q: %w", id, err)
	}
	if len(rest) == 0 {
		err = s.b.client.Del(ctx, s.b.keys.result(first, id)).Err()
	} else {
		_, err = s.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, s.b.keys.result(first, id))
			for _, physical := range rest {
				p.Del(ctx, s.b.keys.result(physical, id))
			}
			return nil
		})
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
// queue's notice, and looks as Get does, then only in the partition that
// holds the task once it found it.
func (s *Store) Wait(ctx context.Context, queue, id string) (*store.Record, error) {
	first, rest, err := s.b.queue.partitionsOf(ctx, queue, id)
	if err != nil {
		return nil, fmt.Errorf("store: get %q: %w", id, err)
	}
	var rec *store.Record
	key := s.b.keys.result(first, id)
	err = s.b.hub.wait(ctx, resultNotice(queue, id), func(ctx context.Context) (bool, error) {
		var err error
		var held bool
		rec, held, err = s.look(ctx, first, id, key)
		if errors.Is(err, store.ErrNotFound) && !held && len(rest) > 0 {
			rec, err = s.lookRest(ctx, id, &first, &key, rest)
		}
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
// is no record yet, and reports whether it has a state (held). A record
// of no queue ("") has no state.
func (s *Store) look(ctx context.Context, queue, id, key string) (rec *store.Record, held bool, err error) {
	if queue == "" {
		rec, err = s.Get(ctx, queue, id)
		return rec, false, err
	}
	cmd := s.b.run(ctx, lookScript, lookScript.evalSHA([]string{key, s.b.keys.state(queue, id)}))
	return s.looked(ctx, cmd, queue, id, key)
}

// looked reads the answer of lookScript.
func (s *Store) looked(ctx context.Context, cmd *redis.Cmd, queue, id, key string) (*store.Record, bool, error) {
	res, err := cmd.Slice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, false, fmt.Errorf("store: get %q: %w", id, unavailable(ctx, err))
	}
	if len(res) != 2 {
		return nil, len(res) == 1, &store.NotFoundError{Queue: logicalName(queue), ID: id}
	}
	v := valueTTL{ok: true}
	v.val, _ = res[0].(string)
	ms, _ := res[1].(int64)
	v.ttl = time.Duration(ms) * time.Millisecond
	rec, err := s.decode(key, v, time.Now())
	return rec, true, err
}

// lookRest is look in the partitions rest, in one pipeline. Finding the
// task's record or state in one, it sets *first and *key to it and its
// record's key, where the looks to come look first.
func (s *Store) lookRest(ctx context.Context, id string, first, key *string, rest []string) (*store.Record, error) {
	ops := make([]op, len(rest))
	keys := make([]string, len(rest))
	for i, physical := range rest {
		keys[i] = s.b.keys.result(physical, id)
		ops[i] = scriptOpOf(lookScript, []string{keys[i], s.b.keys.state(physical, id)})
	}
	s.b.exec(ctx, ops)
	var err error
	for i, o := range ops {
		rec, held, e := s.looked(ctx, o.cmd.(*redis.Cmd), rest[i], id, keys[i])
		if e == nil || held {
			*first, *key = rest[i], keys[i]
			return rec, e
		}
		if !errors.Is(e, store.ErrNotFound) {
			err = e
		}
	}
	if err != nil {
		return nil, err
	}
	return nil, &store.NotFoundError{Queue: logicalName(rest[0]), ID: id}
}

// KEYS: record, state. Returns the record and its TTL (ms), or marks the
// state, if there is one, as waited for, and returns {1}; or false.
var lookScript = newScript(`
local v = redis.call('GET', KEYS[1])
if v then return {v, redis.call('PTTL', KEYS[1])} end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSETNX', KEYS[2], 'w', '1') return {1} end
return false`)
