package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

var (
	tasksCommand = &inspectCommand{name: "tasks", queue: true, limit: true, state: true, find: true, run: listTasks, doc: doc{
		synopsis: []string{"tasks [--state S]", "      [--queue Q]", "      [--limit N]", "      [--task NAME]",
			"      [--search TEXT]", "      [--status S]", "      [--kind K]", "      [--since T]", "      [--until T]",
			"      [--after CURSOR]"},
		about: []string{"the tasks in state S (ready, running, delayed,", "dead or finished; ready by default), of one",
			"queue or of every queue. Of one queue, a page", "of N (at most 1000) found by task name, by",
			"TEXT in IDs, names or arguments, by status,", "error kind or time (T: RFC 3339, or 1h for an",
			"hour ago); stderr gets the next page's command"},
	}}
	taskCommand = &inspectCommand{name: "task", queue: true, stack: true, run: showTask, doc: doc{
		synopsis: []string{"task ID [--queue Q]", "        [--stack]"},
		about: []string{"what the queues know of task ID, and its", "attempts: outcome, kind, worker, start,",
			"duration and error; --stack adds each", "panic's stack"},
	}}
)

// taskStatuses are the statuses --status takes.
var taskStatuses = []queue.Status{queue.Queued, queue.Running, queue.Scheduled, queue.Succeeded, queue.Failed,
	queue.Skipped, queue.Dead, queue.Canceled}

