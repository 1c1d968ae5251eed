-- leave.lua: Queue.Leave. Forgets the consumer, unless it has entries
-- pending: deleting it would drop them. Returns 1 if it forgot it.
--
-- KEYS[1]  stream    the queue's stream
-- ARGV[1]  consumer  the worker's name

local stream = KEYS[1]
local consumer = ARGV[1]

if #redis.call('XPENDING', stream, 'taskware', '-', '+', 1, consumer) > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', stream, 'taskware', consumer)
