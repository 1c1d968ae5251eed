package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/internal/humantime"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
)

// defaultRedisURL is the Redis the inspection commands read when neither
// --redis nor $TASKWARE_REDIS_URL names one. They never start an embedded
// miniredis: there would be nothing in it to see.
const defaultRedisURL = "redis://127.0.0.1:6379/0"

// defaultLimit is how many tasks, dead letters or records a listing shows
// unless --limit says otherwise.
const defaultLimit = 100

// inspectOptions are the flags every inspection command takes.
type inspectOptions struct {
	RedisURL string
	TLS      tlsOptions
	Prefix   string
	JSON     bool
	// Queue is --queue, for the commands that take it; QueueSet says it
	// was given (results of runs in-process have the queue "").
	Queue    string
	QueueSet bool
	Limit    int
	State    string
}

// inspectFlags returns the flags of an inspection command, bound to o:
// the connection's, --prefix and --json, and, if asked, --queue and
// --limit.
func inspectFlags(name string, o *inspectOptions, queueName, limit bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	redisFlags(fs, &o.RedisURL, &o.TLS)
	f := fs.Lookup("redis")
	f.Usage = "read the Redis at this `URL` (redis://host:port/db, rediss:// for TLS); default $TASKWARE_REDIS_URL, else " + defaultRedisURL
	fs.StringVar(&o.Prefix, "prefix", redisbackend.DefaultPrefix, "the key `PREFIX` of the backend to inspect")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON document instead of a table")
	if queueName {
		fs.StringVar(&o.Queue, "queue", "", "only this `QUEUE` (default: every queue)")
	}
	if limit {
		fs.IntVar(&o.Limit, "limit", defaultLimit, "show at most `N` of them")
	}
	return fs
}

// parseArgs parses a command's flags, which may come before, between or
// after its arguments, and returns the arguments. It returns flag.ErrHelp
// for -h, and a usageError for a bad flag.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var rest []string
	for range len(args) + 1 { // each round takes one argument at least
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return nil, err
		case err != nil:
			return nil, usageError{fmt.Errorf("%s: %w", fs.Name(), err)}
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		rest, args = append(rest, args[0]), args[1:]
	}
	return rest, nil
}

// inspection is a connected inspection command.
type inspection struct {
	o     *inspectOptions
	b     *redisbackend.Backend
	q     *redisbackend.Queue
	now   time.Time
	out   *bytes.Buffer // what to print, redacted before it is
	close func()
}

// open connects to the Redis the flags name: --redis, else
// $TASKWARE_REDIS_URL, else the default; never a miniredis.
func open(ctx context.Context, o *inspectOptions) (*inspection, error) {
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, usageError{fmt.Errorf("--prefix %q: a prefix has no braces", o.Prefix)}
	}
	if o.RedisURL == "" {
		o.RedisURL = cmp.Or(os.Getenv("TASKWARE_REDIS_URL"), defaultRedisURL)
	}
	c, _, closeFn, err := connect(ctx, o.RedisURL, o.TLS)
	if err != nil {
		return nil, err
	}
	b := redisbackend.New(c, redisbackend.WithPrefix(o.Prefix))
	return &inspection{o: o, b: b, q: b.Queue(), now: time.Now(), out: &bytes.Buffer{}, close: closeFn}, nil
}

// inspectCommands are the inspection commands, by name.
var inspectCommands = map[string]func(ctx context.Context, args []string, out io.Writer) error{
	"queues":  runQueues,
	"tasks":   runTasks,
	"task":    runTask,
	"dead":    runDead,
	"locks":   runLocks,
	"results": runResults,
	"workers": runWorkers,
	"pause":   func(ctx context.Context, args []string, out io.Writer) error { return runPause(ctx, args, out, true) },
	"resume":  func(ctx context.Context, args []string, out io.Writer) error { return runPause(ctx, args, out, false) },
}

