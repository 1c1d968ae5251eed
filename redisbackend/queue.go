package redisbackend

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/task"
)

// group is the consumer group every worker reads a queue's stream with.
const group = "taskware"

// A queue's keys share the hash tag {<queue>}, so that its scripts work on
// Redis Cluster (the keys a script derives from a prefix share it too):
//
//	<prefix>queue:{<q>}                  the stream of ready and taken messages
//	<prefix>queue:{<q>}:delayed          sorted set of scheduled IDs, by due time (ms)
//	<prefix>queue:{<q>}:dead             the dead letters
//	<prefix>queue:{<q>}:task:<id>        a task's state
//
// A payload is stored once: in the stream entry while the task is ready or
// taken, in its state while it waits in the delayed set.
//
// go-redis sends a command again when its reply is lost, after Redis ran
// it, so each script answers the same the second time. An enqueue keeps a
// nonce of its call in the state: finding its own, it succeeds. A Take
// first reads its consumer's pending entries past the last it handed out:
// what a lost reply took is handed out by the next read. A finish, dead letter
// or requeue starts with the XACK of its entry, and does nothing if that
// acknowledged nothing: the entry was finished already, by this call or by
// a worker that took it over.
var (
	// KEYS: stream, delayed, state, unique key (or the state again). ARGV:
	// id, task, message, attempt, run at ms, nonce, unique window ms (0:
	// none).
	enqueueScript = newScript(enqueueLua + `
local u, w = KEYS[4], ARGV[7]
if w == '0' then u = nil end
return enqueue(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], u, w)`)
	// KEYS: stream, delayed, then each task's state and unique key (or its
	// state again). ARGV: run at ms, nonce, then for each task: id, task,
	// message, attempt, unique window ms. Returns for each task what
	// enqueue does. Each task's nonce is the call's and its place.
	enqueueManyScript = newScript(enqueueLua + `
local out = {}
for i = 3, #KEYS, 2 do
  local t = (i - 1) / 2
  local a = 2 + (t - 1) * 5
  local u, w = KEYS[i + 1], ARGV[a + 5]
  if w == '0' then u = nil end
  out[#out + 1] = enqueue(KEYS[1], KEYS[2], KEYS[i], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[1],
    ARGV[2] .. ':' .. t, u, w)
end
return out`)
	// KEYS: stream. ARGV: min idle ms, count, state prefix, forget consumers idle ms.
	// Moves entries idle for min idle back to the stream's end, counting each
	// takeover in the state and the entry's "dlv"; forgets consumers with
	// nothing pending, idle for long; trims the finished entries.
	recoverScript = newScript(msgLua + `
local r = redis.call('XAUTOCLAIM', KEYS[1], 'taskware', 'taskware:recover', ARGV[1], '0-0', 'COUNT', ARGV[2])
local moved = 0
for _, e in ipairs(r[2]) do
  redis.call('XACK', KEYS[1], 'taskware', e[1])
  local f = e[2]
  if f then
    local h, core = unpackmsg(field(f, 'm'))
    if h then
      local s = ARGV[3] .. coreid(core)
      local n = redis.call('HINCRBY', s, 'reclaims', 1)
      if redis.call('HGET', s, 'status') == 'running' then redis.call('HSET', s, 'status', 'queued') end
      h[2] = tostring(n + 1)
      redis.call('HSET', s, 'e', redis.call('XADD', KEYS[1], '*', 'm', packmsg(h, core)))
    else -- an entry of fields of their own, written before "m"
      local id, n = field(f, 'id'), 1
      if id then n = redis.call('HINCRBY', ARGV[3] .. id, 'reclaims', 1) end
      local args, seen = {}, false
      for i = 1, #f, 2 do
        local v = f[i + 1]
        if f[i] == 'dlv' then v, seen = tostring(n + 1), true end
        args[#args + 1], args[#args + 2] = f[i], v
      end
      if not seen then args[#args + 1], args[#args + 2] = 'dlv', tostring(n + 1) end
      redis.call('XADD', KEYS[1], '*', unpack(args))
    end
    moved = moved + 1
  end
end
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], 'taskware')) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1] elseif c[i] == 'pending' then pending = c[i + 1] elseif c[i] == 'idle' then idle = c[i + 1] end
  end
  if name and pending == 0 and idle and idle > tonumber(ARGV[4]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], 'taskware', name)
  end
end
-- Finished entries stay in the stream (no XDEL): trim what lies below the
-- oldest pending entry, or, with none pending, up to the last delivered.
local last
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, id
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then id = g[i + 1] end
  end
  if name == 'taskware' then last = id end
end
local p = redis.call('XPENDING', KEYS[1], 'taskware')
local minid
if p[1] > 0 then
  minid = p[2]
elseif last then
  local ms, seq = string.match(last, '^(%d+)-(%d+)$')
  if ms then minid = ms .. '-' .. string.format('%d', tonumber(seq) + 1) end
end
if minid then redis.call('XTRIM', KEYS[1], 'MINID', minid) end
return moved`)
	// KEYS: stream, delayed. ARGV: now ms, count, state prefix, state TTL
	// ms, channel, queue tag. A task canceled meanwhile (Cancel) ends as
	// canceled instead.
	promoteScript = newScript(msgLua + cancelLua + `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local s = ARGV[3] .. id
  local h = redis.call('HMGET', s, 'm', 'attempt', 'status', 'reclaims', 'outages', 'lk', 'le', 'task', 'payload', 'enq', 'exp', 'cx')
  -- A task that ended meanwhile (delivered twice) is dropped. A state
  -- written before messages were one string has their fields instead.
  if h[3] == 'scheduled' and h[12] then
    endcanceled(s, id, ARGV[4], ARGV[5], ARGV[6], ARGV[1] .. '000')
  elseif h[3] == 'scheduled' and (h[1] or (h[8] and h[9])) then
    local dlv = '1'
    if h[4] then dlv = tostring(tonumber(h[4]) + 1) end
    if h[1] then
      redis.call('HSET', s, 'e', redis.call('XADD', KEYS[1], '*', 'm', packmsg({h[2] or '1', dlv, h[5] or '0', h[6] or '', h[7] or ''}, h[1])))
    else
      local e = {'id', id, 'task', h[8], 'payload', h[9], 'enq', h[10] or '0', 'exp', h[11] or '0', 'attempt', h[2] or '1',
        'dlv', dlv}
      if h[5] then e[#e + 1], e[#e + 2] = 'out', h[5] end
      if h[6] then e[#e + 1], e[#e + 2], e[#e + 3], e[#e + 4] = 'lk', h[6], 'le', h[7] or '' end
      redis.call('XADD', KEYS[1], '*', unpack(e))
    end
    redis.call('HSET', s, 'status', 'queued')
    redis.call('HDEL', s, 'm', 'payload')
  end
  redis.call('ZREM', KEYS[2], id)
end
return #ids`)
	// KEYS: stream, dead, then the locks to release. ARGV: entry, status,
	// kind, error, attempt, result, state TTL ms, channel, state prefix, id,
	// at µs, max dead letters, record, record TTL ms, queue tag ("{<q>}"),
	// record prefix, then the locks' tokens. The state's and the record's
	// keys are made here, of their prefixes, the tag and the ID: they share
	// the queue's hash tag.
	// It releases the run's locks, then ends the task as succeeded, failed,
	// skipped or dead, once: only if its XACK acknowledged the entry. The
	// entry stays in the stream, to be trimmed (see recoverScript). The
	// record of the run's own StoreResult is written here, after that, so
	// a late finish overwrites nothing. A dead letter is the entry as it
	// was, with the reason: a malformed one too. Notices go out only if
	// someone waits (the state's "w", see Wait).
	endScript = newScript(releaseLua + countLua + `
release(3, 17)
if redis.call('XACK', KEYS[1], 'taskware', ARGV[1]) == 0 then return 0 end
if ARGV[2] == 'dead' then
  local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
  local d = {}
  if e[1] then
    local f = e[1][2]
    for i = 1, #f, 2 do
      if f[i] ~= 'attempt' and f[i] ~= 'kind' and f[i] ~= 'reason' and f[i] ~= 'at' then
        d[#d + 1], d[#d + 2] = f[i], f[i + 1]
      end
    end
  end
  d[#d + 1], d[#d + 2], d[#d + 3], d[#d + 4] = 'attempt', ARGV[5], 'kind', ARGV[3]
  d[#d + 1], d[#d + 2], d[#d + 3], d[#d + 4] = 'reason', ARGV[4], 'at', ARGV[11]
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[12], '*', unpack(d))
end
if ARGV[10] == '' then return 1 end
local s = ARGV[9] .. ARGV[10]
local h = redis.call('HMGET', s, 'w', 'uk')
local waited = h[1]
if h[2] and redis.call('GET', h[2]) == ARGV[10] then redis.call('DEL', h[2]) end
local res = ARGV[6]
if ARGV[13] ~= '' then
  redis.call('SET', ARGV[16] .. ARGV[15] .. ':' .. ARGV[10], ARGV[13], 'PX', ARGV[14])
  if waited then redis.call('PUBLISH', ARGV[8], 'r' .. ARGV[15] .. ARGV[10]) end
  if res ~= 'lost' then res = 'stored' end
end
redis.call('HSET', s, 'status', ARGV[2], 'kind', ARGV[3], 'error', ARGV[4], 'attempt', ARGV[5], 'result', res, 'fin', ARGV[11])
count(s, ARGV[10], ARGV[11], outcome(ARGV[2], ARGV[3]))
redis.call('PEXPIRE', s, ARGV[7])
if waited then redis.call('PUBLISH', ARGV[8], 't' .. ARGV[15] .. ARGV[10]) end
return 1`)
	// KEYS: stream, delayed, state, then the locks to release. ARGV: entry,
	// run at ms, attempt, kind, error, id, retry, outage, then the locks'
	// tokens. The payload moves from the entry to the state, to wait there.
	requeueScript = newScript(releaseLua + msgLua + countLua + `
release(4, 9)
if redis.call('XACK', KEYS[1], 'taskware', ARGV[1]) == 0 then return 0 end
local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
local h = {}
if e[1] then
  local f = e[1][2]
  for i = 1, #f, 2 do h[f[i]] = f[i + 1] end
end
redis.call('HSET', KEYS[3], 'status', 'scheduled', 'attempt', ARGV[3], 'kind', ARGV[4], 'error', ARGV[5])
local _, core = unpackmsg(h['m'])
if core then
  redis.call('HSET', KEYS[3], 'm', core)
else
  redis.call('HSET', KEYS[3], 'task', h['task'] or '', 'payload', h['payload'] or '', 'enq', h['enq'] or '0', 'exp', h['exp'] or '0')
end
if ARGV[7] == '1' then redis.call('HSET', KEYS[3], 'lk', ARGV[4], 'le', ARGV[5]) end
if ARGV[8] == '1' then redis.call('HINCRBY', KEYS[3], 'outages', 1) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[6])
local t = redis.call('TIME')
local field = 'rescheduled'
if ARGV[7] == '1' then field = 'retried' end
count(KEYS[3], ARGV[6], t[1] .. string.format('%06d', tonumber(t[2])), field)
return 1`)
	// KEYS: state. ARGV: started µs, worker. A start that comes after the
	// task ended, or went back to wait, changes nothing.
	startScript = newScript(`
local s = redis.call('HGET', KEYS[1], 'status')
if s == 'queued' or s == 'running' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'st', ARGV[1], 'wk', ARGV[2])
end
return 0`)
	// KEYS: state. Returns the state's fields, and marks it waited for, so
	// that the script that ends the task announces it.
	waitStateScript = newScript(`
local h = redis.call('HGETALL', KEYS[1])
if #h > 0 then redis.call('HSETNX', KEYS[1], 'w', '1') end
return h`)
	// KEYS: stream. ARGV: state prefix, then entries. Each entry still
	// pending goes back to the stream's end as it was, and its task's
	// state follows it (see Cancel); one acknowledged already is left
	// alone.
	handBackScript = newScript(msgLua + `
for i = 2, #ARGV do
  local id = ARGV[i]
  local e = redis.call('XRANGE', KEYS[1], id, id)
  if redis.call('XACK', KEYS[1], 'taskware', id) == 1 and e[1] and e[1][2] then
    local new = redis.call('XADD', KEYS[1], '*', unpack(e[1][2]))
    local _, core = unpackmsg(field(e[1][2], 'm'))
    if core then
      local s = ARGV[1] .. coreid(core)
      if redis.call('EXISTS', s) == 1 then redis.call('HSET', s, 'e', new) end
    end
  end
end
return 1`)
	// KEYS: state, delayed, stream. ARGV: id, channel, queue tag, state
	// TTL ms, now µs. Returns "missing", "ended", "canceled" (it never
	// runs: it was delayed, or ready and not taken), or "sent" (a worker
	// holds it: the notice "x{<queue>}<id>" tells it to cancel the run).
	// The state's "cx" keeps the cancel: a retry of the run never runs.
	cancelScript = newScript(cancelLua + `
local h = redis.call('HMGET', KEYS[1], 'status', 'e')
local st = h[1]
if not st then return 'missing' end
if st == 'succeeded' or st == 'failed' or st == 'skipped' or st == 'dead' or st == 'canceled' then return 'ended' end
redis.call('HSET', KEYS[1], 'cx', '1')
if st == 'scheduled' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  endcanceled(KEYS[1], ARGV[1], ARGV[4], ARGV[2], ARGV[3], ARGV[5])
  return 'canceled'
end
if h[2] then
  local ok, p = pcall(redis.call, 'XPENDING', KEYS[3], 'taskware', h[2], h[2], 1)
  if (not ok or #p == 0) and redis.call('XDEL', KEYS[3], h[2]) == 1 then
    endcanceled(KEYS[1], ARGV[1], ARGV[4], ARGV[2], ARGV[3], ARGV[5])
    return 'canceled'
  end
end
redis.call('PUBLISH', ARGV[2], 'x' .. ARGV[3] .. ARGV[1])
return 'sent'`)
	// KEYS: stream. ARGV: consumer. A consumer with entries pending is
	// kept: deleting it would drop them.
	leaveScript = newScript(`
if #redis.call('XPENDING', KEYS[1], 'taskware', '-', '+', 1, ARGV[1]) > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], 'taskware', ARGV[1])`)
)

