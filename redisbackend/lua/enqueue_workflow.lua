-- enqueue_workflow.lua, after lib/entry.lua, lib/enqueue.lua,
-- lib/count.lua, lib/ended.lua and lib/flow.lua: Queue.EnqueueWorkflow,
-- for a chunk of the steps of one queue. The first chunk writes the
-- workflow's record; every chunk checks its digest, and writes nothing if
-- another workflow holds the ID ("dup"). A workflow known and ended, or a
-- step known (its state, or its end in the workflow), is left as it is:
-- the call sent again completes the first. A step with parents waits
-- ("waiting", its core in its state); a root is enqueued as a task is
-- (lib/enqueue.lua), now or at run_at. A waiting step is counted in the
-- queue's waiting steps; one whose inputs came first (its chunk landed
-- after its parents ended) is released at once.
-- The record's first write lists the workflow in its home's index
-- (wfindex).
-- Returns 1, "dup", or 2 if the workflow's record was there already (of
-- the same digest: a call sent again, or a later chunk of this one).
--
-- KEYS[1]      record    the workflow's record (lib/flow.lua)
-- KEYS[2]      steps     its steps
-- KEYS[3]      ended     its ended steps
-- KEYS[4]      stream    the chunk's queue's stream
-- KEYS[5]      delayed   its delayed set
-- KEYS[5+t]    state     step t's state (t = 1, 2, ...)
-- ARGV[1]      prefix    the backend's key prefix
-- ARGV[2]      workflow  the workflow's ID
-- ARGV[3]      home      its queue
-- ARGV[4]      name      its name
-- ARGV[5]      digest    its definition's digest
-- ARGV[6]      n         its number of steps
-- ARGV[7]      created   now, µs
-- ARGV[8]      out       its output step's name
-- ARGV[9]      run_at    when the roots are due, ms; 0: now
-- ARGV[10]     nonce     this call's
-- ARGV[11]     state_ttl how long an ended step's state is kept, ms
-- ARGV[12]     channel   the backend's Pub/Sub channel
-- ARGV[13]     queue     the chunk's queue
-- ARGV[7t+7]   name      step t's name
-- ARGV[7t+8]   task      its task
-- ARGV[7t+9]   core      its message's core (encodeMessage)
-- ARGV[7t+10]  wn        its number of parents
-- ARGV[7t+11]  wp        its policy letters
-- ARGV[7t+12]  wc        its children
-- ARGV[7t+13]  entry     its entry in steps

local record, steps, ended, stream, delayed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, wf, home, wname, digest, n, created, out = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local run_at, nonce, state_ttl, channel, q = ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13]

local h = redis.call('HMGET', record, 'digest', 'status')
if h[1] and h[1] ~= digest then return 'dup' end
if h[1] and h[2] ~= 'running' then return 2 end
flowinit(prefix, created, state_ttl, channel)
if not h[1] then
  redis.call('HSET', record, 'name', wname, 'status', 'running', 'n', n, 'created', created, 'out', out, 'digest', digest)
  wfindex(home, wf, created)
end
local W
local waiting = {} -- the steps that wait, scores and IDs, added at the end in a few ZADDs
for t = 1, #KEYS - 5 do
  local state, a = KEYS[5 + t], 7 * t + 7
  local name, task, core, wn, wp, wc, entry = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
  local id = wf .. ':' .. name
  if redis.call('HGET', ended, name) == false and redis.call('EXISTS', state) == 0 then
    redis.call('HSET', steps, name, entry)
    if wn == '0' then
      enqueue(stream, delayed, state, id, task, core, '1', run_at, nonce .. ':' .. t, nil, '0', '', '', '0')
      redis.call('HSET', state, 'wf', wf, 'wq', home, 'wn', wn, 'wp', wp, 'wc', wc)
    else
      redis.call('HSET', state, 'task', task, 'attempt', '1', 'status', 'waiting', 'm', core,
        'wf', wf, 'wq', home, 'wn', wn, 'wp', wp, 'wc', wc)
      local inputs = inputskey(q, id)
      if redis.call('PERSIST', inputs) == 1 or redis.call('EXISTS', inputs) == 1 then
        redis.call('ZADD', waitingkey(q), created, id) -- now: the release takes it out
        W = W or wfopen(home, wf)
        local c = verdict(W, q, name, false)
        if c then stepsended(W, c) end
      else
        waiting[#waiting + 1], waiting[#waiting + 2] = created, id
      end
    end
  end
end
for i = 1, #waiting, 1000 do
  redis.call('ZADD', waitingkey(q), unpack(waiting, i, math.min(i + 999, #waiting)))
end
if h[1] then return 2 end
return 1
