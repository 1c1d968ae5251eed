-- ready.lua, after lib/group.lua: the ready tasks of Queue.Tasks and
-- Queue.ListTasks. Reads only. Returns {entries, last, more, read}: the first
-- count entries after the group's last delivered one (and after the entry
-- cursor, if one is given) whose fields contain every needle; the last
-- entry read, "" if none; 1 if the stream may hold more after it; and how
-- many entries it read. It
-- reads at most scan entries, in batches of count, so that a search over
-- a long stream is done server-side, without a reply for each entry. The
-- caller checks the entries returned again: a needle may be found in a
-- field that the search does not mean.
--
-- KEYS[1]    stream   the queue's stream
-- ARGV[1]    count    the most entries to return
-- ARGV[2]    cursor   an entry ID: return only the entries after it; "" for none
-- ARGV[3]    scan     the most entries to read
-- ARGV[4]    lower    a needle to find in the fields' lower-cased text; "" for none
-- ARGV[5..]  needles  needles to find in the fields' text, as they are

local stream = KEYS[1]
local count, cursor, scan, lower = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local needles = {unpack(ARGV, 5)}

if redis.call('EXISTS', stream) == 0 then return {{}, '', 0, 0} end
local g = groupinfo(stream)
local last
if g then last = g.last end
-- The later of the two: entries up to the last delivered one are taken.
if cursor ~= '' and (not last or idless(last, cursor)) then last = cursor end

local function matches(fields)
  local text = table.concat(fields, '\n')
  if lower ~= '' and not string.find(string.lower(text), lower, 1, true) then return false end
  for _, n in ipairs(needles) do
    if not string.find(text, n, 1, true) then return false end
  end
  return true
end

local filtered = lower ~= '' or #needles > 0
local out, read, seen = {}, 0, ''
while read < scan do
  local batch = redis.call('XRANGE', stream, after(last), '+', 'COUNT', count)
  for _, e in ipairs(batch) do
    read = read + 1
    seen = e[1]
    if not filtered or matches(e[2]) then
      out[#out + 1] = e
      if #out == count then return {out, seen, 1, read} end
    end
  end
  if #batch < count then return {out, seen, 0, read} end
  last = seen
end
return {out, seen, 1, read}