// countLua defines count(state, id, at µs, field), which counts an
// outcome in its queue's minute (see Rates): a hash per minute, beside the
// task's state, kept for an hour; and outcome(status, kind), the field.
const countLua = `
local function count(s, id, at, field)
  local k = string.sub(s, 1, #s - #id - 5) .. 'rate:' .. string.format('%d', math.floor(tonumber(at) / 60000000))
  redis.call('HINCRBY', k, field, 1)
  redis.call('PEXPIRE', k, 3900000)
end
local function outcome(status, kind)
  if status ~= 'skipped' then return status end
  return 'skipped:' .. kind
end
`

// cancelLua defines endcanceled(state, id, ttl, channel, tag, at µs),
// which ends a task that has not run as canceled: its unique key goes,
// its waiters are told.
const cancelLua = countLua + `
local function endcanceled(s, id, ttl, channel, tag, at)
  local h = redis.call('HMGET', s, 'w', 'uk')
  if h[2] and redis.call('GET', h[2]) == id then redis.call('DEL', h[2]) end
  redis.call('HSET', s, 'status', 'canceled', 'kind', 'worker.canceled', 'error', 'worker: canceled', 'fin', at)
  count(s, id, at, 'canceled')
  redis.call('HDEL', s, 'm', 'payload')
  redis.call('PEXPIRE', s, ttl)
  if h[1] then redis.call('PUBLISH', channel, 't' .. tag .. id) end
end
`

