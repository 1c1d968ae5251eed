package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/notify"
	"github.com/taskware/taskware/internal/rbatch"
	"github.com/taskware/taskware/internal/rscript"
)

// group is the consumer group every worker reads a queue's stream with.
const group = "taskware"

// Defaults of a Redis queue.
const (
	DefaultStateTTL      = 24 * time.Hour
	DefaultDeadLetterMax = 10000
)

// A queue's keys share the hash tag {<queue>}, so that its scripts work on
// Redis Cluster:
//
//	<prefix>queue:{<q>}              the stream of ready messages
//	<prefix>queue:{<q>}:delayed      sorted set of scheduled IDs, by due time (ms)
//	<prefix>queue:{<q>}:dead         the dead-letter stream
//	<prefix>queue:{<q>}:task:<id>    a task's state, with its message while it waits
//
// Stream entries carry the whole message, so a Take is one round trip.
var (
	enqueueScript = rscript.New(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local status = 'queued'
if ARGV[7] ~= '0' then status = 'scheduled' end
redis.call('HSET', KEYS[3], 'task', ARGV[2], 'payload', ARGV[3], 'enq', ARGV[4], 'exp', ARGV[5], 'attempt', ARGV[6], 'status', status)
if ARGV[7] ~= '0' then
  redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
else
  redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'task', ARGV[2], 'payload', ARGV[3], 'enq', ARGV[4], 'exp', ARGV[5], 'attempt', ARGV[6])
end
return 1`)
	promoteScript = rscript.New(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local s = ARGV[3] .. id
  local h = redis.call('HMGET', s, 'task', 'payload', 'enq', 'exp', 'attempt', 'status')
  -- A task that ended meanwhile (delivered twice) has no payload: drop it.
  if h[6] == 'scheduled' and h[1] and h[2] then
    redis.call('XADD', KEYS[1], '*', 'id', id, 'task', h[1], 'payload', h[2], 'enq', h[3], 'exp', h[4], 'attempt', h[5])
    redis.call('HSET', s, 'status', 'queued')
  end
  redis.call('ZREM', KEYS[2], id)
end
return #ids`)
	// KEYS: stream, state. ARGV: entry, status, kind, error, attempt, result, ttl ms, channel, notice.
	finishScript = rscript.New(`
redis.call('XACK', KEYS[1], 'taskware', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'status', ARGV[2], 'kind', ARGV[3], 'error', ARGV[4], 'attempt', ARGV[5], 'result', ARGV[6])
redis.call('HDEL', KEYS[2], 'payload')
redis.call('PEXPIRE', KEYS[2], ARGV[7])
redis.call('PUBLISH', ARGV[8], ARGV[9])
return 1`)
	// KEYS: stream, state, dead. ARGV: entry, kind, error, attempt, ttl ms, channel, notice,
	// id, task, payload, enq, exp, at, maxlen, result.
	deadScript = rscript.New(`
redis.call('XACK', KEYS[1], 'taskware', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[14], '*', 'id', ARGV[8], 'task', ARGV[9], 'payload', ARGV[10],
  'enq', ARGV[11], 'exp', ARGV[12], 'attempt', ARGV[4], 'kind', ARGV[2], 'reason', ARGV[3], 'at', ARGV[13])
redis.call('HSET', KEYS[2], 'status', 'dead', 'kind', ARGV[2], 'error', ARGV[3], 'attempt', ARGV[4], 'result', ARGV[15])
redis.call('HDEL', KEYS[2], 'payload')
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1`)
	// KEYS: stream, delayed, state. ARGV: entry, run at ms, attempt, kind, error, id.
	// A task that ended meanwhile (it was delivered twice) stays ended.
	requeueScript = rscript.New(`
redis.call('XACK', KEYS[1], 'taskware', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
local status = redis.call('HGET', KEYS[3], 'status')
if status ~= 'queued' and status ~= 'scheduled' then return 0 end
redis.call('HSET', KEYS[3], 'status', 'scheduled', 'attempt', ARGV[3], 'kind', ARGV[4], 'error', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[6])
return 1`)
)

// RedisQueue is a Queue on Redis streams with a consumer group: XADD to
// enqueue, XREADGROUP to take several messages in one round trip, XACK to
// finish, XAUTOCLAIM to take over the deliveries of a worker that died, and
// a sorted set for what waits to be due. Create it with NewRedisQueue.
type RedisQueue struct {
	client        redis.UniversalClient
	prefix        string
	stateTTL      time.Duration
	deadLetterMax int64
	hub           *notify.Hub
	groups        sync.Map // queue name -> struct{}: its group exists
}

