-- progress.lua: Queue.Progress. Writes a running task's progress into its
-- state, only while the delivery still holds the task: the state says
-- "running" (or "queued": its start, sent apart, may land later) and
-- names the delivery's entry ("e"). A report that comes
-- after the finish, or after Recover took the task over (a new entry),
-- changes nothing. Returns 1 if it wrote, 0 if not.
--
-- KEYS[1]  state  the task's state
-- ARGV[1]  entry  the delivery's stream entry
-- ARGV[2]  done   units done
-- ARGV[3]  total  units in all, 0 if unknown
-- ARGV[4]  msg    a short message
-- ARGV[5]  at     when it was reported, µs

local state = KEYS[1]
local entry, done, total, msg, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

local h = redis.call('HMGET', state, 'status', 'e')
if (h[1] ~= 'running' and h[1] ~= 'queued') or h[2] ~= entry then return 0 end
redis.call('HSET', state, 'pd', done, 'pt', total, 'pm', msg, 'pa', at)
return 1