// enqueueLua defines enqueue(...), which adds a task unless its ID is known
// or another task holds its unique key, and returns 1, 0 for a known ID,
// or the ID of the key's holder. An enqueue sent again finds its own
// nonce, and succeeds. The key (unique, nil if none) names the task for
// window ms, or until the task ends (see endScript), whichever is first.
const enqueueLua = msgLua + `
local function enqueue(stream, delayed, state, id, task, core, attempt, runat, nonce, unique, window)
  if unique then
    local holder = redis.call('GET', unique)
    if holder and holder ~= id then return holder end
  end
  if redis.call('EXISTS', state) == 1 then
    if redis.call('HGET', state, 'nonce') == nonce then return 1 end
    return 0
  end
  if runat ~= '0' then
    redis.call('HSET', state, 'task', task, 'm', core, 'attempt', attempt, 'status', 'scheduled', 'nonce', nonce)
    redis.call('ZADD', delayed, runat, id)
  else
    local e = redis.call('XADD', stream, '*', 'm', packmsg({attempt, '1', '0', '', ''}, core))
    redis.call('HSET', state, 'task', task, 'attempt', attempt, 'status', 'queued', 'nonce', nonce, 'e', e)
  end
  if unique then
    redis.call('SET', unique, id, 'PX', window)
    redis.call('HSET', state, 'uk', unique)
  end
  return 1
end
`

// msgLua defines the Lua side of a stream entry's one field, "m" (see
// encodeMessage): packmsg(h, core) makes it of the header h (attempt,
// deliveries, outages, last kind, last error) and the core; unpackmsg(v)
// splits it again, or returns nil for something else; coreid(core) reads
// the task ID, the core's first part.
const msgLua = `
local function ns(s) return #s .. ':' .. s end
local function packmsg(h, core)
  return 'm1' .. ns(h[1]) .. ns(h[2]) .. ns(h[3]) .. ns(h[4]) .. ns(h[5]) .. core
end
local function unpackmsg(v)
  if not v or string.sub(v, 1, 2) ~= 'm1' then return nil end
  local pos, h = 3, {}
  for i = 1, 5 do
    local n, at = string.match(v, '^(%d+):()', pos)
    if not n then return nil end
    h[i] = string.sub(v, at, at + n - 1)
    pos = at + n
  end
  return h, string.sub(v, pos)
end
local function coreid(core)
  local n, at = string.match(core, '^(%d+):()')
  if n then return string.sub(core, at, at + n - 1) end
end
local function field(f, name)
  for i = 1, #f, 2 do if f[i] == name then return f[i + 1] end end
end
`

// Queue is the backend's queue.Queue, on Redis streams with a consumer
// group: XADD to enqueue, XREADGROUP (in a script) to take several
// messages in one round trip, XACK to finish, XAUTOCLAIM to put the
// deliveries of a worker that died back in the stream, and a sorted set
// for what waits to be due.
type Queue struct {
	b      *Backend
	groups sync.Map // queue name -> struct{}: its group exists

	mu     sync.RWMutex
	byName map[string]*queueNames
	seen   map[seenKey]string // the last entry a Take read for each consumer

	watchMu  sync.Mutex
	watchers map[*func(queue, id string)]struct{} // see WatchCancels
}

