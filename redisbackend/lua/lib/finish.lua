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
  local h
  if extra then
    h = redis.call('HMGET', state, 'w', 'uk', 'status', 'st', 'wk', 'pa', unpack(extra))
  else
    h = redis.call('HMGET', state, 'w', 'uk', 'status', 'st', 'wk', 'pa')
  end
  local waited, unique = h[1], h[2]
  add_attempt(state, {h[3], h[4], h[5]}, run, status, '0', kind, err, stack, at, worker, started)
  if unique and redis.call('GET', unique) == id then redis.call('DEL', unique) end
  if record ~= '' then
    redis.call('SET', record_key, record, 'PX', record_ttl)
    if waited then redis.call('PUBLISH', channel, 'r' .. tag .. id) end
    if result ~= 'lost' then result = 'stored' end
  end
  redis.call('HSET', state, 'status', status, 'kind', kind, 'error', err, 'attempt', attempt, 'result', result, 'fin', at)
  -- The run's progress (progress.lua) ends with it; a run that reported
  -- none costs no command.
  if h[6] then redis.call('HDEL', state, 'pd', 'pt', 'pm', 'pa') end
  if status == 'failed' then
    local e = redis.call('XRANGE', stream, entry, entry)
    local core
    if e[1] then core = select(2, unpackmsg(field(e[1][2], 'm'))) end
    if core then redis.call('HSET', state, 'm', core) end
  end
  count(counts, outcome(status, kind))
  redis.call('PEXPIRE', state, state_ttl)
  indexended(ended, id, at, state_ttl)
  if waited then redis.call('PUBLISH', channel, 't' .. tag .. id) end
  return 1, h, letter
end
