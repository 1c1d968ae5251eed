package redisbackend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/lock"
)

// Inspection: what queue.Admin show of the queues,
// and the repairs an operator makes (requeue or purge dead letters, purge
// records, look up and break a lock). None of it is on a worker's path.
// Each call says its round trips in its doc comment.

// recoverConsumer is the consumer XAUTOCLAIM claims for in recoverScript:
// it is no worker.
const recoverConsumer = "taskware:recover"

// maxCount bounds how many entries a script counts one by one (where Redis
// gives no "lag"), and how many tasks a listing returns.
const maxCount = 100_000

// groupLua defines groupinfo(stream), which returns the taskware group's
// pending count, last delivered ID and lag (nil where Redis gives none,
// before 7.0, or where it cannot tell, as after an XDEL of an unread
// entry; miniredis gives a wrong one, without "entries-read"), or nil if
// the group does not exist.
const groupLua = `
local function groupinfo(stream)
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == 'taskware' then
      local lag = f['lag']
      if type(lag) ~= 'number' or type(f['entries-read']) ~= 'number' then lag = nil end
      return {pending = f['pending'], last = f['last-delivered-id'], lag = lag}
    end
  end
end
-- The first ID after the last delivered one, for XRANGE.
local function after(last)
  if not last or last == '0-0' then return '-' end
  return '(' .. last
end
`

