-- finished.lua: a page of a queue's ended tasks, the latest first, read
-- from its index (lib/ended.lua), for Queue.Tasks and Queue.ListTasks.
-- Reads only. Goes on after the cursor (pos, after): right after entry
-- after if it still has score pos, else after score pos. Returns
-- {last, last_score, rows, n}: the last index entry read and its score
-- ("" if none was read), n how many were read, and, for each entry read whose state still says
-- ended, {id, score, values}: the values of the fields asked for, false
-- for those it lacks. An entry whose state expired, or whose task was
-- requeued since, is read and skipped. The states' keys are made of
-- state_prefix and the IDs in the index: they share its hash tag.
--
-- KEYS[1]   ended         the queue's ended tasks
-- ARGV[1]   state_prefix  the queue's task states' keys, but for the ID
-- ARGV[2]   count         the most index entries to read
-- ARGV[3]   pos           the cursor's score; "" to start at the latest
-- ARGV[4]   after         the cursor's task ID
-- ARGV[5..] fields        the fields of each ended state to return

local ended, state_prefix, count, pos, after = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
local terminal = {succeeded = true, failed = true, skipped = true, dead = true, canceled = true}

local read
if pos == '' then
  read = redis.call('ZRANGE', ended, 0, count - 1, 'WITHSCORES')
else
  local s = redis.call('ZSCORE', ended, after)
  if s and tonumber(s) == tonumber(pos) then
    local r = redis.call('ZRANK', ended, after)
    read = redis.call('ZRANGE', ended, r + 1, r + count, 'WITHSCORES')
  else
    read = redis.call('ZRANGEBYSCORE', ended, '(' .. pos, '+inf', 'WITHSCORES', 'LIMIT', 0, count)
  end
end
local out, last, last_score = {}, '', ''
for i = 1, #read, 2 do
  local id, score = read[i], read[i + 1]
  last, last_score = id, score
  local state = state_prefix .. id
  local status = redis.call('HGET', state, 'status')
  if status and terminal[status] then
    out[#out + 1] = {id, score, redis.call('HMGET', state, unpack(fields))}
  end
end
return {last, last_score, out, #read / 2}
