-- lib/flow.lua, after lib/entry.lua, lib/count.lua and lib/ended.lua: the
-- steps of workflows (see Queue.EnqueueWorkflow), released in the script
-- that ends their parents.
--
-- Keys, built here from the backend's prefix, as keys.go builds them: a
-- step's children may sit on other queues (on one node only):
--   queue:{q}:task:<wf>:<step>  a step's state: a task's, plus "wf" and
--                               "wq" (its workflow and home queue), "wn"
--                               (its parents' number), "wp" (policy
--                               letters: u outcomes, k/r/f if a parent
--                               skipped, a absorbed, o output), "wc" (its
--                               children, netstrings of queue, name and
--                               number of parents), and "m", its core,
--                               while it waits, or once it failed or was
--                               canceled, for a retry
--   queue:{q}:waiting           the IDs of the queue's steps that wait for
--                               their parents (Stats), by the time (µs)
--                               they began to: from the status "waiting"
--                               until a release queues the step or an end
--                               ends it
--   queue:{q}:in:<wf>:<step>    its inputs: parent name -> netstrings of
--                               status, kind, error and value; a field is
--                               written once (HSETNX): a parent counts once
--   queue:{h}:wf:<wf>           the workflow's record: name status n created
--                               fin out digest fstep fkind ferr res w, and
--                               the nonces of cancels and retries
--   queue:{h}:wfsteps:<wf>      step name -> netstrings of queue, place,
--                               task and parents
--   queue:{h}:wfended:<wf>      step name -> how it ended: membership, so
--                               that an end counts once; HLEN is progress
--   queue:{h}:workflows         the index of the workflows of home queue
--                               h, a sorted set of IDs by creation time
--                               (µs), for listings (list_workflows.lua);
--                               wfindex adds to it
--
-- Exactly once: a step's end reaches here only past the XACK of its entry
-- (finish.lua), or from a status guard (a cancel, a release); a child
-- counts a parent only if its HSETNX added it, and is released only from
-- status "waiting".
--
-- A step is "waiting" only while its workflow runs: the failure or cancel
-- that ends a workflow cancels every waiting step in the same script, and
-- an enqueue stores none in a workflow that ended. So a finish whose
-- child waits knows the workflow runs without reading its record.
--
--   flowinit(prefix, at, ttl, channel)  sets what the functions below use
--   wfopen(home, wf)           the workflow, or nil if unknown
--   wfref(home, wf)            the workflow, its record not read yet:
--                              stepsended reads it only if it must
--   stepsended(W, s)           the end of step s, {q, name, status, kind,
--                              err, value, wp, wc}: its record, its
--                              children's inputs and release, the
--                              workflow's end; and so on for every step
--                              that ends in turn; returns "succeeded" or
--                              "failed" if it ended the workflow, else nil
--   verdict(W, q, name, force)
--                              releases a waiting step whose parents are
--                              all done: queued, or ended as its policy or
--                              the workflow says (force: queued whatever
--                              a parent did); returns the step if it
--                              ended, for stepsended (release calls it
--                              with what it read of the step already)
--   cancelall(W, kind, notify) ends canceled every step not started; if
--                              notify, tells the workers running the others
--   corebase(core)             a step's core without the inputs a release
--                              appended
--   stepqueue(v)               the queue of a wfsteps value
--   wfindex(home, wf, created) lists workflow wf in its home's index,
--                              and drops two entries it samples whose
--                              record has expired
--   waitingkey(q)              queue q's waiting steps

local flow = {}

local function flowinit(prefix, at, ttl, channel)
  flow.prefix, flow.at, flow.ttl, flow.channel = prefix, at, ttl, channel
end

-- minute is the rate counts' minute of flow.at, made when first needed:
-- most finishes end no other step.
local function minute()
  if not flow.minute then flow.minute = string.format('%d', math.floor(tonumber(flow.at) / 60000000)) end
  return flow.minute
end

local function qkey(q) return flow.prefix .. 'queue:{' .. q .. '}' end
local function statekey(q, id) return qkey(q) .. ':task:' .. id end
local function inputskey(q, id) return qkey(q) .. ':in:' .. id end
local function waitingkey(q) return qkey(q) .. ':waiting' end

