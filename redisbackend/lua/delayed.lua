-- delayed.lua: the delayed tasks of Queue.Tasks and Queue.ListTasks. Reads
-- only. Returns the first count delayed tasks (after the cursor, a due
-- time and ID, if one is given), each as {id, due ms, values}: the values
-- of the fields asked for in its state, "" for those it lacks. The states'
-- keys are made of state_prefix and the IDs the script reads: they share
-- the queue's hash tag.
--
-- KEYS[1]   delayed       the queue's delayed set
-- ARGV[1]   count         the most tasks to return
-- ARGV[2]   state_prefix  the queue's task states' keys, but for the ID
-- ARGV[3]   after_ms      the cursor's due time, "" for none
-- ARGV[4]   after_id      the cursor's ID
-- ARGV[5..] fields        the fields of each state to return

local delayed = KEYS[1]
local count, state_prefix, after_ms, after_id = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local fields = {unpack(ARGV, 5)}

local ids
if after_ms == '' then
  ids = redis.call('ZRANGE', delayed, 0, count - 1, 'WITHSCORES')
else
  -- From the cursor's due time on, skipping the IDs at that time up to
  -- the cursor's; ties are few (the same millisecond), so the offset
  -- grows little.
  local at = tonumber(after_ms)
  local offset = 0
  ids = {}
  while #ids < 2 * count do
    local got = redis.call('ZRANGEBYSCORE', delayed, at, '+inf', 'WITHSCORES', 'LIMIT', offset, count)
    for i = 1, #got, 2 do
      if #ids < 2 * count and (tonumber(got[i + 1]) ~= at or got[i] > after_id) then
        ids[#ids + 1] = got[i]
        ids[#ids + 1] = got[i + 1]
      end
    end
    if #got < 2 * count then break end
    offset = offset + count
  end
end
local out = {}
for i = 1, #ids, 2 do
  local h = redis.call('HMGET', state_prefix .. ids[i], unpack(fields))
  for j = 1, #fields do if not h[j] then h[j] = '' end end
  out[#out + 1] = {ids[i], ids[i + 1], h}
end
return out
