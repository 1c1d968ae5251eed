package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
)

var schedulesCommands = &family{name: "schedules", subs: []*inspectCommand{
	{name: "schedules list", run: listSchedules, doc: doc{
		synopsis: []string{"schedules list"},
		about: []string{"the stored schedule entries (paused or not,", "next tick), and the entries running",
			"schedulers publish"},
	}},
	{name: "schedules add", run: addSchedule, more: scheduleAddFlags, doc: doc{
		synopsis: []string{"schedules add NAME SPEC TASK", "      [--queue Q] [--args JSON]", "      [--paused]"},
		about: []string{"store (or replace) entry NAME: a run of", "TASK with arguments JSON at each tick of",
			"SPEC; the schedulers started with", "schedule.Stored run it from their next tick.",
			"\"every 1h\" is checked here; a cron spec", "(\"0 3 * * *\", \"@daily\") only by its shape:",
			"the schedulers parse it (contrib/cron's", "Parser as schedule.SpecParser), and one",
			"without a parser, or whose parser refuses", "it, reports it (OnError) and runs nothing"},
	}},
	{name: "schedules remove", run: func(ctx context.Context, in *inspection, args []string) error {
		return changeSchedules(ctx, in, "remove", args)
	}, doc: doc{
		synopsis: []string{"schedules remove NAME..."},
		about:    []string{"delete stored entries: no more ticks"},
	}},
	{name: "schedules pause", run: func(ctx context.Context, in *inspection, args []string) error {
		return changeSchedules(ctx, in, "pause", args)
	}, doc: doc{
		synopsis: []string{"schedules pause NAME..."},
		about:    []string{"no tick of these stored entries until resumed"},
	}},
	{name: "schedules resume", run: func(ctx context.Context, in *inspection, args []string) error {
		return changeSchedules(ctx, in, "resume", args)
	}, doc: doc{
		synopsis: []string{"schedules resume NAME..."},
		about:    []string{"tick again from the next tick; none missed", "while paused is caught up"},
	}},
}}

// scheduleAddFlags are the flags of schedules add.
func scheduleAddFlags(fs *flag.FlagSet, o *inspectOptions) {
	fs.StringVar(&o.Queue, "queue", queue.Default, "enqueue each tick's task on this `QUEUE`")
	fs.StringVar(&o.Args, "args", "null", "the task's arguments as `JSON`, stored as worker.Enqueue encodes them for a task of the default codec (task.JSON); a task of another codec is put from Go (schedule.Put)")
	fs.BoolVar(&o.Paused, "paused", false, "store the entry paused: no tick until schedules resume")
}

func listSchedules(ctx context.Context, in *inspection, args []string) error {
	if err := noArgs("schedules list", args); err != nil {
		return err
	}
	defs, _, err := in.q.ScheduleDefs(ctx)
	if err != nil {
		return err
	}
	published, err := in.q.Schedules(ctx)
	if err != nil {
		return err
	}
	stored := rows.StoredSchedulesOf(defs, published, in.now)
	in.empty = len(stored) == 0 && len(published) == 0
	if in.o.JSON {
		return in.json(map[string]any{"stored": stored, "published": rows.PublishedSchedulesOf(published)})
	}
	if len(stored) > 0 {
		fmt.Fprintln(in.out, "stored entries:")
		tw := in.table("NAME", "SPEC", "TASK", "QUEUE", "PAUSED", "SINCE", "NEXT", "ARGS")
		for _, s := range stored {
			paused, next := "-", in.until(s.Next)
			if s.Paused {
				paused, next = "paused", "-"
			} else if s.NextFrom == "" {
				next = "? (no scheduler publishes it)"
			}
			in.row(tw, s.Name, s.Spec, s.Task, s.Queue, paused, in.ago(s.Since), next, s.Args)
		}
		tw.Flush()
	}
	if len(published) > 0 {
		if len(stored) > 0 {
			fmt.Fprintln(in.out)
		}
		fmt.Fprintln(in.out, "published by running schedulers:")
		tw := in.table("NAME", "SPEC", "TASK", "QUEUE", "SCHEDULER", "NEXT", "LAST", "LAST STATUS", "MISSED")
		for _, e := range published {
			in.row(tw, e.Name, e.Spec, e.Task, e.Queue, e.Scheduler, in.until(e.Next), in.ago(e.Last), orDash(e.LastStatus), e.Missed)
		}
		tw.Flush()
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func addSchedule(ctx context.Context, in *inspection, args []string) error {
	if len(args) != 3 {
		return usageError{errors.New("schedules add: give NAME, SPEC and TASK (quote a SPEC of several words)")}
	}
	name, spec, taskName := args[0], args[1], args[2]
	def := queue.ScheduleDef{Name: name, Spec: spec, Task: taskName, Queue: in.o.Queue}
	if err := checkSpec(spec); err != nil {
		return usageError{fmt.Errorf("schedules add: %w", err)}
	}
	def.Paused = in.o.Paused
	payload, err := encodeArgs(in.o.Args)
	if err != nil {
		return usageError{fmt.Errorf("schedules add: --args: %w", err)}
	}
	def.Args = payload
	if err := in.q.PutSchedule(ctx, def); err != nil {
		if errors.Is(err, task.ErrInvalidConfig) {
			return usageError{fmt.Errorf("schedules add: %w", err)}
		}
		return err
	}
	if in.o.JSON {
		defs, _, err := in.q.ScheduleDefs(ctx)
		if err != nil {
			return err
		}
		for _, s := range rows.StoredSchedulesOf(defs, nil, in.now) {
			if s.Name == name {
				return in.json(map[string]any{"stored": s})
			}
		}
		return fmt.Errorf("schedules add: entry %s is gone already: %w", quote(name), queue.ErrNotFound)
	}
	state := ""
	if def.Paused {
		state = ", paused"
	}
	fmt.Fprintf(in.out, "schedule %s stored: %s runs %s on queue %s with %s%s\n", visible(name), visible(spec),
		visible(taskName), visible(def.Queue), visible(string(payload)), state)
	return nil
}

// encodeArgs reads text as JSON and encodes it as worker.Enqueue encodes
// arguments with the default codec (task.JSON, encoding/json): compact,
// HTML characters escaped, object keys sorted (as a map's are), numbers
// as written.
func encodeArgs(text string) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %w", quote(text), err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s holds more than one JSON value", quote(text))
	}
	return task.JSON.Marshal(v)
}