-- nslist splits a string of netstrings.
local function nslist(s)
  local out, pos = {}, 1
  while pos <= #s do
    local n, at = string.match(s, '^(%d+):()', pos)
    if not n then break end
    out[#out + 1] = string.sub(s, at, at + n - 1)
    pos = at + n
  end
  return out
end

local function stepqueue(v) return coreid(v) end

-- released is packmsg's header of a step that a release queues: attempt
-- 1 (enqueue_workflow.lua and retry_step.lua make every waiting step's
-- so), its first delivery, no outage, no failure before.
local released = 'm11:11:11:00:0:'

-- A step's core is seven netstrings (encodeMessage): ID, task, times,
-- payload, headers, step; a release appends its inputs, an eighth.
local function corebase(core)
  local pos = 1
  for _ = 1, 7 do
    local n, at = string.match(core, '^(%d+):()', pos)
    if not n then return core end
    pos = at + n
  end
  return string.sub(core, 1, pos - 1)
end

local function has(letters, c) return string.find(letters or '', c, 1, true) ~= nil end

local function failure(status) return status == 'failed' or status == 'dead' or status == 'canceled' end

local function wfref(home, wf)
  local b = qkey(home)
  return {home = home, id = wf, rec = b .. ':wf:' .. wf, steps = b .. ':wfsteps:' .. wf, ended = b .. ':wfended:' .. wf,
    read = false, status = false, n = false, waited = false, unmarked = false} -- every field made at once: no rehash
end

-- wfread reads W's record, once: false if there is none (W.status is
-- then "gone", as of a workflow ended).
local function wfread(W)
  if not W.read then
    local h = redis.call('HMGET', W.rec, 'status', 'n', 'w')
    W.read, W.status, W.n, W.waited = true, h[1] or 'gone', tonumber(h[2]), h[3]
  end
  return W.status ~= 'gone'
end

local function wfopen(home, wf)
  local W = wfref(home, wf)
  if not wfread(W) then return nil end
  return W
end

-- wfmark notes step name's end in the workflow: 1 if it is new. The
-- ended steps of a workflow that ended expire with it (stepsended sees to
-- it if the record was not read).
local function wfmark(W, name, status)
  local n = redis.call('HSET', W.ended, name, status)
  if not W.read then
    W.unmarked = true
  elseif W.status ~= 'running' then
    redis.call('PEXPIRE', W.ended, flow.ttl)
  end
  return n
end

-- wfend ends the workflow: its keys expire (a failed one's too, unless a
-- retry comes), and its waiters hear of it.
local function wfend(W, status, fstep, fkind, ferr)
  wfread(W)
  W.status, W.unmarked = status, false -- its ended steps expire here
  redis.call('HSET', W.rec, 'status', status, 'fin', flow.at)
  if fstep then redis.call('HSET', W.rec, 'fstep', fstep, 'fkind', fkind, 'ferr', ferr) end
  redis.call('PEXPIRE', W.rec, flow.ttl)
  redis.call('PEXPIRE', W.steps, flow.ttl)
  redis.call('PEXPIRE', W.ended, flow.ttl)
  if W.waited then redis.call('PUBLISH', flow.channel, 'w{' .. W.home .. '}' .. W.id) end
end

-- endstep ends step id of queue q, which is not running, as status: as a
-- task's end, but that its core stays (for a retry of the workflow).
local function endstep(q, id, status, kind, err)
  local state = statekey(q, id)
  local w = redis.call('HGET', state, 'w')
  redis.call('HSET', state, 'status', status, 'kind', kind, 'error', err, 'fin', flow.at)
  redis.call('ZREM', waitingkey(q), id)
  count(qkey(q) .. ':rate:' .. minute(), outcome(status, kind))
  redis.call('PEXPIRE', state, flow.ttl)
  redis.call('PEXPIRE', inputskey(q, id), flow.ttl)
  indexended(qkey(q) .. ':ended', id, flow.at, flow.ttl)
  if w then redis.call('PUBLISH', flow.channel, 't{' .. q .. '}' .. id) end
end

local function cancelkind(W)
  if W.status == 'canceled' then return 'workflow.canceled', 'workflow: canceled' end
  return 'workflow.failed', 'workflow: another step failed'
