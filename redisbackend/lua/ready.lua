-- ready.lua, after lib/group.lua: the ready tasks of Queue.Tasks. Reads
-- only. Returns the first count entries after the group's last delivered
-- one.
--
-- KEYS[1]  stream  the queue's stream
-- ARGV[1]  count   the most entries to return

local stream = KEYS[1]
local count = ARGV[1]

if redis.call('EXISTS', stream) == 0 then return {} end
local g = groupinfo(stream)
local last
if g then last = g.last end
return redis.call('XRANGE', stream, after(last), '+', 'COUNT', count)
