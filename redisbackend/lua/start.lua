-- start.lua: Queue.Started. Marks the task running, since started, on
-- worker. A start that comes after the task ended, or went back to wait,
-- changes nothing.
--
-- KEYS[1]  state    the task's state
-- ARGV[1]  started  µs
-- ARGV[2]  worker   the worker's name

local state = KEYS[1]
local started, worker = ARGV[1], ARGV[2]

local status = redis.call('HGET', state, 'status')
if status == 'queued' or status == 'running' then
  redis.call('HSET', state, 'status', 'running', 'st', started, 'wk', worker)
end
return 0
