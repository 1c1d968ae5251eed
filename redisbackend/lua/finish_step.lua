-- finish_step.lua, after the locker's release, lib/entry.lua,
-- lib/count.lua, lib/superseded.lua, lib/attempt.lua, lib/ended.lua,
-- lib/finish.lua and lib/flow.lua: Queue.Finish of a workflow step that
-- ends. It ends the step as finish.lua ends a task (finish()), and only if
-- that acknowledged its entry, in the same run: the step's end in its
-- workflow, its children's inputs, and the release of each child whose
-- parents are now all done; or, for a failure that is not absorbed, the
-- workflow's failure and the cancel of its steps not started (lib/flow.lua).
-- A step that fails keeps its core ("m"), for a retry of the workflow.
-- Returns what finish() does: 1, 0 (sent again) or 2 (taken over): a
-- finish that acknowledged nothing releases nothing; or {1, status} if
-- this finish ended the workflow, status "succeeded" or "failed" (told
-- once: a finish sent again returns 0).
--
-- KEYS and ARGV[1..18] as finish.lua's, then the lock tokens, then, at s
-- (19 + the number of tokens):
-- ARGV[s]    prefix    the backend's key prefix
-- ARGV[s+1]  workflow  the step's workflow
-- ARGV[s+2]  home      the workflow's queue
-- ARGV[s+3]  name      the step's name
-- ARGV[s+4]  result    the step's result, encoded, if it succeeded

local r, h, letter = finish({'wp', 'wc', 'wn'})
if r ~= 1 or not h then return r end
local s = 19 + #KEYS - 6
local prefix, wf, home, name, result = ARGV[s], ARGV[s + 1], ARGV[s + 2], ARGV[s + 3], ARGV[s + 4]
local stream, state, entry, status, kind, err = KEYS[1], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local state_ttl, channel, id, at, tag = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[14]

flowinit(prefix, at, state_ttl, channel)
local q = string.sub(tag, 2, -2)
if h[9] ~= '0' then redis.call('PEXPIRE', inputskey(q, id), state_ttl) end
if status == 'dead' or status == 'canceled' then -- finish() kept a failed one's
  local e = redis.call('XRANGE', stream, entry, entry)
  local core
  if e[1] then core = select(2, unpackmsg(field(e[1][2], 'm'))) end
  if core then redis.call('HSET', state, 'm', core) end
  -- A dead step's letter ("dl"), for its RetryStep to take back.
  if letter then redis.call('HSET', state, 'dl', letter) end
end
local W = wfref(home, wf) -- its record read only if need be (lib/flow.lua)
local ended = stepsended(W, {q = q, name = name, status = status, kind = kind, err = err, value = result, wp = h[7] or '', wc = h[8] or ''})
if ended then return {1, ended} end
return 1
