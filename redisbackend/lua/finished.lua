-- finished.lua: a page of a queue's ended tasks, the latest first, read
-- from its index (lib/ended.lua), for Queue.Tasks and Queue.ListTasks.
-- Reads only. Goes on after the cursor (pos, after): right after entry
-- after if it still has score pos, else after score pos. Reads at most
-- scan entries, in batches of count, and returns the first count whose
-- state still says ended and passes the filters, so that a filtered
-- listing of a long index is done server-side, without a reply for each
-- entry. An entry whose state expired, or whose task was requeued since,
-- is read and skipped. The caller checks the rows again. Returns {last,
-- last_score, rows, read, more}: the last entry read and its score (""
-- if none), the rows, each {id, score, values} (the values of the fields
-- asked for, false for those it lacks), how many entries it read, and 1
-- if the index may hold more after the last. The states' keys are made
-- of state_prefix and the IDs in the index: they share its hash tag.
--
-- KEYS[1]    ended         the queue's ended tasks
-- ARGV[1]    state_prefix  the queue's task states' keys, but for the ID
-- ARGV[2]    count         the most rows to return
-- ARGV[3]    scan          the most entries to read
-- ARGV[4]    pos           the cursor's score; "" to start at the latest
-- ARGV[5]    after         the cursor's task ID
-- ARGV[6]    status        keep this status only; "" for any
-- ARGV[7]    kind          keep this error kind only; "" for any
-- ARGV[8]    task          keep this task name only; "" for any
-- ARGV[9]    lower         a needle to find in the lower-cased ID or task
--                          name; "" for none
-- ARGV[10..] fields        the fields of each ended state to return: the
--                          first three are status, kind and task

local ended, state_prefix, count, scan = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local pos, after, status, kind, task, lower = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local fields = {unpack(ARGV, 10)}
local terminal = {succeeded = true, failed = true, skipped = true, dead = true, canceled = true}

-- start is the rank of the first entry after the cursor.
local start = 0
if pos ~= '' then
  local s = redis.call('ZSCORE', ended, after)
  if s and tonumber(s) == tonumber(pos) then
    start = redis.call('ZRANK', ended, after) + 1
  else
    start = redis.call('ZCOUNT', ended, '-inf', pos)
  end
end

local function keep(id, v)
  if not terminal[v[1]] then return false end
  if status ~= '' and v[1] ~= status then return false end
  if kind ~= '' and v[2] ~= kind then return false end
  if task ~= '' and v[3] ~= task then return false end
  return lower == '' or string.find(string.lower(id .. '\n' .. (v[3] or '')), lower, 1, true) ~= nil
end

local out, read, last, last_score = {}, 0, '', ''
while read < scan do
  local batch = redis.call('ZRANGE', ended, start + read, start + read + count - 1, 'WITHSCORES')
  for i = 1, #batch, 2 do
    local id, score = batch[i], batch[i + 1]
    read, last, last_score = read + 1, id, score
    local v = redis.call('HMGET', state_prefix .. id, unpack(fields))
    if keep(id, v) then
      out[#out + 1] = {id, score, v}
      if #out == count then return {last, last_score, out, read, 1} end
    end
  end
  if #batch < 2 * count then return {last, last_score, out, read, 0} end
end
return {last, last_score, out, read, 1}
