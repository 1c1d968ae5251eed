package redisbackend

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// group is the consumer group every worker reads a queue's stream with.
const group = "taskware"

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
	enqueueScript = newScript(`
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
	promoteScript = newScript(`
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
	// KEYS: stream, state, result. ARGV: entry, status, kind, error, attempt, result, ttl ms, channel, notice.
	// A result of 'check' is 'stored' if the record is there (written just
	// before, in the same pipeline), else 'lost'.
	finishScript = newScript(`
redis.call('XACK', KEYS[1], 'taskware', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
local res = ARGV[6]
if res == 'check' then
  if redis.call('EXISTS', KEYS[3]) == 1 then res = 'stored' else res = 'lost' end
end
redis.call('HSET', KEYS[2], 'status', ARGV[2], 'kind', ARGV[3], 'error', ARGV[4], 'attempt', ARGV[5], 'result', res)
redis.call('HDEL', KEYS[2], 'payload')
redis.call('PEXPIRE', KEYS[2], ARGV[7])
redis.call('PUBLISH', ARGV[8], ARGV[9])
return 1`)
	// KEYS: stream, state, result, dead. ARGV: entry, kind, error, attempt, ttl ms, channel, notice,
	// id, task, payload, enq, exp, at, maxlen, result (as finishScript's).
	deadScript = newScript(`
redis.call('XACK', KEYS[1], 'taskware', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[14], '*', 'id', ARGV[8], 'task', ARGV[9], 'payload', ARGV[10],
  'enq', ARGV[11], 'exp', ARGV[12], 'attempt', ARGV[4], 'kind', ARGV[2], 'reason', ARGV[3], 'at', ARGV[13])
local res = ARGV[15]
if res == 'check' then
  if redis.call('EXISTS', KEYS[3]) == 1 then res = 'stored' else res = 'lost' end
end
redis.call('HSET', KEYS[2], 'status', 'dead', 'kind', ARGV[2], 'error', ARGV[3], 'attempt', ARGV[4], 'result', res)
redis.call('HDEL', KEYS[2], 'payload')
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1`)
	// KEYS: stream, delayed, state. ARGV: entry, run at ms, attempt, kind, error, id.
	// A task that ended meanwhile (it was delivered twice) stays ended.
	requeueScript = newScript(`
redis.call('XACK', KEYS[1], 'taskware', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
local status = redis.call('HGET', KEYS[3], 'status')
if status ~= 'queued' and status ~= 'scheduled' then return 0 end
redis.call('HSET', KEYS[3], 'status', 'scheduled', 'attempt', ARGV[3], 'kind', ARGV[4], 'error', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[6])
return 1`)
)

// Queue is the backend's worker.Queue, on Redis streams with a consumer
// group: XADD to enqueue, XREADGROUP to take several messages in one round
// trip, XACK to finish, XAUTOCLAIM to take over the deliveries of a worker
// that died, and a sorted set for what waits to be due.
type Queue struct {
	b      *Backend
	groups sync.Map // queue name -> struct{}: its group exists
}

// run sends an EVALSHA of s with keys and args in one round trip (two if
// the server lost its script cache).
func (q *Queue) run(ctx context.Context, s script, keys []string, args ...any) *redis.Cmd {
	return q.b.run(ctx, s, s.evalSHA(keys, args...))
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

// Enqueue implements worker.Producer, in one round trip.
func (q *Queue) Enqueue(ctx context.Context, m *worker.Message, runAt time.Time) error {
	if err := worker.ValidateMessage(m); err != nil {
		return err
	}
	var runAtMs int64
	if runAt.After(time.Now()) {
		runAtMs = runAt.UnixMilli()
	}
	k := q.b.keys
	keys := []string{k.stream(m.Queue), k.delayed(m.Queue), k.state(m.Queue, m.ID)}
	n, err := q.run(ctx, enqueueScript, keys, m.ID, m.Task, m.Payload, micros(m.EnqueuedAt), micros(m.ExpiresAt),
		max(m.Attempt, 1), runAtMs).Int64()
	if err != nil {
		return fmt.Errorf("worker: enqueue %s: %w", m.ID, err)
	}
	if n == 0 {
		return &worker.DuplicateError{Queue: m.Queue, ID: m.ID}
	}
	return nil
}

// ensureGroup creates queue's consumer group (and stream) once per process.
func (q *Queue) ensureGroup(ctx context.Context, queue string, force bool) error {
	if _, ok := q.groups.Load(queue); ok && !force {
		return nil
	}
	err := q.b.client.XGroupCreateMkStream(ctx, q.b.keys.stream(queue), group, "0").Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return err
	}
	q.groups.Store(queue, struct{}{})
	return nil
}

