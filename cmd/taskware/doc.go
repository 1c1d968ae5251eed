// Command taskware is taskware's command line: a demo, and commands to
// inspect and repair a backend's queues, locks and results on Redis.
//
// The inspection commands (queues, tasks, task, dead, locks, results,
// workflow, workers, schedules; "taskware help" lists them) read the Redis of --redis
// ($TASKWARE_REDIS_URL, else redis://127.0.0.1:6379/0) under --prefix
// ("taskware:"), print tables, or one JSON document with --json, and take
// the TLS flags the demo takes. dead requeue, dead purge, locks break,
// results purge and schedules add, remove, pause and resume change what
// they name; the rest only read; dead, locks,
// results and tasks alone list. No output or error shows the URL's
// password, and "taskware COMMAND -h" shows one command's help, as does a
// mistake in it. Their JSON rows are the web view's api/ rows
// (internal/rows). tasks of one --queue finds tasks as the web view's
// listing does (--task, --search, --status, --kind, --since, --until), a
// page at a time (queue.Admin.ListTasks): stderr gives the next page's
// command, its --after cursor and every value quoted for a shell, and
// --json gives the cursor as "next". task prints what the queues know of a task, then its
// attempts, as the web view's task page does: a row each with its
// outcome, kind, worker, start, duration and error cut to one line;
// --stack prints each panic's error and stack in full, and --json has
// every attempt, stacks included.
// workflow ID prints what the queues know of a workflow (queue.Workflows):
// its status, progress, the step that failed it, and a row per step with
// its status, attempt, kind, error and parents, as the web view's workflow
// page shows them; workflow retry ID STEP runs the failed step again, and
// workflow cancel ID cancels the workflow.
// schedules lists the stored schedule entries (queue.Schedules), paused or
// not, with their next tick (a running scheduler's, else an "every"
// spec's), and the entries running schedulers publish; schedules add,
// remove, pause and resume change the stored ones, which every scheduler
// started with schedule.Stored picks up within a second or so. add takes
// the arguments as JSON, stored as worker.Enqueue encodes them with the
// default codec; it reads an "every" spec as the schedulers do, and a cron
// spec only by its shape: cron is contrib/cron's, a module of its own that
// this command does not import, and the schedulers given its parser read
// the spec, reporting one they refuse.
//
// What they print comes from Redis, written by whoever enqueues: every
// control character in it (C0, DEL, C1, bidirectional controls) is shown
// as a visible escape ("\x1b", "\u202e"), by one helper (visible) and a
// last pass over every output and error; cells are cut between
// characters. A command that finds nothing notes on stderr when its
// --prefix holds no keys, with the prefixes of taskware's keys a bounded
// SCAN finds.
//
// Its first command, demo, shows the problem taskware exists to solve,
// through a real worker. It enqueues a few hundred "report" tasks, one
// report per account at a time, for four accounts, so that many find their
// account's lock held; a few expire before they start, some fail once and
// are retried, and a few always fail and end dead-lettered. It runs this
// workload under two policies that differ only in how they handle the lock
// and the result store:
//
//   - taskware: StoreResult(IgnoreErrors(lock.ErrLocked)), Expires, Retry,
//     SkipLocked, WithLockFunc: contention is a skip, and is never stored;
//   - huey-like: StoreResult of every outcome, Expires, Retry,
//     WithLockFunc: contention is a "locked" failure, stored like any other,
//     as Huey's lock_task and result store do.
//
// It shows its progress, then a table of the outcomes its handles report
// (ran, skipped as locked or expired, failed as locked or dead-lettered),
// the retries, what each store holds, and the worker's events counted as
// a metrics subscriber counts them. Then three schedulers share one
// periodic report (each tick enqueued once; a run that finds the last one
// going is skipped), and a burst of emails goes out under a rate limit:
//
//	go run ./cmd/taskware demo                      # on an embedded miniredis
//	go run ./cmd/taskware demo --tasks 1000 --redis redis://127.0.0.1:6379/0
//
// With --redis it runs on a real Redis; a rediss:// URL, or any of the
// flags --tls-ca FILE, --tls-cert FILE with --tls-key FILE and
// --tls-server-name NAME (with a redis:// URL too), connects over TLS 1.2 or
// later. No message shows the URL's password.
//
// `demo --keep --redis URL` leaves its keys behind, with reports waiting
// and a lock held for an hour, and prints the `taskware web` command that
// shows them. `taskware web` serves the web view (package web) of a
// backend: on 127.0.0.1:8080 by default, --read-only, --basic-auth.
//
// Every key the demo writes starts with a random prefix
// ("taskware-demo:<random>:"), and the demo deletes them when it ends, the
// locks' fence counters included.
package main
