package main

import (
	"cmp"
	"context"
	"errors"
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
	tasksCommand = &inspectCommand{name: "tasks", queue: true, limit: true, state: true, run: listTasks, doc: doc{
		synopsis: []string{"tasks [--state S]", "      [--queue Q]", "      [--limit N]"},
		about:    []string{"the tasks in state S (ready, running, delayed,", "dead or finished; ready by default), of one", "queue or of every queue"},
	}}
	taskCommand = &inspectCommand{name: "task", queue: true, stack: true, run: showTask, doc: doc{
		synopsis: []string{"task ID [--queue Q]", "        [--stack]"},
		about: []string{"what the queues know of task ID, and its", "attempts: outcome, kind, worker, start,",
			"duration and error; --stack adds each", "panic's stack"},
	}}
)

func listTasks(ctx context.Context, in *inspection, args []string) error {
	o := in.o
	switch {
	case len(args) > 0:
		return usageError{fmt.Errorf("tasks: unexpected argument %q", args[0])}
	case !slices.Contains(queue.TaskSets, queue.TaskSet(o.State)):
		return usageError{fmt.Errorf("tasks: --state must be ready, running, delayed, dead or finished, not %s", quote(o.State))}
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
	in.taskTable(set, ts, !o.QueueSet)
	return nil
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
		return []string{"ID", "TASK", "ATTEMPT", "WORKER", "IDLE", "DELIVERIES", "ENTRY"}, func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, ti.Worker, duration(ti.Idle), ti.Deliveries, ti.Receipt}
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
	for _, kv := range [][2]string{
		{"ID", ti.ID}, {"QUEUE", ti.Queue}, {"TASK", ti.Task}, {"STATUS", string(ti.Status)},
		{"ATTEMPT", strconv.Itoa(ti.Attempt)}, {"DUE", in.until(ti.RunAt)}, {"WORKER", ti.Worker},
		{"STARTED", in.ago(ti.StartedAt)}, {"FINISHED", in.ago(ti.FinishedAt)}, {"KIND", ti.Kind},
		{"ERROR", ti.Error},
	} {
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
