-- pause_schedule.lua: Queue.PauseSchedule. Pausing sets the entry's
-- paused flag; resuming clears it and sets its Since, so that the ticks
-- while paused are never caught up. Either, when the entry is so already,
-- changes nothing: sent again after a lost reply, it answers as the first.
--
-- KEYS[1]  defs     the defs hash (see put_schedule.lua)
-- KEYS[2]  version  the version counter
-- ARGV[1]  name     the entry's name
-- ARGV[2]  paused   "1" to pause, "0" to resume
-- ARGV[3]  at       ms, 0 for the server's now
-- Returns 1, or 0 if there is no such entry (or none that reads).

local defs, version = KEYS[1], KEYS[2]
local name, paused, at = ARGV[1], ARGV[2], ARGV[3]

local old = redis.call('HGET', defs, name)
if not old then return 0 end
local oldPaused, since, body = string.match(old, '^(%d) (%d+) %d+ (.*)$')
if not oldPaused then return 0 end -- written by hand: ScheduleDefs does not list it either
if oldPaused == paused then return 1 end
if at == '0' then
  local t = redis.call('TIME')
  at = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
if paused == '0' then since = at end
redis.call('HSET', defs, name, paused .. ' ' .. since .. ' ' .. at .. ' ' .. body)
bump(version)
return 1