// Take implements worker.Consumer, in one round trip for up to n messages.
func (q *Queue) Take(ctx context.Context, queue, consumer string, n int, wait time.Duration) ([]*worker.Delivery, error) {
	if err := q.ensureGroup(ctx, queue, false); err != nil {
		return nil, fmt.Errorf("worker: take from %s: %w", queue, err)
	}
	args := &redis.XReadGroupArgs{Group: group, Consumer: consumer, Streams: []string{q.b.keys.stream(queue), ">"}, Count: int64(n), Block: wait}
	if wait <= 0 {
		args.Block = -1 // no BLOCK
	} else if wait < time.Millisecond {
		args.Block = time.Millisecond // BLOCK 0 would wait for ever
	}
	streams, err := q.b.client.XReadGroup(ctx, args).Result()
	if redis.HasErrorPrefix(err, "NOGROUP") { // the stream was deleted under us
		if err = q.ensureGroup(ctx, queue, true); err == nil {
			streams, err = q.b.client.XReadGroup(ctx, args).Result()
		}
	}
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("worker: take from %s: %w", queue, err)
	}
	var out []*worker.Delivery
	for _, s := range streams {
		for _, m := range s.Messages {
			out = append(out, parseEntry(queue, m))
		}
	}
	return out, nil
}

func parseEntry(queue string, m redis.XMessage) *worker.Delivery {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	d := &worker.Delivery{Receipt: m.ID, Deliveries: 1}
	d.Queue = queue
	d.ID, d.Task = str("id"), str("task")
	if p := str("payload"); p != "" {
		d.Payload = []byte(p)
	}
	d.EnqueuedAt, d.ExpiresAt = fromMicros(str("enq")), fromMicros(str("exp"))
	d.Attempt, _ = strconv.Atoi(str("attempt"))
	return d
}

// Reclaim implements worker.Consumer with XAUTOCLAIM, then counts the
// takeover in each task's state, in one pipeline: Deliveries is one more
// than the takeovers so far. (The stream's own delivery counter also counts
// the claims by which live workers extend their claims, on some servers.)
func (q *Queue) Reclaim(ctx context.Context, queue, consumer string, minIdle time.Duration, n int) ([]*worker.Delivery, error) {
	if err := q.ensureGroup(ctx, queue, false); err != nil {
		return nil, fmt.Errorf("worker: reclaim on %s: %w", queue, err)
	}
	msgs, _, err := q.b.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: q.b.keys.stream(queue), Group: group, Consumer: consumer, MinIdle: minIdle, Start: "0-0", Count: int64(n),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: reclaim on %s: %w", queue, err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	out := make([]*worker.Delivery, 0, len(msgs))
	counts := make([]*redis.IntCmd, len(msgs))
	pipe := q.b.client.Pipeline()
	for i, m := range msgs {
		d := parseEntry(queue, m)
		out = append(out, d)
		counts[i] = pipe.HIncrBy(ctx, q.b.keys.state(queue, d.ID), "reclaims", 1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("worker: reclaim on %s: %w", queue, err)
	}
	for i, d := range out {
		d.Deliveries = 1 + int(counts[i].Val())
	}
	return out, nil
}

// Extend implements worker.Consumer: one XCLAIM ... JUSTID for all of
// them, which resets their idle time.
func (q *Queue) Extend(ctx context.Context, queue, consumer string, ds []*worker.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.Receipt
	}
	err := q.b.client.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.b.keys.stream(queue), Group: group, Consumer: consumer, Messages: ids}).Err()
	if err != nil {
		return fmt.Errorf("worker: extend on %s: %w", queue, err)
	}
	return nil
}

// Promote implements worker.Consumer, in one round trip.
func (q *Queue) Promote(ctx context.Context, queue string, now time.Time, n int) (int, error) {
	k := q.b.keys
	moved, err := q.run(ctx, promoteScript, []string{k.stream(queue), k.delayed(queue)},
		now.UnixMilli(), n, k.statePrefix(queue)).Int()
	if err != nil {
		return 0, fmt.Errorf("worker: promote on %s: %w", queue, err)
	}
	return moved, nil
}

