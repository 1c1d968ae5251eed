-- lib/cancel.lua, after lib/count.lua and lib/ended.lua.
--
--   endcanceled(state, id, counts, ended, ttl, channel, tag, at, keep)
--
-- ends task id, which has not run, as canceled: its state (key state)
-- says so from at (µs) and expires in ttl ms, keeping its message's core
-- only if keep (a workflow step's, for a retry of its workflow), its
-- unique key goes, the cancel is counted in counts (nil: not counted, a
-- batch's own end, whose members' ends are), the task is listed in
-- its queue's ended tasks (key ended, lib/ended.lua), and its waiters are
-- told on channel ("t<tag><id>").

local function endcanceled(state, id, counts, ended, ttl, channel, tag, at, keep)
  local h = redis.call('HMGET', state, 'w', 'uk')
  if h[2] and redis.call('GET', h[2]) == id then redis.call('DEL', h[2]) end
  redis.call('HSET', state, 'status', 'canceled', 'kind', 'queue.canceled', 'error', 'queue: canceled', 'fin', at)
  if counts then count(counts, 'canceled') end
  if not keep then redis.call('HDEL', state, 'm') end
  redis.call('PEXPIRE', state, ttl)
  indexended(ended, id, at, ttl)
  if h[1] then redis.call('PUBLISH', channel, 't' .. tag .. id) end
end
