-- lib/ended.lua.
--
--   indexended(ended, id, at)
--
-- lists task id, which ended at at (µs), in its queue's index of ended
-- tasks (key ended), a sorted set scored by the negated end time, so that
-- the latest come first and ties sort by ID. Recover trims the entries
-- of states that have expired and gives the index twice the states' TTL
-- (recover.lua): a finish pays one ZADD. A listing skips the entries whose
-- state no longer says ended (finished.lua).

local function indexended(ended, id, at)
  redis.call('ZADD', ended, '-' .. at, id)
end
