-- message.lua, after lib/entry.lua: Queue.Message. Reads only. Returns
-- the stream entry's fields of a task that waits: for one in the delayed
-- set, the fields its entry will have once promoted (its state keeps its
-- message's core, its attempt and its last failure); for one ready or
-- taken, those of the entry its state's "e" names; for one that failed,
-- or a workflow step that waits for its parents, the fields made of the
-- core its state keeps (finish.lua, lib/flow.lua); for a grouped task
-- (lib/groups.lua), those fields and its group key, "g". Returns {}
-- for a task that ended otherwise, or that the queue does not know.
--
-- KEYS[1]  state   the task's state
-- KEYS[2]  stream  the queue's stream

local state, stream = KEYS[1], KEYS[2]

local h = redis.call('HMGET', state, 'status', 'm', 'e', 'attempt', 'reclaims', 'outages', 'lk', 'le', 'g')
local status, core, entry = h[1], h[2], h[3]
if status ~= 'queued' and status ~= 'running' and status ~= 'scheduled' and status ~= 'failed' and status ~= 'waiting' then
  return {}
end
if status == 'failed' and not core then return {} end
if core then
  local dlv = '1'
  if h[5] then dlv = tostring(tonumber(h[5]) + 1) end
  local m = packmsg({h[4] or '1', dlv, h[6] or '0', h[7] or '', h[8] or ''}, core)
  if h[9] then return {'m', m, 'g', h[9]} end
  return {'m', m}
end
if entry then
  local e = redis.call('XRANGE', stream, entry, entry)
  if e[1] then return e[1][2] end
end
return {}