// inspect parses args with fs, connects, runs fn and prints what it wrote,
// with every password of the URL hidden, as is any error.
func inspect(ctx context.Context, fs *flag.FlagSet, o *inspectOptions, args []string, out io.Writer,
	fn func(ctx context.Context, in *inspection, args []string) error) error {
	rest, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(out)
		return nil
	}
	if err != nil {
		return err
	}
	if fs.Lookup("limit") != nil && o.Limit < 1 {
		return usageError{fmt.Errorf("%s: --limit must be at least 1, got %d", fs.Name(), o.Limit)}
	}
	fs.Visit(func(f *flag.Flag) { o.QueueSet = o.QueueSet || f.Name == "queue" })
	in, err := open(ctx, o)
	if err != nil {
		return redact(err, o.RedisURL)
	}
	defer in.close()
	err = fn(ctx, in, rest)
	if _, werr := io.WriteString(out, redactText(in.out.String(), o.RedisURL)); err == nil {
		err = werr
	}
	return redact(err, o.RedisURL)
}

// queues returns the queue --queue names, or every queue.
func (in *inspection) queues(ctx context.Context) ([]string, error) {
	if in.o.QueueSet {
		if err := queue.ValidateName(in.o.Queue); err != nil {
			return nil, usageError{fmt.Errorf("--queue: %w", err)}
		}
		return []string{in.o.Queue}, nil
	}
	return in.q.Queues(ctx)
}

// table returns a tabwriter on the command's output.
func (in *inspection) table(header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(in.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	return tw
}

func (in *inspection) row(tw io.Writer, cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = cell(fmt.Sprint(c))
	}
	fmt.Fprintln(tw, strings.Join(s, "\t"))
}

// cell makes s fit a table's cell: one line, no tab, "-" if empty.
func cell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return cmp.Or(s, "-")
}

// json prints v as the command's one JSON document.
func (in *inspection) json(v any) error {
	enc := json.NewEncoder(in.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// age shows how long ago t was, "-" if t is zero.
func (in *inspection) age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration(in.now.Sub(t))
}

// ago shows when t was, as "3s ago", "-" if t is zero.
func (in *inspection) ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return in.age(t) + " ago"
}

// until shows how long until t, "-" if t is zero, "due" if it is past.
func (in *inspection) until(t time.Time) string {
	switch d := t.Sub(in.now); {
	case t.IsZero():
		return "-"
	case d <= 0:
		return "due"
	default:
		return "in " + duration(d)
	}
}

// duration shows d as the tables do (see humantime.Duration).
func duration(d time.Duration) string { return humantime.Duration(d) }

// stamp is t for JSON: RFC 3339 with its fraction, "" if zero.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// queueJSON is a queue's line of `queues --json`.
type queueJSON struct {
	Queue         string `json:"queue"`
	Ready         int64  `json:"ready"`
	Running       int64  `json:"running"`
	Delayed       int64  `json:"delayed"`
	Dead          int64  `json:"dead"`
	OldestReadyMs int64  `json:"oldest_ready_ms"`
	Workers       int    `json:"workers"`
	Paused        bool   `json:"paused"`
}

func runQueues(ctx context.Context, args []string, out io.Writer) error {
	var o inspectOptions
	fs := inspectFlags("queues", &o, false, false)
	return inspect(ctx, fs, &o, args, out, func(ctx context.Context, in *inspection, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("queues: unexpected argument %q", args[0])}
		}
		queues, err := in.q.Queues(ctx)
		if err != nil {
			return err
		}
		rows := make([]queueJSON, 0, len(queues))
		for _, name := range queues {
			st, err := in.q.Stats(ctx, name)
			if err != nil {
				return err
			}
			paused, err := in.q.Paused(ctx, name)
			if err != nil {
				return err
			}
			rows = append(rows, queueJSON{Queue: name, Ready: st.Ready, Running: st.Running, Delayed: st.Delayed,
				Dead: st.Dead, OldestReadyMs: st.OldestReady.Milliseconds(), Workers: st.Workers, Paused: paused})
		}
		if in.o.JSON {
			return in.json(map[string]any{"queues": rows})
		}
		tw := in.table("QUEUE", "READY", "RUNNING", "DELAYED", "DEAD", "OLDEST", "WORKERS", "PAUSED")
		for _, r := range rows {
			oldest, paused := "-", "-"
			if r.Ready > 0 {
				oldest = duration(time.Duration(r.OldestReadyMs) * time.Millisecond)
			}
			if r.Paused {
				paused = "paused"
			}
			in.row(tw, r.Queue, r.Ready, r.Running, r.Delayed, r.Dead, oldest, r.Workers, paused)
		}
		return tw.Flush()
	})
}

