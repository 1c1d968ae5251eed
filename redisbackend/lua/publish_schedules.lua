-- publish_schedules.lua: Queue.PublishSchedules. The schedules hash holds
-- a field per scheduler, "<expiry ms> <entries as JSON>"; expired fields
-- are dropped here, and the hash lives as long as its latest field.
--
-- KEYS[1]  schedules  the schedules hash
-- ARGV[1]  scheduler  the publishing scheduler's name
-- ARGV[2]  entries    its entries as JSON, "" to withdraw them
-- ARGV[3]  ttl        ms

local key = KEYS[1]
local scheduler, entries, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local exp = tonumber(string.match(all[i + 1], '^(%d+) '))
  if not exp or exp <= now then redis.call('HDEL', key, all[i]) end
end
if entries == '' then
  redis.call('HDEL', key, scheduler)
  return 0
end
redis.call('HSET', key, scheduler, (now + ttl) .. ' ' .. entries)
if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
return 1
