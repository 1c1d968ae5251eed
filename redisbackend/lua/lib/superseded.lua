-- lib/superseded.lua: what a finish answers when the XACK of its entry
-- acknowledged nothing.
--
--   superseded(state, entry)  2 if Recover took entry over (the state's
--                             "tk" names it, see recover.lua): a later
--                             delivery's finish ended the task, or will;
--                             0 if not: this finish ran already, and was
--                             sent again after a lost reply

local function superseded(state, entry)
  local tk = redis.call('HGET', state, 'tk')
  if tk and string.find(' ' .. tk .. ' ', ' ' .. entry .. ' ', 1, true) then return 2 end
  return 0
end