// taskJSON is a task of `tasks --json`, `task --json` and `dead list --json`.
type taskJSON struct {
	ID         string `json:"id"`
	Task       string `json:"task"`
	Queue      string `json:"queue"`
	Status     string `json:"status"`
	Attempt    int    `json:"attempt,omitempty"`
	EnqueuedAt string `json:"enqueued_at,omitempty"`
	Entry      string `json:"entry,omitempty"`
	Worker     string `json:"worker,omitempty"`
	IdleMs     *int64 `json:"idle_ms,omitempty"`
	Deliveries int    `json:"deliveries,omitempty"`
	RunAt      string `json:"run_at,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Error      string `json:"error,omitempty"`
	StartedAt  string `json:"started_at,omitempty"`
	FinishedAt string `json:"finished_at,omitempty"`
	Malformed  string `json:"malformed,omitempty"`
}

func taskJSONOf(ti queue.TaskInfo) taskJSON {
	j := taskJSON{ID: ti.ID, Task: ti.Task, Queue: ti.Queue, Status: string(ti.Status), Attempt: ti.Attempt,
		EnqueuedAt: stamp(ti.EnqueuedAt), Entry: ti.Receipt, Worker: ti.Worker, Deliveries: ti.Deliveries,
		RunAt: stamp(ti.RunAt), Kind: ti.Kind, Error: ti.Error, StartedAt: stamp(ti.StartedAt),
		FinishedAt: stamp(ti.FinishedAt), Malformed: ti.Malformed}
	if ti.Status == queue.Running && ti.Worker != "" && ti.Receipt != "" {
		ms := ti.Idle.Milliseconds()
		j.IdleMs = &ms
	}
	return j
}

func tasksJSON(ts []queue.TaskInfo) []taskJSON {
	out := make([]taskJSON, len(ts))
	for i, ti := range ts {
		out[i] = taskJSONOf(ti)
	}
	return out
}

func runTasks(ctx context.Context, args []string, out io.Writer) error {
	var o inspectOptions
	fs := inspectFlags("tasks", &o, true, true)
	fs.StringVar(&o.State, "state", "", "list the tasks in this `STATE`: ready, running, delayed, dead or finished")
	return inspect(ctx, fs, &o, args, out, func(ctx context.Context, in *inspection, args []string) error {
		switch {
		case len(args) > 0:
			return usageError{fmt.Errorf("tasks: unexpected argument %q", args[0])}
		case !o.QueueSet:
			return usageError{errors.New("tasks: --queue is required")}
		case !slices.Contains(queue.TaskSets, queue.TaskSet(o.State)):
			return usageError{fmt.Errorf("tasks: --state must be ready, running, delayed, dead or finished, not %q", o.State)}
		}
		if err := queue.ValidateName(o.Queue); err != nil {
			return usageError{fmt.Errorf("--queue: %w", err)}
		}
		ts, err := in.q.Tasks(ctx, o.Queue, queue.TaskSet(o.State), o.Limit)
		if err != nil {
			return err
		}
		if in.o.JSON {
			return in.json(map[string]any{"tasks": tasksJSON(ts)})
		}
		in.taskTable(queue.TaskSet(o.State), ts, false)
		return nil
	})
}

// taskTable prints tasks of set as a table, with their queue if withQueue.
func (in *inspection) taskTable(set queue.TaskSet, ts []queue.TaskInfo, withQueue bool) {
	var header []string
	var cells func(ti queue.TaskInfo) []any
	switch set {
	case queue.ReadyTasks:
		header = []string{"ID", "TASK", "ATTEMPT", "WAITING", "ENQUEUED", "ENTRY"}
		cells = func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, in.age(entryTime(ti.Receipt)), in.ago(ti.EnqueuedAt), ti.Receipt}
		}
	case queue.RunningTasks:
		header = []string{"ID", "TASK", "ATTEMPT", "WORKER", "IDLE", "DELIVERIES", "ENTRY"}
		cells = func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, ti.Worker, duration(ti.Idle), ti.Deliveries, ti.Receipt}
		}
	case queue.DelayedTasks:
		header = []string{"ID", "TASK", "ATTEMPT", "DUE", "LAST KIND", "LAST ERROR"}
		cells = func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, in.until(ti.RunAt), ti.Kind, ti.Error}
		}
	case queue.DeadTasks:
		header = []string{"ID", "TASK", "ATTEMPT", "DIED", "KIND", "REASON", "ENTRY"}
		cells = func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Attempt, in.ago(ti.FinishedAt), ti.Kind, ti.Error, ti.Receipt}
		}
	default:
		header = []string{"ID", "TASK", "STATUS", "ATTEMPT", "WORKER", "FINISHED", "KIND", "ERROR"}
		cells = func(ti queue.TaskInfo) []any {
			return []any{ti.ID, ti.Task, ti.Status, ti.Attempt, ti.Worker, in.ago(ti.FinishedAt), ti.Kind, ti.Error}
		}
	}
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

func runTask(ctx context.Context, args []string, out io.Writer) error {
	var o inspectOptions
	fs := inspectFlags("task", &o, true, false)
	return inspect(ctx, fs, &o, args, out, func(ctx context.Context, in *inspection, args []string) error {
		switch {
		case len(args) == 0:
			return usageError{errors.New("task: no task ID given")}
		case len(args) > 1:
			return usageError{fmt.Errorf("task: unexpected argument %q", args[1])}
		}
		var queues []string
		if o.QueueSet {
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
			return &queue.NotFoundError{Queue: cmp.Or(o.Queue, "any"), ID: args[0]}
		}
		if in.o.JSON {
			return in.json(map[string]any{"tasks": tasksJSON(ts)})
		}
		for i, ti := range ts {
			if i > 0 {
				fmt.Fprintln(in.out)
			}
			tw := tabwriter.NewWriter(in.out, 0, 0, 2, ' ', 0)
			for _, kv := range [][2]string{
				{"ID", ti.ID}, {"QUEUE", ti.Queue}, {"TASK", ti.Task}, {"STATUS", string(ti.Status)},
				{"ATTEMPT", strconv.Itoa(ti.Attempt)}, {"DUE", in.until(ti.RunAt)}, {"WORKER", ti.Worker},
				{"STARTED", in.ago(ti.StartedAt)}, {"FINISHED", in.ago(ti.FinishedAt)}, {"KIND", ti.Kind},
				{"ERROR", ti.Error},
			} {
				fmt.Fprintf(tw, "%s:\t%s\n", kv[0], cmp.Or(kv[1], "-"))
			}
			tw.Flush()
		}
		return nil
	})
}

// deadJSON is what `dead requeue --json` and `dead purge --json` print.
type deadJSON struct {
	Requeued []queueID `json:"requeued,omitempty"`
	Kept     []queueID `json:"kept,omitempty"`
	Purged   *int      `json:"purged,omitempty"`
}

type queueID struct {
	Queue string `json:"queue"`
	ID    string `json:"id"`
}

func runDead(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isHelp(args[0]) {
			printUsage(out)
			return nil
		}
		return usageError{errors.New("dead: say list, requeue or purge")}
	}
	sub := args[0]
	var o inspectOptions
	fs := inspectFlags("dead "+sub, &o, true, sub == "list")
	var fn func(ctx context.Context, in *inspection, ids []string) error
	switch sub {
	case "list":
		fn = func(ctx context.Context, in *inspection, ids []string) error {
			if len(ids) > 0 {
				return usageError{fmt.Errorf("dead list: unexpected argument %q", ids[0])}
			}
			queues, err := in.queues(ctx)
			if err != nil {
				return err
			}
			all := []queue.TaskInfo{}
			for _, name := range queues {
				if len(all) >= o.Limit {
					break
				}
				ts, err := in.q.Tasks(ctx, name, queue.DeadTasks, o.Limit-len(all))
				if err != nil {
					return err
				}
				all = append(all, ts...)
			}
			if in.o.JSON {
				return in.json(map[string]any{"dead": tasksJSON(all)})
			}
			in.taskTable(queue.DeadTasks, all, true)
			return nil
		}
	case "requeue":
		fn = func(ctx context.Context, in *inspection, ids []string) error {
			queues, err := in.queues(ctx)
			if err != nil {
				return err
			}
			var res deadJSON
			for _, name := range queues {
				done, kept, err := in.q.RequeueDead(ctx, name, ids...)
				if err != nil {
					return err
				}
				for _, id := range done {
					res.Requeued = append(res.Requeued, queueID{name, id})
				}
				for _, id := range kept {
					res.Kept = append(res.Kept, queueID{name, id})
				}
			}
			if in.o.JSON {
				if err := in.json(res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(in.out, "requeued %d dead letters\n", len(res.Requeued))
				for _, r := range res.Requeued {
					fmt.Fprintf(in.out, "  %s %s\n", r.Queue, r.ID)
				}
				if len(res.Kept) > 0 {
					fmt.Fprintf(in.out, "left %d dead letters that cannot be read, or whose task is known again:\n", len(res.Kept))
					for _, r := range res.Kept {
						fmt.Fprintf(in.out, "  %s entry %s\n", r.Queue, r.ID)
					}
				}
			}
			if len(ids) > 0 && len(res.Requeued)+len(res.Kept) == 0 {
				return fmt.Errorf("dead requeue: no dead letter %s", strings.Join(ids, ", "))
			}
			return nil
		}
	case "purge":
		fn = func(ctx context.Context, in *inspection, ids []string) error {
			queues, err := in.queues(ctx)
			if err != nil {
				return err
			}
			n := 0
			for _, name := range queues {
				m, err := in.q.PurgeDead(ctx, name, ids...)
				if err != nil {
					return err
				}
				n += m
			}
			if in.o.JSON {
				if err := in.json(deadJSON{Purged: &n}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(in.out, "purged %d dead letters\n", n)
			}
			if len(ids) > 0 && n == 0 {
				return fmt.Errorf("dead purge: no dead letter %s", strings.Join(ids, ", "))
			}
			return nil
		}
	default:
		return usageError{fmt.Errorf("dead: unknown subcommand %q; say list, requeue or purge", sub)}
	}
	return inspect(ctx, fs, &o, args[1:], out, fn)
}

// lockJSON is a lock of `locks --json`.
type lockJSON struct {
	Key         string `json:"key"`
	Holder      string `json:"holder"`
	Fence       int64  `json:"fence"`
	Since       string `json:"since,omitempty"`
	RemainingMs int64  `json:"remaining_ms"`
}

func lockJSONOf(l lock.Info) lockJSON {
	return lockJSON{Key: l.Key, Holder: l.Holder, Fence: l.Fence, Since: stamp(l.Since), RemainingMs: l.Remaining.Milliseconds()}
}

func runLocks(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isHelp(args[0]) {
			printUsage(out)
			return nil
		}
		return usageError{errors.New("locks: say list or break")}
	}
	sub := args[0]
	var o inspectOptions
	fs := inspectFlags("locks "+sub, &o, false, false)
	switch sub {
	case "list":
		return inspect(ctx, fs, &o, args[1:], out, func(ctx context.Context, in *inspection, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("locks list: unexpected argument %q", args[0])}
			}
			held, err := in.b.Locker().Held(ctx)
			if err != nil {
				return err
			}
			if in.o.JSON {
				ls := make([]lockJSON, len(held))
				for i, l := range held {
					ls[i] = lockJSONOf(l)
				}
				return in.json(map[string]any{"locks": ls})
			}
			tw := in.table("KEY", "HOLDER", "FENCE", "HELD FOR", "EXPIRES")
			for _, l := range held {
				in.row(tw, l.Key, l.Holder, l.Fence, in.age(l.Since), in.until(in.now.Add(l.Remaining)))
			}
			return tw.Flush()
		})
	case "break":
		return inspect(ctx, fs, &o, args[1:], out, func(ctx context.Context, in *inspection, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("locks break: give one lock key")}
			}
			l := in.b.Locker()
			info, held, err := l.Lookup(ctx, args[0])
			if err != nil {
				return err
			}
			if !held {
				return fmt.Errorf("locks break: lock %q is not held", args[0])
			}
			if err := l.Break(ctx, args[0]); err != nil {
				return err
			}
			if in.o.JSON {
				return in.json(map[string]any{"broken": lockJSONOf(info)})
			}
			fmt.Fprintf(in.out, "broke lock %q, held by %s for %s (fence %d)\n", info.Key, cell(info.Holder), in.age(info.Since), info.Fence)
			return nil
		})
	}
	return usageError{fmt.Errorf("locks: unknown subcommand %q; say list or break", sub)}
}

// recordJSON is a record of `results list --json`.
type recordJSON struct {
	Queue     string `json:"queue"`
	ID        string `json:"id"`
	Task      string `json:"task"`
	Status    string `json:"status"`
	Attempt   int    `json:"attempt"`
	At        string `json:"at,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Error     string `json:"error,omitempty"`
	Value     string `json:"value,omitempty"`
}

