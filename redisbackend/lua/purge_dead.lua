-- purge_dead.lua, after lib/entry.lua: Queue.PurgeDead. Deletes the dead
-- letters chosen, or all of them, and returns how many it deleted. The
-- count is kept in reply for reply_ttl: the call sent again (its reply
-- lost) finds it there, and returns it.
--
-- KEYS[1]   dead       the queue's dead letters
-- KEYS[2]   reply      this call's answer, under its nonce
-- ARGV[1]   bound      the most dead letters to look at
-- ARGV[2]   reply_ttl  how long the answer is kept, ms
-- ARGV[3..] ids        the task IDs or entry IDs to delete; none: all

local dead, reply = KEYS[1], KEYS[2]
local bound, reply_ttl = tonumber(ARGV[1]), ARGV[2]

local again = redis.call('GET', reply)
if again then return tonumber(again) end
local function answer(n)
  redis.call('SET', reply, n, 'PX', reply_ttl)
  return n
end
if #ARGV == 2 then
  if redis.call('EXISTS', dead) == 0 then return answer(0) end
  local n = redis.call('XLEN', dead)
  redis.call('DEL', dead)
  return answer(n)
end
local want = {}
for i = 3, #ARGV do want[ARGV[i]] = true end
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
return answer(n)
