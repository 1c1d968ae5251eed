-- lib/count.lua: the counts of a queue's outcomes (see Rates), a hash per
-- minute, kept for 25 hours (Rates reads the last 24, queue.RatesKept).
--
--   count(counts, field, n) counts n (nil: one) in field of the minute's hash
--   outcome(status, kind)   the field of an end: its status, or
--                           "skipped:<kind>" for a skip

local function count(counts, field, n)
  -- The TTL is set when the field is new, and so when the key is: a
  -- minute's hash is written only in its minute, so it outlives its last
  -- count by 25 hours less at most a minute, still more than Rates reads.
  if redis.call('HINCRBY', counts, field, n or 1) == (n or 1) then
    redis.call('PEXPIRE', counts, 90000000)
  end
end

local function outcome(status, kind)
  if status ~= 'skipped' then return status end
  return 'skipped:' .. kind
end