// statusChoices are taskStatuses as a message says them: "queued,
// running, ... or canceled".
func statusChoices() string {
	names := make([]string, len(taskStatuses))
	for i, s := range taskStatuses {
		names[i] = string(s)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func listTasks(ctx context.Context, in *inspection, args []string) error {
	o := in.o
	switch {
	case len(args) > 0:
		return usageError{fmt.Errorf("tasks: unexpected argument %q", args[0])}
	case !slices.Contains(queue.TaskSets, queue.TaskSet(o.State)):
		return usageError{fmt.Errorf("tasks: --state must be ready, running, delayed, dead or finished, not %s", quote(o.State))}
	}
	if o.QueueSet {
		return findTasks(ctx, in)
	}
	if name := o.Find.given(); name != "" {
		return usageError{fmt.Errorf("tasks: --%s needs --queue: tasks are found, and paged, in one queue", name)}
	}
	queues, err := in.queues(ctx)
	if err != nil {
		return err
	}
	set := queue.TaskSet(o.State)
	ts := []queue.TaskInfo{}
	for _, name := range queues {
		if len(ts) >= o.Limit {
			break
		}
		more, err := in.q.Tasks(ctx, name, set, o.Limit-len(ts))
		if err != nil {
			return err
		}
		ts = append(ts, more...)
	}
	in.empty = len(ts) == 0
	if in.o.JSON {
		return in.json(map[string]any{"tasks": rows.TasksOf(ts)})
	}
	in.taskTable(set, ts, true)
	return nil
}

// given returns the name of the first find flag given a value, "" if
// none is.
func (f findOptions) given() string {
	for _, kv := range [][2]string{{"task", f.Task}, {"search", f.Search}, {"status", f.Status}, {"kind", f.Kind},
		{"since", f.Since}, {"until", f.Until}, {"after", f.After}} {
		if kv[1] != "" {
			return kv[0]
		}
	}
	return ""
}

// findTasks lists one page of the tasks of --queue that the find flags
// ask for, from --after, and notes the next page's command on stderr.
func findTasks(ctx context.Context, in *inspection) error {
	o := in.o
	queues, err := in.queues(ctx) // checks the name
	if err != nil {
		return err
	}
	tq, err := o.Find.query(queue.TaskSet(o.State), in.now)
	if err != nil {
		return err
	}
	tq.Limit = o.Limit
	page, err := in.q.ListTasks(ctx, queues[0], tq)
	if errors.Is(err, queue.ErrBadCursor) {
		return usageError{fmt.Errorf("tasks: --after %s is no cursor of %s tasks of queue %s: start again without it",
			quote(tq.After), tq.Set, quote(queues[0]))}
	}
	if err != nil {
		return err
	}
	in.empty = len(page.Tasks) == 0
	if page.Next != "" {
		fmt.Fprintf(in.notes, "next page: taskware tasks %s\n", nextPageArgs(o.Given, tq, page.Next))
	}
	if o.JSON {
		doc := map[string]any{"tasks": rows.TasksOf(page.Tasks)}
		if page.Next != "" {
			doc["next"] = page.Next
		}
		return in.json(doc)
	}
	in.taskTable(tq.Set, page.Tasks, false)
	return nil
}

// query is the TaskQuery of f for set, its times read as of now; a bad
// --status or time is a usageError.
func (f findOptions) query(set queue.TaskSet, now time.Time) (queue.TaskQuery, error) {
	tq := queue.TaskQuery{Set: set, After: f.After, Task: f.Task, Search: f.Search, Status: queue.Status(f.Status), Kind: f.Kind}
	if f.Status != "" && !slices.Contains(taskStatuses, tq.Status) {
		return tq, usageError{fmt.Errorf("tasks: --status must be %s, not %s", statusChoices(), quote(f.Status))}
	}
	var err error
	if tq.Since, err = flagTime("since", f.Since, now); err != nil {
		return tq, err
	}
	if tq.Until, err = flagTime("until", f.Until, now); err != nil {
		return tq, err
	}
	return tq, nil
}

// flagTime reads the time --name says, s: an RFC 3339 time, or a
// duration before now; zero if s is "".
func flagTime(name, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError{fmt.Errorf("tasks: --%s %s is no time: say an RFC 3339 time (2026-01-02T15:04:05Z) or a duration before now (1h)",
		name, quote(s))}
}

// flagTimeText is t as --since and --until read it back, "" if zero.
func flagTimeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// nextPageArgs are the flags of the command that lists the page after
// this one, shell-quoted: those given, but --since and --until as the
// times they meant here (a duration would move with the clock) and
// --after as next.
func nextPageArgs(given []*flag.Flag, tq queue.TaskQuery, next string) string {
	var words []string
	for _, f := range given {
		value := f.Value.String()
		switch f.Name {
		case "after":
			continue
		case "since":
			value = flagTimeText(tq.Since)
		case "until":
			value = flagTimeText(tq.Until)
		}
		if b, ok := f.Value.(flag.Getter).Get().(bool); ok {
			if b {
				words = append(words, "--"+f.Name)
			}
			continue
		}
		words = append(words, "--"+f.Name, shellWord(value))
	}
	return strings.Join(append(words, "--after", shellWord(next)), " ")
}

// taskColumns are the columns of a table of tasks of a set, and their
// cells.
func (in *inspection) taskColumns(set queue.TaskSet) ([]string, func(ti queue.TaskInfo) []any) {
	switch set {
	case queue.ReadyTasks:
		return []string{"ID", "TASK", "ATTEMPT", "WAITING", "ENQUEUED", "ENTRY"}, func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, in.age(entryTime(ti.Receipt)), in.ago(ti.EnqueuedAt), ti.Receipt}
		}
	case queue.RunningTasks:
		return []string{"ID", "TASK", "ATTEMPT", "WORKER", "PROGRESS", "IDLE", "DELIVERIES", "ENTRY"}, func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, ti.Worker, progressCell(ti.Progress), duration(ti.Idle), ti.Deliveries, ti.Receipt}
		}
	case queue.DelayedTasks:
		return []string{"ID", "TASK", "ATTEMPT", "DUE", "LAST KIND", "LAST ERROR"}, func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, in.until(ti.RunAt), ti.Kind, ti.Error}
		}
	case queue.DeadTasks:
		return []string{"ID", "TASK", "ATTEMPT", "DIED", "KIND", "REASON", "ENTRY"}, func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, in.ago(ti.FinishedAt), ti.Kind, ti.Error, ti.Receipt}
		}
	}
	return []string{"ID", "TASK", "STATUS", "ATTEMPT", "WORKER", "FINISHED", "KIND", "ERROR"}, func(ti queue.TaskInfo) []any {
		return []any{ti.ID, ti.Task, ti.Status, ti.Attempt, ti.Worker, in.ago(ti.FinishedAt), ti.Kind, ti.Error}
	}
}

// progressCell shows a running task's last report in a table: "40% 4/10",
// "3 done" if its total is unknown, "-" if it reported none. Its message
// is on the task's own page (taskware task ID), not in a narrow column.
func progressCell(p *queue.Progress) string {
	if p == nil {
		return "-"
	}
	if pc, ok := p.Percent(); ok {
		return fmt.Sprintf("%d%% %d/%d", pc, p.Done, p.Total)
	}
	return fmt.Sprintf("%d done", p.Done)
}

// taskTable prints tasks of set as a table, with their queue if withQueue.
func (in *inspection) taskTable(set queue.TaskSet, ts []queue.TaskInfo, withQueue bool) {
	header, cells := in.taskColumns(set)
	if withQueue {
		header = append([]string{"QUEUE"}, header...)
	}
	tw := in.table(header...)
	for _, ti := range ts {
		c := cells(ti)
		if withQueue {
			c = append([]any{ti.Queue}, c...)
		}
		in.row(tw, c...)
	}
	tw.Flush()
}

