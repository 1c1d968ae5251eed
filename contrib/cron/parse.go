package taskcron

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
)

// parser reads five fields, or six with the seconds first, and
// descriptors.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Option configures Parse.
type Option interface{ apply(*config) }

type config struct{ loc *time.Location }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// In sets the time zone of expressions that name none with CRON_TZ= (UTC
// by default). Every process must use the same. It panics with an error
// matching task.ErrInvalidConfig on a nil location.
func In(loc *time.Location) Option {
	if loc == nil {
		panic(fmt.Errorf("%w: taskcron: In: nil location", task.ErrInvalidConfig))
	}
	return optionFunc(func(c *config) { c.loc = loc })
}

// Parse parses a cron expression into a schedule:
//
//	"*/15 * * * *"                  every 15 minutes
//	"30 */15 * * * *"               the same, at 30 seconds past (six fields)
//	"0 3 * * mon-fri"               03:00 UTC on weekdays
//	"CRON_TZ=Europe/Paris 0 3 * * *" 03:00 in Paris, summer and winter
//	"@hourly", "@daily", "@every 90s"
//
// The schedule's String is the expression. The error of an expression
// that does not parse, or whose schedule never fires (the 30th of
// February), says why, and matches task.ErrInvalidConfig.
func Parse(expr string, opts ...Option) (sched schedule.Schedule, err error) {
	cfg := config{loc: time.UTC}
	for _, o := range opts {
		o.apply(&cfg)
	}
	fail := func(format string, args ...any) (schedule.Schedule, error) {
		return nil, fmt.Errorf("%w: taskcron: %q: %s", task.ErrInvalidConfig, expr, fmt.Sprintf(format, args...))
	}
	spec := strings.TrimSpace(expr)
	zoned := strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=")
	if zoned && !strings.ContainsAny(spec, " \t") {
		return fail("no schedule after the time zone") // robfig/cron would panic
	}
	rest := spec
	if zoned {
		// robfig/cron splits the zone off at a space only.
		spec = strings.Join(strings.Fields(spec), " ")
		var zone string
		zone, rest, _ = strings.Cut(spec, " ")
		_, name, _ := strings.Cut(zone, "=")
		if name == "" {
			return fail("empty time zone")
		}
		if _, err := time.LoadLocation(name); err != nil {
			return fail("time zone %q: %v", name, err)
		}
	}
	if d, ok := strings.CutPrefix(rest, "@every"); ok {
		return every(strings.TrimSpace(d), fail) // the same in every zone
	}
	defer func() {
		if v := recover(); v != nil { // robfig/cron on an input it did not foresee
			sched, err = fail("does not parse: %v", v)
		}
	}()
	s, err := parser.Parse(spec)
	if err != nil {
		return fail("%v", err)
	}
	if s, ok := s.(*cron.SpecSchedule); ok && !zoned {
		s.Location = cfg.loc
	}
	if next := s.Next(time.Now()); next.IsZero() {
		return fail("never fires: no tick in the next five years")
	}
	return &cronSchedule{expr: expr, s: s}, nil
}

// every parses the duration of "@every d" into a schedule aligned on the
// Unix epoch.
func every(text string, fail func(string, ...any) (schedule.Schedule, error)) (schedule.Schedule, error) {
	d, err := time.ParseDuration(text)
	switch {
	case err != nil:
		return fail("@every: %v", err)
	case d < time.Second || d%time.Second != 0:
		return fail("@every %v: must be a whole number of seconds, at least 1s", d)
	}
	return schedule.Every(d), nil
}

// Parser returns Parse with opts, as schedule.SpecParser takes it: so
// that a scheduler reads the cron expressions of stored entries.
//
//	schedule.New(client, schedule.Stored(q), schedule.SpecParser(taskcron.Parser()))
func Parser(opts ...Option) func(expr string) (schedule.Schedule, error) {
	return func(expr string) (schedule.Schedule, error) { return Parse(expr, opts...) }
}

// MustParse is Parse for expressions known when the program is written:
// it panics with Parse's error, which matches task.ErrInvalidConfig.
func MustParse(expr string, opts ...Option) schedule.Schedule {
	s, err := Parse(expr, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// cronSchedule is a parsed expression.
type cronSchedule struct {
	expr string
	s    cron.Schedule
}

// Next returns the first tick after after, in after's location.
func (c *cronSchedule) Next(after time.Time) time.Time { return c.s.Next(after) }

// String returns the expression.
func (c *cronSchedule) String() string { return c.expr }
