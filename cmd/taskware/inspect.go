package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
)

// defaultRedisURL is the Redis the inspection commands read when neither
// --redis nor $TASKWARE_REDIS_URL names one. They never start an embedded
// miniredis: there would be nothing in it to see.
const defaultRedisURL = "redis://127.0.0.1:6379/0"

// defaultLimit is how many tasks, dead letters or records a listing shows
// unless --limit says otherwise.
const defaultLimit = 100

// inspectCommands are the inspection commands, by name.
var inspectCommands = map[string]func(ctx context.Context, args []string, out, errOut io.Writer) error{
	"queues":    execQueues,
	"tasks":     tasksCommand.exec,
	"task":      taskCommand.exec,
	"workflows": workflowsCommand.exec,
	"dead":      deadCommands.exec,
	"locks":     locksCommands.exec,
	"results":   resultsCommands.exec,
	"workers":   workersCommand.exec,
	"schedules": schedulesCommands.exec,
	"pause":     pauseCommand.exec,
	"resume":    resumeCommand.exec,
	// workflow ID, or workflow retry|cancel ID
	"workflow": execWorkflow,
}

// inspectCommand is an inspection command, or a subcommand of a family.
type inspectCommand struct {
	// name is the command as typed: "queues", "dead list".
	name string
	doc
	// queue, limit, state and stack say whether it takes --queue,
	// --limit, --state and --stack; find, whether it takes the flags
	// that find tasks in a queue and page through them (findFlags).
	queue, limit, state, stack, find bool
	// more adds the command's own flags, bound to o, if it has any.
	more func(fs *flag.FlagSet, o *inspectOptions)
	// run does the command's work on a connection; what it prints to
	// in.out is shown once it returns.
	run func(ctx context.Context, in *inspection, args []string) error
}

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
	// Stack is --stack: print each panicked attempt's stack in full.
	Stack bool
	// Args and Paused are schedules add's --args and --paused.
	Args   string
	Paused bool
	// Find is what the find flags say, as given.
	Find findOptions
	// Given are the flags given on the command line, with their values:
	// the next page's command repeats them.
	Given []*flag.Flag
}