// entryTime is the time of a stream entry ID, when it was added.
func entryTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	if n, err := strconv.ParseInt(ms, 10, 64); err == nil && n > 0 {
		return time.UnixMilli(n)
	}
	return time.Time{}
}

func showTask(ctx context.Context, in *inspection, args []string) error {
	switch {
	case len(args) == 0:
		return usageError{errors.New("task: no task ID given")}
	case len(args) > 1:
		return usageError{fmt.Errorf("task: unexpected argument %q", args[1])}
	}
	var queues []string
	if in.o.QueueSet {
		var err error
		if queues, err = in.queues(ctx); err != nil {
			return err
		}
	}
	ts, err := in.q.Find(ctx, args[0], queues...)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		in.empty = true
		return &notFoundError{what: "task", ids: args[:1], queues: queues}
	}
	found := make([]taskAttempts, len(ts))
	for i, ti := range ts {
		as, err := in.q.Attempts(ctx, ti.Queue, ti.ID)
		if err != nil {
			return err
		}
		found[i] = taskAttempts{Task: rows.TaskOf(ti), Attempts: rows.AttemptsOf(as)}
	}
	if in.o.JSON {
		return in.json(map[string]any{"tasks": found})
	}
	for i, ti := range ts {
		if i > 0 {
			fmt.Fprintln(in.out)
		}
		in.taskFields(ti)
		in.attemptTable(found[i].Attempts)
	}
	return nil
}

// taskAttempts is a task's row in task --json: the task where its queue
// holds it, and its runs, stacks included.
type taskAttempts struct {
	rows.Task
	Attempts []rows.Attempt `json:"attempts"`
}

// attemptTable prints a task's runs, oldest first, a row each, its error
// cut to one line; then, with --stack, each panic's error and stack in
// full, else which attempts have one.
func (in *inspection) attemptTable(as []rows.Attempt) {
	fmt.Fprintln(in.out)
	if len(as) == 0 {
		fmt.Fprintln(in.out, "ATTEMPTS:  none recorded")
		return
	}
	tw := in.table("ATTEMPT", "OUTCOME", "KIND", "WORKER", "STARTED", "TOOK", "ERROR")
	var panicked []string
	for _, a := range as {
		in.row(tw, a.Attempt, a.Outcome(), a.Kind, a.Worker, in.ago(a.StartedAt), a.Took(), a.Error)
		if a.Stack != "" {
			panicked = append(panicked, strconv.Itoa(a.Attempt))
		}
	}
	tw.Flush()
	switch {
	case len(panicked) == 0:
	case !in.o.Stack && len(panicked) == 1:
		fmt.Fprintf(in.out, "(attempt %s panicked: --stack prints the stack)\n", panicked[0])
	case !in.o.Stack:
		fmt.Fprintf(in.out, "(attempts %s panicked: --stack prints the stacks)\n", strings.Join(panicked, ", "))
	default:
		for _, a := range as {
			if a.Stack == "" {
				continue
			}
			fmt.Fprintf(in.out, "\nSTACK OF ATTEMPT %d: %s\n", a.Attempt, visible(a.Error))
			for line := range strings.SplitSeq(strings.TrimRight(a.Stack, "\n"), "\n") {
				fmt.Fprintf(in.out, "    %s\n", visibleLine(line))
			}
		}
	}
}

// taskFields prints what a queue knows of a task, a field a line, each
// value visible.
func (in *inspection) taskFields(ti queue.TaskInfo) {
	tw := tabwriter.NewWriter(in.out, 0, 0, 2, ' ', 0)
	fields := [][2]string{
		{"ID", ti.ID}, {"QUEUE", ti.Queue}, {"TASK", ti.Task}, {"STATUS", string(ti.Status)},
		{"ATTEMPT", strconv.Itoa(ti.Attempt)}, {"DUE", in.until(ti.RunAt)}, {"WORKER", ti.Worker},
		{"STARTED", in.ago(ti.StartedAt)}, {"FINISHED", in.ago(ti.FinishedAt)}, {"KIND", ti.Kind},
		{"ERROR", ti.Error},
	}
	if ti.Progress != nil { // a running task that reported some
		fields = append(fields, [2]string{"PROGRESS", ti.Progress.String()})
	}
	for _, kv := range fields {
		// A value of many lines (an error's) goes on under its first.
		for i, line := range strings.Split(cmp.Or(kv[1], "-"), "\n") {
			if i == 0 {
				fmt.Fprintf(tw, "%s:\t%s\n", kv[0], visible(line))
			} else {
				fmt.Fprintf(tw, "\t%s\n", visible(line))
			}
		}
	}
	tw.Flush()
}
