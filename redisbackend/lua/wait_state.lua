-- wait_state.lua: a look of Queue.Wait. Returns the state's fields named
-- (HMGET: not its message nor its history of runs), and marks it waited
-- for ("w"), so that the script that ends the task announces it.
--
-- KEYS[1]  state   the task's state
-- ARGV     fields  the fields to return

local state = KEYS[1]

local h = redis.call('HMGET', state, unpack(ARGV))
if redis.call('EXISTS', state) == 1 then redis.call('HSETNX', state, 'w', '1') end
return h