end

local function cancelall(W, kind, notify)
  local err = 'workflow: another step failed'
  if kind == 'workflow.canceled' then err = 'workflow: canceled' end
  local done = {}
  local e = redis.call('HGETALL', W.ended)
  for i = 1, #e, 2 do done[e[i]] = true end
  local steps = redis.call('HGETALL', W.steps)
  local canceled, sent = 0, 0
  for i = 1, #steps, 2 do
    local name = steps[i]
    if not done[name] then
      local q, id = stepqueue(steps[i + 1]), W.id .. ':' .. name
      local state, stream = statekey(q, id), qkey(q)
      local h = redis.call('HMGET', state, 'status', 'e')
      local status, entry, stop = h[1], h[2], false
      if status == 'waiting' then
        stop = true
      elseif status == 'scheduled' then
        redis.call('ZREM', stream .. ':delayed', id)
        stop = true
      elseif (status == 'queued' or status == 'running') and entry then
        local ok, p = pcall(redis.call, 'XPENDING', stream, 'taskware', entry, entry, 1)
        if not ok or #p == 0 then
          local x = redis.call('XRANGE', stream, entry, entry)
          local core
          if x[1] then core = select(2, unpackmsg(field(x[1][2], 'm'))) end
          if redis.call('XDEL', stream, entry) == 1 then
            stop = true
            if core then redis.call('HSET', state, 'm', core) end
          end
        end
      end
      if stop then
        endstep(q, id, 'canceled', kind, err)
        redis.call('HSET', W.ended, name, 'canceled')
        canceled = canceled + 1
      elseif notify and (status == 'queued' or status == 'running') then
        redis.call('HSET', state, 'cx', '1')
        redis.call('PUBLISH', flow.channel, 'x{' .. q .. '}' .. id)
        sent = sent + 1
      end
    end
  end
  redis.call('PEXPIRE', W.ended, flow.ttl)
  return canceled, sent
end

-- skipped reports whether an input (netstrings of status, kind, error,
-- value) is of a parent that did not succeed.
local function skipped(v) return string.sub(v, 1, 11) ~= '9:succeeded' end

-- verdict: pre, if given, is the step's {status, wp, wc, m} as
-- release read them, wn its number of parents, and pname and packed the
-- input release just recorded. Returns, besides the step if it ended,
-- whether it is alive: waiting or queued.
local function verdict(W, q, name, force, pre, wn, pname, packed)
  local id = W.id .. ':' .. name
  local state, inputs = statekey(q, id), inputskey(q, id)
  local h = pre
  if not h then
    h = redis.call('HMGET', state, 'status', 'wp', 'wc', 'wn')
    wn = tonumber(h[4]) or 0
  end
  local wp = h[2] or ''
  if W.status ~= 'running' then
    local kind, err = cancelkind(W)
    endstep(q, id, 'canceled', kind, err)
    wfmark(W, name, 'canceled')
    return nil, false
  end
  local ins = {}
  if pre and wn == 1 then
    ins = {pname, packed} -- its one input, just recorded
  elseif wn > 0 then
    if redis.call('HLEN', inputs) < wn then return nil, true end
    ins = redis.call('HGETALL', inputs)
  end
  if not force and not has(wp, 'u') then
    for i = 2, #ins, 2 do
      if skipped(ins[i]) then
        if has(wp, 'r') then break end
        local status = 'skipped'
        if has(wp, 'f') then status = 'failed' end
        local err = 'workflow: parent ' .. ins[i - 1] .. ' did not succeed'
        endstep(q, id, status, 'workflow.parent_skipped', err)
        return {q = q, name = name, status = status, kind = 'workflow.parent_skipped', err = err, value = '', wp = wp, wc = h[3] or ''}, false
      end
    end
  end
  local core = h[4]
  if not pre or wn > 1 then core = redis.call('HGET', state, 'm') end
  if not core then return nil, false end
  -- A core that a run kept (its inputs appended) waits again only in
  -- retry_step.lua, whose release has all its parents done, and no pre.
  if not pre then core = corebase(core) end
  local all = {}
  for i = 1, #ins, 2 do all[#all + 1] = ns(ins[i]) .. ns(ins[i + 1]) end
  local e = redis.call('XADD', qkey(q), '*', 'm', released .. core .. ns(table.concat(all)))
  redis.call('HSET', state, 'status', 'queued', 'e', e)
  redis.call('HDEL', state, 'm')
  redis.call('ZREM', waitingkey(q), id)
  return nil, true
