-- enqueue_many.lua, after lib/entry.lua and lib/enqueue.lua:
-- Queue.EnqueueMany, for the tasks of one queue. Returns, for each task,
-- what enqueue does. Each task's nonce is the call's and its place.
--
-- KEYS[1]        stream    the queue's stream
-- KEYS[2]        delayed   the queue's delayed set
-- KEYS[1+2t]     state     task t's state (t = 1, 2, ...)
-- KEYS[2+2t]     unique    task t's unique key, or its state again if none
-- ARGV[1]        run_at    when the tasks are due, ms; 0: now
-- ARGV[2]        nonce     this call's
-- ARGV[5t-2]     id        task t's ID
-- ARGV[5t-1]     task      its name
-- ARGV[5t]       core      its message's core (encodeMessage)
-- ARGV[5t+1]     attempt   its run's attempt
-- ARGV[5t+2]     window    how long its unique key holds, ms; 0: no key

local stream, delayed = KEYS[1], KEYS[2]
local run_at, nonce = ARGV[1], ARGV[2]

local out = {}
for t = 1, (#KEYS - 2) / 2 do
  local state, unique = KEYS[1 + 2 * t], KEYS[2 + 2 * t]
  local id, task, core, attempt, window = ARGV[5 * t - 2], ARGV[5 * t - 1], ARGV[5 * t], ARGV[5 * t + 1], ARGV[5 * t + 2]
  if window == '0' then unique = nil end
  out[t] = enqueue(stream, delayed, state, id, task, core, attempt, run_at, nonce .. ':' .. t, unique, window)
end
return out