// RedisQueueOption configures a RedisQueue.
type RedisQueueOption interface{ applyRedis(*RedisQueue) }

type redisQueueOption func(*RedisQueue)

func (f redisQueueOption) applyRedis(q *RedisQueue) { f(q) }

// WithPrefix sets the key prefix, "taskware:" by default; it must not
// contain braces.
func WithPrefix(p string) RedisQueueOption {
	return redisQueueOption(func(q *RedisQueue) { q.prefix = p })
}

// WithStateTTL sets how long a finished task's state is kept (DefaultStateTTL):
// its outcome for handles, and the window in which its ID counts as a
// duplicate.
func WithStateTTL(d time.Duration) RedisQueueOption {
	return redisQueueOption(func(q *RedisQueue) { q.stateTTL = d })
}

// WithDeadLetterMax caps each dead-letter stream at about n entries
// (DefaultDeadLetterMax), the oldest going first.
func WithDeadLetterMax(n int) RedisQueueOption {
	return redisQueueOption(func(q *RedisQueue) { q.deadLetterMax = int64(n) })
}

// NewRedisQueue returns a Queue on client. Give the worker's locker and
// result store the same client, so that a run's lock release and result
// write share its final round trip. It panics with an error matching
// task.ErrInvalidConfig on a nil client, a prefix with braces, or a
// non-positive state TTL or dead-letter cap.
func NewRedisQueue(client redis.UniversalClient, opts ...RedisQueueOption) *RedisQueue {
	q := &RedisQueue{client: client, prefix: "taskware:", stateTTL: DefaultStateTTL, deadLetterMax: DefaultDeadLetterMax}
	for _, o := range opts {
		o.applyRedis(q)
	}
	switch {
	case client == nil:
		panic(configError("NewRedisQueue: nil client"))
	case strings.ContainsAny(q.prefix, "{}"):
		panic(configError("NewRedisQueue: prefix %q contains a brace", q.prefix))
	case q.stateTTL <= 0 || q.deadLetterMax <= 0:
		panic(configError("NewRedisQueue: state TTL and dead-letter cap must be positive"))
	}
	q.hub = notify.New(client, q.prefix+"queue:done")
	return q
}

func (q *RedisQueue) stream(queue string) string { return q.prefix + "queue:{" + queue + "}" }
func (q *RedisQueue) delayed(queue string) string {
	return q.prefix + "queue:{" + queue + "}:delayed"
}
func (q *RedisQueue) dead(queue string) string { return q.prefix + "queue:{" + queue + "}:dead" }
func (q *RedisQueue) statePrefix(queue string) string {
	return q.prefix + "queue:{" + queue + "}:task:"
}
func notice(queue, id string) string { return queue + "/" + id }

// run sends an EVALSHA of s with keys and args in one round trip (two if
// the server lost its script cache).
func (q *RedisQueue) run(ctx context.Context, s rscript.Script, keys []string, args ...any) *redis.Cmd {
	return rscript.Run(ctx, q.client, s.Src, evalSHA(ctx, s, keys, args))
}

