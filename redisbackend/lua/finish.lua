-- finish.lua, after the locker's release, lib/entry.lua, lib/count.lua,
-- lib/superseded.lua, lib/attempt.lua and lib/ended.lua: Queue.Finish
-- of a task that ends (succeeded, failed, skipped, dead or canceled).
-- It releases the run's locks, then ends the task once: only if the XACK
-- of its entry acknowledged it. (It did not if the entry was finished
-- already: by this call, sent again after a lost reply, or by a worker
-- that took the task over.) The entry stays in the stream, to be trimmed
-- (recover.lua). The record of the run's own StoreResult is written after
-- that XACK, so that a late finish overwrites nothing. A dead letter is
-- the entry as it was, malformed or not, with the reason; a failed
-- task's state keeps its message's core ("m"), for Message. Notices go out
-- only if someone waits (the state's "w", see Queue.Wait). Returns 1, or,
-- if the entry was finished already, 0 (by this call) or 2 (taken over:
-- lib/superseded.lua).
--
-- KEYS[1]    stream      the queue's stream
-- KEYS[2]    dead        the queue's dead letters
-- KEYS[3]    state       the task's state
-- KEYS[4]    record      the task's record, or its state again if none
-- KEYS[5]    counts      the outcome counts of at's minute (lib/count.lua)
-- KEYS[6]    ended       the queue's ended tasks (lib/ended.lua)
-- KEYS[7..]  locks       the locks to release
-- ARGV[1]    entry       the delivery's stream entry
-- ARGV[2]    status      the task's end: succeeded, failed, ...
-- ARGV[3]    kind        the error's kind
-- ARGV[4]    error       the error
-- ARGV[5]    attempt     the run's attempt
-- ARGV[6]    result      "", or "stored" or "lost": of records written apart
-- ARGV[7]    state_ttl   how long the ended task's state is kept, ms
-- ARGV[8]    channel     the backend's Pub/Sub channel
-- ARGV[9]    id          the task's ID; "" if the entry named none
-- ARGV[10]   at          now, µs
-- ARGV[11]   dead_max    about the most dead letters to keep
-- ARGV[12]   record      the record, encoded; "" if none
-- ARGV[13]   record_ttl  ms
-- ARGV[14]   tag         the queue's hash tag, "{<queue>}"
-- ARGV[15]   run         the delivery's attempt, for its history (lib/attempt.lua)
-- ARGV[16]   stack       a panic's stack, "" if none
-- ARGV[17]   worker      the worker that ran it, "" if unknown
-- ARGV[18]   started     when it started, µs
-- ARGV[19..] tokens      the locks' owner tokens, in the order of KEYS[7..]

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
  redis.call('XADD', dead, 'MAXLEN', '~', dead_max, '*', unpack(d))
end
if id == '' then return 1 end
local h = redis.call('HMGET', state, 'w', 'uk', 'status', 'st', 'wk')
local waited, unique = h[1], h[2]
add_attempt(state, {h[3], h[4], h[5]}, run, status, '0', kind, err, stack, at, worker, started)
if unique and redis.call('GET', unique) == id then redis.call('DEL', unique) end
if record ~= '' then
  redis.call('SET', record_key, record, 'PX', record_ttl)
  if waited then redis.call('PUBLISH', channel, 'r' .. tag .. id) end
  if result ~= 'lost' then result = 'stored' end
end
redis.call('HSET', state, 'status', status, 'kind', kind, 'error', err, 'attempt', attempt, 'result', result, 'fin', at)
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
return 1