// run sends an EVALSHA of s with keys and args in one round trip (two if
// the server lost its script cache), and marks an error of the
// infrastructure as such (task.ErrUnavailable).
func (q *Queue) run(ctx context.Context, s script, keys []string, args ...any) *redis.Cmd {
	return q.b.run(ctx, s, s.evalSHA(keys, args...))
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// nonce returns a fresh nonce for one call of a script.
func nonce() string {
	var b [randid.Len]byte
	randid.Fill(&b)
	return string(b[:16])
}

// Enqueue implements queue.Producer, in one round trip.
func (q *Queue) Enqueue(ctx context.Context, m *queue.Message, runAt time.Time) error {
	if err := queue.ValidateMessage(m); err != nil {
		return err
	}
	var runAtMs int64
	if runAt.After(time.Now()) {
		runAtMs = runAt.UnixMilli()
	}
	k := q.b.keys
	state := k.state(m.Queue, m.ID)
	keys := []string{k.stream(m.Queue), k.delayed(m.Queue), state, q.uniqueKey(m, state)}
	res, err := q.run(ctx, enqueueScript, keys, m.ID, m.Task, encodeMessage(m), max(m.Attempt, 1), runAtMs, nonce(),
		uniqueWindow(m)).Result()
	if err != nil {
		return fmt.Errorf("worker: enqueue %s: %w", m.ID, unavailable(ctx, err))
	}
	return enqueued(m, res)
}

// uniqueKey is m's unique key, or, if it has none, state: a key of the
// same hash tag, for a script to be given but not to use.
func (q *Queue) uniqueKey(m *queue.Message, state string) string {
	if m.Unique == "" {
		return state
	}
	return q.b.keys.unique(m.Queue, m.Unique)
}

// uniqueWindow is how long m's unique key holds, in ms: UniqueFor, or
// the state TTL, so that no key outlives its use; 0 if m has no key.
func uniqueWindow(m *queue.Message) int64 {
	if m.Unique == "" {
		return 0
	}
	if m.UniqueFor > 0 {
		return max(m.UniqueFor.Milliseconds(), 1)
	}
	return queue.DefaultStateTTL.Milliseconds()
}

// enqueued reads enqueue's answer for m: added, a duplicate of its ID, or
// of the task holding its unique key.
func enqueued(m *queue.Message, res any) error {
	switch v := res.(type) {
	case int64:
		if v == 1 {
			return nil
		}
		return &queue.DuplicateError{Queue: m.Queue, ID: m.ID, Existing: m.ID}
	case string:
		return &queue.DuplicateError{Queue: m.Queue, ID: m.ID, Existing: v}
	}
	return fmt.Errorf("worker: enqueue %s: unexpected reply %v", m.ID, res)
}

// enqueueChunk is the most tasks one script enqueues: Redis runs nothing
// else meanwhile.
const enqueueChunk = 256

// EnqueueMany implements queue.Producer: one script per queue and chunk
// of 256 tasks, all in one pipeline, so one round trip for the call.
func (q *Queue) EnqueueMany(ctx context.Context, ms []*queue.Message, runAt time.Time) ([]error, error) {
	for _, m := range ms {
		if err := queue.ValidateMessage(m); err != nil {
			return nil, err
		}
	}
	var runAtMs int64
	if runAt.After(time.Now()) {
		runAtMs = runAt.UnixMilli()
	}
	// The tasks of each queue, in order, by their place in ms.
	byQueue := map[string][]int{}
	var order []string
	for i, m := range ms {
		if _, ok := byQueue[m.Queue]; !ok {
			order = append(order, m.Queue)
		}
		byQueue[m.Queue] = append(byQueue[m.Queue], i)
	}
	var ops []op
	var chunks [][]int // each op's tasks, by their place in ms
	states, uniques, msgs := make([]string, len(ms)), make([]string, len(ms)), make([]string, len(ms))
	for _, name := range order {
		n := q.names(name)
		all := byQueue[name]
		for len(all) > 0 {
			idx := all[:min(len(all), enqueueChunk)]
			all = all[len(idx):]
			args := make([]any, 0, 5+2*len(idx)+2+5*len(idx))
			args = append(args, argEvalSHA, enqueueManyScript.sha, 2+2*len(idx), &n.stream, &n.delayed)
			for _, i := range idx {
				states[i] = n.statePrefix + ms[i].ID
				uniques[i] = q.uniqueKey(ms[i], states[i])
				args = append(args, &states[i], &uniques[i])
			}
			args = append(args, runAtMs, nonce())
			for _, i := range idx {
				m := ms[i]
				msgs[i] = encodeMessage(m)
				args = append(args, &m.ID, &m.Task, &msgs[i], max(m.Attempt, 1), uniqueWindow(m))
			}
			ops = append(ops, scriptOp(enqueueManyScript, args))
			chunks = append(chunks, idx)
		}
	}
	q.b.exec(ctx, ops)
	errs := make([]error, len(ms))
	for c, o := range ops {
		res, err := o.cmd.(*redis.Cmd).Slice()
		if err == nil && len(res) != len(chunks[c]) {
			err = fmt.Errorf("unexpected reply %v", res)
		}
		if err != nil {
			return nil, fmt.Errorf("worker: enqueue %d tasks: %w", len(ms), unavailable(ctx, err))
		}
		for j, i := range chunks[c] {
			errs[i] = enqueued(ms[i], res[j])
		}
	}
	return errs, nil
}

// ensureGroup creates queue's consumer group (and stream) once per process.
func (q *Queue) ensureGroup(ctx context.Context, name string, force bool) error {
	if _, ok := q.groups.Load(name); ok && !force {
		return nil
	}
	err := q.b.client.XGroupCreateMkStream(ctx, q.b.keys.stream(name), group, "0").Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return unavailable(ctx, err)
	}
	q.groups.Store(name, struct{}{})
	return nil
}

