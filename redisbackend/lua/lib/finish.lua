-- lib/finish.lua, after the locker's release, lib/entry.lua, lib/count.lua,
-- lib/superseded.lua, lib/attempt.lua and lib/ended.lua.
--
--   finish(extra)
--
-- is finish.lua's work, on its KEYS and ARGV (see finish.lua): it ends the
-- task once, and returns 1, or, if the entry was finished already, 0 (by
-- this call) or 2 (taken over). finish_step.lua calls it first, then
-- releases the step's children: extra, if given, names fields of the
-- state to read as it was, in the read finish makes anyway, and returned
-- second (nil if it made none); third, the entry of the dead letter it
-- wrote, if it wrote one.
--
--   endtask(t)
--
-- is the end of a task once its delivery is acknowledged, shared with
-- finish_batch.lua, which ends a batch's members so: the state's status,
-- outcome and history, the unique key's release, the record of the run's
-- own StoreResult, the outcome's count, the index of ended tasks, and the
-- waiters' notices; the run's start and worker too, if its worker named
-- them, since its running mark may come later and then changes nothing.
-- t has the fields state, id, status, kind, err, attempt, result,
-- record_key, record, record_ttl, state_ttl, channel,
-- tag, run, stack, at, worker, started, counts and ended (as finish.lua's
-- KEYS and ARGV), extra (as finish's), and core: a function that gives a
-- failed task's message core for its state ("m"), or nil if the state
-- keeps it already; drop: whether the state holds a core ("m") that a
-- task that does not fail drops; h: the state's fields as endtask reads
-- them, read already, or nil; tally: nil, or a table in which to count the
-- outcome instead of in counts, whose caller counts it and sets the
-- ended index's TTL once for many tasks. Returns the state as it was
-- (HMGET of w, uk, status, st, wk, pa, then extra).

local function endtask(t)
  local state, id, status, result = t.state, t.id, t.status, t.result
  local h, an = t.h, nil
  if not h then
    -- "an", the runs recorded (lib/attempt.lua), read last, after extra
    local fields = {'w', 'uk', 'status', 'st', 'wk', 'pa'}
    if t.extra then
      for _, f in ipairs(t.extra) do fields[#fields + 1] = f end
    end
    fields[#fields + 1] = 'an'
    h = redis.call('HMGET', state, unpack(fields))
    an = tonumber(h[#fields] or '0') + 1
    h[#fields] = nil
  end
  local waited, unique = h[1], h[2]
  if not an then
    add_attempt(state, {h[3], h[4], h[5]}, t.run, status, '0', t.kind, t.err, t.stack, t.at, t.worker, t.started)
  end
  if unique and redis.call('GET', unique) == id then redis.call('DEL', unique) end
  if t.record ~= '' then
    redis.call('SET', t.record_key, t.record, 'PX', t.record_ttl)
    if waited then redis.call('PUBLISH', t.channel, 'r' .. t.tag .. id) end
    if result ~= 'lost' then result = 'stored' end
  end
  -- the end, the run's record (if not made above) and a failed task's
  -- core, in one write
  local w = {'status', status, 'kind', t.kind, 'error', t.err, 'attempt', t.attempt, 'result', result, 'fin', t.at}
  if an then
    w[13], w[14], w[15] = 'an', an, 'a' .. an
    w[16] = attemptjson({h[3], h[4], h[5]}, t.run, status, '0', t.kind, t.err, t.stack, t.at, t.worker, t.started)
  end
  if status == 'failed' and t.core then
    local core = t.core()
    if core then w[#w + 1], w[#w + 2] = 'm', core end
  end
  -- The run's start, as its worker tells it, unless its running mark
  -- (start.lua) wrote it: the mark may come after this end, when it
  -- changes nothing.
  if t.worker ~= '' and h[3] ~= 'running' then
    w[#w + 1], w[#w + 2], w[#w + 3], w[#w + 4] = 'st', t.started, 'wk', t.worker
  end
  redis.call('HSET', state, unpack(w))
  if an and an > 20 then redis.call('HDEL', state, 'a' .. (an - 20)) end
  -- The run's progress (progress.lua) ends with it; a run that reported
  -- none costs no command.
  if h[6] then redis.call('HDEL', state, 'pd', 'pt', 'pm', 'pa') end
  if status ~= 'failed' and t.drop then
    redis.call('HDEL', state, 'm')
  end
  redis.call('PEXPIRE', state, t.state_ttl)
  if t.tally then
    local f = outcome(status, t.kind)
    t.tally[f] = (t.tally[f] or 0) + 1
    indexended(t.ended, id, t.at, nil)
  else
    count(t.counts, outcome(status, t.kind))
    indexended(t.ended, id, t.at, t.state_ttl)
  end
  if waited then redis.call('PUBLISH', t.channel, 't' .. t.tag .. id) end
  return h
end

local function finish(extra)
  local letter
  local stream, dead, state, record_key, counts, ended = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
  local entry, status, kind, err, attempt, result = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  local state_ttl, channel, id, at, dead_max = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
  local record, record_ttl, tag, run, stack = ARGV[12], ARGV[13], ARGV[14], ARGV[15], ARGV[16]
  local worker, started = ARGV[17], ARGV[18]

  release(7, 19)
  if redis.call('XACK', stream, 'taskware', entry) == 0 then return superseded(state, entry) end
  if status == 'dead' then
    local e = redis.call('XRANGE', stream, entry, entry)
    local d = {}
    if e[1] then
      local f = e[1][2]
      for i = 1, #f, 2 do
        if f[i] ~= 'attempt' and f[i] ~= 'kind' and f[i] ~= 'reason' and f[i] ~= 'at' then
          d[#d + 1], d[#d + 2] = f[i], f[i + 1]
        end
      end
    end
    d[#d + 1], d[#d + 2], d[#d + 3], d[#d + 4] = 'attempt', attempt, 'kind', kind
    d[#d + 1], d[#d + 2], d[#d + 3], d[#d + 4] = 'reason', err, 'at', at
    letter = redis.call('XADD', dead, 'MAXLEN', '~', dead_max, '*', unpack(d))
  end
  if id == '' then return 1 end
  local h = endtask({state = state, id = id, status = status, kind = kind, err = err, attempt = attempt, result = result,
    record_key = record_key, record = record, record_ttl = record_ttl, state_ttl = state_ttl, channel = channel, tag = tag,
    run = run, stack = stack, at = at, worker = worker, started = started, counts = counts, ended = ended, extra = extra,
    core = function()
      local e = redis.call('XRANGE', stream, entry, entry)
      if e[1] then return (select(2, unpackmsg(field(e[1][2], 'm')))) end
    end})
  return 1, h, letter
end
