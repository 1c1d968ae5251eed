-- lib/groups.lua: a queue's groups of grouped messages (queue.Batches),
-- each of one task and group key. Its keys share the queue's hash tag and
-- start with gp, "<prefix>queue:{<queue>}:" (see keys.go, groupKeys):
--
--   gp .. 'gfirst:' .. task  sorted set of the task's group keys, by when
--                            each group's oldest member joined (ms)
--   gp .. 'glast:' .. task   the same, by when its newest joined (ms)
--   gp .. 'gsize:' .. task   the same, by its number of members
--   gp .. 'group:' .. #task .. ':' .. task .. key
--                            the group's member IDs, a list, oldest first
--   gp .. 'grouped'          how many messages wait in the queue's groups,
--                            deleted at 0 (it has no TTL)
--
-- A member's state keeps its message's core ("m", as a delayed task's
-- does), its group key ("g") and when it joined ("gt", ms); once flushed,
-- the ID of its batch ("b").
--
--   gjoin(gp, state, id, task, key, now, fields)
--                                          adds task id to its group at
--                                          now (ms), its state queued, and
--                                          fields (a flat list, or nil) set
--                                          in the same write
--   gleave(gp, sp, id, task, key)          takes id out of its group;
--                                          whether it was there
--   gtake(gp, sp, task, key, n)            takes the n oldest members out
--                                          of their group, and returns their IDs
--
--   glist(gp, task, key)                   the group's list's key
--
-- sp is the prefix of the queue's task states' keys.

local function glist(gp, task, key) return gp .. 'group:' .. #task .. ':' .. task .. key end

-- gmend brings the group's entries in the task's indexes up to date,
-- after members left it.
local function gmend(gp, sp, task, key)
  local list = glist(gp, task, key)
  local n = redis.call('LLEN', list)
  if n == 0 then
    redis.call('ZREM', gp .. 'gfirst:' .. task, key)
    redis.call('ZREM', gp .. 'glast:' .. task, key)
    redis.call('ZREM', gp .. 'gsize:' .. task, key)
    return
  end
  redis.call('ZADD', gp .. 'gsize:' .. task, n, key)
  local first = redis.call('HGET', sp .. redis.call('LINDEX', list, 0), 'gt')
  if first then redis.call('ZADD', gp .. 'gfirst:' .. task, first, key) end
  local last = redis.call('HGET', sp .. redis.call('LINDEX', list, -1), 'gt')
  if last then redis.call('ZADD', gp .. 'glast:' .. task, last, key) end
end

local function gjoin(gp, state, id, task, key, now, fields)
  local n = redis.call('RPUSH', glist(gp, task, key), id)
  if n == 1 then redis.call('ZADD', gp .. 'gfirst:' .. task, now, key) end
  redis.call('ZADD', gp .. 'glast:' .. task, now, key)
  redis.call('ZADD', gp .. 'gsize:' .. task, n, key)
  redis.call('INCR', gp .. 'grouped')
  redis.call('HSET', state, 'status', 'queued', 'g', key, 'gt', now, unpack(fields or {}))
end

-- gleft counts n members out of the queue's groups.
local function gleft(gp, n)
  if redis.call('DECRBY', gp .. 'grouped', n) <= 0 then redis.call('DEL', gp .. 'grouped') end
end

local function gleave(gp, sp, id, task, key)
  if redis.call('LREM', glist(gp, task, key), 1, id) == 0 then return false end
  gleft(gp, 1)
  gmend(gp, sp, task, key)
  return true
end

local function gtake(gp, sp, task, key, n)
  local list = glist(gp, task, key)
  local ids = redis.call('LRANGE', list, 0, n - 1)
  if #ids == 0 then return ids end
  redis.call('LTRIM', list, #ids, -1)
  gleft(gp, #ids)
  gmend(gp, sp, task, key)
  return ids
end
