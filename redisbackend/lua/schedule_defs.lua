-- schedule_defs.lua: Queue.ScheduleDefs: the stored entries and their
-- version, read together.
--
-- KEYS[1]  defs     the defs hash (see put_schedule.lua)
-- KEYS[2]  version  the version counter
-- Returns {version, name1, def1, name2, def2, ...}.

local all = redis.call('HGETALL', KEYS[1])
table.insert(all, 1, tonumber(redis.call('GET', KEYS[2]) or '0'))
return all
