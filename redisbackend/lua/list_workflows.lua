-- list_workflows.lua: a page of Queue.ListWorkflows, newest first, read
-- from the home queue's index of workflows (queue:{q}:workflows, scored
-- by creation time in µs; ties sort by ID, descending, as ZRANGE REV
-- reads them). Goes on after the cursor (pos, after): the entries newer
-- than pos are skipped by count, those of score pos down to after by
-- comparison. Reads at most scan entries, in batches, and returns the
-- first count + 1 whose record matches status: the caller keeps count,
-- and the extra says that there is more. An entry whose record expired
-- is dropped from the index as it is read (see lib/flow.lua).
-- Returns {more, last, last_score, rows}: 1 if the index may hold more
-- after the last entry read, that entry and its score ("" if none), and
-- the rows, each {id, score, ended, name, status, n, fin, out, fstep,
-- fkind, ferr} (ended: the steps that ended; the record's fields, false
-- if absent). The records' keys are made of the prefixes and the IDs in
-- the index: they share its hash tag.
--
-- KEYS[1]  index         the queue's index of workflows
-- ARGV[1]  wf_prefix     the queue's workflow records' keys, but for the ID
-- ARGV[2]  ended_prefix  their ended steps' keys, but for the ID
-- ARGV[3]  count         the most rows the caller keeps
-- ARGV[4]  scan          the most entries to read
-- ARGV[5]  pos           the cursor's score; "" to start at the newest
-- ARGV[6]  after         the cursor's workflow ID
-- ARGV[7]  status        keep this status only; "" for any

local index, wf_prefix, ended_prefix = KEYS[1], ARGV[1], ARGV[2]
local count, scan, pos, after, status = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]

-- below reports whether a sorts before b, byte by byte, as Redis sorts
-- the members of a score.
local function below(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- start is the rank of the first entry of the cursor's score (the first
-- entry if none); at that score, as a number.
local start, at = 0, nil
if pos ~= '' then
  start, at = redis.call('ZCOUNT', index, '(' .. pos, '+inf'), tonumber(pos)
end

local batch = count + 1
if status ~= '' then batch = 1000 end
local out, read, last, last_score = {}, 0, '', ''
while read < scan do
  local entries = redis.call('ZRANGE', index, start, start + batch - 1, 'REV', 'WITHSCORES')
  local gone = 0
  for i = 1, #entries, 2 do
    local id, score = entries[i], entries[i + 1]
    if not at or tonumber(score) ~= at or below(id, after) then
      read, last, last_score = read + 1, id, score
      local record = wf_prefix .. id
      local s = redis.call('HGET', record, 'status')
      if not s then
        redis.call('ZREM', index, id)
        gone = gone + 1
      elseif status == '' or s == status then
        local v = redis.call('HMGET', record, 'name', 'status', 'n', 'fin', 'out', 'fstep', 'fkind', 'ferr')
        out[#out + 1] = {id, score, redis.call('HLEN', ended_prefix .. id), unpack(v)}
        if #out > count then return {1, last, last_score, out} end
      end
    end
  end
  if #entries < 2 * batch then return {0, last, last_score, out} end
  start = start + batch - gone
end
return {1, last, last_score, out}
