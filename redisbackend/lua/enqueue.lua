-- enqueue.lua, after lib/entry.lua, lib/groups.lua and lib/enqueue.lua: Queue.Enqueue.
-- Returns what enqueue does: 1, 0 for a known ID, or the ID of the task
-- holding the unique key.
--
-- KEYS[1]  stream    the queue's stream
-- KEYS[2]  delayed   the queue's delayed set
-- KEYS[3]  state     the task's state
-- KEYS[4]  unique    the task's unique key, or its state again if none
-- ARGV[1]  id        the task's ID
-- ARGV[2]  task      the task's name
-- ARGV[3]  core      the message's core (encodeMessage)
-- ARGV[4]  attempt   the run's attempt
-- ARGV[5]  run_at    when the task is due, ms; 0: now
-- ARGV[6]  nonce     this call's, to know it when it comes again
-- ARGV[7]  window    how long the unique key holds, ms; 0: no key
-- ARGV[8]  group     the task's group key, '' if none (lib/groups.lua)
-- ARGV[9]  gp        the queue's groups' key prefix
-- ARGV[10] now       ms, when a grouped task joins its group

local stream, delayed, state, unique = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, task, core, attempt, run_at, nonce, window = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local group, gp, now = ARGV[8], ARGV[9], ARGV[10]

if window == '0' then unique = nil end
return enqueue(stream, delayed, state, id, task, core, attempt, run_at, nonce, unique, window, group, gp, now)
