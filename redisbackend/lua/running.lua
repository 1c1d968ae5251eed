-- running.lua, after lib/group.lua and lib/entry.lua: the running tasks of
-- Queue.Tasks and Queue.ListTasks. Reads only. Returns the first count
-- pending entries (after the entry cursor if one is given), each as {id,
-- consumer, idle ms, fields, started µs, progress} (no fields if the entry
-- is gone; started "" if its state has none; progress the state's done,
-- total, message and time of report, as progress.lua writes them, each
-- false if it has none). The states' keys are made of
-- state_prefix and the tasks' IDs: they share the queue's hash tag.
--
-- KEYS[1]  stream        the queue's stream
-- ARGV[1]  count         the most entries to return
-- ARGV[2]  cursor        an entry ID: return only the entries after it; "" from the first
-- ARGV[3]  state_prefix  the queue's task states' keys, but for the ID

local stream = KEYS[1]
local count, cursor, state_prefix = tonumber(ARGV[1]), ARGV[2], ARGV[3]

if redis.call('EXISTS', stream) == 0 or not groupinfo(stream) then return {} end
local start = '-'
if cursor ~= '' then
  -- Inclusive, the cursor's own entry dropped below: XPENDING's exclusive
  -- "(" needs Redis 6.2.
  start = cursor
  count = count + 1
end
local out = {}
for _, p in ipairs(redis.call('XPENDING', stream, 'taskware', start, '+', count)) do
  if p[1] ~= cursor then
    local e = redis.call('XRANGE', stream, p[1], p[1])
    local f, started, progress = {}, '', {}
    if e[1] then
      f = e[1][2]
      local _, core = unpackmsg(field(f, 'm'))
      local id = core and coreid(core)
      if id then
        local h = redis.call('HMGET', state_prefix .. id, 'st', 'pd', 'pt', 'pm', 'pa')
        started, progress = h[1] or '', {h[2], h[3], h[4], h[5]}
      end
    end
    out[#out + 1] = {p[1], p[2], p[3], f, started, progress}
  end
end
if #out > tonumber(ARGV[1]) then out[#out] = nil end
return out