// findOptions are the flags that find tasks in one queue, and the page
// cursor; each "" when not given.
type findOptions struct {
	Task, Search, Status, Kind, Since, Until, After string
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

// flags returns c's flags, bound to o.
func (c *inspectCommand) flags(o *inspectOptions) *flag.FlagSet {
	fs := inspectFlags(c.name, o, c.queue, c.limit)
	if c.state {
		fs.StringVar(&o.State, "state", string(queue.ReadyTasks), "list the tasks in this `STATE`: ready, running, delayed, dead or finished")
	}
	if c.stack {
		fs.BoolVar(&o.Stack, "stack", false, "under the attempts, print each panic's error and stack in full")
	}
	if c.find {
		findFlags(fs, &o.Find, "")
	}
	if c.more != nil {
		c.more(fs, o)
	}
	return fs
}

// findFlags adds the flags that find tasks in one queue, and --after, to
// fs, bound to f; each usage starts with lead ("of tasks: " in the help
// of every command).
func findFlags(fs *flag.FlagSet, f *findOptions, lead string) {
	lead += "with --queue: "
	fs.StringVar(&f.Task, "task", "", lead+"only the tasks of this task `NAME`")
	fs.StringVar(&f.Search, "search", "", lead+"only the tasks whose ID, task name or arguments hold this `TEXT`, ignoring case (a finished task's arguments are gone)")
	fs.StringVar(&f.Status, "status", "", lead+"only the tasks of this `STATUS`: "+statusChoices())
	fs.StringVar(&f.Kind, "kind", "", lead+"only the tasks whose error kind is this `KIND` (dead, finished, retried tasks)")
	fs.StringVar(&f.Since, "since", "", lead+"only the tasks whose time is `T` or later: an RFC 3339 time, or a duration before now (1h: an hour ago; -1h: in an hour). A task's time is when it ended (dead, finished), when it is due (delayed), else when it was enqueued")
	fs.StringVar(&f.Until, "until", "", lead+"only the tasks whose time is before `T`, said as --since says it")
	fs.StringVar(&f.After, "after", "", lead+"the page after this `CURSOR`, as the next page's command (on stderr) or --json's \"next\" gives it")
}

// exec runs c with args, its flags and arguments, and prints what it
// showed, with every password of the URL hidden and every control
// character visible, as is any error; -h prints c's help, and so does a
// usage error after its message. When c found nothing, a note on errOut
// says whether its prefix holds any key.
func (c *inspectCommand) exec(ctx context.Context, args []string, out, errOut io.Writer) error {
	return helpOnUsage(c.execute(ctx, args, out, errOut), c.help)
}

// execute is exec, but for the help after a usage error.
func (c *inspectCommand) execute(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o inspectOptions
	fs := c.flags(&o)
	rest, err := parseArgs(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.help(out)
		return nil
	case err != nil:
		return err
	case c.limit && o.Limit < 1:
		return usageError{fmt.Errorf("%s: --limit must be at least 1, got %d", c.name, o.Limit)}
	}
	fs.Visit(func(f *flag.Flag) {
		o.QueueSet = o.QueueSet || f.Name == "queue"
		o.Given = append(o.Given, f)
	})
	in, err := open(ctx, &o)
	if err != nil {
		return redact(err, o.RedisURL)
	}
	defer in.close()
	err = c.run(ctx, in, rest)
	if _, werr := io.WriteString(out, visibleText(redactText(in.out.String(), o.RedisURL))); err == nil {
		err = werr
	}
	io.WriteString(errOut, visibleText(redactText(in.notes.String(), o.RedisURL)))
	if in.empty && (err == nil || errors.Is(err, queue.ErrNotFound)) {
		var note bytes.Buffer
		in.noteEmpty(ctx, &note)
		io.WriteString(errOut, visibleText(redactText(note.String(), o.RedisURL)))
	}
	return redact(err, o.RedisURL)
}

// family is a command of subcommands: dead, locks, results. Its first
// subcommand, list, is what it does alone, or with flags first.
type family struct {
	name string
	subs []*inspectCommand
}

func (f *family) exec(ctx context.Context, args []string, out, errOut io.Writer) error {
	switch {
	case len(args) > 0 && isHelp(args[0]):
		f.help(out)
		return nil
	case len(args) == 0 || strings.HasPrefix(args[0], "-"):
		return f.subs[0].exec(ctx, args, out, errOut)
	}
	for _, sub := range f.subs {
		if sub.name == f.name+" "+args[0] {
			return sub.exec(ctx, args[1:], out, errOut)
		}
	}
	return withHelp{usageError{fmt.Errorf("%s: unknown subcommand %s; say %s", f.name, quote(args[0]), f.choices(", ", " or "))}, f.help}
}

// choices lists f's subcommands: "list, requeue or purge".
func (f *family) choices(sep, last string) string {
	names := make([]string, len(f.subs))
	for i, sub := range f.subs {
		names[i] = strings.TrimPrefix(sub.name, f.name+" ")
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], sep) + last + names[len(names)-1]
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
			return nil, flagError(fs, err)
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		rest, args = append(rest, args[0]), args[1:]
	}
	return rest, nil
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// inspection is a connected inspection command.
type inspection struct {
	o      *inspectOptions
	b      *redisbackend.Backend
	q      *redisbackend.Queue
	client *redis.Client
	now    time.Time
	// empty says the command found nothing to show, or not what it
	// was asked for: then it notes whether its prefix holds any key.
	empty bool
	out   *bytes.Buffer // what to print, redacted before it is
	// notes is what to print on stderr after out, as out is: the next
	// page's command.
	notes *bytes.Buffer
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
	b := redisbackend.New(c, redisbackend.Prefix(o.Prefix))
	return &inspection{o: o, b: b, q: b.Queue(), client: c, now: time.Now(), out: &bytes.Buffer{},
		notes: &bytes.Buffer{}, close: closeFn}, nil
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

// noArgs refuses the arguments of a command that takes none.
func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", name, args[0])}
	}
	return nil
}

// notFoundError is what a command looked up and did not find, named with
// where it looked: `task "x" not found in queue "a"`, or "in any queue".
// It matches queue.ErrNotFound.
type notFoundError struct {
	what string // "task", "dead letter"
	ids  []string
	// queues are those looked in; none means every queue.
	queues []string
}

func (e *notFoundError) Error() string {
	what := e.what
	if len(e.ids) > 1 {
		what += "s"
	}
	where := "in any queue"
	switch len(e.queues) {
	case 0:
	case 1:
		where = "in queue " + quote(e.queues[0])
	default:
		where = "in queues " + quoteAll(e.queues)
	}
	return fmt.Sprintf("%s %s not found %s", what, quoteAll(e.ids), where)
}

func (e *notFoundError) Is(target error) bool { return target == queue.ErrNotFound }

// quoteAll is names quoted, with commas between them.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
