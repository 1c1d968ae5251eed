-- put_schedule.lua: Queue.PutSchedule. The defs hash holds a field per
-- stored entry, "<paused 0|1> <since ms> <updated ms> <body>", the body
-- being the entry's spec, task, queue and args as JSON (see stored.go). A
-- put of the body and paused flag stored already changes nothing, so that
-- one sent again after a lost reply moves neither Since nor the version.
--
-- KEYS[1]  defs     the defs hash
-- KEYS[2]  version  the version counter
-- KEYS[3]  removed  the tombstones of removes (see remove_schedule.lua)
-- ARGV[1]  name     the entry's name
-- ARGV[2]  paused   "1" or "0"
-- ARGV[3]  since    ms, 0 for the server's now
-- ARGV[4]  updated  ms, 0 for the server's now
-- ARGV[5]  body     the entry's JSON
-- Returns 1 if it stored the entry, 0 if the same was stored already.

local defs, version, removed = KEYS[1], KEYS[2], KEYS[3]
local name, paused, since, updated, body = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

local old = redis.call('HGET', defs, name)
if old then
  local oldPaused, oldBody = string.match(old, '^(%d) %d+ %d+ (.*)$')
  if oldPaused == paused and oldBody == body then return 0 end
end
local t = redis.call('TIME')
local now = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if since == '0' then since = now end
if updated == '0' then updated = now end
redis.call('HSET', defs, name, paused .. ' ' .. since .. ' ' .. updated .. ' ' .. body)
redis.call('HDEL', removed, name)
bump(version)
return 1
