-- cancel.lua, after lib/entry.lua, lib/count.lua, lib/ended.lua,
-- lib/cancel.lua, lib/flow.lua and lib/groups.lua: Queue.Cancel.
-- Returns "missing", "ended", "canceled" (the task never runs: it was
-- delayed, or ready and not taken, and its entry is deleted; or a
-- workflow step still waiting), or "sent" (a worker holds it: the notice
-- "x<tag><id>" tells it to cancel the run). The state's "cx" keeps the
-- cancel: a retry of the run never runs. A cancel that ends the task or
-- sends the notice leaves its nonce and its answer in the state ("cn",
-- "ca"): sent again (its reply lost), it finds them and gives the same
-- answer, and does nothing more. A workflow step canceled before it ran
-- keeps its core, and its end goes to its workflow, as a failure's does
-- (lib/flow.lua). A grouped task that waits in its group leaves it, and
-- one in a batch not started yet (its state's "b") ends canceled: the
-- batch's start leaves it out (start_batch.lua); one in a running batch
-- is sent the notice, and the batch's finish ends it canceled. A batch
-- (its state's "nb") canceled before it was taken ends its members that
-- have not started canceled with it; the batch's own cancel is not
-- counted in the outcome counts, its members' are.
--
-- KEYS[1]  state      the task's state
-- KEYS[2]  delayed    the queue's delayed set
-- KEYS[3]  stream     the queue's stream
-- KEYS[4]  counts     the outcome counts of at's minute (lib/count.lua)
-- KEYS[5]  ended      the queue's ended tasks (lib/ended.lua)
-- ARGV[1]  id         the task's ID
-- ARGV[2]  channel    the backend's Pub/Sub channel
-- ARGV[3]  tag        the queue's hash tag, "{<queue>}"
-- ARGV[4]  state_ttl  how long the ended task's state is kept, ms
-- ARGV[5]  at         now, µs
-- ARGV[6]  nonce      this call's, to know it when it comes again
-- ARGV[7]  prefix     the backend's key prefix

local state, delayed, stream, counts, ended = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, channel, tag, state_ttl, at, nonce, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]

local h = redis.call('HMGET', state, 'status', 'e', 'cn', 'ca', 'wf', 'wq', 'g', 'b', 'task', 'nb', 'm')
local status, entry, wf = h[1], h[2], h[5]
if not status then return 'missing' end
if h[3] == nonce and h[4] then return h[4] end
if status == 'succeeded' or status == 'failed' or status == 'skipped' or status == 'dead' or status == 'canceled' then
  return 'ended'
end
redis.call('HSET', state, 'cx', '1')
local answer = 'sent'
local core
if status == 'scheduled' then
  redis.call('ZREM', delayed, id)
  if h[10] then core = h[11] end
  answer = 'canceled'
elseif status == 'queued' and h[8] then
  answer = 'canceled'
elseif status == 'queued' and h[7] then
  local gp = prefix .. 'queue:' .. tag .. ':'
  gleave(gp, gp .. 'task:', id, h[9] or '', h[7])
  answer = 'canceled'
elseif status == 'waiting' then
  redis.call('ZREM', stream .. ':waiting', id)
  answer = 'canceled'
elseif entry then
  local ok, p = pcall(redis.call, 'XPENDING', stream, 'taskware', entry, entry, 1)
  if (not ok or #p == 0) then
    if wf or h[10] then
      local e = redis.call('XRANGE', stream, entry, entry)
      if e[1] then core = select(2, unpackmsg(field(e[1][2], 'm'))) end
    end
    if redis.call('XDEL', stream, entry) == 1 then answer = 'canceled' end
  end
end
if answer == 'canceled' then
  local own_counts = counts
  if h[10] then own_counts = nil end -- a batch's own end counts in no Rates: its members' do
  endcanceled(state, id, own_counts, ended, state_ttl, channel, tag, at, wf)
  if core and wf then redis.call('HSET', state, 'm', core) end
  if core and h[10] then
    local sp = prefix .. 'queue:' .. tag .. ':task:'
    for _, mid in ipairs(corebatch(core) or {}) do
      local m = redis.call('HMGET', sp .. mid, 'status', 'b')
      if m[1] == 'queued' and m[2] == id then
        redis.call('HSET', sp .. mid, 'cx', '1')
        endcanceled(sp .. mid, mid, counts, ended, state_ttl, channel, tag, at, nil)
      end
    end
  end
else
  redis.call('PUBLISH', channel, 'x' .. tag .. id)
end
redis.call('HSET', state, 'cn', nonce, 'ca', answer)
if answer == 'canceled' and wf then
  flowinit(prefix, at, state_ttl, channel)
  local q = string.sub(tag, 2, -2)
  redis.call('PEXPIRE', inputskey(q, id), state_ttl)
  local W = wfopen(h[6], wf)
  if W then
    local s = redis.call('HMGET', state, 'wp', 'wc')
    stepsended(W, {q = q, name = string.sub(id, #wf + 2), status = 'canceled', kind = 'queue.canceled',
      err = 'queue: canceled', value = '', wp = s[1] or '', wc = s[2] or ''})
  end
end
return answer