// resultStats counts a queue's records.
type resultStats struct {
	Queue     string         `json:"queue"`
	Records   int            `json:"records"`
	Succeeded int            `json:"succeeded"`
	Failed    int            `json:"failed"`
	Skipped   int            `json:"skipped"`
	Kinds     map[string]int `json:"failed_kinds,omitempty"`
}

// queueName shows a record's queue: "" is that of runs in-process.
func queueName(q string) string { return cmp.Or(q, "(in-process)") }

func runResults(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isHelp(args[0]) {
			printUsage(out)
			return nil
		}
		return usageError{errors.New("results: say list, purge or stats")}
	}
	sub := args[0]
	var o inspectOptions
	fs := inspectFlags("results "+sub, &o, true, sub == "list")
	if sub != "list" && sub != "purge" && sub != "stats" {
		return usageError{fmt.Errorf("results: unknown subcommand %q; say list, purge or stats", sub)}
	}
	return inspect(ctx, fs, &o, args[1:], out, func(ctx context.Context, in *inspection, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("results %s: unexpected argument %q", sub, args[0])}
		}
		s := in.b.Store()
		if sub == "purge" {
			var queues []string
			if o.QueueSet {
				queues = []string{o.Queue}
			}
			n, err := s.Purge(ctx, queues...)
			if err != nil {
				return err
			}
			if in.o.JSON {
				return in.json(map[string]any{"purged": n})
			}
			fmt.Fprintf(in.out, "purged %d records\n", n)
			return nil
		}
		recs, err := s.List(ctx)
		if err != nil {
			return err
		}
		if o.QueueSet {
			recs = slices.DeleteFunc(recs, func(r *store.Record) bool { return r.Queue != o.Queue })
		}
		if sub == "stats" {
			return in.resultStats(recs)
		}
		recs = recs[:min(len(recs), o.Limit)]
		if in.o.JSON {
			rs := make([]recordJSON, len(recs))
			for i, r := range recs {
				rs[i] = recordJSON{Queue: r.Queue, ID: r.ID, Task: r.Task, Status: string(r.Status), Attempt: r.Attempt,
					At: stamp(r.At), ExpiresAt: stamp(r.ExpiresAt), Kind: r.Kind, Error: r.Error, Value: string(r.Value)}
			}
			return in.json(map[string]any{"results": rs})
		}
		tw := in.table("QUEUE", "ID", "TASK", "STATUS", "ATTEMPT", "STORED", "EXPIRES", "KIND", "ERROR")
		for _, r := range recs {
			in.row(tw, queueName(r.Queue), r.ID, r.Task, r.Status, r.Attempt, in.ago(r.At), in.until(r.ExpiresAt), r.Kind, r.Error)
		}
		return tw.Flush()
	})
}

