-- wait_workflow.lua: a look of Queue.WaitWorkflow. Returns the workflow's
-- status, or nil if it is unknown, and marks it waited for ("w"), so that
-- the script that ends it announces it (lib/flow.lua).
--
-- KEYS[1]  record  the workflow's record

local record = KEYS[1]

local status = redis.call('HGET', record, 'status')
if status then redis.call('HSETNX', record, 'w', '1') end
return status
