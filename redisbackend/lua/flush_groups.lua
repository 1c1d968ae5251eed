-- flush_groups.lua, after lib/entry.lua and lib/groups.lua:
-- Queue.FlushGroups. For each policy's task, makes batches of the groups
-- due at now (lib/groups.lua): a group of at least size members gives a
-- batch of its size oldest, again while size remain; a group whose oldest
-- member joined delay ms ago, or whose newest joined grace ms ago (0: not
-- used), gives all its members, at most size a batch. A batch is a
-- message of its own, added to the stream like any: its ID "batch-<n>"
-- (on partition i >= 1 of a split queue "batch-<i>-<n>", so that IDs stay
-- unique over the queue's partitions), n from the queue's count of batches (never reused: an ID a task holds
-- is passed over), its core its ID, the members' task, now (µs) as its
-- enqueue time, empty expiry, payload, headers, step and inputs, then its
-- members' IDs (encodeMessage); its state, under its ID, is queued, as a
-- task's. Each member's state names its batch ("b"). Members leave their
-- group as they join a batch, so a call sent again after a lost reply
-- makes no member part of two batches; a call that made some keeps its
-- answer a minute under its nonce (reply), and sent again returns it.
-- Makes at most budget batches, and starts none once it has put
-- member_budget members in batches (Redis runs nothing else meanwhile),
-- and returns how many it made.
--
-- KEYS[1]      stream  the queue's stream
-- KEYS[2]      seq     the queue's count of batches
-- KEYS[3]      reply   this call's answer, kept a minute
-- KEYS[3p+1..] the p-th policy's task's gfirst, glast and gsize (p = 1, 2, ...)
-- ARGV[1]      now     ms
-- ARGV[2]      now_us  now, µs
-- ARGV[3]      gp      the queue's groups' key prefix (lib/groups.lua)
-- ARGV[4]      budget  the most batches to make
-- ARGV[5]      member_budget  the members past which it starts no batch
-- ARGV[6]      stem    what batch IDs start with: "batch-", or "batch-<i>-"
-- ARGV[4p+3..4p+6]     the p-th policy: task, size, delay (ms), grace (ms)

local stream, seq, reply = KEYS[1], KEYS[2], KEYS[3]
local answered = redis.call('GET', reply)
if answered then return tonumber(answered) end
local now, now_us, gp, budget = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local member_budget, stem = tonumber(ARGV[5]), ARGV[6]
local sp = gp .. 'task:'
local made, members_made = 0, 0

local function batch(task, ids)
  local bid
  repeat bid = stem .. redis.call('INCR', seq) until redis.call('EXISTS', sp .. bid) == 0
  local members = {}
  for i, id in ipairs(ids) do
    members[i] = ns(id)
    redis.call('HSET', sp .. id, 'b', bid)
  end
  local core = ns(bid) .. ns(task) .. ns(now_us) .. ns('') .. ns('') .. ns('') .. ns('') .. ns('') .. ns(table.concat(members))
  local e = redis.call('XADD', stream, '*', 'm', packmsg({'1', '1', '0', '', ''}, core))
  redis.call('HSET', sp .. bid, 'task', task, 'status', 'queued', 'attempt', 1, 'e', e, 'nb', #ids)
  made, members_made = made + 1, members_made + #ids
  if members_made >= member_budget then budget = made end -- no more this call
end

-- flush makes batches of size of the groups of keys: while whole ones
-- remain, or, if all, of what remains.
local function flush(task, keys, size, all)
  for _, key in ipairs(keys) do
    while made < budget do
      local n = redis.call('LLEN', glist(gp, task, key))
      if n == 0 or (n < size and not all) then break end
      batch(task, gtake(gp, sp, task, key, size))
    end
  end
end

for p = 1, (#ARGV - 6) / 4 do
  local a = 4 * p + 3
  local task, size, delay, grace = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local first, last, sizes = KEYS[3 * p + 1], KEYS[3 * p + 2], KEYS[3 * p + 3]
  if made >= budget then break end
  flush(task, redis.call('ZRANGEBYSCORE', sizes, size, '+inf', 'LIMIT', 0, budget - made), size, false)
  if made < budget then
    flush(task, redis.call('ZRANGEBYSCORE', first, '-inf', now - delay, 'LIMIT', 0, budget - made), size, true)
  end
  if grace > 0 and made < budget then
    flush(task, redis.call('ZRANGEBYSCORE', last, '-inf', now - grace, 'LIMIT', 0, budget - made), size, true)
  end
end
if made > 0 then redis.call('SET', reply, made, 'PX', 60000) end
return made
