-- remove_schedule.lua: Queue.RemoveSchedule. A remove leaves a tombstone,
-- its nonce under the entry's name, for a minute: the same remove sent
-- again after a lost reply finds it and answers as the first did, while
-- another remove (another nonce) finds nothing.
--
-- KEYS[1]  defs     the defs hash (see put_schedule.lua)
-- KEYS[2]  version  the version counter
-- KEYS[3]  removed  the tombstones, a hash of nonces by name
-- ARGV[1]  name     the entry's name
-- ARGV[2]  nonce    the call's
-- Returns 1 if removed (now or by the first sending), 0 if none.

local defs, version, removed = KEYS[1], KEYS[2], KEYS[3]
local name, nonce = ARGV[1], ARGV[2]

if redis.call('HDEL', defs, name) == 1 then
  redis.call('HSET', removed, name, nonce)
  redis.call('PEXPIRE', removed, 60000)
  bump(version)
  return 1
end
if redis.call('HGET', removed, name) == nonce then return 1 end
return 0
