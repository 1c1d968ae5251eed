// Package taskcron parses cron expressions into schedules of the core
// schedule package, so that a periodic task can run "at 03:00 every day"
// as well as every hour:
//
//	s := schedule.New(client)
//	schedule.Add(s, "report", taskcron.MustParse("CRON_TZ=Europe/Paris 0 3 * * *"), report, "daily")
//
// It accepts the standard five fields (minute, hour, day of month, month,
// day of week), an optional sixth field in front for the seconds,
// descriptors (@yearly, @monthly, @weekly, @daily, @hourly, @every 90s),
// and a time zone, with a CRON_TZ= (or TZ=) prefix or the In option.
//
// Two choices differ from a crontab's, because any number of processes
// may run the same entries, and each must compute the same ticks, which
// name the tick's task (schedule.TickID):
//
//   - an expression without a zone is in UTC, not the process's local
//     zone (In changes that for all the expressions it parses);
//   - "@every d" ticks at the multiples of d since the Unix epoch
//     (schedule.Every), not d after whenever the process started; d must
//     be a whole number of seconds. Use a five-field expression for ticks
//     at wall-clock times in a zone.
//
// # Why robfig/cron/v3
//
// The parsing is robfig/cron/v3's (github.com/robfig/cron/v3, v3.0.1, the
// version served here), behind this package's own API. It is the de-facto
// standard cron parser in Go, with the semantics users know from it; it
// has no dependencies, so this module adds one to taskware's core and
// nothing else; and its Schedule interface, Next(time.Time) time.Time, is
// the very shape of schedule.Schedule, so its parsed schedules fit as
// they are. Only its parser is used, not its runner: taskware's scheduler
// enqueues each tick once across processes, which robfig/cron's
// in-process runner does not attempt. The core module keeps its
// dependencies to go-redis and x/sync by living without this one.
package taskcron
