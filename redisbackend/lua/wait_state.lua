-- wait_state.lua: a look of Queue.Wait. Returns the state's fields, and
-- marks it waited for ("w"), so that the script that ends the task
-- announces it.
--
-- KEYS[1]  state  the task's state

local state = KEYS[1]

local h = redis.call('HGETALL', state)
if #h > 0 then redis.call('HSETNX', state, 'w', '1') end
return h
