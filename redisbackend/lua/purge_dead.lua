-- purge_dead.lua, after lib/entry.lua: Queue.PurgeDead. Deletes the dead
-- letters chosen, or all of them, and returns how many it deleted.
--
-- KEYS[1]   dead   the queue's dead letters
-- ARGV[1]   bound  the most dead letters to look at
-- ARGV[2..] ids    the task IDs or entry IDs to delete; none: all

local dead = KEYS[1]
local bound = tonumber(ARGV[1])

if #ARGV == 1 then
  if redis.call('EXISTS', dead) == 0 then return 0 end
  local n = redis.call('XLEN', dead)
  redis.call('DEL', dead)
  return n
end
local want = {}
for i = 2, #ARGV do want[ARGV[i]] = true end
local n, from, seen = 0, '-', 0
while seen < bound do
  local es = redis.call('XRANGE', dead, from, '+', 'COUNT', 1000)
  for _, e in ipairs(es) do
    local _, core = unpackmsg(field(e[2], 'm'))
    local id
    if core then id = coreid(core) end
    if want[e[1]] or (id and want[id]) then
      n = n + redis.call('XDEL', dead, e[1])
    end
  end
  seen = seen + #es
  if #es < 1000 then break end
  from = '(' .. es[#es][1]
end
return n
