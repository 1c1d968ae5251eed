-- lib/group.lua: the taskware consumer group of a stream.
--
--   groupinfo(stream)  {pending, last (delivered ID), lag}, or nil if the
--                      group does not exist. lag is nil where Redis gives
--                      none (before 7.0), or where it cannot tell (after
--                      an XDEL of an unread entry; miniredis gives a wrong
--                      one, without "entries-read").
--   after(last)        the first ID after last, for XRANGE
--   idless(a, b)       whether entry ID a comes before b

local function groupinfo(stream)
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == 'taskware' then
      local lag = f['lag']
      if type(lag) ~= 'number' or type(f['entries-read']) ~= 'number' then lag = nil end
      return {pending = f['pending'], last = f['last-delivered-id'], lag = lag}
    end
  end
end

local function after(last)
  if not last or last == '0-0' then return '-' end
  return '(' .. last
end

-- idless(a, b): whether stream entry ID a comes before b.
local function idless(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  if not ams or not bms then return false end
  ams, bms = tonumber(ams), tonumber(bms)
  if ams ~= bms then return ams < bms end
  return tonumber(aseq) < tonumber(bseq)
end
