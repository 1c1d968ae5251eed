// Package schedule enqueues tasks periodically: a Scheduler puts a run of
// a task on a queue at each tick of a Schedule, for workers to run. Any
// number of processes may run a Scheduler with the same entries, for
// availability: each tick is enqueued exactly once between them, and one
// that dies loses nothing while another runs.
//
//	s := schedule.New(client)
//	schedule.Add(s, "cleanup", schedule.Every(time.Hour), cleanup, "/tmp")
//	schedule.Add(s, "report", taskcron.MustParse("CRON_TZ=Europe/Paris 0 3 * * *"), report, "daily")
//	go s.Run(ctx)
//
// # Once per tick, across processes
//
// There is no leader and no lock. A tick's task gets an ID made of the
// entry's name and the tick's time (TickID: "cleanup@2026-11-25T10:00:00Z"),
// and is enqueued with worker.ID. The first scheduler's enqueue wins;
// the queue refuses the others' copies with queue.ErrDuplicate, which
// the scheduler counts as done, silently. A tick keeps its own time as its
// ID whenever the scheduler handles it, early in its second or late after
// a stall, so every scheduler names it alike. For that, every process must
// register an entry under the same name, with the same schedule, task and
// queue, and a Schedule must give the same ticks in every process: Every
// is aligned on the Unix epoch, and contrib/cron's expressions are in UTC
// unless given a zone.
//
// Once holds while the queue remembers the ID: a task waiting, running, or
// finished less than its state TTL ago (queue.DefaultStateTTL, a day).
// That is why a scheduler never enqueues a tick older than its catch-up
// window, which is shorter. Enqueued once does not mean run once: a worker
// that dies mid-run has its task taken over and run again (delivery is at
// least once), so a periodic task should be safe to repeat, or hold a
// lock (middleware.WithLock with middleware.SkipLocked, which also keeps a
// run that outlasts its interval from overlapping the next).
//
// # Missed ticks
//
// A scheduler looks for ticks past at its start and after a stall (a
// paused process, a machine that slept, a backend down). Its MissedPolicy
// says what to do with them:
//
//   - CatchUpOnce, the default, enqueues the latest of them once, if it is
//     younger than the catch-up window (DefaultCatchUpWindow, 23 hours),
//     and drops the older ones: a daily report missed while every
//     scheduler was down runs when one is back, once.
//   - Skip enqueues only ticks from now on (less than SkipTolerance late).
//
// With several schedulers running, a tick one of them missed was most
// likely enqueued by another: its catch-up is then a duplicate, refused.
//
// Catching up is from the start of a scheduler too, which surprised a new
// user: the first deploy of a daily entry ran last night's tick at once.
// With Stored, a code entry's catch-up never reaches before the first time
// any scheduler saw its name (queue.Schedules.ScheduleSince records it): a
// first deploy waits for the next tick, and a restart still catches up a
// tick missed while every scheduler was down.
//
// # Expiry
//
// A tick's task expires, by default, at the next tick (worker.ExpiresAt):
// a queue whose workers fell behind then skips its stale ticks instead of
// running a backlog of them, as long as the task's chain has
// middleware.Expires (Expires(0) honours the deadline set at enqueue and
// nothing else). Expiry and NoExpiry change that per entry.
//
// # Errors
//
// An enqueue that fails for another reason than a duplicate (the backend
// down) goes to OnError (slog.Default by default) and is tried again, with
// growing pauses, while the tick is the latest and within its policy; the
// next ticks go on. Bad wiring (an empty or taken entry name, a nil
// schedule, a schedule that never fires) panics at Add with an error
// matching task.ErrInvalidConfig, as the rest of taskware does; bad input
// to Put returns one.
//
// # Schedules changed at run time
//
// Add is a wiring-time call: it panics once Run started, and a code
// entry changes with a deploy. Entries can also live in the backend
// (queue.ScheduleDef), put, paused, resumed and removed from any process
// while the schedulers run: Put, Pause, Resume, Remove and List here, the
// taskware command's schedules, the web view's schedules page. A Scheduler
// given Stored runs them besides its code entries:
//
//	s := schedule.New(client, schedule.Stored(backend.Queue()), schedule.SpecParser(taskcron.Parser()))
//	schedule.Put(ctx, backend.Queue(), "weekly", "0 6 * * mon", report, "all", schedule.OnQueue("reports"))
//
// At each wake (at least once a second) Run reads the entries' version,
// one cheap round trip, and reloads them only when it changed: an entry
// put, changed, paused or removed is picked up within about a second, and
// the others keep their state (their last tick, failures and missed
// count). Ticks are enqueued once as code entries' are, by TickID: every
// scheduler reads the same entries. A stored entry's first tick is the
// first after its Since, when it was put or last resumed: no catch-up of a
// tick from before it existed, nor of those while it was paused. Its ticks
// carry its Args, the task's arguments encoded as worker.Enqueue encodes
// them (Put does that), and expire at the next tick.
//
// Specs are text: "every <duration>" (ParseEvery; Every's String), or what
// the SpecParser reads (contrib/cron's Parser, for cron expressions). Every
// process must read them alike. A stored entry whose spec does not parse,
// or that has a code entry's name (the two share one name space), is
// reported to OnError once, and not run. Publish shows stored entries
// with the code ones.
//
// # Seen from the web view
//
// A scheduler runs in its process, where nobody else sees it. With
// Publish, it writes its entries to the backend while it runs (their
// schedule, task and queue, next and last tick, and missed ticks), after
// each tick and every PublishEvery, for PublishTTL: the web view's
// schedules page lists every process's, and one that stopped drops off.
//
//	s := schedule.New(client, schedule.Publish(backend.Queue(), ""))
//
// # Time
//
// Ticks are handled at their exact time, without jitter: Run sleeps on a
// timer until the next tick, and wakes at least once a second to read the
// clock again (and, with Stored, the stored entries' version). Clock gives it another clock, for tests.
package schedule