// cronFieldRe matches a field of a cron expression: numbers, names (MON,
// JAN), and * / , - ? L W #.
var cronFieldRe = regexp.MustCompile(`^[0-9A-Za-z*/,?#-]+$`)

// cronDescriptors are the @ names of cron schedules contrib/cron reads.
var cronDescriptors = map[string]bool{"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true}

// checkSpec checks a stored entry's spec as far as this command can: an
// "every <duration>" spec is read as the schedulers read it
// (schedule.ParseEvery); a cron expression only by its shape (5 or 6
// fields of cron's characters, or an @descriptor, after an optional
// CRON_TZ= or TZ=), since the cron parser is contrib/cron's, which the
// schedulers are given (schedule.SpecParser) and this command is not.
func checkSpec(spec string) error {
	if strings.HasPrefix(strings.TrimSpace(spec), "every ") {
		_, err := schedule.ParseEvery(spec)
		return err
	}
	f := strings.Fields(spec)
	if len(f) > 0 && (strings.HasPrefix(f[0], "CRON_TZ=") || strings.HasPrefix(f[0], "TZ=")) {
		f = f[1:]
	}
	switch {
	case len(f) == 1 && cronDescriptors[f[0]]:
		return nil
	case len(f) == 2 && f[0] == "@every":
		if d, err := time.ParseDuration(f[1]); err == nil && d > 0 {
			return nil
		}
	case len(f) == 5 || len(f) == 6:
		ok := true
		for _, field := range f {
			ok = ok && cronFieldRe.MatchString(field)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("%w: spec %s is neither \"every <duration>\" (\"every 1h\") nor shaped like a cron expression (\"0 3 * * *\", \"@daily\")",
		task.ErrInvalidConfig, quote(spec))
}

// changeSchedules removes, pauses or resumes (verb) the stored entries
// named; one not stored is an error matching queue.ErrNotFound, after
// the others are changed.
func changeSchedules(ctx context.Context, in *inspection, verb string, names []string) error {
	if len(names) == 0 {
		return usageError{fmt.Errorf("schedules %s: name the entries", verb)}
	}
	for _, name := range names {
		if err := queue.ValidateScheduleName(name); err != nil {
			return usageError{fmt.Errorf("schedules %s: %w", verb, err)}
		}
	}
	var done, missing []string
	for _, name := range names {
		var err error
		switch verb {
		case "remove":
			err = in.q.RemoveSchedule(ctx, name)
		default: // the backend's clock says when: every scheduler reads the same one
			err = in.q.PauseSchedule(ctx, name, verb == "pause", time.Time{})
		}
		switch {
		case errors.Is(err, queue.ErrNotFound):
			missing = append(missing, name)
		case err != nil:
			return err
		default:
			done = append(done, name)
		}
	}
	past := map[string]string{"remove": "removed", "pause": "paused", "resume": "resumed"}[verb]
	if in.o.JSON {
		if err := in.json(map[string]any{past: append([]string{}, done...)}); err != nil { // [] for none
			return err
		}
	} else {
		for _, name := range done {
			fmt.Fprintf(in.out, "schedule %s %s\n", visible(name), past)
		}
	}
	if len(missing) > 0 {
		in.empty = true
		return fmt.Errorf("schedules %s: no stored entry %s: %w", verb, quoteAll(missing), queue.ErrNotFound)
	}
	return nil
}
