package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
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

// putScript replaces the record's hash, sets its TTL and announces its ID,
// in one round trip. ARGV: ttl ms, channel, id, then field/value pairs.
const putScriptSrc = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`

var putSHA = redis.NewScript(putScriptSrc).Hash()

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

// Put implements Store. Run by a worker that batches (see package
// internal/rbatch), the write joins the worker's final round trip.
func (r *Redis) Put(ctx context.Context, rec *Record, ttl time.Duration) error {
	if err := checkPut(rec, ttl); err != nil {
		return err
	}
	at := rec.At
	if at.IsZero() {
		at = time.Now()
	}
	args := make([]any, 0, 4+3+2*7)
	args = append(args, "evalsha", putSHA, 1, r.key(rec.ID),
		max(ttl.Milliseconds(), 1), r.hub.Channel(), rec.ID,
		"task", rec.Task, "status", string(rec.Status), "attempt", rec.Attempt, "at", at.UnixMicro())
	if len(rec.Value) > 0 {
		args = append(args, "value", rec.Value)
	}
	if rec.Error != "" {
		args = append(args, "error", rec.Error)
	}
	if rec.Kind != "" {
		args = append(args, "kind", rec.Kind)
	}
	if rbatch.Wants(ctx, r.client) {
		args[0], args[1] = "eval", putScriptSrc
		rbatch.Defer(ctx, r.client, rbatch.Result, evalCmd(ctx, args))
		return nil
	}
	cmd := evalCmd(ctx, args)
	_ = r.client.Process(ctx, cmd)
	if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		args[0], args[1] = "eval", putScriptSrc
		cmd = evalCmd(ctx, args)
		_ = r.client.Process(ctx, cmd)
	}
	if err := cmd.Err(); err != nil {
		return fmt.Errorf("store: put %q: %w", rec.ID, err)
	}
	return nil
}

// evalCmd makes an EVAL or EVALSHA of args, routed by its first key.
func evalCmd(ctx context.Context, args []any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, args...)
	cmd.SetFirstKeyPos(3)
	return cmd
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
	hashes := make([]*redis.MapStringStringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			hashes[i] = p.HGetAll(ctx, k)
			ttls[i] = p.PTTL(ctx, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: read: %w", err)
	}
	now := time.Now()
	out := make([]*Record, len(keys))
	start := len(r.prefix) + len("result:{")
	for i, k := range keys {
		h := hashes[i].Val()
		if len(h) == 0 {
			continue
		}
		rec := &Record{
			ID:     k[start : len(k)-1],
			Task:   h["task"],
			Status: Status(h["status"]),
			Error:  h["error"],
			Kind:   h["kind"],
		}
		if v, ok := h["value"]; ok {
			rec.Value = []byte(v)
		}
		rec.Attempt, _ = strconv.Atoi(h["attempt"])
		if us, err := strconv.ParseInt(h["at"], 10, 64); err == nil {
			rec.At = time.UnixMicro(us)
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