func evalSHA(ctx context.Context, s rscript.Script, keys []string, args []any) *redis.Cmd {
	all := make([]any, 0, 3+len(keys)+len(args))
	all = append(all, "evalsha", s.SHA, len(keys))
	for _, k := range keys {
		all = append(all, k)
	}
	return rscript.Cmd(ctx, append(all, args...)...)
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(s string) time.Time {
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil || us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// Enqueue implements Queue, in one round trip.
func (q *RedisQueue) Enqueue(ctx context.Context, m *Message, runAt time.Time) error {
	if err := checkMessage(m); err != nil {
		return err
	}
	var runAtMs int64
	if runAt.After(time.Now()) {
		runAtMs = runAt.UnixMilli()
	}
	keys := []string{q.stream(m.Queue), q.delayed(m.Queue), q.statePrefix(m.Queue) + m.ID}
	n, err := q.run(ctx, enqueueScript, keys, m.ID, m.Task, m.Payload, micros(m.EnqueuedAt), micros(m.ExpiresAt),
		max(m.Attempt, 1), runAtMs).Int64()
	if err != nil {
		return fmt.Errorf("worker: enqueue %s: %w", m.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("worker: enqueue %q on queue %q: %w", m.ID, m.Queue, ErrDuplicate)
	}
	return nil
}

// ensureGroup creates queue's consumer group (and stream) once per process.
func (q *RedisQueue) ensureGroup(ctx context.Context, queue string, force bool) error {
	if _, ok := q.groups.Load(queue); ok && !force {
		return nil
	}
	err := q.client.XGroupCreateMkStream(ctx, q.stream(queue), group, "0").Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return err
	}
	q.groups.Store(queue, struct{}{})
	return nil
}

// Take implements Queue, in one round trip for up to n messages.
func (q *RedisQueue) Take(ctx context.Context, queue, consumer string, n int, wait time.Duration) ([]*Delivery, error) {
	if err := q.ensureGroup(ctx, queue, false); err != nil {
		return nil, fmt.Errorf("worker: take from %s: %w", queue, err)
	}
	args := &redis.XReadGroupArgs{Group: group, Consumer: consumer, Streams: []string{q.stream(queue), ">"}, Count: int64(n), Block: wait}
	if wait <= 0 {
		args.Block = -1 // no BLOCK
	} else if wait < time.Millisecond {
		args.Block = time.Millisecond // BLOCK 0 would wait for ever
	}
	streams, err := q.client.XReadGroup(ctx, args).Result()
	if redis.HasErrorPrefix(err, "NOGROUP") { // the stream was deleted under us
		if err = q.ensureGroup(ctx, queue, true); err == nil {
			streams, err = q.client.XReadGroup(ctx, args).Result()
		}
	}
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("worker: take from %s: %w", queue, err)
	}
	var out []*Delivery
	for _, s := range streams {
		for _, m := range s.Messages {
			out = append(out, parseEntry(queue, m))
		}
	}
	return out, nil
}

func parseEntry(queue string, m redis.XMessage) *Delivery {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	d := &Delivery{Receipt: m.ID, Deliveries: 1}
	d.Queue = queue
	d.ID, d.Task = str("id"), str("task")
	if p := str("payload"); p != "" {
		d.Payload = []byte(p)
	}
	d.EnqueuedAt, d.ExpiresAt = fromMicros(str("enq")), fromMicros(str("exp"))
	d.Attempt, _ = strconv.Atoi(str("attempt"))
	return d
}

// Reclaim implements Queue with XAUTOCLAIM, then counts the takeover in
// each task's state, in one pipeline: Deliveries is one more than the
// takeovers so far. (The stream's own delivery counter also counts the
// claims by which live workers extend their claims, on some servers.)
func (q *RedisQueue) Reclaim(ctx context.Context, queue, consumer string, minIdle time.Duration, n int) ([]*Delivery, error) {
	if err := q.ensureGroup(ctx, queue, false); err != nil {
		return nil, fmt.Errorf("worker: reclaim on %s: %w", queue, err)
	}
	msgs, _, err := q.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: q.stream(queue), Group: group, Consumer: consumer, MinIdle: minIdle, Start: "0-0", Count: int64(n),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: reclaim on %s: %w", queue, err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	out := make([]*Delivery, 0, len(msgs))
	counts := make([]*redis.IntCmd, len(msgs))
	pipe := q.client.Pipeline()
	for i, m := range msgs {
		d := parseEntry(queue, m)
		out = append(out, d)
		counts[i] = pipe.HIncrBy(ctx, q.statePrefix(queue)+d.ID, "reclaims", 1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("worker: reclaim on %s: %w", queue, err)
	}
	for i, d := range out {
		d.Deliveries = 1 + int(counts[i].Val())
	}
	return out, nil
}

// Extend implements Queue: one XCLAIM ... JUSTID for all of them, which
// resets their idle time.
func (q *RedisQueue) Extend(ctx context.Context, queue, consumer string, ds []*Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.Receipt
	}
	err := q.client.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.stream(queue), Group: group, Consumer: consumer, Messages: ids}).Err()
	if err != nil {
		return fmt.Errorf("worker: extend on %s: %w", queue, err)
	}
	return nil
}

// Promote implements Queue, in one round trip.
func (q *RedisQueue) Promote(ctx context.Context, queue string, now time.Time, n int) (int, error) {
	moved, err := q.run(ctx, promoteScript, []string{q.stream(queue), q.delayed(queue)},
		now.UnixMilli(), n, q.statePrefix(queue)).Int()
	if err != nil {
		return 0, fmt.Errorf("worker: promote on %s: %w", queue, err)
	}
	return moved, nil
}

