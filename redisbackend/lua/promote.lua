-- promote.lua, after lib/entry.lua, lib/count.lua, lib/ended.lua,
-- lib/cancel.lua, lib/flow.lua and lib/groups.lua:
-- Queue.Promote. Moves the tasks due by now from the delayed set to the
-- stream, each with the core its state kept while it waited, or, a
-- grouped task (its state's "g"), into its group, its core still in its
-- state (lib/groups.lua); a task
-- canceled meanwhile (its state's "cx") ends as canceled instead (a
-- workflow step's end then goes to its workflow, as in cancel.lua), and
-- one that ended meanwhile (delivered twice) is dropped. Returns how many it
-- took from the delayed set. The states' keys are made of state_prefix and
-- the IDs the script reads: they share the queue's hash tag.
--
-- KEYS[1]  stream        the queue's stream
-- KEYS[2]  delayed       the queue's delayed set
-- KEYS[3]  counts        the outcome counts of now's minute (lib/count.lua)
-- KEYS[4]  ended         the queue's ended tasks (lib/ended.lua)
-- ARGV[1]  now           ms
-- ARGV[2]  count         the most tasks to move
-- ARGV[3]  state_prefix  the queue's task states' keys, but for the ID
-- ARGV[4]  state_ttl     how long an ended task's state is kept, ms
-- ARGV[5]  channel       the backend's Pub/Sub channel
-- ARGV[6]  tag           the queue's hash tag, "{<queue>}"
-- ARGV[7]  now_us        now, µs
-- ARGV[8]  prefix        the backend's key prefix

local stream, delayed, counts, ended = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, count, state_prefix, state_ttl, channel, tag, now_us = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local prefix = ARGV[8]

local ids = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, tonumber(count))
for _, id in ipairs(ids) do
  local state = state_prefix .. id
  local h = redis.call('HMGET', state, 'm', 'attempt', 'status', 'reclaims', 'outages', 'lk', 'le', 'cx', 'wf', 'wq', 'g', 'task')
  local core, attempt, status, reclaims, outages, last_kind, last_error, canceled = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
  local wf = h[9]
  if status == 'scheduled' and canceled then
    endcanceled(state, id, counts, ended, state_ttl, channel, tag, now_us, wf)
    if wf then
      flowinit(prefix, now_us, state_ttl, channel)
      local W = wfopen(h[10], wf)
      local s = redis.call('HMGET', state, 'wp', 'wc')
      if W then
        stepsended(W, {q = string.sub(tag, 2, -2), name = string.sub(id, #wf + 2), status = 'canceled', kind = 'queue.canceled',
          err = 'queue: canceled', value = '', wp = s[1] or '', wc = s[2] or ''})
      end
    end
  elseif status == 'scheduled' and core and h[11] then
    gjoin(prefix .. 'queue:' .. tag .. ':', state, id, h[12] or '', h[11], now)
  elseif status == 'scheduled' and core then
    local dlv = '1'
    if reclaims then dlv = tostring(tonumber(reclaims) + 1) end
    local e = redis.call('XADD', stream, '*', 'm', packmsg({attempt or '1', dlv, outages or '0', last_kind or '', last_error or ''}, core))
    redis.call('HSET', state, 'e', e, 'status', 'queued')
    redis.call('HDEL', state, 'm')
  end
  redis.call('ZREM', delayed, id)
end
return #ids
