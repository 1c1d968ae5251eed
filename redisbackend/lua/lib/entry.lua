-- lib/entry.lua: a stream entry's one field, "m" (see encodeMessage in
-- encoding.go): "m1", a header of five netstrings (attempt, deliveries,
-- outages, last failure's kind and error), then the message's core, which
-- the client encodes and the scripts never read but for its first two
-- parts, the task's ID and name.
--
--   packmsg(h, core)  the field, of header h (a list of five) and core
--   unpackmsg(v)      header, core; nil if v is not such a field
--   coreid(core)      the task's ID
--   coretask(core)    the task's name
--   corebatch(core)   a batch's members' IDs, its core's ninth part (see
--                     flush_groups.lua); nil if it has none
--   field(f, name)    the value of field name in f, a flat list of an
--                     entry's fields and values

local function ns(s)
  if s == '' then return '0:' end -- a number made a string costs a sprintf
  return #s .. ':' .. s
end

local function packmsg(h, core)
  return 'm1' .. ns(h[1]) .. ns(h[2]) .. ns(h[3]) .. ns(h[4]) .. ns(h[5]) .. core
end

local function unpackmsg(v)
  if not v or string.sub(v, 1, 2) ~= 'm1' then return nil end
  local pos, h = 3, {}
  for i = 1, 5 do
    local n, at = string.match(v, '^(%d+):()', pos)
    if not n then return nil end
    h[i] = string.sub(v, at, at + n - 1)
    pos = at + n
  end
  return h, string.sub(v, pos)
end

local function coreid(core)
  local n, at = string.match(core, '^(%d+):()')
  if n then return string.sub(core, at, at + n - 1) end
end

local function coretask(core)
  local n, at = string.match(core, '^(%d+):()')
  if not n then return nil end
  local m, at2 = string.match(core, '^(%d+):()', at + n)
  if m then return string.sub(core, at2, at2 + m - 1) end
end

local function field(f, name)
  for i = 1, #f, 2 do
    if f[i] == name then return f[i + 1] end
  end
end

local function corebatch(core)
  local pos, part = 1, nil
  for _ = 1, 9 do
    local n, at = string.match(core, '^(%d+):()', pos)
    if not n then return nil end
    part, pos = string.sub(core, at, at + n - 1), at + n
  end
  local ids, p = {}, 1
  while p <= #part do
    local n, at = string.match(part, '^(%d+):()', p)
    if not n then return nil end
    ids[#ids + 1], p = string.sub(part, at, at + n - 1), at + n
  end
  return ids
end