func (in *inspection) resultStats(recs []*store.Record) error {
	by := map[string]*resultStats{}
	var order []string
	for _, r := range recs {
		st := by[r.Queue]
		if st == nil {
			st = &resultStats{Queue: r.Queue}
			by[r.Queue] = st
			order = append(order, r.Queue)
		}
		st.Records++
		switch r.Status {
		case store.Succeeded:
			st.Succeeded++
		case store.Failed:
			st.Failed++
			if st.Kinds == nil {
				st.Kinds = map[string]int{}
			}
			st.Kinds[cmp.Or(r.Kind, "unknown")]++
		case store.Skipped:
			st.Skipped++
		}
	}
	slices.Sort(order)
	rows := make([]resultStats, len(order))
	for i, q := range order {
		rows[i] = *by[q]
	}
	if in.o.JSON {
		return in.json(map[string]any{"stats": rows})
	}
	tw := in.table("QUEUE", "RECORDS", "SUCCEEDED", "FAILED", "SKIPPED", "FAILED BY KIND")
	for _, r := range rows {
		kinds := make([]string, 0, len(r.Kinds))
		for k := range r.Kinds {
			kinds = append(kinds, k)
		}
		slices.SortFunc(kinds, func(a, b string) int { return cmp.Or(r.Kinds[b]-r.Kinds[a], strings.Compare(a, b)) })
		for i, k := range kinds {
			kinds[i] = fmt.Sprintf("%s=%d", k, r.Kinds[k])
		}
		in.row(tw, queueName(r.Queue), r.Records, r.Succeeded, r.Failed, r.Skipped, strings.Join(kinds, ","))
	}
	return tw.Flush()
}

