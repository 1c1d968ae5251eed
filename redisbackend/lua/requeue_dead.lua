-- requeue_dead.lua, after lib/entry.lua and lib/groups.lua:
-- Queue.RequeueDead. Each dead
-- letter chosen goes back to the stream as a fresh entry (attempt 1,
-- delivery 1, no last failure), or, a grouped task's (its state's "g"),
-- to its group (lib/groups.lua), its task's state set to queued (made
-- again if it expired), and leaves the dead letters. A letter that
-- cannot be read, whose task is known again under another status
-- (enqueued anew since), or that is a workflow step's (its state names
-- a workflow: RetryStep runs it again, in its workflow), stays. Returns {requeued task IDs, entries
-- left}. Called twice, it finds nothing more to do; the answer is kept in
-- reply for reply_ttl, so the call sent again (its reply lost) returns it.
-- The states' keys are made of state_prefix and the IDs the script reads:
-- they share the queue's hash tag.
--
-- KEYS[1]  stream        the queue's stream
-- KEYS[2]  dead          the queue's dead letters
-- KEYS[3]  delayed       the queue's delayed set
-- KEYS[4]  reply         this call's answer, under its nonce
-- ARGV[1]  state_prefix  the queue's task states' keys, but for the ID
-- ARGV[2]  bound         the most dead letters to look at
-- ARGV[3]  reply_ttl     how long the answer is kept, ms
-- ARGV[4]  gp            the queue's groups' key prefix (lib/groups.lua)
-- ARGV[5]  now           ms, when a grouped task joins its group
-- ARGV[6..] ids          the task IDs or dead letters' entry IDs to
--                        requeue; none: all

local stream, dead, delayed, reply = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local state_prefix, bound, reply_ttl, gp, now = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]

local again = redis.call('GET', reply)
if again then return cjson.decode(again) end
local want
if #ARGV > 5 then
  want = {}
  for i = 6, #ARGV do want[ARGV[i]] = true end
end
local done, kept, from, seen = {}, {}, '-', 0
while seen < bound do
  local es = redis.call('XRANGE', dead, from, '+', 'COUNT', 1000)
  for _, e in ipairs(es) do
    local _, core = unpackmsg(field(e[2], 'm'))
    local id, task
    if core then id, task = coreid(core), coretask(core) end
    if not want or want[e[1]] or (id and want[id]) then
      local state, group
      local ok = id and id ~= '' and task and task ~= ''
      if ok then
        state = state_prefix .. id
        local h = redis.call('HMGET', state, 'status', 'wf', 'g')
        if h[1] and h[1] ~= 'dead' or h[2] then ok = false end
        group = h[3]
      end
      if ok then
        redis.call('HDEL', state, 'kind', 'error', 'result', 'reclaims', 'outages', 'lk', 'le', 'm', 'st', 'wk', 'fin', 'b')
        if group then
          gjoin(gp, state, id, task, group, now, {'task', task, 'attempt', '1', 'm', core})
        else
          redis.call('XADD', stream, '*', 'm', packmsg({'1', '1', '0', '', ''}, core))
          redis.call('HSET', state, 'task', task, 'status', 'queued', 'attempt', '1')
        end
        redis.call('PERSIST', state)
        redis.call('ZREM', delayed, id)
        redis.call('XDEL', dead, e[1])
        done[#done + 1] = id
      else
        kept[#kept + 1] = e[1]
      end
    end
  end
  seen = seen + #es
  if #es < 1000 then break end
  from = '(' .. es[#es][1]
end
redis.call('SET', reply, cjson.encode({done, kept}), 'PX', reply_ttl)
return {done, kept}