// Take implements queue.Consumer: one round trip for up to n messages,
// two plain XREADGROUPs in one pipeline. The first reads consumer's own
// pending entries past the last one this Queue read for it: none, unless
// the reply of an earlier read was lost after Redis ran it (go-redis sends
// a pipeline again after a cut connection), and those are handed out now;
// beyond n, they go back to the stream. The second reads new entries.
// When none is ready, XREAD BLOCK waits for one, taking nothing, and then
// it takes again. (So a consumer's Takes must not overlap: one worker, one
// name.)
func (q *Queue) Take(ctx context.Context, name, consumer string, n int, wait time.Duration) ([]*queue.Delivery, error) {
	limit := n // n <= 0 is all: so is COUNT 0
	if n <= 0 {
		limit = math.MaxInt
	}
	if err := q.ensureGroup(ctx, name, false); err != nil {
		return nil, fmt.Errorf("worker: take from %s: %w", name, err)
	}
	names := q.names(name)
	// The reads are not cut short when ctx ends: what they took would stay
	// pending, unseen, until the next Take. Only the wait heeds ctx.
	sctx := context.WithoutCancel(ctx)
	// The first read has no COUNT: it must read every entry past the last
	// one, or it would skip some next time. There are few, if any.
	read := func(pipe redis.Pipeliner, from string, count int) *redis.XStreamSliceCmd {
		return pipe.XReadGroup(sctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer,
			Streams: []string{names.stream, from}, Count: int64(count), Block: -1}) // -1: no BLOCK
	}
	for try := 0; ; try++ {
		// The newest entry's ID, read in the same pipeline, is where a wait
		// for new entries starts.
		pipe := q.b.client.Pipeline()
		paused := pipe.Exists(sctx, names.paused)
		cmds := [2]*redis.XStreamSliceCmd{read(pipe, q.lastSeen(name, consumer), 0), read(pipe, ">", max(n, 0))}
		newest := pipe.XRevRangeN(sctx, names.stream, "+", "-", 1)
		_, _ = pipe.Exec(sctx)
		err := cmdsErr(paused, cmds[0], cmds[1], newest)
		if err != nil && redis.HasErrorPrefix(err, "NOGROUP") && try == 0 { // the stream was deleted under us
			if err = q.ensureGroup(ctx, name, true); err == nil {
				continue
			}
		}
		if err != nil {
			return nil, fmt.Errorf("worker: take from %s: %w", name, unavailable(ctx, err))
		}
		size := 0
		for _, c := range cmds {
			for _, st := range c.Val() {
				size += len(st.Messages)
			}
		}
		out := make([]*queue.Delivery, 0, size)
		for _, c := range cmds {
			out = appendEntries(out, name, c.Val())
		}
		if paused.Val() == 1 {
			// Paused (Pause): what the reads took goes back, unrun, and
			// the caller waits as if nothing were ready.
			if len(out) > 0 && q.handBack(sctx, names.stream, out) == nil {
				q.saw(name, consumer, out)
			}
			_ = backoff.Sleep(ctx, wait)
			return nil, nil
		}
		if len(out) > 0 || try > 0 || wait <= 0 {
			if len(out) == 0 {
				return nil, nil
			}
			seen := out
			if len(out) > limit { // a lost reply's entries, beside new ones
				if q.handBack(sctx, names.stream, out[limit:]) != nil {
					seen = out[:limit] // still pending: the next Take reads them again
				}
				out = out[:limit]
			}
			q.saw(name, consumer, seen)
			return out, nil
		}
		// Nothing ready: wait for a newer entry without taking it (a read
		// cut short by ctx then takes nothing), and take again.
		after := "0-0"
		if es := newest.Val(); len(es) == 1 {
			after = es[0].ID
		}
		err = q.b.client.XRead(ctx, &redis.XReadArgs{Streams: []string{names.stream, after}, Count: 1, Block: max(wait, time.Millisecond)}).Err()
		if errors.Is(err, redis.Nil) {
			return nil, nil // nothing came
		}
		if err != nil {
			return nil, fmt.Errorf("worker: take from %s: %w", name, unavailable(ctx, err))
		}
	}
}

// cmdsErr is the first error of cmds that is not redis.Nil (an empty
// reply).
func cmdsErr(cmds ...redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// appendEntries appends the entries of an XREADGROUP reply to out. An
// entry deleted while pending has no fields: it is handed out malformed.
func appendEntries(out []*queue.Delivery, name string, streams []redis.XStream) []*queue.Delivery {
	for _, st := range streams {
		for _, m := range st.Messages {
			d := &queue.Delivery{Receipt: m.ID}
			var p entryParser
			if v, ok := m.Values["m"].(string); ok && len(m.Values) == 1 {
				p.field(d, "m", v) // the usual entry: no map to make
			} else {
				f := make(map[string]string, len(m.Values))
				for k, v := range m.Values {
					f[k], _ = v.(string)
				}
				p.fields(d, f)
			}
			p.finish(d, name)
			out = append(out, d)
		}
	}
	return out
}

// lastSeen is the last entry a Take read for consumer, or "0-0".
func (q *Queue) lastSeen(name, consumer string) string {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if id, ok := q.seen[seenKey{name, consumer}]; ok {
		return id
	}
	return "0-0"
}

// saw notes the last of ds, read for consumer in the order of their IDs.
func (q *Queue) saw(name, consumer string, ds []*queue.Delivery) {
	if len(ds) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.seen == nil {
		q.seen = make(map[seenKey]string)
	}
	q.seen[seenKey{name, consumer}] = ds[len(ds)-1].Receipt
}

// handBack puts ds, read but not to be handed out, back at the stream's
// end, unrun, for any consumer: one round trip, safe to run twice.
func (q *Queue) handBack(ctx context.Context, stream string, ds []*queue.Delivery) error {
	args := make([]any, 1+len(ds))
	args[0] = q.names(ds[0].Queue).statePrefix
	for i, d := range ds {
		args[1+i] = d.Receipt
	}
	if err := q.run(ctx, handBackScript, []string{stream}, args...).Err(); err != nil {
		return unavailable(ctx, err)
	}
	return nil
}

type seenKey struct{ queue, consumer string }

// entryParser reads a stream entry's fields into a delivery, and says in
// Malformed what it cannot read: an entry written by something other than
// taskware, say. An entry holds its message in one field ("m"), or, if
// written before that, in fields of their own.
type entryParser struct {
	bad     []string
	attempt bool
}

func (p *entryParser) field(d *queue.Delivery, k, v string) {
	switch k {
	case "m":
		p.message(d, v)
	case "id":
		d.ID = v
	case "task":
		d.Task = v
	case "payload":
		d.Payload = payload(v)
	case "enq":
		d.EnqueuedAt = p.micros(k, v)
	case "exp":
		d.ExpiresAt = p.micros(k, v)
	case "attempt":
		d.Attempt, p.attempt = int(p.num(k, v, 1)), true
	case "dlv":
		d.Deliveries = int(p.num(k, v, 1))
	case "out":
		d.Outages = int(p.num(k, v, 0))
	case "lk":
		d.LastKind = v
	case "le":
		d.LastError = v
	}
}

// message reads an entry's "m" (see encodeMessage): "m1", the attempt,
// deliveries, outages, last kind and last error, then the ID, task,
// enqueue and expiry times and payload.
func (p *entryParser) message(d *queue.Delivery, m string) {
	if len(m) < len(messageVersion) || m[:len(messageVersion)] != messageVersion {
		p.bad = append(p.bad, "message of an unknown version")
		return
	}
	var f [10]string
	rest, ok := m[len(messageVersion):], true
	for i := range f {
		if f[i], rest, ok = netstring(rest); !ok {
			p.bad = append(p.bad, "unreadable message")
			return
		}
	}
	d.Attempt, p.attempt = int(p.num("attempt", f[0], 1)), true
	d.Deliveries, d.Outages = int(p.num("dlv", f[1], 1)), int(p.num("out", f[2], 0))
	d.LastKind, d.LastError = f[3], f[4]
	d.ID, d.Task, d.Payload = f[5], f[6], payload(f[9])
	d.EnqueuedAt, d.ExpiresAt = p.micros("enq", f[7]), p.micros("exp", f[8])
	if rest != "" { // the headers
		hs, _, ok := netstring(rest)
		if ok {
			d.Headers, ok = decodeHeaders(hs)
		}
		if !ok {
			p.bad = append(p.bad, "unreadable headers")
		}
	}
}

func payload(v string) []byte {
	if v == "" {
		return nil
	}
	return []byte(v)
}

func (p *entryParser) num(name, v string, min int64) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		p.bad = append(p.bad, fmt.Sprintf("%s %q", name, v))
		return min
	}
	return n
}

