-- running.lua, after lib/group.lua: the running tasks of Queue.Tasks.
-- Reads only. Returns the first count pending entries, each as {id,
-- consumer, idle ms, fields} (no fields if the entry is gone).
--
-- KEYS[1]  stream  the queue's stream
-- ARGV[1]  count   the most entries to return

local stream = KEYS[1]
local count = ARGV[1]

if redis.call('EXISTS', stream) == 0 or not groupinfo(stream) then return {} end
local out = {}
for _, p in ipairs(redis.call('XPENDING', stream, 'taskware', '-', '+', count)) do
  local e = redis.call('XRANGE', stream, p[1], p[1])
  local f = {}
  if e[1] then f = e[1][2] end
  out[#out + 1] = {p[1], p[2], p[3], f}
end
return out
