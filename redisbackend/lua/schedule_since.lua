-- schedule_since.lua: Queue.ScheduleSince: records now as the first-seen
-- time of each name not seen before, and returns each name's.
--
-- KEYS[1]  since  the first-seen times, a hash of ms by name
-- ARGV[1]  now    ms
-- ARGV[2…] names
-- Returns the names' first-seen times, ms, in their order.

local key, now = KEYS[1], ARGV[1]
local out = {}
for i = 2, #ARGV do
  redis.call('HSETNX', key, ARGV[i], now)
  out[i - 1] = tonumber(redis.call('HGET', key, ARGV[i]))
end
return out
