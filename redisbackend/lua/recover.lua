-- recover.lua, after lib/entry.lua: Queue.Recover. Moves the entries idle
-- for min_idle back to the stream's end, listed in ahead, so that the next
-- Takes hand them out first (take.lua); counts each takeover in the
-- task's state ("reclaims") and in the entry's deliveries, and names the
-- entry taken over in the state ("tk", a space-separated list), so that
-- its late finish is told apart from a finish sent again; a batch's
-- members still running in it are queued again, as the batch is; forgets the
-- consumers with nothing pending, idle for forget_idle; trims the finished
-- entries, and the index of ended tasks of the states that have
-- expired (lib/ended.lua). Returns how many entries it moved. The states' keys are made of
-- state_prefix and the IDs of the entries it claims, which only the script
-- knows: they share the queue's hash tag.
--
-- KEYS[1]  stream        the queue's stream
-- KEYS[2]  ahead         the queue's taken-over entries (take.lua), a sorted
--                        set of their IDs, zero-padded to sort as numbers
-- KEYS[3]  ended         the queue's ended tasks (lib/ended.lua)
-- ARGV[1]  min_idle      ms
-- ARGV[2]  count         the most entries to move
-- ARGV[3]  state_prefix  the queue's task states' keys, but for the ID
-- ARGV[4]  forget_idle   ms
-- ARGV[5]  expired       the score past which a state has expired: minus
--                        (now - the state TTL), µs

local stream, ahead, ended = KEYS[1], KEYS[2], KEYS[3]
local min_idle, count, state_prefix, forget_idle = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])

-- padded(id) sorts as the stream entry ID id does.
local function padded(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return string.rep('0', 20 - #ms) .. ms .. '-' .. string.rep('0', 20 - #seq) .. seq
end

-- older reports whether stream entry ID a comes before b.
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or am == bm and as < bs
end

local r = redis.call('XAUTOCLAIM', stream, 'taskware', 'taskware:recover', min_idle, '0-0', 'COUNT', count)
local moved = 0
for _, e in ipairs(r[2]) do
  redis.call('XACK', stream, 'taskware', e[1])
  local f = e[2]
  if f then -- an entry deleted while pending has none
    local h, core = unpackmsg(field(f, 'm'))
    local id = core and coreid(core)
    if id then
      local state = state_prefix .. id
      local n = redis.call('HINCRBY', state, 'reclaims', 1)
      if redis.call('HGET', state, 'status') == 'running' then redis.call('HSET', state, 'status', 'queued') end
      for _, mid in ipairs(corebatch(core) or {}) do -- a batch's running members wait for its next start
        local m = redis.call('HMGET', state_prefix .. mid, 'status', 'b')
        if m[1] == 'running' and m[2] == id then redis.call('HSET', state_prefix .. mid, 'status', 'queued') end
      end
      redis.call('HDEL', state, 'pd', 'pt', 'pm', 'pa') -- the lost run's progress
      h[2] = tostring(n + 1)
      local tk = redis.call('HGET', state, 'tk')
      local new = redis.call('XADD', stream, '*', 'm', packmsg(h, core))
      redis.call('HSET', state, 'e', new, 'tk', tk and (tk .. ' ' .. e[1]) or e[1])
      redis.call('ZADD', ahead, 0, padded(new))
    else -- not taskware's: back as it was, for a worker to dead-letter
      redis.call('ZADD', ahead, 0, padded(redis.call('XADD', stream, '*', unpack(f))))
    end
    moved = moved + 1
  end
end

for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, 'taskware')) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1] elseif c[i] == 'pending' then pending = c[i + 1] elseif c[i] == 'idle' then idle = c[i + 1] end
  end
  if name and pending == 0 and idle and idle > forget_idle then
    redis.call('XGROUP', 'DELCONSUMER', stream, 'taskware', name)
  end
end

-- Finished entries stay in the stream (no XDEL): trim what lies below
-- both the oldest pending entry and the group's cursor. Entries past the
-- cursor were never read, though taken-over ones claimed ahead of it are
-- pending there (take.lua).
local last
for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local name, id
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then id = g[i + 1] end
  end
  if name == 'taskware' then last = id end
end
local minid
if last then
  local ms, seq = string.match(last, '^(%d+)-(%d+)$')
  if ms then minid = ms .. '-' .. string.format('%d', tonumber(seq) + 1) end
end
local p = redis.call('XPENDING', stream, 'taskware')
if p[1] > 0 and (not minid or older(p[2], minid)) then minid = p[2] end
if minid then redis.call('XTRIM', stream, 'MINID', minid) end
redis.call('ZREMRANGEBYSCORE', ended, '(' .. ARGV[5], '+inf')
return moved
