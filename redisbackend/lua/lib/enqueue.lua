-- lib/enqueue.lua, after lib/entry.lua and lib/groups.lua.
--
--   enqueue(stream, delayed, state, id, task, core, attempt, run_at, nonce, unique, window, group, gp, now)
--
-- adds task id unless its ID is known or another task holds its unique
-- key, and returns 1, 0 for a known ID, or the ID of the key's holder. A
-- task due later (run_at, ms, not '0') waits in the delayed set, its core
-- in its state; one due now goes to the stream. An enqueue sent again
-- finds its own nonce in the state, and succeeds. The unique key (nil if
-- none) names the task for window ms, or until the task ends, whichever
-- is first. A grouped task (group, its key, not '') due now joins its
-- group instead (lib/groups.lua: gp, the queue's groups' key prefix; now,
-- ms), its core in its state; one due later keeps its key in its state,
-- for Promote to put it in its group.

local function enqueue(stream, delayed, state, id, task, core, attempt, run_at, nonce, unique, window, group, gp, now)
  if unique then
    local holder = redis.call('GET', unique)
    if holder and holder ~= id then return holder end
  end
  if redis.call('EXISTS', state) == 1 then
    if redis.call('HGET', state, 'nonce') == nonce then return 1 end
    return 0
  end
  if run_at ~= '0' then
    redis.call('HSET', state, 'task', task, 'm', core, 'attempt', attempt, 'status', 'scheduled', 'nonce', nonce)
    redis.call('ZADD', delayed, run_at, id)
    if group ~= '' then redis.call('HSET', state, 'g', group) end
  elseif group ~= '' then
    gjoin(gp, state, id, task, group, now, {'task', task, 'm', core, 'attempt', attempt, 'nonce', nonce})
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
