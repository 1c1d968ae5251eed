-- enqueue_many.lua, after lib/entry.lua, lib/groups.lua and lib/enqueue.lua:
-- Queue.EnqueueMany, for the tasks of one queue. Returns, for each task,
-- what enqueue does. Each task's nonce is the call's and its place.
--
-- KEYS[1]        stream    the queue's stream
-- KEYS[2]        delayed   the queue's delayed set
-- KEYS[1+2t]     state     task t's state (t = 1, 2, ...)
-- KEYS[2+2t]     unique    task t's unique key, or its state again if none
-- ARGV[1]        run_at    when the tasks are due, ms; 0: now
-- ARGV[2]        nonce     this call's
-- ARGV[3]        gp        the queue's groups' key prefix (lib/groups.lua)
-- ARGV[4]        now       ms, when grouped tasks join their groups
-- ARGV[6t-1]     id        task t's ID
-- ARGV[6t]       task      its name
-- ARGV[6t+1]     core      its message's core (encodeMessage)
-- ARGV[6t+2]     attempt   its run's attempt
-- ARGV[6t+3]     window    how long its unique key holds, ms; 0: no key
-- ARGV[6t+4]     group     its group key, '' if none

local stream, delayed = KEYS[1], KEYS[2]
local run_at, nonce, gp, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local out = {}
for t = 1, (#KEYS - 2) / 2 do
  local state, unique = KEYS[1 + 2 * t], KEYS[2 + 2 * t]
  local a = 6 * t - 1
  local id, task, core, attempt, window, group = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  if window == '0' then unique = nil end
  out[t] = enqueue(stream, delayed, state, id, task, core, attempt, run_at, nonce .. ':' .. t, unique, window, group, gp, now)
end
return out
