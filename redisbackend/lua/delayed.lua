-- delayed.lua: the delayed tasks of Queue.Tasks. Reads only. Returns the
-- first count delayed tasks, each as {id, due ms, values}: the values of
-- the fields asked for in its state, "" for those it lacks. The states'
-- keys are made of state_prefix and the IDs the script reads: they share
-- the queue's hash tag.
--
-- KEYS[1]   delayed       the queue's delayed set
-- ARGV[1]   count         the most tasks to return
-- ARGV[2]   state_prefix  the queue's task states' keys, but for the ID
-- ARGV[3..] fields        the fields of each state to return

local delayed = KEYS[1]
local count, state_prefix = tonumber(ARGV[1]), ARGV[2]
local fields = {unpack(ARGV, 3)}

local ids = redis.call('ZRANGE', delayed, 0, count - 1, 'WITHSCORES')
local out = {}
for i = 1, #ids, 2 do
  local h = redis.call('HMGET', state_prefix .. ids[i], unpack(fields))
  for j = 1, #fields do if not h[j] then h[j] = '' end end
  out[#out + 1] = {ids[i], ids[i + 1], h}
end
return out
