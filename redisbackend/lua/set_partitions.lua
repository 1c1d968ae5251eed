-- set_partitions.lua: a queue's partition count (see partition.go). The
-- count producers route over, and the most the queue ever had, which
-- workers read, so that lowering the count strands nothing.
--
-- KEYS[1]  partitions  the hash of every queue's counts
-- ARGV[1]  queue       the queue's name
-- ARGV[2]  n           its new count
-- ARGV[3]  nx          "nx": set only if none is stored (a default)

local partitions = KEYS[1]
local name, n, nx = ARGV[1], tonumber(ARGV[2]), ARGV[3] == 'nx'

if nx and redis.call('HEXISTS', partitions, name) == 1 then return 0 end
redis.call('HSET', partitions, name, n)
local high = tonumber(redis.call('HGET', partitions, name .. '#high') or '1')
if n > high then redis.call('HSET', partitions, name .. '#high', n) end
return 1
