-- lib/version.lua: the version of the stored schedule entries, a counter
-- that each change bumps (GET and SET: no right beyond those taskware's
-- Redis user has already).
--
--   bump(key)   adds one to the counter at key

local function bump(key)
  redis.call('SET', key, tonumber(redis.call('GET', key) or '0') + 1)
end
