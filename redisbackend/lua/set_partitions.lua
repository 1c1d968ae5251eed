-- set_partitions.lua: a queue's partition count (see partition.go). The
-- count producers route over, the most the queue ever had, which workers
-- read, so that lowering the count strands nothing, and, on a Cluster,
-- the names of its partitions but 0, placed on its masters.
--
-- KEYS[1]  partitions  the hash of every queue's counts
-- ARGV[1]  queue       the queue's name
-- ARGV[2]  n           its new count
-- ARGV[3]  nx          "nx": set only if none is stored (a default)
-- ARGV[4]  names       if not "", the names of partitions 1..high-1,
--                      space-separated, those stored first: else the
--                      call fails with CHANGED (another placed meanwhile)

local partitions = KEYS[1]
local name, n, nx, names = ARGV[1], tonumber(ARGV[2]), ARGV[3] == 'nx', ARGV[4]

if nx and redis.call('HEXISTS', partitions, name) == 1 then return 0 end
if names ~= '' then
  local stored = redis.call('HGET', partitions, name .. '#names') or ''
  if string.sub(names, 1, #stored) ~= stored then
    return redis.error_reply('CHANGED partitions placed meanwhile; set the count again')
  end
  redis.call('HSET', partitions, name .. '#names', names)
end
redis.call('HSET', partitions, name, n)
local high = tonumber(redis.call('HGET', partitions, name .. '#high') or '1')
if n > high then redis.call('HSET', partitions, name .. '#high', n) end
return 1
