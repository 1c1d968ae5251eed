-- start.lua: Queue.Started, for the tasks of one queue whose starts came
-- together (see marks). Marks each task running, since its started, on
-- its worker. A start that comes after its task ended, or went back to
-- wait, changes nothing.
--
-- KEYS[i]       state    task i's state (i = 1, 2, ...)
-- ARGV[2i-1]    started  µs
-- ARGV[2i]      worker   the worker's name

for i = 1, #KEYS do
  local state = KEYS[i]
  local status = redis.call('HGET', state, 'status')
  if status == 'queued' or status == 'running' then
    redis.call('HSET', state, 'status', 'running', 'st', ARGV[2 * i - 1], 'wk', ARGV[2 * i])
  end
end
return 0
