-- take_new.lua: a Take's read of new entries, unless the queue is paused.
-- Returns the reply of XREADGROUP ... STREAMS stream > (nil if none is
-- ready) or, paused, the error "PAUSED" and reads nothing: no entry is
-- taken, so none has to be handed back and each keeps its place.
--
-- KEYS[1]  stream    the queue's stream
-- KEYS[2]  paused    exists while the queue is paused
-- ARGV[1]  consumer  the consumer that takes
-- ARGV[2]  count     the most entries to take; 0: all

local stream, paused = KEYS[1], KEYS[2]
local consumer, count = ARGV[1], tonumber(ARGV[2])

if redis.call('EXISTS', paused) == 1 then return redis.error_reply('PAUSED') end
if count > 0 then
  return redis.call('XREADGROUP', 'GROUP', 'taskware', consumer, 'COUNT', count, 'STREAMS', stream, '>')
end
return redis.call('XREADGROUP', 'GROUP', 'taskware', consumer, 'STREAMS', stream, '>')
