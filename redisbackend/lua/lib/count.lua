-- lib/count.lua: the counts of a queue's outcomes (see Rates), a hash per
-- minute, kept for 25 hours (Rates reads the last 24, queue.RatesKept).
--
--   count(counts, field, n) counts n (nil: one) in field of the minute's hash
--   outcome(status, kind)   the field of an end: its status, or
--                           "skipped:<kind>" for a skip

local function count(counts, field, n)
  redis.call('HINCRBY', counts, field, n or 1)
  redis.call('PEXPIRE', counts, 90000000)
end

local function outcome(status, kind)
  if status ~= 'skipped' then return status end
  return 'skipped:' .. kind
end
