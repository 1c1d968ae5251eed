-- message.lua: Queue.Message. Reads only. Returns {"core", core} for a
-- task that waits in the delayed set (its state keeps its message's
-- core), {"entry", fields} for one ready or taken (its state's "e" names
-- its stream entry), or {} for one that is neither.
--
-- KEYS[1]  state   the task's state
-- KEYS[2]  stream  the queue's stream

local state, stream = KEYS[1], KEYS[2]

local h = redis.call('HMGET', state, 'm', 'e')
local core, entry = h[1], h[2]
if core then return {'core', core} end
if entry then
  local e = redis.call('XRANGE', stream, entry, entry)
  if e[1] then return {'entry', e[1][2]} end
end
return {}