// workerJSON is a worker of `workers --json`.
type workerJSON struct {
	Queue   string `json:"queue"`
	Name    string `json:"name"`
	Pending int64  `json:"pending"`
	IdleMs  int64  `json:"idle_ms"`
	Live    bool   `json:"live"`
}

func runWorkers(ctx context.Context, args []string, out io.Writer) error {
	var o inspectOptions
	fs := inspectFlags("workers", &o, true, false)
	return inspect(ctx, fs, &o, args, out, func(ctx context.Context, in *inspection, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("workers: unexpected argument %q", args[0])}
		}
		queues, err := in.queues(ctx)
		if err != nil {
			return err
		}
		rows := []workerJSON{}
		for _, name := range queues {
			ws, err := in.q.Workers(ctx, name)
			if err != nil {
				return err
			}
			for _, w := range ws {
				rows = append(rows, workerJSON{Queue: name, Name: w.Name, Pending: w.Pending, IdleMs: w.Idle.Milliseconds(),
					Live: w.Idle < queue.LiveWorkerWindow})
			}
		}
		if in.o.JSON {
			return in.json(map[string]any{"workers": rows})
		}
		tw := in.table("QUEUE", "WORKER", "PENDING", "IDLE", "LIVE")
		for _, w := range rows {
			live := "no"
			if w.Live {
				live = "yes"
			}
			in.row(tw, w.Queue, w.Name, w.Pending, duration(time.Duration(w.IdleMs)*time.Millisecond), live)
		}
		return tw.Flush()
	})
}

// runPause pauses or resumes the queues named: workers take nothing from
// a paused queue until it is resumed.
func runPause(ctx context.Context, args []string, out io.Writer, pause bool) error {
	name := "resume"
	if pause {
		name = "pause"
	}
	var o inspectOptions
	fs := inspectFlags(name, &o, false, false)
	return inspect(ctx, fs, &o, args, out, func(ctx context.Context, in *inspection, args []string) error {
		if len(args) == 0 {
			return usageError{fmt.Errorf("%s: name the queues", name)}
		}
		for _, queueName := range args {
			if err := queue.ValidateName(queueName); err != nil {
				return usageError{err}
			}
		}
		for _, queueName := range args {
			var err error
			if pause {
				err = in.q.Pause(ctx, queueName)
			} else {
				err = in.q.Resume(ctx, queueName)
			}
			if err != nil {
				return err
			}
		}
		if in.o.JSON {
			return in.json(map[string]any{name + "d": args})
		}
		for _, queueName := range args {
			fmt.Fprintf(in.out, "queue %s %sd\n", queueName, name)
		}
		return nil
	})
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}
