-- retry_step.lua, after lib/entry.lua, lib/count.lua, lib/ended.lua and
-- lib/flow.lua: Queue.RetryStep. Only for the step that failed a failed
-- workflow: the workflow runs again (its keys kept again), every step
-- that its failure canceled goes back to waiting, and so does the failed
-- step, as attempt 1, and any other step that ended failed, dead or
-- canceled of its own (a kind not "workflow.*") and is not absorbed (one
-- running when the workflow failed, that failed too: left so, its
-- children would wait for ever); each of them whose parents are all done is
-- released at once, from the core its state kept: the failed step is
-- queued whatever its parents did. A dead step's letter leaves the dead
-- letters: it runs again. Returns "ok", "missing" (no such
-- workflow or step) or "refused" (not the failed step of a failed
-- workflow). The call's nonce stays in the record ("rn"): sent again, the
-- call answers "ok" again.
--
-- KEYS[1]  record     the workflow's record (lib/flow.lua)
-- KEYS[2]  steps      its steps
-- KEYS[3]  ended      its ended steps
-- ARGV[1]  prefix     the backend's key prefix
-- ARGV[2]  workflow   the workflow's ID
-- ARGV[3]  home       its queue
-- ARGV[4]  step       the step to run again
-- ARGV[5]  nonce      this call's
-- ARGV[6]  at         now, µs
-- ARGV[7]  state_ttl  how long an ended step's state is kept, ms
-- ARGV[8]  channel    the backend's Pub/Sub channel

local record, steps, ended = KEYS[1], KEYS[2], KEYS[3]
local prefix, wf, home, step, nonce, at, state_ttl, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]

local h = redis.call('HMGET', record, 'status', 'fstep', 'rn')
if not h[1] then return 'missing' end
if h[3] == nonce then return 'ok' end
if not redis.call('HGET', steps, step) then return 'missing' end
if h[1] ~= 'failed' or h[2] ~= step then return 'refused' end
flowinit(prefix, at, state_ttl, channel)
redis.call('HSET', record, 'status', 'running', 'rn', nonce)
redis.call('HDEL', record, 'fstep', 'fkind', 'ferr', 'fin')
redis.call('PERSIST', record)
redis.call('PERSIST', steps)
redis.call('PERSIST', ended)
local W = wfopen(home, wf)
local all = redis.call('HGETALL', steps)
local again = {}
for i = 1, #all, 2 do
  local name, q = all[i], stepqueue(all[i + 1])
  local id = wf .. ':' .. name
  local state = statekey(q, id)
  local s = redis.call('HMGET', state, 'status', 'kind', 'wp', 'dl')
  local kind = s[2] or ''
  local reopen = s[1] == 'canceled' and kind == 'workflow.failed'
  local rerun = name == step or failure(s[1]) and not has(s[3], 'a') and string.sub(kind, 1, 9) ~= 'workflow.'
  if s[1] and (reopen or rerun) then
    redis.call('HDEL', ended, name)
    if s[4] then redis.call('XDEL', qkey(q) .. ':dead', s[4]) end
    redis.call('HSET', state, 'status', 'waiting', 'attempt', '1')
    redis.call('ZADD', waitingkey(q), at, id)
    redis.call('HDEL', state, 'kind', 'error', 'result', 'fin', 'reclaims', 'outages', 'lk', 'le', 'st', 'wk', 'cx', 'cn', 'ca', 'dl')
    redis.call('PERSIST', state)
    redis.call('PERSIST', inputskey(q, id))
    again[#again + 1] = {q, name, name == step}
  end
end
for _, a in ipairs(again) do
  if redis.call('HGET', statekey(a[1], wf .. ':' .. a[2]), 'status') == 'waiting' then
    local c = verdict(W, a[1], a[2], a[3])
    if c then stepsended(W, c) end
  end
end
return 'ok'
