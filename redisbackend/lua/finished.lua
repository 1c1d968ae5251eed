-- finished.lua: the finished tasks among a page of a SCAN of a queue's
-- task states, for Queue.Tasks and Queue.ListTasks. Reads only. Returns,
-- for each state whose status is terminal, {index of its key, values}: the
-- values of the fields asked for, false for those it lacks. One call
-- reads a page server-side, so that a queue of 100k waiting tasks costs
-- no reply for each.
--
-- KEYS[1..] states  task states of one queue (they share its hash tag)
-- ARGV[1..] fields  the fields of each finished state to return

local fields = ARGV
local terminal = {succeeded = true, failed = true, skipped = true, dead = true, canceled = true}
local out = {}
for i, key in ipairs(KEYS) do
  local status = redis.call('HGET', key, 'status')
  if status and terminal[status] then
    out[#out + 1] = {i, redis.call('HMGET', key, unpack(fields))}
  end
end
return out
