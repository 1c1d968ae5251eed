-- finish_batch.lua, after lib/entry.lua, lib/count.lua, lib/superseded.lua,
-- lib/attempt.lua, lib/ended.lua, lib/finish.lua and lib/requeue.lua:
-- Queue.FinishBatch. Only if the XACK of the batch's entry acknowledged
-- it (see finish.lua: else this call ran already, or Recover took the
-- batch over, and it changes nothing), it ends each member still this
-- batch's (its state's "b") and not ended, as finish.lua ends a task
-- (endtask, lib/finish.lua), or, scheduled again, puts it back in the
-- delayed set as requeue.lua does (requeued, lib/requeue.lua), for
-- Promote to put in its group; a member canceled while the batch ran
-- (its state's "cx") ends canceled whatever its outcome. A dead member's
-- letter is its message, as its entry would have been. Then the batch's
-- state ends, as succeeded (counted in no outcome counts), is listed in
-- the queue's ended tasks, and expires with the task states. Returns 1,
-- or 0 (sent again) or 2 (taken over): lib/superseded.lua.
--
-- KEYS[1]          stream     the queue's stream
-- KEYS[2]          dead       the queue's dead letters
-- KEYS[3]          delayed    the queue's delayed set
-- KEYS[4]          batch      the batch's state
-- KEYS[5]          counts     the outcome counts of at's minute (lib/count.lua)
-- KEYS[6]          ended      the queue's ended tasks (lib/ended.lua)
-- KEYS[5+2i]       state      member i's state (i = 1, 2, ...)
-- KEYS[6+2i]       record     member i's record, or its state again if none
-- ARGV[1]          entry      the batch delivery's stream entry
-- ARGV[2]          bid        the batch's ID
-- ARGV[3]          state_ttl  how long an ended task's state is kept, ms
-- ARGV[4]          channel    the backend's Pub/Sub channel
-- ARGV[5]          tag        the queue's hash tag, "{<queue>}"
-- ARGV[6]          at         now, µs
-- ARGV[7]          dead_max   about the most dead letters to keep
-- ARGV[a..a+14]    member i's outcome, a = 8 + 15(i-1): id, status, kind,
--                  error, attempt, result, record, record_ttl, run_at (ms,
--                  scheduled), retry, outage ("1" or "0"), run (the attempt
--                  that ran), stack, worker, started (µs)

local stream, dead, delayed, batch, counts, ended = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local entry, bid, state_ttl, channel, tag, at, dead_max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]

if redis.call('XACK', stream, 'taskware', entry) == 0 then return superseded(batch, entry) end

local function terminal(s)
  return s == 'succeeded' or s == 'failed' or s == 'skipped' or s == 'dead' or s == 'canceled'
end

local tally = {} -- the members' outcomes, counted once each at the end
for i = 1, (#KEYS - 6) / 2 do
  local state, record_key = KEYS[5 + 2 * i], KEYS[6 + 2 * i]
  local a = 8 + 15 * (i - 1)
  local id, status, kind, err, attempt, result = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local record, record_ttl, run_at, retry, outage = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9], ARGV[a + 10]
  local run, stack, worker, started = ARGV[a + 11], ARGV[a + 12], ARGV[a + 13], ARGV[a + 14]
  -- endtask's fields, then the member's batch, cancel mark, core,
  -- attempt and last failure: one read
  local h = redis.call('HMGET', state, 'w', 'uk', 'status', 'st', 'wk', 'pa', 'b', 'cx', 'm', 'attempt', 'lk', 'le')
  if h[3] and not terminal(h[3]) and h[7] == bid then
    if h[8] then status, kind, err = 'canceled', 'queue.canceled', 'queue: canceled' end
    if status == 'scheduled' then
      requeued({state = state, delayed = delayed, counts = counts, record_key = record_key, id = id, run_at = run_at,
        attempt = attempt, kind = kind, err = err, retry = retry, outage = outage, record = record, record_ttl = record_ttl,
        channel = channel, tag = tag, result = result, run = run, stack = stack, at = at, worker = worker, started = started,
        tally = tally})
      redis.call('HDEL', state, 'b')
    else
      if status == 'dead' then
        local d = {}
        if h[9] then d = {'m', packmsg({h[10] or '1', '1', '0', h[11] or '', h[12] or ''}, h[9])} end
        d[#d + 1], d[#d + 2], d[#d + 3], d[#d + 4] = 'attempt', attempt, 'kind', kind
        d[#d + 1], d[#d + 2], d[#d + 3], d[#d + 4] = 'reason', err, 'at', at
        redis.call('XADD', dead, 'MAXLEN', '~', dead_max, '*', unpack(d))
      end
      endtask({state = state, id = id, status = status, kind = kind, err = err, attempt = attempt, result = result,
        record_key = record_key, record = record, record_ttl = record_ttl, state_ttl = state_ttl, channel = channel, tag = tag,
        run = run, stack = stack, at = at, worker = worker, started = started, counts = counts, ended = ended, drop = true,
        h = h, tally = tally})
    end
  end
end
if next(tally) then
  for f, n in pairs(tally) do count(counts, f, n) end
  redis.call('PEXPIRE', ended, state_ttl)
end
redis.call('HSET', batch, 'status', 'succeeded', 'fin', at)
redis.call('PEXPIRE', batch, state_ttl)
indexended(ended, bid, at, state_ttl) -- listed with the finished tasks, as a canceled batch is
return 1
