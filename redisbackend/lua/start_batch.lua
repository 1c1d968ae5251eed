-- start_batch.lua, after lib/entry.lua: Queue.StartBatch. Marks the
-- members of batch bid that have not ended, and are still this batch's
-- (their state's "b"), running on worker since at, and the batch too; and
-- returns them, in order, each as seven strings: its ID, task, message
-- core ("" if its state keeps none), attempt, last failure's kind and
-- error, and group key. Sent again, it marks and returns the same.
--
-- KEYS[1]  batch    the batch's state
-- ARGV[1]  sp       the queue's task states' keys, but for the ID
-- ARGV[2]  bid      the batch's ID
-- ARGV[3]  worker   the worker's name
-- ARGV[4]  at       µs
-- ARGV[5..]         the members' IDs, in the batch's order

local batch = KEYS[1]
local sp, bid, worker, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local out = {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local state = sp .. id
  local h = redis.call('HMGET', state, 'status', 'b', 'task', 'm', 'attempt', 'lk', 'le', 'g')
  if (h[1] == 'queued' or h[1] == 'running') and h[2] == bid then
    redis.call('HSET', state, 'status', 'running', 'st', at, 'wk', worker)
    out[#out + 1] = {id, h[3] or '', h[4] or '', h[5] or '1', h[6] or '', h[7] or '', h[8] or ''}
  end
end
if redis.call('HGET', batch, 'status') == 'queued' or redis.call('HGET', batch, 'status') == 'running' then
  redis.call('HSET', batch, 'status', 'running', 'st', at, 'wk', worker)
end
return out
