package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/rkeys"
	"github.com/taskware/taskware/task"
)

// DefaultPrefix starts every key taskware writes, unless told otherwise.
const DefaultPrefix = "taskware:"

// putScript replaces the record's hash, sets its TTL and announces its ID,
// in one round trip. ARGV: ttl ms, channel, id, then field/value pairs.
var putScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`)

// Redis is a Store on Redis. Create it with NewRedis.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	channel string
	hub     hub
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
	r.channel = r.prefix + "result:done"
	r.hub = hub{client: client, channel: r.channel, waiters: make(map[string][]chan struct{})}
	return r
}

func (r *Redis) key(id string) string { return r.prefix + "result:{" + id + "}" }

// Put implements Store.
func (r *Redis) Put(ctx context.Context, rec *Record, ttl time.Duration) error {
	if err := checkPut(rec, ttl); err != nil {
		return err
	}
	at := rec.At
	if at.IsZero() {
		at = time.Now()
	}
	args := make([]any, 0, 3+2*7)
	args = append(args, max(ttl.Milliseconds(), 1), r.channel, rec.ID,
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
	if err := putScript.Run(ctx, r.client, []string{r.key(rec.ID)}, args...).Err(); err != nil {
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
	w, err := r.hub.join(ctx, id)
	if err != nil {
		return nil, err
	}
	defer r.hub.leave(id, w)
	recheck := 250 * time.Millisecond
	timer := time.NewTimer(0) // read once the subscription is live
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-w:
		case <-timer.C:
			timer.Reset(recheck)
			recheck = min(2*recheck, 5*time.Second)
		}
		rec, err := r.Get(ctx, id)
		switch {
		case err == nil:
			return rec, nil
		case ctx.Err() != nil:
			// ctx ended during the read, which failed for it.
			return nil, context.Cause(ctx)
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
}

// hub fans one Pub/Sub subscription out to the waiters of many IDs.
type hub struct {
	client  redis.UniversalClient
	channel string

	mu      sync.Mutex
	waiters map[string][]chan struct{}
	n       int
	sub     *subscription
}

type subscription struct {
	ready  chan struct{} // closed once subscribed, or failed (err)
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

func (h *hub) join(ctx context.Context, id string) (chan struct{}, error) {
	w := make(chan struct{}, 1)
	h.mu.Lock()
	h.waiters[id] = append(h.waiters[id], w)
	h.n++
	if h.sub == nil {
		h.sub = h.subscribe()
	}
	s := h.sub
	h.mu.Unlock()
	select {
	case <-s.ready:
		if s.err == nil {
			return w, nil
		}
		h.leave(id, w)
		return nil, fmt.Errorf("store: wait: subscribe: %w", s.err)
	case <-ctx.Done():
		h.leave(id, w)
		return nil, context.Cause(ctx)
	}
}

func (h *hub) leave(id string, w chan struct{}) {
	h.mu.Lock()
	ws := h.waiters[id]
	for i := range ws {
		if ws[i] == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(h.waiters, id)
	} else {
		h.waiters[id] = ws
	}
	h.n--
	var stop *subscription
	if h.n == 0 {
		stop, h.sub = h.sub, nil
	}
	h.mu.Unlock()
	if stop != nil {
		stop.cancel()
		<-stop.done
	}
}

// subscribe starts the goroutine that holds the subscription until cancel.
func (h *hub) subscribe() *subscription {
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscription{ready: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		ps := h.client.Subscribe(ctx, h.channel)
		defer ps.Close()
		_, s.err = ps.Receive(ctx)
		close(s.ready)
		if s.err != nil {
			return
		}
		ch := ps.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case msg, ok := <-ch:
				if !ok {
					return
				}
				h.notify(msg.Payload)
			}
		}
	}()
	return s
}

func (h *hub) notify(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.waiters[id] {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}