// Finish implements Queue. If ctx carries a batch for the queue's client
// (the run's lock release and result write), they go in the same pipeline:
// one round trip in all.
func (q *RedisQueue) Finish(ctx context.Context, d *Delivery, o Outcome) error {
	keys := []string{q.stream(d.Queue), q.statePrefix(d.Queue) + d.ID}
	result := 0
	if o.Result {
		result = 1
	}
	var s rscript.Script
	var args []any
	switch o.Status {
	case Scheduled:
		keys = []string{keys[0], q.delayed(d.Queue), keys[1]}
		s, args = requeueScript, []any{d.Receipt, o.RunAt.UnixMilli(), o.Attempt, o.Kind, o.Error, d.ID}
	case Dead:
		keys = append(keys, q.dead(d.Queue))
		s, args = deadScript, []any{d.Receipt, o.Kind, o.Error, o.Attempt, q.stateTTL.Milliseconds(), q.hub.Channel(), notice(d.Queue, d.ID),
			d.ID, d.Task, d.Payload, micros(d.EnqueuedAt), micros(d.ExpiresAt), time.Now().UnixMicro(), q.deadLetterMax, result}
	case Succeeded, Failed, Skipped:
		s, args = finishScript, []any{d.Receipt, string(o.Status), o.Kind, o.Error, o.Attempt, result,
			q.stateTTL.Milliseconds(), q.hub.Channel(), notice(d.Queue, d.ID)}
	default:
		return fmt.Errorf("worker: finish %s: status %q is not an outcome", d.ID, o.Status)
	}
	if !rbatch.Wants(ctx, q.client) {
		if err := q.run(ctx, s, keys, args...).Err(); err != nil {
			return fmt.Errorf("worker: finish %s: %w", d.ID, err)
		}
		return nil
	}
	ops := append(rbatch.From(ctx).Ops, rbatch.Op{Cmd: evalSHA(ctx, s, keys, args), Src: s.Src})
	rbatch.Exec(ctx, q.client, ops)
	if err := ops[len(ops)-1].Cmd.Err(); err != nil {
		return fmt.Errorf("worker: finish %s: %w", d.ID, err)
	}
	for _, op := range ops {
		if err := op.Cmd.Err(); err != nil && op.Kind == rbatch.Result {
			return fmt.Errorf("worker: finish %s: result write: %w", d.ID, err)
		}
	}
	return nil
}

// State implements Queue.
func (q *RedisQueue) State(ctx context.Context, queue, id string) (*State, error) {
	h, err := q.client.HGetAll(ctx, q.statePrefix(queue)+id).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: state of %s: %w", id, err)
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("worker: %q on queue %q: %w", id, queue, ErrNotFound)
	}
	st := &State{ID: id, Task: h["task"], Queue: queue, Status: Status(h["status"]), Kind: h["kind"], Error: h["error"], Result: h["result"] == "1"}
	st.Attempt, _ = strconv.Atoi(h["attempt"])
	return st, nil
}

// Wait implements Queue. Waiters share one Pub/Sub subscription.
func (q *RedisQueue) Wait(ctx context.Context, queue, id string) (*State, error) {
	var st *State
	err := q.hub.Wait(ctx, notice(queue, id), func(ctx context.Context) (bool, error) {
		var err error
		st, err = q.State(ctx, queue, id)
		if err != nil {
			return false, err
		}
		return st.Status.Terminal(), nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// DeadLetters implements Queue.
func (q *RedisQueue) DeadLetters(ctx context.Context, queue string, n int) ([]DeadLetter, error) {
	if n <= 0 {
		return []DeadLetter{}, nil // XRANGE COUNT 0 replies nil on Redis, everything on miniredis
	}
	msgs, err := q.client.XRangeN(ctx, q.dead(queue), "-", "+", int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: dead letters of %s: %w", queue, err)
	}
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		d := parseEntry(queue, m)
		str := func(k string) string { s, _ := m.Values[k].(string); return s }
		out = append(out, DeadLetter{Message: d.Message, Kind: str("kind"), Reason: str("reason"), At: fromMicros(str("at"))})
	}
	return out, nil
}

// batchClient lets a worker batch a run's final writes with its Finish.
func (q *RedisQueue) batchClient() redis.UniversalClient { return q.client }
