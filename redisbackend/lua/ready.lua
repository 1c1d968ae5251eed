-- ready.lua, after lib/group.lua: the ready tasks of Queue.Tasks and
-- Queue.ListTasks. Reads only. Returns the first count entries after the
-- group's last delivered one, and after the entry cursor if one is given.
--
-- KEYS[1]  stream  the queue's stream
-- ARGV[1]  count   the most entries to return
-- ARGV[2]  cursor  (optional) an entry ID: return only the entries after it

local stream = KEYS[1]
local count, cursor = ARGV[1], ARGV[2]

if redis.call('EXISTS', stream) == 0 then return {} end
local g = groupinfo(stream)
local last
if g then last = g.last end
-- The later of the two: entries up to the last delivered one are taken.
if cursor and cursor ~= '' and (not last or idless(last, cursor)) then last = cursor end
return redis.call('XRANGE', stream, after(last), '+', 'COUNT', count)
