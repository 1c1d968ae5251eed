-- take.lua, after lib/group.lua: the read of new entries of Queue.Take. Entries that Recover
-- took over (listed in ahead) come first, claimed straight from the
-- stream ahead of the group's cursor and noted in early; then new entries
-- as XREADGROUP hands them out. When that read reaches an entry handed out
-- early, which it would hand out again, the entry goes back to the
-- consumer that holds it (or, finished meanwhile, is acknowledged again),
-- and is not handed out. Without taken-over entries it is one plain
-- XREADGROUP. Returns the stream's entries in one flat array (see flat):
-- those claimed ahead of the cursor, then those read in order (the
-- caller tells them apart: see Queue.Take). If the
-- queue is paused, it returns the error "PAUSED" having read nothing: no
-- entry is taken, so none has to be handed back and each keeps its place.
--
-- KEYS[1]  stream    the queue's stream
-- KEYS[2]  ahead     the queue's taken-over entries, a sorted set (see recover.lua)
-- KEYS[3]  early     the queue's entries handed out ahead of the cursor, a hash
-- KEYS[4]  paused    exists while the queue is paused
-- ARGV[1]  consumer  the taking consumer
-- ARGV[2]  n         the most entries to hand out; 0 for all; -1 for none,
--                    a peek: the reply names the group's cursor (its last
--                    delivered ID) where it names the newest entry, so
--                    that a wait after it wakes at once if entries are
--                    ready (a Take over partitions peeks at those it asks
--                    nothing of)
-- ARGV[3]  report    '1' (a Take over partitions): where the reply would
--                    name no ID (n handed out, or a peek that finds
--                    entries ready), it says '+' if entries may remain
--                    ready, so that the Take asks again; absent, nothing
--                    more is read (the reply's second string is '')

local stream, ahead, early, paused = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local consumer, n, report = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'

if redis.call('EXISTS', paused) == 1 then return redis.error_reply('PAUSED') end

-- ready reports whether entries may be ready past after (an ID), or
-- taken over (ahead): a hint, for a Take over partitions to ask again.
local function ready(after)
  if redis.call('EXISTS', ahead) == 1 then return true end
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  return last ~= nil and idless(after, last[1])
end

if n < 0 then
  local g = groupinfo(stream)
  local cur = g and g.last or '0-0'
  if not string.find(cur, '-', 1, true) then cur = cur .. '-0' end -- miniredis says '0' of a new group
  if report and ready(cur) then return {0, '+'} end
  return {0, cur}
end

local function read(count)
  local r = redis.call('XREADGROUP', 'GROUP', 'taskware', consumer, 'COUNT', count, 'STREAMS', stream, '>')
  if r and r[1] then return r[1][2] end
  return {}
end

-- flat lays out the entries claimed, then those of out, in one array of
-- strings, which the client reads without a map per entry: the number of
-- entries claimed; if there are none of either, the stream's newest
-- entry's ID ('0-0' if it has none), where the client's wait for new
-- entries starts, else '' (or '+': see report); then for each entry its ID, the number of its
-- field and value strings, and those.
local function flat(claimed, out)
  local newest = ''
  if #claimed + #out == 0 then
    local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
    newest = last and last[1] or '0-0'
  elseif report and n > 0 and #claimed + #out >= n then
    if #out == 0 or ready(out[#out][1]) then newest = '+' end
  end
  local r = {#claimed, newest}
  for _, list in ipairs({claimed, out}) do
    for _, e in ipairs(list) do
      local f = e[2] or {} -- an entry deleted while pending has no fields
      r[#r + 1] = e[1]
      r[#r + 1] = #f
      for _, v in ipairs(f) do r[#r + 1] = v end
    end
  end
  return r
end

if redis.call('EXISTS', ahead) == 0 and redis.call('EXISTS', early) == 0 then
  return flat({}, read(n))
end

-- newer reports whether stream ID a comes after b.
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or am == bm and as > bs
end
-- cursor is the group's last delivered ID: entries after it were never
-- handed out by a read.
local function cursor()
  local g = groupinfo(stream)
  return g and g.last or '0-0'
end

local claimed, out = {}, {}
local last = cursor()
local limit = -1
if n > 0 then limit = n - 1 end
for _, m in ipairs(redis.call('ZRANGE', ahead, 0, limit)) do
  redis.call('ZREM', ahead, m)
  local ms, seq = string.match(m, '^0*(%d+)-0*(%d+)$')
  local id = ms .. '-' .. seq
  if newer(id, last) then -- else a read handed it out already
    local c = redis.call('XCLAIM', stream, 'taskware', consumer, 0, id, 'FORCE')
    if c[1] and c[1][2] then
      claimed[#claimed + 1] = c[1]
      redis.call('HSET', early, id, 1)
    else -- deleted (canceled) meanwhile
      redis.call('XACK', stream, 'taskware', id)
    end
  end
end

-- then new entries, reading on past those handed out early
while n == 0 or #claimed + #out < n do
  local want = 0
  if n > 0 then want = n - #claimed - #out end
  -- who holds each entry handed out early that this read will reach
  local holders = {}
  if redis.call('EXISTS', early) == 1 then
    local range = redis.call('XRANGE', stream, after(cursor()), '+', 'COUNT', want == 0 and 1000000 or want)
    for _, e in ipairs(range) do
      if redis.call('HGET', early, e[1]) then
        local p = redis.call('XPENDING', stream, 'taskware', e[1], e[1], 1)
        holders[e[1]] = p[1] and p[1][2] or false
      end
    end
  end
  local got = read(want)
  for _, e in ipairs(got) do
    local h = holders[e[1]]
    if h == nil then
      out[#out + 1] = e
    else
      redis.call('HDEL', early, e[1])
      if h then
        redis.call('XCLAIM', stream, 'taskware', h, 0, e[1], 'JUSTID')
      else
        redis.call('XACK', stream, 'taskware', e[1])
      end
    end
  end
  if want == 0 or #got < want then break end
end
if redis.call('EXISTS', early) == 1 then
  -- forget entries the cursor passed without a read (deleted)
  local last = cursor()
  local ids = redis.call('HGETALL', early)
  for i = 1, #ids, 2 do
    if not newer(ids[i], last) then redis.call('HDEL', early, ids[i]) end
  end
end
return flat(claimed, out)
