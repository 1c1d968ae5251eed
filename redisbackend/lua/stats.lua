-- stats.lua, after lib/group.lua: Queue.Stats. Reads only. Returns ready,
-- running, delayed, dead, the first ready entry's ID (or ""), the live
-- workers, the server's TIME (s, µs), the waiting steps, and the
-- messages waiting in groups (lib/groups.lua); and, if ARGV[3] is "1",
-- the live workers' names (a partitioned queue's Stats counts each worker
-- once, however many partitions it takes from).
--
-- KEYS[1]  stream       the queue's stream
-- KEYS[2]  delayed      the queue's delayed set
-- KEYS[3]  dead         the queue's dead letters
-- KEYS[4]  waiting      the queue's waiting steps (lib/flow.lua)
-- KEYS[5]  grouped      the queue's count of grouped messages (lib/groups.lua)
-- ARGV[1]  bound        the most entries to count one by one
-- ARGV[2]  live_window  how recently a live worker was seen, ms
-- ARGV[3]  names        "1": return the live workers' names too

local stream, delayed, dead = KEYS[1], KEYS[2], KEYS[3]
local bound, live_window = tonumber(ARGV[1]), tonumber(ARGV[2])

local ready, running, oldest, workers, names = 0, 0, '', 0, {}
if redis.call('EXISTS', stream) == 1 then
  local g = groupinfo(stream)
  local last = '0-0'
  if g then running, last = g.pending, g.last end
  if g and g.lag then
    ready = g.lag
  else
    -- No lag: count the entries up to the last delivered one, usually few
    -- (recovery trims those finished), and take them from the length; if
    -- there are too many, count the ready ones instead, up to bound.
    local below, from, ok = 0, '-', true
    if last ~= '0-0' then
      while true do
        local es = redis.call('XRANGE', stream, from, last, 'COUNT', 1000)
        below = below + #es
        if #es < 1000 then break end
        if below >= bound then ok = false break end
        from = '(' .. es[#es][1]
      end
    end
    if ok then
      ready = redis.call('XLEN', stream) - below
    else
      from = after(last)
      while ready < bound do
        local es = redis.call('XRANGE', stream, from, '+', 'COUNT', 1000)
        ready = ready + #es
        if #es < 1000 then break end
        from = '(' .. es[#es][1]
      end
    end
  end
  local first = redis.call('XRANGE', stream, after(last), '+', 'COUNT', 1)
  if first[1] then oldest = first[1][1] end
  if g then
    for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, 'taskware')) do
      local f = {}
      for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
      if f['name'] ~= 'taskware:recover' and f['idle'] and f['idle'] < live_window then
        workers = workers + 1
        names[workers] = f['name']
      end
    end
  end
end
local dead_count = 0
if redis.call('EXISTS', dead) == 1 then dead_count = redis.call('XLEN', dead) end
local t = redis.call('TIME')
local out = {ready, running, redis.call('ZCARD', delayed), dead_count, oldest, workers, t[1], t[2], redis.call('ZCARD', KEYS[4]),
  tonumber(redis.call('GET', KEYS[5]) or '0')}
if ARGV[3] == '1' then out[11] = names end
return out