func (p *entryParser) micros(name, v string) time.Time {
	if us := p.num(name, v, 0); us > 0 {
		return time.UnixMicro(us)
	}
	return time.Time{}
}

// finish checks what is required, and names what is wrong in d.Malformed.
func (p *entryParser) finish(d *queue.Delivery, name string) {
	d.Queue = name
	d.Deliveries = max(d.Deliveries, 1)
	if !p.attempt {
		p.bad = append(p.bad, `attempt ""`)
	}
	d.Attempt = max(d.Attempt, 1)
	if d.ID == "" {
		p.bad = append(p.bad, "no id")
	}
	if d.Task == "" {
		p.bad = append(p.bad, "no task")
	}
	if len(p.bad) > 0 {
		d.Malformed = fmt.Errorf("stream entry %s: %s", d.Receipt, strings.Join(p.bad, ", "))
	}
}

// parseEntry reads a stream entry read with XRANGE.
func parseEntry(name, receipt string, f map[string]string) *queue.Delivery {
	d := &queue.Delivery{Receipt: receipt}
	var p entryParser
	p.fields(d, f)
	p.finish(d, name)
	return d
}

// fields reads an entry's fields: "m" first, so that fields of their own
// (a dead letter's attempt, say) win over its header.
func (p *entryParser) fields(d *queue.Delivery, f map[string]string) {
	if m, ok := f["m"]; ok {
		p.field(d, "m", m)
	}
	for k, v := range f {
		if k != "m" {
			p.field(d, k, v)
		}
	}
}

// Recover implements queue.Consumer, in one round trip: a script claims
// the idle entries, and adds each back at the stream's end, counting the
// takeover. It also forgets consumers with nothing pending that have been
// idle a hundred times minIdle.
func (q *Queue) Recover(ctx context.Context, name string, minIdle time.Duration, n int) (int, error) {
	if err := q.ensureGroup(ctx, name, false); err != nil {
		return 0, fmt.Errorf("worker: recover on %s: %w", name, err)
	}
	k := q.b.keys
	moved, err := q.run(ctx, recoverScript, []string{k.stream(name)}, minIdle.Milliseconds(), max(n, 1),
		k.statePrefix(name), (100 * minIdle).Milliseconds()).Int()
	if err != nil {
		return 0, fmt.Errorf("worker: recover on %s: %w", name, unavailable(ctx, err))
	}
	return moved, nil
}

// Leave implements queue.Consumer.
func (q *Queue) Leave(ctx context.Context, name, consumer string) error {
	q.mu.Lock()
	delete(q.seen, seenKey{name, consumer})
	q.mu.Unlock()
	err := q.run(ctx, leaveScript, []string{q.b.keys.stream(name)}, consumer).Err()
	if err != nil && !redis.HasErrorPrefix(err, "NOGROUP") {
		return fmt.Errorf("worker: leave %s: %w", name, unavailable(ctx, err))
	}
	return nil
}

// Extend implements queue.Consumer in one round trip: one XCLAIM ...
// JUSTID for all of them, which resets their idle time, and, while a
// worker watches for cancels, an HGET of each one's cancel mark beside it
// in the pipeline (see WatchCancels).
func (q *Queue) Extend(ctx context.Context, name, consumer string, ds []*queue.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.Receipt
	}
	watchers := q.cancelWatchers()
	var claim *redis.StringSliceCmd
	var flags []*redis.StringCmd
	_, _ = q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		claim = p.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.b.keys.stream(name), Group: group, Consumer: consumer, Messages: ids})
		if len(watchers) > 0 { // a cancel notice may have been lost: read the mark it left
			flags = make([]*redis.StringCmd, len(ds))
			for i, d := range ds {
				flags[i] = p.HGet(ctx, q.b.keys.state(name, d.ID), "cx")
			}
		}
		return nil
	})
	if err := claim.Err(); err != nil {
		return fmt.Errorf("worker: extend on %s: %w", name, unavailable(ctx, err))
	}
	for i, f := range flags {
		if f.Val() == "1" {
			for _, fn := range watchers {
				fn(name, ds[i].ID)
			}
		}
	}
	return nil
}

// Promote implements queue.Consumer, in one round trip.
func (q *Queue) Promote(ctx context.Context, name string, now time.Time, n int) (int, error) {
	k := q.b.keys
	moved, err := q.run(ctx, promoteScript, []string{k.stream(name), k.delayed(name)},
		now.UnixMilli(), n, k.statePrefix(name), q.b.stateTTLArg, q.b.channelArg, "{"+name+"}").Int()
	if err != nil {
		return 0, fmt.Errorf("worker: promote on %s: %w", name, unavailable(ctx, err))
	}
	return moved, nil
}

// Finish implements queue.Consumer, in one script: it releases the locks
// in o.Final that this backend took, acknowledges the delivery, writes the
// record of the run's own StoreResult and the task's state, only if the
// delivery is still the one to end (see endScript). On a Cluster, where a
// lock's key and the queue's keys lie apart, the releases go beside the
// script, in its pipeline. The call shares its pipeline with the finishes,
// acquires and releases of other tasks that end at the same time (see
// batcher). Any other deferred write is made first, on its own; if one of
// them fails, the state says queue.ResultLost.
func (q *Queue) Finish(ctx context.Context, d *queue.Delivery, o queue.Outcome) error {
	if err := queue.ValidateOutcome(d, o); err != nil {
		return err
	}
	f := &finish{o: o, status: string(o.Status), names: q.names(d.Queue)}
	f.locks = f.lockBuf[:0]
	f.final(ctx, q.b, o.Final, d)
	var args []any
	if o.Status == queue.Scheduled {
		f.state, f.at = q.b.keys.state(d.Queue, d.ID), o.RunAt.UnixMilli()
		args = f.begin(requeueScript, 3, &f.names.stream, &f.names.delayed, &f.state)
		args = append(args, &d.Receipt, &f.at, &f.o.Attempt, &f.o.Kind, &f.o.Error, &d.ID, flag(o.Retry), flag(o.Outage))
	} else {
		f.at = time.Now().UnixMicro()
		record, recordTTL := argEmpty, argZero
		if f.rec != nil {
			record, recordTTL = &f.rec.value, &f.rec.ttlMs
		}
		args = f.begin(endScript, 2, &f.names.stream, &f.names.dead)
		args = append(args, &d.Receipt, &f.status, &f.o.Kind, &f.o.Error, &f.o.Attempt, &f.result, q.b.stateTTLArg,
			q.b.channelArg, &f.names.statePrefix, &d.ID, &f.at, q.b.deadMaxArg, record, recordTTL, &f.names.tag,
			q.b.resultPrefixArg)
	}
	for _, l := range f.locks {
		args = append(args, l.token)
	}
	f.ops = append(f.ops, scriptOp(f.script, args))
	if err := q.b.batch.do(ctx, f.ops); err != nil {
		return fmt.Errorf("worker: finish %s: %w", d.ID, err)
	}
	if err := f.ops[len(f.ops)-1].cmd.Err(); err != nil {
		return fmt.Errorf("worker: finish %s: %w", d.ID, unavailable(ctx, err))
	}
	return nil
}