// Finish implements worker.Consumer. The writes in o.Final that this
// backend made (the run's lock release and result write) go in one
// pipeline with the script that ends the task: one round trip in all. Any
// other deferred write is made first, on its own. The script checks that a
// record written in the pipeline is there, so the state says
// worker.ResultLost, not ResultStored, if its write failed.
func (q *Queue) Finish(ctx context.Context, d *worker.Delivery, o worker.Outcome) error {
	if err := worker.ValidateOutcome(d, o); err != nil {
		return err
	}
	k := q.b.keys
	resultKey := k.result(d.Queue, d.ID)
	ops, result := q.finalOps(ctx, o.Final, resultKey)
	keys := []string{k.stream(d.Queue), k.state(d.Queue, d.ID), resultKey}
	var s script
	var args []any
	switch o.Status {
	case worker.Scheduled:
		keys = []string{keys[0], k.delayed(d.Queue), keys[1]}
		s, args = requeueScript, []any{d.Receipt, o.RunAt.UnixMilli(), o.Attempt, o.Kind, o.Error, d.ID}
	case worker.Dead:
		keys = append(keys, k.dead(d.Queue))
		s, args = deadScript, []any{d.Receipt, o.Kind, o.Error, o.Attempt, q.b.stateTTL.Milliseconds(), k.channel(),
			stateNotice(d.Queue, d.ID), d.ID, d.Task, d.Payload, micros(d.EnqueuedAt), micros(d.ExpiresAt),
			time.Now().UnixMicro(), q.b.deadMax, result}
	default:
		s, args = finishScript, []any{d.Receipt, string(o.Status), o.Kind, o.Error, o.Attempt, result,
			q.b.stateTTL.Milliseconds(), k.channel(), stateNotice(d.Queue, d.ID)}
	}
	ops = append(ops, op{cmd: s.evalSHA(keys, args...), src: s.src})
	q.b.exec(ctx, ops)
	if err := ops[len(ops)-1].cmd.Err(); err != nil {
		return fmt.Errorf("worker: finish %s: %w", d.ID, err)
	}
	return nil
}

// finalOps sorts a run's deferred writes: those of this backend, for the
// record under resultKey or a lock, come back to go in the pipeline that
// ends the task; any other is made now. result is what the ending script is
// told of the record: "" (none), "stored", "lost", or "check" (its write is
// in the pipeline: look).
func (q *Queue) finalOps(ctx context.Context, f *task.FinalWrites, resultKey string) (ops []op, result string) {
	if f == nil {
		return nil, ""
	}
	own := func(w task.FinalWrite) *finalOp {
		if fo, ok := w.(*finalOp); ok && fo.b == q.b {
			return fo
		}
		return nil
	}
	for _, w := range f.Releases {
		if fo := own(w); fo != nil {
			ops = append(ops, fo.ops[:fo.n]...)
		} else {
			_ = w.Apply(ctx) // a release that fails expires with its TTL
		}
	}
	var check, stored, lost bool
	for _, w := range f.Results {
		if fo := own(w); fo != nil && fo.result == resultKey {
			ops, check = append(ops, fo.ops[:fo.n]...), true
		} else if err := w.Apply(ctx); err != nil {
			lost = true
		} else {
			stored = true
		}
	}
	switch {
	case lost:
		return ops, string(worker.ResultLost)
	case check:
		return ops, "check"
	case stored:
		return ops, string(worker.ResultStored)
	}
	return ops, ""
}

// State implements worker.Producer.
func (q *Queue) State(ctx context.Context, queue, id string) (*worker.State, error) {
	h, err := q.b.client.HGetAll(ctx, q.b.keys.state(queue, id)).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: state of %s: %w", id, err)
	}
	if len(h) == 0 {
		return nil, &worker.NotFoundError{Queue: queue, ID: id}
	}
	st := &worker.State{ID: id, Task: h["task"], Queue: queue, Status: worker.Status(h["status"]), Kind: h["kind"],
		Error: h["error"], Result: worker.ResultStatus(h["result"])}
	st.Attempt, _ = strconv.Atoi(h["attempt"])
	return st, nil
}

// Wait implements worker.Producer. Waiters share the backend's one Pub/Sub
// subscription.
func (q *Queue) Wait(ctx context.Context, queue, id string) (*worker.State, error) {
	var st *worker.State
	err := q.b.hub.wait(ctx, stateNotice(queue, id), func(ctx context.Context) (bool, error) {
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

// DeadLetters implements worker.Queue.
func (q *Queue) DeadLetters(ctx context.Context, queue string, n int) ([]worker.DeadLetter, error) {
	if n <= 0 {
		return []worker.DeadLetter{}, nil // XRANGE COUNT 0 replies nil on Redis, everything on miniredis
	}
	msgs, err := q.b.client.XRangeN(ctx, q.b.keys.dead(queue), "-", "+", int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: dead letters of %s: %w", queue, err)
	}
	out := make([]worker.DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		d := parseEntry(queue, m)
		str := func(k string) string { s, _ := m.Values[k].(string); return s }
		out = append(out, worker.DeadLetter{Message: d.Message, Kind: str("kind"), Reason: str("reason"), At: fromMicros(str("at"))})
	}
	return out, nil
}