end

-- release records input packed of parent pname in child name of queue q,
-- which has wn parents, and releases the child if that was its last
-- parent (a child of one parent is read whole at once: it is released).
-- Returns what verdict does: the child if it ended, and whether it is
-- known to be alive.
local function release(W, q, name, wn, pname, packed)
  local id = W.id .. ':' .. name
  local state, inputs = statekey(q, id), inputskey(q, id)
  if redis.call('HSETNX', inputs, pname, packed) == 0 then return nil, false end
  local h
  if wn == 1 then
    h = redis.call('HMGET', state, 'status', 'wp', 'wc', 'm')
  else
    h = redis.call('HMGET', state, 'status', 'wp', 'wc')
  end
  if h[1] == 'waiting' then
    if not W.read then W.status = 'running' end -- a step waits only while its workflow runs
    return verdict(W, q, name, false, h, wn, pname, packed)
  end
  if h[1] == 'queued' or h[1] == 'running' or h[1] == 'scheduled' then return nil, true end
  redis.call('PEXPIRE', inputs, flow.ttl) -- ended, or not made yet: the key lives no longer than it
  return nil, false
end

-- stepsended: the workflow can have ended only if no child of the step
-- is alive, so only then does it count the steps that ended; and only
-- then, or for a failure, does it read the workflow's record, if W came
-- from wfref: a child that waits says the workflow runs.
local function stepsended(W, first)
  local work, wfended = {first}, nil
  while #work > 0 do
    local s, alive = table.remove(work), false
    if wfmark(W, s.name, s.status) == 1 then
      if failure(s.status) and not has(s.wp, 'a') then
        wfread(W)
        if W.status == 'running' then
          wfend(W, 'failed', s.name, s.kind, s.err)
          cancelall(W, 'workflow.failed', false)
          wfended = 'failed'
        end
      else
        local value = ''
        if s.status == 'succeeded' then value = s.value or '' end
        if s.status == 'succeeded' and has(s.wp, 'o') and wfread(W) then redis.call('HSET', W.rec, 'res', value) end
        local head = '9:succeeded' -- ns(s.status), made without a number
        if s.status ~= 'succeeded' then head = ns(s.status) end
        local packed = head .. ns(s.kind or '') .. ns(s.err or '') .. ns(value)
        local wc = nslist(s.wc or '')
        for i = 1, #wc - 2, 3 do
          local c, live = release(W, wc[i], wc[i + 1], tonumber(wc[i + 2]), s.name, packed)
          if c then work[#work + 1] = c end
          alive = alive or live
        end
      end
      if not alive then wfread(W) end
      if W.status == 'running' and not alive and redis.call('HLEN', W.ended) >= W.n then
        wfend(W, 'succeeded')
        wfended = 'succeeded'
      end
    end
  end
  if W.unmarked and W.read and W.status ~= 'running' then redis.call('PEXPIRE', W.ended, flow.ttl) end
  return wfended
end

-- wfindex: an ended workflow's record expires on its own, but not its
-- entry in the index. Each enqueue looks at two entries, at ranks its
-- creation time picks (µs: as good as random, and deterministic, as a
-- script must be), and drops those whose record is gone: the index holds
-- about twice the live workflows at most, whatever their age, for two
-- reads, where a walk of the index would read it all. A listing drops
-- the dead entries it reads too.
local function wfindex(home, wf, created)
  local index = qkey(home) .. ':workflows'
  redis.call('ZADD', index, created, wf)
  local n, at = redis.call('ZCARD', index), tonumber(created)
  for _, r in ipairs({at % n, math.floor(at / n) % n}) do
    local id = redis.call('ZRANGE', index, r, r)[1]
    if id and redis.call('EXISTS', qkey(home) .. ':wf:' .. id) == 0 then redis.call('ZREM', index, id) end
  end
end