var (
	// KEYS: stream, delayed, dead. ARGV: most to count, live window ms.
	// Returns ready, running, delayed, dead, the first ready entry's ID
	// (or ""), live workers, and the server's TIME (s, µs). Reads only.
	statsScript = newScript(groupLua + `
local ready, running, oldest, workers = 0, 0, '', 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  local g = groupinfo(KEYS[1])
  local last = '0-0'
  if g then running, last = g.pending, g.last end
  local bound = tonumber(ARGV[1])
  if g and g.lag then
    ready = g.lag
  else
    -- No lag: count the entries up to the last delivered one, usually few
    -- (recovery trims those finished), and take them from the length; if
    -- there are too many, count the ready ones instead, up to bound.
    local below, from, ok = 0, '-', true
    if last ~= '0-0' then
      while true do
        local es = redis.call('XRANGE', KEYS[1], from, last, 'COUNT', 1000)
        below = below + #es
        if #es < 1000 then break end
        if below >= bound then ok = false break end
        from = '(' .. es[#es][1]
      end
    end
    if ok then
      ready = redis.call('XLEN', KEYS[1]) - below
    else
      from = after(last)
      while ready < bound do
        local es = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', 1000)
        ready = ready + #es
        if #es < 1000 then break end
        from = '(' .. es[#es][1]
      end
    end
  end
  local first = redis.call('XRANGE', KEYS[1], after(last), '+', 'COUNT', 1)
  if first[1] then oldest = first[1][1] end
  if g then
    for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], 'taskware')) do
      local f = {}
      for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
      if f['name'] ~= 'taskware:recover' and f['idle'] and f['idle'] < tonumber(ARGV[2]) then
        workers = workers + 1
      end
    end
  end
end
local dead = 0
if redis.call('EXISTS', KEYS[3]) == 1 then dead = redis.call('XLEN', KEYS[3]) end
local t = redis.call('TIME')
return {ready, running, redis.call('ZCARD', KEYS[2]), dead, oldest, workers, t[1], t[2]}`)

	// KEYS: stream. ARGV: count. The first count entries after the last
	// delivered one. Reads only.
	readyScript = newScript(groupLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local g = groupinfo(KEYS[1])
local last
if g then last = g.last end
return redis.call('XRANGE', KEYS[1], after(last), '+', 'COUNT', ARGV[1])`)

	// KEYS: stream. ARGV: count. The first count pending entries, each as
	// {id, consumer, idle ms, fields} (no fields if it is gone). Reads only.
	runningScript = newScript(groupLua + `
if redis.call('EXISTS', KEYS[1]) == 0 or not groupinfo(KEYS[1]) then return {} end
local out = {}
for _, p in ipairs(redis.call('XPENDING', KEYS[1], 'taskware', '-', '+', ARGV[1])) do
  local e = redis.call('XRANGE', KEYS[1], p[1], p[1])
  local f = {}
  if e[1] then f = e[1][2] end
  out[#out + 1] = {p[1], p[2], p[3], f}
end
return out`)

	// KEYS: delayed. ARGV: count, state prefix. The first count delayed
	// tasks, each as {id, due ms, state fields}. Reads only.
	delayedScript = newScript(`
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local out = {}
for i = 1, #ids, 2 do
  local h = redis.call('HMGET', ARGV[2] .. ids[i], 'm', 'attempt', 'status', 'reclaims', 'outages', 'lk', 'le', 'task',
    'payload', 'enq', 'exp', 'kind', 'error')
  for j = 1, 13 do if not h[j] then h[j] = '' end end
  out[#out + 1] = {ids[i], ids[i + 1], h}
end
return out`)

	// KEYS: stream, dead, delayed. ARGV: state prefix, max entries to
	// look at, then the IDs (task IDs or dead-letter entry IDs) to requeue,
	// none for all. Each dead letter chosen goes back to the stream as a
	// fresh entry (attempt 1, delivery 1, no last failure), its state set
	// to queued (made again if it expired), and leaves the dead letters.
	// A letter that cannot be read, or whose task is known again under
	// another status (enqueued anew since), stays. Returns {requeued task
	// IDs, entries left}. Run twice, it finds nothing more to do.
	requeueDeadScript = newScript(msgLua + coreTaskLua + `
local want
if #ARGV > 2 then
  want = {}
  for i = 3, #ARGV do want[ARGV[i]] = true end
end
local done, kept, from, seen = {}, {}, '-', 0
while seen < tonumber(ARGV[2]) do
  local es = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', 1000)
  for _, e in ipairs(es) do
    local f = e[2]
    local h, core = unpackmsg(field(f, 'm'))
    local id, task
    if core then id, task = coreid(core), coretask(core) else id, task = field(f, 'id'), field(f, 'task') end
    if not want or want[e[1]] or (id and want[id]) then
      local ok = id and id ~= '' and task and task ~= ''
      local s
      if ok then
        s = ARGV[1] .. id
        local st = redis.call('HGET', s, 'status')
        if st and st ~= 'dead' then ok = false end
      end
      if ok then
        if core then
          redis.call('XADD', KEYS[1], '*', 'm', packmsg({'1', '1', '0', '', ''}, core))
        else
          local args = {}
          for i = 1, #f, 2 do
            local k = f[i]
            if k ~= 'attempt' and k ~= 'kind' and k ~= 'reason' and k ~= 'at' and k ~= 'dlv' and k ~= 'out' and k ~= 'lk' and k ~= 'le' then
              args[#args + 1], args[#args + 2] = k, f[i + 1]
            end
          end
          args[#args + 1], args[#args + 2], args[#args + 3], args[#args + 4] = 'attempt', '1', 'dlv', '1'
          redis.call('XADD', KEYS[1], '*', unpack(args))
        end
        redis.call('HDEL', s, 'kind', 'error', 'result', 'reclaims', 'outages', 'lk', 'le', 'm', 'payload', 'st', 'wk', 'fin')
        redis.call('HSET', s, 'task', task, 'status', 'queued', 'attempt', '1')
        redis.call('PERSIST', s)
        redis.call('ZREM', KEYS[3], id)
        redis.call('XDEL', KEYS[2], e[1])
        done[#done + 1] = id
      else
        kept[#kept + 1] = e[1]
      end
    end
  end
  seen = seen + #es
  if #es < 1000 then break end
  from = '(' .. es[#es][1]
end
return {done, kept}`)

	// KEYS: dead. ARGV: max entries to look at, then the IDs (task IDs or
	// entry IDs) to delete, none for all. Returns how many entries it
	// deleted.
	purgeDeadScript = newScript(msgLua + `
if #ARGV == 1 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  local n = redis.call('XLEN', KEYS[1])
  redis.call('DEL', KEYS[1])
  return n
end
local want = {}
for i = 2, #ARGV do want[ARGV[i]] = true end
local n, from, seen = 0, '-', 0
while seen < tonumber(ARGV[1]) do
  local es = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', 1000)
  for _, e in ipairs(es) do
    local _, core = unpackmsg(field(e[2], 'm'))
    local id
    if core then id = coreid(core) else id = field(e[2], 'id') end
    if want[e[1]] or (id and want[id]) then
      n = n + redis.call('XDEL', KEYS[1], e[1])
    end
  end
  seen = seen + #es
  if #es < 1000 then break end
  from = '(' .. es[#es][1]
end
return n`)
)

// coreTaskLua defines coretask(core), which reads the task name, the
// second part of a message's core (see encodeMessage).
const coreTaskLua = `
local function coretask(core)
  local n, at = string.match(core, '^(%d+):()')
  if not n then return nil end
  local m, at2 = string.match(core, '^(%d+):()', at + n)
  if m then return string.sub(core, at2, at2 + m - 1) end
end
`

// Queues implements queue.Admin: one SCAN over the keyspace (on every
// master of a Cluster), a round trip per page. A queue exists while its
// stream, delayed set or dead letters do, or while it is paused.
func (q *Queue) Queues(ctx context.Context) ([]string, error) {
	k := q.b.keys
	start := len(k.prefix) + len("queue:{")
	seen := map[string]bool{}
	// Keys that end in "}" (streams) or "d" (":delayed", ":dead",
	// ":paused"): one pattern for the four, and only the task states whose
	// ID ends in "d" besides, which are dropped here.
	err := q.b.scan(ctx, escapeGlob(k.prefix)+"queue:{*[}d]", func(_ context.Context, _ redis.Cmdable, keys []string) error {
		for _, key := range keys {
			if name, rest, ok := splitTagged(key[start:]); ok && (rest == "" || rest == ":delayed" || rest == ":dead" || rest == ":paused") {
				seen[name] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("worker: list queues: %w", unavailable(ctx, err))
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}

// Stats implements queue.Admin, in one round trip: a script that only
// reads. Ready counts the stream's entries after the group's last
// delivered one: Redis 7's "lag" where it has one, else counted (up to
// 100 000 ready, where the finished entries not yet trimmed are too many
// to count). OldestReady and the live workers are reckoned by the server's
// clock; a consumer whose idle time the server does not tell (miniredis
// gives -1) counts as live.
func (q *Queue) Stats(ctx context.Context, name string) (*queue.Stats, error) {
	k := q.b.keys
	res, err := q.run(ctx, statsScript, []string{k.stream(name), k.delayed(name), k.dead(name)},
		maxCount, queue.LiveWorkerWindow.Milliseconds()).Slice()
	if err == nil && len(res) != 8 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		return nil, fmt.Errorf("worker: stats of %s: %w", name, unavailable(ctx, err))
	}
	st := &queue.Stats{Queue: name, Ready: toInt(res[0]), Running: toInt(res[1]), Delayed: toInt(res[2]),
		Dead: toInt(res[3]), Workers: int(toInt(res[5]))}
	if ms, ok := entryMillis(toString(res[4])); ok {
		now := time.Unix(toInt(res[6]), toInt(res[7])*1000)
		st.OldestReady = max(now.Sub(time.UnixMilli(ms)), 0)
	}
	return st, nil
}

// Workers implements queue.Admin, in one round trip (XINFO
// CONSUMERS). The consumer that recovery claims for is no worker, and is
// left out.
func (q *Queue) Workers(ctx context.Context, name string) ([]queue.WorkerInfo, error) {
	cs, err := q.b.client.XInfoConsumers(ctx, q.b.keys.stream(name), group).Result()
	if err != nil {
		if redis.HasErrorPrefix(err, "NOGROUP") || strings.Contains(err.Error(), "no such key") {
			return []queue.WorkerInfo{}, nil
		}
		return nil, fmt.Errorf("worker: workers of %s: %w", name, unavailable(ctx, err))
	}
	out := make([]queue.WorkerInfo, 0, len(cs))
	for _, c := range cs {
		if c.Name == recoverConsumer {
			continue
		}
		out = append(out, queue.WorkerInfo{Name: c.Name, Queue: name, Pending: c.Pending, Idle: max(c.Idle, 0)})
	}
	slices.SortFunc(out, func(a, b queue.WorkerInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Tasks implements queue.Admin. Ready, running and delayed tasks are one
// round trip each (a script that only reads), dead letters one XRANGE.
// Finished tasks are found by a SCAN of the queue's task states, a round
// trip per page and one pipeline of HMGETs per page; they come the latest
// first. limit <= 0, or above 100 000, means 100 000.
func (q *Queue) Tasks(ctx context.Context, name string, set queue.TaskSet, limit int) ([]queue.TaskInfo, error) {
	if limit <= 0 || limit > maxCount {
		limit = maxCount
	}
	var out []queue.TaskInfo
	var err error
	switch set {
	case queue.ReadyTasks:
		out, err = q.readyTasks(ctx, name, limit)
	case queue.RunningTasks:
		out, err = q.runningTasks(ctx, name, limit)
	case queue.DelayedTasks:
		out, err = q.delayedTasks(ctx, name, limit)
	case queue.DeadTasks:
		out, err = q.deadTasks(ctx, name, limit)
	case queue.FinishedTasks:
		out, err = q.finishedTasks(ctx, name, limit)
	default:
		return nil, fmt.Errorf("worker: list %q tasks of %s: no such set of tasks", set, name)
	}
	if err != nil {
		return nil, fmt.Errorf("worker: list %s tasks of %s: %w", set, name, unavailable(ctx, err))
	}
	if out == nil {
		out = []queue.TaskInfo{}
	}
	return out, nil
}

func (q *Queue) readyTasks(ctx context.Context, name string, limit int) ([]queue.TaskInfo, error) {
	res, err := q.run(ctx, readyScript, []string{q.b.keys.stream(name)}, limit).Slice()
	if err != nil {
		return nil, err
	}
	out := make([]queue.TaskInfo, 0, len(res))
	for _, e := range res {
		id, f := luaEntry(e)
		ti := entryInfo(name, id, f)
		ti.Status = queue.Queued
		out = append(out, ti)
	}
	return out, nil
}

func (q *Queue) runningTasks(ctx context.Context, name string, limit int) ([]queue.TaskInfo, error) {
	res, err := q.run(ctx, runningScript, []string{q.b.keys.stream(name)}, limit).Slice()
	if err != nil {
		return nil, err
	}
	out := make([]queue.TaskInfo, 0, len(res))
	for _, r := range res {
		p, _ := r.([]any)
		if len(p) != 4 {
			continue
		}
		id := toString(p[0])
		ti := entryInfo(name, id, luaFields(p[3]))
		ti.Status, ti.Worker, ti.Idle = queue.Running, toString(p[1]), time.Duration(toInt(p[2]))*time.Millisecond
		out = append(out, ti)
	}
	return out, nil
}

func (q *Queue) delayedTasks(ctx context.Context, name string, limit int) ([]queue.TaskInfo, error) {
	k := q.b.keys
	res, err := q.run(ctx, delayedScript, []string{k.delayed(name)}, limit, k.statePrefix(name)).Slice()
	if err != nil {
		return nil, err
	}
	out := make([]queue.TaskInfo, 0, len(res))
	for _, r := range res {
		p, _ := r.([]any)
		if len(p) != 3 {
			continue
		}
		id := toString(p[0])
		h := make([]string, 13)
		if hs, _ := p[2].([]any); len(hs) == 13 {
			for i, v := range hs {
				h[i] = toString(v)
			}
		}
		ti := delayedInfo(name, id, h)
		if ms, err := strconv.ParseFloat(toString(p[1]), 64); err == nil {
			ti.RunAt = time.UnixMilli(int64(ms))
		}
		out = append(out, ti)
	}
	return out, nil
}

// delayedInfo reads a delayed task's state: its fields m, attempt, status,
// reclaims, outages, lk, le, task, payload, enq, exp, kind and error, as
// delayedScript reads them. The message's core, kept alone in the state
// while it waits, gets the header the promotion will give it.
func delayedInfo(name, id string, h []string) queue.TaskInfo {
	attempt := cmp.Or(h[1], "1")
	dlv := "1"
	if n, err := strconv.Atoi(h[3]); err == nil {
		dlv = strconv.Itoa(n + 1)
	}
	f := map[string]string{}
	if h[0] != "" {
		var b []byte
		b = append(b, messageVersion...)
		for _, s := range []string{attempt, dlv, cmp.Or(h[4], "0"), h[5], h[6]} {
			b = appendNetstring(b, s)
		}
		f["m"] = string(append(b, h[0]...))
	} else { // a state of the fields of its own, written before "m"
		f = map[string]string{"id": id, "task": h[7], "payload": h[8], "enq": cmp.Or(h[9], "0"),
			"exp": cmp.Or(h[10], "0"), "attempt": attempt, "dlv": dlv}
	}
	ti := entryInfo(name, "", f)
	ti.ID = id
	ti.Status = queue.Status(cmp.Or(h[2], string(queue.Scheduled)))
	ti.Kind, ti.Error = h[11], h[12]
	if ti.Task == "" {
		ti.Task = h[7]
	}
	return ti
}

func (q *Queue) deadTasks(ctx context.Context, name string, limit int) ([]queue.TaskInfo, error) {
	msgs, err := q.b.client.XRangeN(ctx, q.b.keys.dead(name), "-", "+", int64(limit)).Result()
	if err != nil {
		return nil, err
	}
	out := make([]queue.TaskInfo, 0, len(msgs))
	for _, m := range msgs {
		f := stringFields(m.Values)
		ti := entryInfo(name, m.ID, f)
		ti.Status, ti.Kind, ti.Error = queue.Dead, f["kind"], f["reason"]
		ti.FinishedAt = microsTime(f["at"])
		out = append(out, ti)
	}
	return out, nil
}

// stateFields are the fields of a task's state that a listing of finished
// tasks reads: not its message.
var stateFields = []string{"task", "status", "attempt", "kind", "error", "st", "wk", "fin"}

func (q *Queue) finishedTasks(ctx context.Context, queueName string, limit int) ([]queue.TaskInfo, error) {
	prefix := q.b.keys.statePrefix(queueName)
	var out []queue.TaskInfo
	err := q.b.scan(ctx, escapeGlob(prefix)+"*", func(ctx context.Context, node redis.Cmdable, keys []string) error {
		cmds := make([]*redis.SliceCmd, len(keys))
		_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, key := range keys {
				cmds[i] = p.HMGet(ctx, key, stateFields...)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, c := range cmds {
			v := c.Val()
			if len(v) != len(stateFields) {
				continue
			}
			h := make(map[string]string, len(stateFields))
			for j, name := range stateFields {
				h[name] = toString(v[j])
			}
			if st := queue.Status(h["status"]); st.Terminal() {
				out = append(out, stateInfo(queueName, keys[i][len(prefix):], h))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b queue.TaskInfo) int {
		return cmp.Or(b.FinishedAt.Compare(a.FinishedAt), strings.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), limit)], nil
}

// stateInfo reads a task's state hash.
func stateInfo(name, id string, h map[string]string) queue.TaskInfo {
	ti := queue.TaskInfo{ID: id, Task: h["task"], Queue: name, Status: queue.Status(h["status"]), Kind: h["kind"],
		Error: h["error"], Worker: h["wk"], StartedAt: microsTime(h["st"]), FinishedAt: microsTime(h["fin"])}
	ti.Attempt, _ = strconv.Atoi(h["attempt"])
	return ti
}

// Find returns what each of queues knows of task id, from its state (and,
// for a delayed task, its due time): one pipeline, so one round trip (two
// on a Cluster whose queues lie on several masters). With no queues it
// looks in every queue Queues lists, after that SCAN. A queue that knows
// nothing of id is left out.
func (q *Queue) Find(ctx context.Context, id string, queues ...string) ([]queue.TaskInfo, error) {
	if len(queues) == 0 {
		var err error
		if queues, err = q.Queues(ctx); err != nil {
			return nil, err
		}
	}
	k := q.b.keys
	states := make([]*redis.MapStringStringCmd, len(queues))
	dues := make([]*redis.FloatCmd, len(queues))
	_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range queues {
			states[i] = p.HGetAll(ctx, k.state(name, id))
			dues[i] = p.ZScore(ctx, k.delayed(name), id)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("worker: find %s: %w", id, unavailable(ctx, err))
	}
	out := []queue.TaskInfo{}
	for i, name := range queues {
		h := states[i].Val()
		if len(h) == 0 {
			continue
		}
		ti := stateInfo(name, id, h)
		if ms, err := dues[i].Result(); err == nil {
			ti.RunAt = time.UnixMilli(int64(ms))
		}
		out = append(out, ti)
	}
	return out, nil
}

// RequeueDead moves queue's dead letters of the given IDs (task IDs, or
// the dead letters' entry IDs), or all of them if none is given, back to
// the ready tasks as fresh deliveries: attempt 1, delivery 1, no last
// failure, the task's state queued again (made anew if it expired). One
// script, so one round trip, that looks at up to 100 000 dead letters. It
// returns the IDs of the tasks requeued; a dead letter it cannot read, or
// whose task is known again under another status (enqueued anew since),
// stays where it is, and its entry ID is in the second list. Run twice, it
// requeues nothing the second time. The task runs with the deadline it
// was enqueued with: one past it is skipped as expired.
func (q *Queue) RequeueDead(ctx context.Context, name string, ids ...string) (requeued, kept []string, err error) {
	k := q.b.keys
	args := make([]any, 0, 2+len(ids))
	args = append(args, k.statePrefix(name), maxCount)
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := q.run(ctx, requeueDeadScript, []string{k.stream(name), k.dead(name), k.delayed(name)}, args...).Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("worker: requeue dead letters of %s: %w", name, unavailable(ctx, err))
	}
	return luaStrings(res[0]), luaStrings(res[1]), nil
}

// PurgeDead deletes queue's dead letters of the given IDs (task IDs, or
// entry IDs), or all of them if none is given, and returns how many it
// deleted: one script, so one round trip, that looks at up to 100 000
// dead letters (for all, it deletes the stream). The tasks' states stay
// "dead" until they expire.
func (q *Queue) PurgeDead(ctx context.Context, name string, ids ...string) (int, error) {
	key := q.b.keys.dead(name)
	args := make([]any, 0, 1+len(ids))
	args = append(args, maxCount)
	for _, id := range ids {
		args = append(args, id)
	}
	n, err := q.run(ctx, purgeDeadScript, []string{key}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("worker: purge dead letters of %s: %w", name, unavailable(ctx, err))
	}
	return n, nil
}

// Purge deletes the records of the given queues ("" is that of runs made
// in-process), or every record if none is given, and returns how many it
// deleted. It SCANs (on every master of a Cluster), a round trip per page,
// and deletes each page's keys in one pipeline.
func (s *Store) Purge(ctx context.Context, queues ...string) (int, error) {
	k := s.b.keys
	patterns := []string{escapeGlob(k.prefix) + "result:{*}:*"}
	if len(queues) > 0 {
		patterns = patterns[:0]
		for _, name := range queues {
			patterns = append(patterns, escapeGlob(k.prefix+"result:{"+name+"}:")+"*")
		}
	}
	n := 0
	for _, pattern := range patterns {
		err := s.b.scan(ctx, pattern, func(ctx context.Context, node redis.Cmdable, keys []string) error {
			cmds := make([]*redis.IntCmd, len(keys))
			_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, key := range keys { // one DEL each: on a Cluster, a page spans slots
					cmds[i] = p.Del(ctx, key)
				}
				return nil
			})
			for _, c := range cmds {
				n += int(c.Val())
			}
			return err
		})
		if err != nil {
			return n, fmt.Errorf("store: purge: %w", unavailable(ctx, err))
		}
	}
	return n, nil
}

// Lookup returns key's lock if it is held, in one round trip (a GET and a
// PTTL in a pipeline).
func (l *Locker) Lookup(ctx context.Context, key string) (lock.Info, bool, error) {
	vals, err := readWithTTL(ctx, l.b.client, []string{l.b.keys.lock(key)})
	if err != nil {
		return lock.Info{}, false, fmt.Errorf("lock %q: look up: %w", key, unavailable(ctx, err))
	}
	v := vals[0]
	if !v.ok || strings.HasPrefix(v.val, "|") { // none, or released
		return lock.Info{}, false, nil
	}
	return parseLock(key, v.val, v.ttl), true, nil
}

// entryInfo reads a stream entry (of the stream, or of the dead letters).
func entryInfo(name, receipt string, f map[string]string) queue.TaskInfo {
	d := parseEntry(name, receipt, f)
	ti := queue.TaskInfo{ID: d.ID, Task: d.Task, Queue: name, Attempt: d.Attempt, EnqueuedAt: d.EnqueuedAt,
		Receipt: receipt, Deliveries: d.Deliveries, Kind: d.LastKind, Error: d.LastError}
	if d.Malformed != nil {
		ti.Malformed = d.Malformed.Error()
	}
	return ti
}

// entryMillis reads the time of a stream entry ID, "<ms>-<seq>".
func entryMillis(id string) (int64, bool) {
	ms, _, ok := strings.Cut(id, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	return n, err == nil
}

func microsTime(s string) time.Time {
	if us, err := strconv.ParseInt(s, 10, 64); err == nil && us > 0 {
		return time.UnixMicro(us)
	}
	return time.Time{}
}

func stringFields(vals map[string]any) map[string]string {
	f := make(map[string]string, len(vals))
	for k, v := range vals {
		f[k], _ = v.(string)
	}
	return f
}

// luaEntry reads an entry of an XRANGE made in a script: {id, {field,
// value, ...}}.
func luaEntry(v any) (string, map[string]string) {
	e, _ := v.([]any)
	if len(e) != 2 {
		return "", map[string]string{}
	}
	return toString(e[0]), luaFields(e[1])
}

func luaFields(v any) map[string]string {
	fs, _ := v.([]any)
	f := make(map[string]string, len(fs)/2)
	for i := 0; i+1 < len(fs); i += 2 {
		f[toString(fs[i])] = toString(fs[i+1])
	}
	return f
}

func luaStrings(v any) []string {
	vs, _ := v.([]any)
	out := make([]string, 0, len(vs))
	for _, s := range vs {
		out = append(out, toString(s))
	}
	return out
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

func toInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// KEYS: state, stream. The message of a task that waits: the core its
// state keeps while it is delayed, or its stream entry's fields while it
// is ready or taken ("e" names the entry). Reads only.
var messageScript = newScript(`
local h = redis.call('HMGET', KEYS[1], 'm', 'e')
if h[1] then return {'core', h[1]} end
if h[2] then
  local e = redis.call('XRANGE', KEYS[2], h[2], h[2])
  if e[1] then return {'entry', e[1][2]} end
end
return {}`)

// Message returns the message of task id of queue (its arguments and
// headers) while it waits: delayed, ready or taken. One round trip. It
// returns an error matching queue.ErrNotFound for a task that has ended,
// or that the queue does not know: a dead one's message is in
// DeadLetters.
func (q *Queue) Message(ctx context.Context, name, id string) (*queue.Message, error) {
	n := q.names(name)
	res, err := q.run(ctx, messageScript, []string{n.statePrefix + id, n.stream}).Slice()
	if err != nil {
		return nil, fmt.Errorf("worker: message of %s: %w", id, unavailable(ctx, err))
	}
	if len(res) != 2 {
		return nil, &queue.NotFoundError{Queue: name, ID: id}
	}
	var d *queue.Delivery
	switch kind, _ := res[0].(string); kind {
	case "core": // a delayed task's: the header the stream entry would add is not kept
		core, _ := res[1].(string)
		d = parseEntry(name, "", map[string]string{"m": messageVersion + "1:11:11:00:0:" + core})
	default:
		d = parseEntry(name, "", luaFields(res[1]))
	}
	if d.Malformed != nil {
		return nil, fmt.Errorf("worker: message of %s: %w", id, d.Malformed)
	}
	return &d.Message, nil
}
