-- cancel_workflow.lua, after lib/entry.lua, lib/count.lua, lib/ended.lua
-- and lib/flow.lua: Queue.CancelWorkflow. A running workflow ends
-- canceled: its steps not started end canceled (kind workflow.canceled),
-- and the workers running the others are told to cancel them, as
-- cancel.lua tells them ("cx", and the notice "x<tag><id>"). Returns
-- {"canceled", steps canceled, steps told}, {"ended"} for a workflow ended
-- already, or {"missing"}. The answer stays in the record under the
-- call's nonce ("cn", "ca"): sent again, the call gets it again.
--
-- KEYS[1]  record     the workflow's record (lib/flow.lua)
-- KEYS[2]  steps      its steps
-- KEYS[3]  ended      its ended steps
-- ARGV[1]  prefix     the backend's key prefix
-- ARGV[2]  workflow   the workflow's ID
-- ARGV[3]  home       its queue
-- ARGV[4]  nonce      this call's
-- ARGV[5]  at         now, µs
-- ARGV[6]  state_ttl  how long an ended workflow and its steps are kept, ms
-- ARGV[7]  channel    the backend's Pub/Sub channel

local record = KEYS[1]
local prefix, wf, home, nonce, at, state_ttl, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]

local h = redis.call('HMGET', record, 'status', 'cn', 'ca')
if not h[1] then return {'missing'} end
if h[2] == nonce and h[3] then return cjson.decode(h[3]) end
if h[1] ~= 'running' then return {'ended'} end
flowinit(prefix, at, state_ttl, channel)
local W = wfopen(home, wf)
wfend(W, 'canceled')
local canceled, sent = cancelall(W, 'workflow.canceled', true)
local answer = {'canceled', canceled, sent}
redis.call('HSET', record, 'cn', nonce, 'ca', cjson.encode(answer))
return answer
