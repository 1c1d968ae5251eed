-- lib/ended.lua.
--
--   indexended(ended, id, at, ttl)
--
-- lists task id, which ended at at (µs), in its queue's index of ended
-- tasks (key ended), a sorted set scored by the negated end time, so that
-- the latest come first and ties sort by ID. The index lives as long as
-- its latest task's state (ttl ms); Recover trims the entries of states
-- that have expired (recover.lua). A listing skips the entries whose
-- state no longer says ended (finished.lua). A ttl of nil leaves the
-- index's TTL to the caller: finish_batch.lua sets it once for all its
-- members.

local function indexended(ended, id, at, ttl)
  redis.call('ZADD', ended, '-' .. at, id)
  if ttl then redis.call('PEXPIRE', ended, ttl) end
end
