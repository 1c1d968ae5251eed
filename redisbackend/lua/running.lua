-- running.lua, after lib/group.lua: the running tasks of Queue.Tasks and
-- Queue.ListTasks. Reads only. Returns the first count pending entries
-- (after the entry cursor if one is given), each as {id, consumer, idle
-- ms, fields} (no fields if the entry is gone).
--
-- KEYS[1]  stream  the queue's stream
-- ARGV[1]  count   the most entries to return
-- ARGV[2]  cursor  (optional) an entry ID: return only the entries after it

local stream = KEYS[1]
local count, cursor = tonumber(ARGV[1]), ARGV[2]

if redis.call('EXISTS', stream) == 0 or not groupinfo(stream) then return {} end
local start = '-'
if cursor and cursor ~= '' then
  -- Inclusive, the cursor's own entry dropped below: XPENDING's exclusive
  -- "(" needs Redis 6.2.
  start = cursor
  count = count + 1
end
local out = {}
for _, p in ipairs(redis.call('XPENDING', stream, 'taskware', start, '+', count)) do
  if p[1] ~= cursor then
    local e = redis.call('XRANGE', stream, p[1], p[1])
    local f = {}
    if e[1] then f = e[1][2] end
    out[#out + 1] = {p[1], p[2], p[3], f}
  end
end
if #out > tonumber(ARGV[1]) then out[#out] = nil end
return out