// finish is one Finish: the command's arguments point into it, so that
// they need no allocation of their own.
type finish struct {
	o             queue.Outcome
	status, state string
	result        string // of writes made apart: "", "stored" or "lost"
	at            int64
	names         *queueNames
	rec           *finalOp   // the run's own record, written by the script
	locks         []*finalOp // the run's releases, made by the script
	lockBuf       [2]*finalOp
	ops           []op // releases sent beside the script (Cluster), then the script
	script        script
}

// final sorts a run's deferred writes. This backend's releases are made by
// the script (or, on a Cluster, beside it), and its record of the task by
// the script; any other write is made now.
func (f *finish) final(ctx context.Context, b *Backend, w *task.FinalWrites, d *queue.Delivery) {
	if w == nil {
		return
	}
	own := func(w task.FinalWrite) *finalOp {
		if fo, ok := w.(*finalOp); ok && fo.b == b {
			return fo
		}
		return nil
	}
	for _, r := range w.Releases {
		switch fo := own(r); {
		case fo != nil && b.oneNode:
			f.locks = append(f.locks, fo)
		case fo != nil:
			f.ops = append(f.ops, scriptOp(releaseScript, []any{argEvalSHA, releaseScript.sha, argOneKey, fo.lockKey, fo.token}))
		default:
			_ = r.Apply(ctx) // a release that fails expires with its TTL
		}
	}
	for _, r := range w.Results {
		if fo := own(r); fo != nil && fo.queue == d.Queue && fo.id == d.ID {
			f.rec = fo // the last one wins, as it would applied in order
		} else if err := r.Apply(ctx); err != nil {
			f.result = string(queue.ResultLost)
		} else if f.result == "" {
			f.result = string(queue.ResultStored)
		}
	}
}

// begin starts the arguments of an EVALSHA of s, with its fixed keys and
// then the locks to release.
func (f *finish) begin(s script, nkeys int, keys ...*string) []any {
	f.script = s
	args := make([]any, 0, 3+nkeys+16+2*len(f.locks))
	args = append(args, argEvalSHA, s.sha, nkeys+len(f.locks))
	for _, k := range keys {
		args = append(args, k)
	}
	for _, l := range f.locks {
		args = append(args, l.lockKey)
	}
	return args
}

func flag(b bool) any {
	if b {
		return argOne
	}
	return argZero
}

// queueNames are a queue's keys and script arguments, made once.
type queueNames struct {
	stream, delayed, dead, paused, statePrefix, tag string
}

// names returns queue's names, from a cache of the first few hundred
// queues seen.
func (q *Queue) names(name string) *queueNames {
	q.mu.RLock()
	n := q.byName[name]
	q.mu.RUnlock()
	if n != nil {
		return n
	}
	k := q.b.keys
	n = &queueNames{stream: k.stream(name), delayed: k.delayed(name), dead: k.dead(name), paused: k.paused(name),
		statePrefix: k.statePrefix(name), tag: "{" + name + "}"}
	q.mu.Lock()
	if q.byName == nil {
		q.byName = make(map[string]*queueNames)
	}
	if len(q.byName) < 512 {
		q.byName[name] = n
	}
	q.mu.Unlock()
	return n
}

// State implements queue.Producer.
func (q *Queue) State(ctx context.Context, name, id string) (*queue.State, error) {
	h, err := q.b.client.HGetAll(ctx, q.b.keys.state(name, id)).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: state of %s: %w", id, unavailable(ctx, err))
	}
	return parseState(name, id, h)
}

func parseState(name, id string, h map[string]string) (*queue.State, error) {
	if len(h) == 0 {
		return nil, &queue.NotFoundError{Queue: name, ID: id}
	}
	st := &queue.State{ID: id, Task: h["task"], Queue: name, Status: queue.Status(h["status"]), Kind: h["kind"],
		Error: h["error"], Result: queue.ResultStatus(h["result"])}
	st.Attempt, _ = strconv.Atoi(h["attempt"])
	st.StartedAt, st.FinishedAt, st.Worker = microsField(h["st"]), microsField(h["fin"]), h["wk"]
	return st, nil
}

// microsField reads a state's time, in µs since the epoch; zero if absent.
func microsField(v string) time.Time {
	if us, err := strconv.ParseInt(v, 10, 64); err == nil && us > 0 {
		return time.UnixMicro(us)
	}
	return time.Time{}
}

// Started implements queue.Consumer: it marks the task running, since at,
// on worker, in a pipeline shared with other calls, without waiting for
// Redis. A mark that is lost leaves the task "queued" until it ends.
func (q *Queue) Started(_ context.Context, d *queue.Delivery, name string, at time.Time) {
	s := &start{key: q.names(d.Queue).statePrefix + d.ID, at: at.UnixMicro(), worker: name}
	s.args = [6]any{argEvalSHA, startScript.sha, argOneKey, &s.key, &s.at, &s.worker}
	s.ops[0] = scriptOp(startScript, s.args[:])
	q.b.batch.post(s.ops[:])
}

// start is one Started call: its command's arguments point into it, so
// that they need no allocation of their own.
type start struct {
	key, worker string
	at          int64
	args        [6]any
	ops         [1]op
}

