-- lib/requeue.lua, after lib/count.lua and lib/attempt.lua.
--
--   requeued(t)
--
-- puts a task whose run is scheduled again (a retry, or "try again
-- later"), its delivery acknowledged, back in the delayed set until
-- t.run_at: its state keeps its message's core (t.core, if not nil; a
-- batch member's state keeps its own), says it is scheduled, keeps the
-- run in its history and, for a retry, its failure for the next run;
-- writes the record of the run's own StoreResult; counts the retry or
-- reschedule. t has the fields of requeue.lua's KEYS and ARGV: state,
-- delayed, counts, record_key, id, run_at, attempt, kind, err, retry,
-- outage, record, record_ttl, channel, tag, result, run, stack, at,
-- worker, started; and tally, as endtask's (lib/finish.lua). Shared by
-- requeue.lua and finish_batch.lua.

local function requeued(t)
  local state, result = t.state, t.result
  if t.record ~= '' and result ~= 'lost' then result = 'stored' end
  local before = redis.call('HMGET', state, 'status', 'st', 'wk', 'pa')
  add_attempt(state, before, t.run, 'scheduled', t.retry, t.kind, t.err, t.stack, t.at, t.worker, t.started)
  redis.call('HSET', state, 'status', 'scheduled', 'attempt', t.attempt, 'kind', t.kind, 'error', t.err, 'result', result)
  if before[4] then redis.call('HDEL', state, 'pd', 'pt', 'pm', 'pa') end -- the run's progress (progress.lua) ends with it
  if t.core then redis.call('HSET', state, 'm', t.core) end
  if t.retry == '1' then redis.call('HSET', state, 'lk', t.kind, 'le', t.err) end
  if t.outage == '1' then redis.call('HINCRBY', state, 'outages', 1) end
  redis.call('ZADD', t.delayed, t.run_at, t.id)
  if t.record ~= '' then
    redis.call('SET', t.record_key, t.record, 'PX', t.record_ttl)
    if redis.call('HGET', state, 'w') then redis.call('PUBLISH', t.channel, 'r' .. t.tag .. t.id) end
  end
  local f = 'rescheduled'
  if t.retry == '1' then f = 'retried' end
  if t.tally then t.tally[f] = (t.tally[f] or 0) + 1 else count(t.counts, f) end
end
