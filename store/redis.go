package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/notify"
	"github.com/taskware/taskware/internal/rbatch"
	"github.com/taskware/taskware/internal/rkeys"
	"github.com/taskware/taskware/task"
)

// DefaultPrefix starts every key taskware writes, unless told otherwise.
const DefaultPrefix = "taskware:"

// Redis is a Store on Redis. Create it with NewRedis.
type Redis struct {
	client redis.UniversalClient
	prefix string
	hub    *notify.Hub
}

// RedisOption configures a Redis store.
type RedisOption interface{ applyRedis(*Redis) }

type redisOptionFunc func(*Redis)

func (f redisOptionFunc) applyRedis(r *Redis) { f(r) }

// WithPrefix sets the key prefix, DefaultPrefix by default. It must not
// contain '{' or '}', which would break the keys' Cluster hash tags.
func WithPrefix(p string) RedisOption { return redisOptionFunc(func(r *Redis) { r.prefix = p }) }

// NewRedis returns a Store on client. It panics with an error matching
// task.ErrInvalidConfig if client is nil or the prefix contains a brace.
func NewRedis(client redis.UniversalClient, opts ...RedisOption) *Redis {
	r := &Redis{client: client, prefix: DefaultPrefix}
	for _, o := range opts {
		o.applyRedis(r)
	}
	if client == nil {
		panic(fmt.Errorf("%w: store.NewRedis: nil client", task.ErrInvalidConfig))
	}
	if strings.ContainsAny(r.prefix, "{}") {
		panic(fmt.Errorf("%w: store.NewRedis: prefix %q contains a brace", task.ErrInvalidConfig, r.prefix))
	}
	r.hub = notify.New(client, r.prefix+"result:done")
	return r
}

func (r *Redis) key(id string) string { return r.prefix + "result:{" + id + "}" }

// Put implements Store: a SET with the TTL and a PUBLISH to wake waiters,
// in one pipeline. Run by a worker that batches (see package
// internal/rbatch), both join the worker's final round trip instead.
func (r *Redis) Put(ctx context.Context, rec *Record, ttl time.Duration) error {
	if err := checkPut(rec, ttl); err != nil {
		return err
	}
	at := rec.At
	if at.IsZero() {
		at = time.Now()
	}
	set := redis.NewStatusCmd(ctx, "set", r.key(rec.ID), encodeRecord(rec, at), "px", max(ttl.Milliseconds(), 1))
	pub := redis.NewIntCmd(ctx, "publish", r.hub.Channel(), rec.ID)
	if rbatch.Wants(ctx, r.client) {
		rbatch.Defer(ctx, r.client, rbatch.Op{Kind: rbatch.Result, Cmd: set})
		rbatch.Defer(ctx, r.client, rbatch.Op{Kind: rbatch.Result, Cmd: pub})
		return nil
	}
	pipe := r.client.Pipeline()
	_ = pipe.Process(ctx, set)
	_ = pipe.Process(ctx, pub)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store: put %q: %w", rec.ID, err)
	}
	return nil
}

// Get implements Store. It reads the record and its TTL in one round trip.
func (r *Redis) Get(ctx context.Context, id string) (*Record, error) {
	recs, err := r.read(ctx, r.client, []string{r.key(id)})
	if err != nil {
		return nil, err
	}
	if recs[0] == nil {
		return nil, notFound(id)
	}
	return recs[0], nil
}

// read fetches the records under keys in one pipeline; a missing one is nil.
func (r *Redis) read(ctx context.Context, c redis.Cmdable, keys []string) ([]*Record, error) {
	vals := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			vals[i] = p.Get(ctx, k)
			ttls[i] = p.PTTL(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: read: %w", err)
	}
	now := time.Now()
	out := make([]*Record, len(keys))
	start := len(r.prefix) + len("result:{")
	for i, k := range keys {
		v, err := vals[i].Result()
		if err != nil {
			continue // gone
		}
		rec, err := decodeRecord(k[start:len(k)-1], v)
		if err != nil {
			return nil, fmt.Errorf("store: read %s: %w", k, err)
		}
		if d := ttls[i].Val(); d > 0 {
			rec.ExpiresAt = now.Add(d)
		}
		out[i] = rec
	}
	return out, nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, id string) error {
	if err := r.client.Del(ctx, r.key(id)).Err(); err != nil {
		return fmt.Errorf("store: delete %q: %w", id, err)
	}
	return nil
}

// List implements Store. It scans the result keyspace, on every master of a
// *redis.ClusterClient. Records come sorted by ID.
func (r *Redis) List(ctx context.Context) ([]*Record, error) {
	var out []*Record
	err := rkeys.Scan(ctx, r.client, rkeys.EscapeGlob(r.prefix)+"result:{*}", func(ctx context.Context, node redis.Cmdable, keys []string) error {
		recs, err := r.read(ctx, node, keys)
		for _, rec := range recs {
			if rec != nil {
				out = append(out, rec)
			}
		}
		return err
	})
	if err != nil {
		err = fmt.Errorf("store: list: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// Wait implements Store. Waiters share one Pub/Sub subscription, opened
// while anyone waits. A notice lost to a reconnect is covered by re-reading
// the record now and then, backing off to once every few seconds.
func (r *Redis) Wait(ctx context.Context, id string) (*Record, error) {
	var rec *Record
	err := r.hub.Wait(ctx, id, func(ctx context.Context) (bool, error) {
		var err error
		rec, err = r.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}
