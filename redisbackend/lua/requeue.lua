-- requeue.lua, after the locker's release, lib/entry.lua, lib/count.lua,
-- lib/superseded.lua, lib/attempt.lua and lib/requeue.lua: Queue.Finish of a run scheduled again, a retry or a
-- "try again later". It releases the run's locks, then, only if the XACK
-- of its entry acknowledged it (see finish.lua), moves the message's core
-- from the entry to the task's state, to wait in the delayed set until
-- run_at, writes the record of the run's own StoreResult (the state says
-- whether the run's result was stored), and counts the
-- retry or reschedule. Returns 1, or, if the entry was finished already,
-- 0 or 2 (see finish.lua).
--
-- KEYS[1]    stream      the queue's stream
-- KEYS[2]    delayed     the queue's delayed set
-- KEYS[3]    state       the task's state
-- KEYS[4]    record      the task's record, or its state again if none
-- KEYS[5]    counts      the outcome counts of now's minute (lib/count.lua)
-- KEYS[6..]  locks       the locks to release
-- ARGV[1]    entry       the delivery's stream entry
-- ARGV[2]    run_at      when the task is due again, ms
-- ARGV[3]    attempt     the next run's attempt
-- ARGV[4]    kind        the run's error's kind
-- ARGV[5]    error       the run's error
-- ARGV[6]    id          the task's ID
-- ARGV[7]    retry       "1" for a retry: the next run is told of this failure
-- ARGV[8]    outage      "1" if the run failed for an outage
-- ARGV[9]    record      the record, encoded; "" if none
-- ARGV[10]   record_ttl  ms
-- ARGV[11]   channel     the backend's Pub/Sub channel
-- ARGV[12]   tag         the queue's hash tag, "{<queue>}"
-- ARGV[13]   result      "", or "stored" or "lost": of records written apart
-- ARGV[14]   run         the delivery's attempt, for its history (lib/attempt.lua)
-- ARGV[15]   stack       a panic's stack, "" if none
-- ARGV[16]   at          now, µs
-- ARGV[17]   worker      the worker that ran it, "" if unknown
-- ARGV[18]   started     when it started, µs
-- ARGV[19..] tokens      the locks' owner tokens, in the order of KEYS[6..]

local stream, delayed, state, record_key, counts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local entry, run_at, attempt, kind, err, id, retry, outage = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local record, record_ttl, channel, tag, result = ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local run, stack, at, worker, started = ARGV[14], ARGV[15], ARGV[16], ARGV[17], ARGV[18]

release(6, 19)
if redis.call('XACK', stream, 'taskware', entry) == 0 then return superseded(state, entry) end
local e = redis.call('XRANGE', stream, entry, entry)
local core
if e[1] then core = select(2, unpackmsg(field(e[1][2], 'm'))) end
requeued({state = state, delayed = delayed, counts = counts, record_key = record_key, id = id, run_at = run_at,
  attempt = attempt, kind = kind, err = err, retry = retry, outage = outage, record = record, record_ttl = record_ttl,
  channel = channel, tag = tag, result = result, run = run, stack = stack, at = at, worker = worker, started = started,
  core = core})
return 1
