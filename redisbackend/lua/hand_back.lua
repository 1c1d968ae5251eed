-- hand_back.lua: puts entries a Take read, but is not to hand out, back at
-- the stream's end, unrun, for any consumer. Each entry still pending goes
-- back as it was, and its task's state names the new entry ("e", see
-- cancel.lua); one acknowledged already is left alone. Safe to run twice.
--
-- KEYS[1]     stream   the queue's stream
-- KEYS[1+i]   state    the state of entry i's task, or the stream again
--                      if the entry names no task
-- ARGV[i]     entry    the i-th entry

local stream = KEYS[1]

for i = 1, #ARGV do
  local entry, state = ARGV[i], KEYS[1 + i]
  local e = redis.call('XRANGE', stream, entry, entry)
  if redis.call('XACK', stream, 'taskware', entry) == 1 and e[1] and e[1][2] then
    local new = redis.call('XADD', stream, '*', unpack(e[1][2]))
    if state ~= stream and redis.call('EXISTS', state) == 1 then redis.call('HSET', state, 'e', new) end
  end
end
return 1