// Wait implements queue.Producer. Waiters share the backend's one Pub/Sub
// subscription. Each look at the state marks it as waited for, in the
// same script: the task's end is announced only then, so that a finish
// publishes nothing when nobody waits.
func (q *Queue) Wait(ctx context.Context, name, id string) (*queue.State, error) {
	var st *queue.State
	key := q.b.keys.state(name, id)
	err := q.b.hub.wait(ctx, stateNotice(name, id), func(ctx context.Context) (bool, error) {
		res, err := q.run(ctx, waitStateScript, []string{key}).Slice()
		if err != nil {
			return false, fmt.Errorf("worker: state of %s: %w", id, unavailable(ctx, err))
		}
		h := make(map[string]string, len(res)/2)
		for i := 0; i+1 < len(res); i += 2 {
			k, _ := res[i].(string)
			h[k], _ = res[i+1].(string)
		}
		if st, err = parseState(name, id, h); err != nil {
			return false, err
		}
		return st.Status.Terminal(), nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// DeadLetters implements queue.Queue.
func (q *Queue) DeadLetters(ctx context.Context, name string, n int) ([]queue.DeadLetter, error) {
	if n <= 0 {
		return []queue.DeadLetter{}, nil // XRANGE COUNT 0 replies nil on Redis, everything on miniredis
	}
	msgs, err := q.b.client.XRangeN(ctx, q.b.keys.dead(name), "-", "+", int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: dead letters of %s: %w", name, unavailable(ctx, err))
	}
	out := make([]queue.DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		f := make(map[string]string, len(m.Values))
		for k, v := range m.Values {
			f[k], _ = v.(string)
		}
		d := parseEntry(name, m.ID, f)
		dl := queue.DeadLetter{Message: d.Message, Kind: f["kind"], Reason: f["reason"]}
		if us, err := strconv.ParseInt(f["at"], 10, 64); err == nil && us > 0 {
			dl.At = time.UnixMicro(us)
		}
		out = append(out, dl)
	}
	return out, nil
}

// Pause implements queue.Admin: one SET. Takes that find the queue
// paused hand back what they read, at once and unrun, and wait as if
// nothing were ready; tasks workers took before go on. The mark has no
// TTL: it stays until Resume.
func (q *Queue) Pause(ctx context.Context, name string) error {
	if err := q.b.client.Set(ctx, q.b.keys.paused(name), "1", 0).Err(); err != nil {
		return fmt.Errorf("worker: pause %s: %w", name, unavailable(ctx, err))
	}
	return nil
}

// Resume implements queue.Admin: one DEL.
func (q *Queue) Resume(ctx context.Context, name string) error {
	if err := q.b.client.Del(ctx, q.b.keys.paused(name)).Err(); err != nil {
		return fmt.Errorf("worker: resume %s: %w", name, unavailable(ctx, err))
	}
	return nil
}

// Paused implements queue.Admin: one EXISTS.
func (q *Queue) Paused(ctx context.Context, name string) (bool, error) {
	n, err := q.b.client.Exists(ctx, q.b.keys.paused(name)).Result()
	if err != nil {
		return false, fmt.Errorf("worker: paused %s: %w", name, unavailable(ctx, err))
	}
	return n == 1, nil
}

// Cancel implements queue.Producer, in one round trip: a script that
// ends a task that has not run (delayed, or ready and not taken: its
// entry is deleted), or tells the workers, on the backend's channel, to
// cancel the run of one they hold. Either way the state keeps the cancel,
// so that a retry of the run never runs.
func (q *Queue) Cancel(ctx context.Context, name, id string) (queue.CancelOutcome, error) {
	n := q.names(name)
	res, err := q.run(ctx, cancelScript, []string{n.statePrefix + id, n.delayed, n.stream},
		id, q.b.channelArg, n.tag, q.b.stateTTLArg, time.Now().UnixMicro()).Text()
	if err != nil {
		return "", fmt.Errorf("worker: cancel %s: %w", id, unavailable(ctx, err))
	}
	switch res {
	case "missing":
		return "", &queue.NotFoundError{Queue: name, ID: id}
	case "ended":
		return queue.CancelTooLate, nil
	case "canceled":
		return queue.CancelDone, nil
	}
	return queue.CancelSent, nil
}

// WatchCancels implements queue.Consumer: a subscription of its own
// to the backend's channel, for as long as the worker runs, that calls fn
// with each task canceled while a worker held it. go-redis subscribes
// again after a cut, and a notice published meanwhile is lost: so Extend
// also reads the mark a Cancel leaves on each task it extends, and calls
// fn for a canceled one. A lost notice is made up for within a third of
// the worker's visibility timeout, in a round trip the worker makes anyway.
func (q *Queue) WatchCancels(fn func(name, id string)) (stop func()) {
	key := &fn
	q.watchMu.Lock()
	if q.watchers == nil {
		q.watchers = make(map[*func(name, id string)]struct{})
	}
	q.watchers[key] = struct{}{}
	q.watchMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	ps := q.b.client.Subscribe(ctx, q.b.keys.channel())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range ps.Channel() {
			p := msg.Payload
			if len(p) < 2 || p[0] != 'x' || p[1] != '{' {
				continue
			}
			if name, id, ok := splitTagged(p[2:]); ok {
				fn(name, id)
			}
		}
	}()
	return func() {
		q.watchMu.Lock()
		delete(q.watchers, key)
		q.watchMu.Unlock()
		cancel()
		_ = ps.Close()
		<-done
	}
}

// cancelWatchers returns the functions WatchCancels was given, and is
// still to call.
func (q *Queue) cancelWatchers() []func(name, id string) {
	q.watchMu.Lock()
	defer q.watchMu.Unlock()
	fns := make([]func(name, id string), 0, len(q.watchers))
	for fn := range q.watchers {
		fns = append(fns, *fn)
	}
	return fns
}

// Rates implements queue.Admin, in one round trip: a pipeline of
// the minutes' hashes, which the scripts that end or requeue tasks count
// into, each kept an hour.
func (q *Queue) Rates(ctx context.Context, name string, since time.Time) ([]queue.OutcomeCounts, error) {
	now := time.Now()
	first, last := since.Unix()/60, now.Unix()/60
	if first < last-59 {
		first = last - 59 // an hour at most: older minutes are gone
	}
	n := q.names(name)
	prefix := strings.TrimSuffix(n.statePrefix, "task:") + "rate:"
	cmds := make([]*redis.MapStringStringCmd, 0, last-first+1)
	_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for m := first; m <= last; m++ {
			cmds = append(cmds, p.HGetAll(ctx, prefix+strconv.FormatInt(m, 10)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("worker: rates of %s: %w", name, unavailable(ctx, err))
	}
	out := make([]queue.OutcomeCounts, len(cmds))
	for i, c := range cmds {
		out[i] = outcomeCounts(time.Unix((first+int64(i))*60, 0), c.Val())
	}
	return out, nil
}

// outcomeCounts reads a minute's hash: a field per status, and one per
// skip's kind, "skipped:<kind>".
func outcomeCounts(minute time.Time, h map[string]string) queue.OutcomeCounts {
	c := queue.OutcomeCounts{Minute: minute}
	for field, v := range h {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch field {
		case "succeeded":
			c.Succeeded = n
		case "failed":
			c.Failed = n
		case "dead":
			c.Dead = n
		case "canceled":
			c.Canceled = n
		case "retried":
			c.Retried = n
		case "rescheduled":
			c.Rescheduled = n
		default:
			if kind, ok := strings.CutPrefix(field, "skipped:"); ok {
				if c.Skipped == nil {
					c.Skipped = make(map[string]int64)
				}
				c.Skipped[kind] = n
			}
		}
	}
	return c
}

// The whole contract, checked by the compiler.
var _ queue.Queue = (*Queue)(nil)
