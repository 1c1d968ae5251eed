-- lib/attempt.lua: a task's history of runs (see Admin.Attempts), kept in
-- its state hash, so that it lives as long as the state: "an" counts the
-- runs recorded, and "a<n>" holds run n, JSON; only the last 20
-- (queue.MaxAttempts) are kept.
--
--   add_attempt(state, before, run, status, retry, kind, err, stack, at,
--               worker, started)
--     records a run that ends now (at, µs), that worker started at
--     started (µs); if worker is "", before, the state's {status, st, wk}
--     as it was before the finish, tells them if the task was running.
--   attemptjson(before, run, status, retry, kind, err, stack, at, worker,
--               started)
--     the record of that run, for a caller that writes it itself, as
--     field "a<n>" with "an" set to n, in a write it makes anyway: the
--     task's end (lib/finish.lua) saves two commands so.

local function attemptjson(before, run, status, retry, kind, err, stack, at, worker, started)
  local a = {a = run, s = status, f = at}
  if kind ~= '' then a.k = kind end
  if err ~= '' then a.e = err end
  if retry == '1' then a.r = true end
  if stack ~= '' then a.x = stack end
  if worker ~= '' then
    a.st, a.w = started, worker
  elseif before[1] == 'running' and before[2] then a.st, a.w = before[2], before[3] or '' end
  return cjson.encode(a)
end

local function add_attempt(state, before, run, status, retry, kind, err, stack, at, worker, started)
  local n = redis.call('HINCRBY', state, 'an', 1)
  redis.call('HSET', state, 'a' .. n, attemptjson(before, run, status, retry, kind, err, stack, at, worker, started))
  if n > 20 then redis.call('HDEL', state, 'a' .. (n - 20)) end
end
