package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/redis/go-redis/v9"
)

func main() {
	// go-redis logs each failed dial on its own; the command reports the
	// error once, itself.
	redis.SetLogger(quiet{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cli runs the command line args, as main does: what it shows goes to
// stdout, notes and its error to stderr. It returns the exit status.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return exitCode(run(ctx, args, stdout, stderr), stderr)
}

// usageError is a mistake on the command line: an unknown command or a bad
// flag. The command then prints its usage and exits with status 2.
type usageError struct{ error }

// withHelp is an error of one command, whose help, rather than every
// command's, follows it when it is a usageError.
type withHelp struct {
	error
	help func(io.Writer)
}

func (e withHelp) Unwrap() error { return e.error }

// helpOnUsage returns err with help attached if it is a usageError.
func helpOnUsage(err error, help func(io.Writer)) error {
	if _, ok := errors.AsType[usageError](err); ok {
		return withHelp{err, help}
	}
	return err
}

// run runs the command named by args[0] with the rest of args as its flags,
// writing what it shows to out, and notes beside it (that a prefix holds
// no keys) to errOut; it returns its error.
func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("no command given")}
	}
	switch args[0] {
	case "demo":
		return helpOnUsage(runDemo(ctx, args[1:], out), func(w io.Writer) { help(w, demoDoc, demoFlags(&demoOptions{})) })
	case "help", "-h", "-help", "--help":
		return showHelp(ctx, args[1:], out)
	case "web":
		return helpOnUsage(runWeb(ctx, args[1:], out), func(w io.Writer) { help(w, webDoc, webFlags(&webOptions{})) })
	}
	if cmd, ok := inspectCommands[args[0]]; ok {
		return cmd(ctx, args[1:], out, errOut)
	}
	return usageError{fmt.Errorf("unknown command %s", quote(args[0]))}
}

// showHelp prints the help of the command args name, "help dead list"
// as "dead list -h" does, or every command's.
func showHelp(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		printUsage(out)
		return nil
	}
	if args[0] == "demo" || args[0] == "web" || inspectCommands[args[0]] != nil {
		return run(ctx, append(args, "-h"), out, io.Discard)
	}
	return usageError{fmt.Errorf("help: unknown command %s", quote(args[0]))}
}

// runDemo runs the demo command with its flags, args.
func runDemo(ctx context.Context, args []string, out io.Writer) error {
	var opts demoOptions
	if err := parse(demoFlags(&opts), args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help(out, demoDoc, demoFlags(&demoOptions{}))
			return nil
		}
		return err
	}
	if opts.Tasks < 1 {
		return usageError{fmt.Errorf("demo: --tasks must be at least 1, got %d", opts.Tasks)}
	}
	if opts.Keep && opts.RedisURL == "" {
		return usageError{errors.New("demo: --keep needs --redis: an embedded miniredis ends with the demo")}
	}
	_, err := demo(ctx, opts, out)
	return redact(err, opts.RedisURL)
}

// demoFlags returns the flags of the demo command, bound to opts.
func demoFlags(opts *demoOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	redisFlags(fs, &opts.RedisURL, &opts.TLS)
	fs.IntVar(&opts.Tasks, "tasks", defaultTasks, "how many tasks to enqueue per policy")
	fs.BoolVar(&opts.Keep, "keep", false, "leave the demo's keys behind, with tasks waiting, a lock held and its workflows, for taskware web to show")
	return fs
}

// parse parses a command's flags. It returns flag.ErrHelp for -h, and a
// usageError for a bad flag or a stray argument.
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // exitCode prints the usage, once
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return flagError(fs, err)
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// exitCode reports err on stderr, with the usage for a usageError, and
// returns the process's exit status: 0, 1 for a failure, 2 for a usage error.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "taskware:", visibleText(err.Error()))
	if _, ok := errors.AsType[usageError](err); ok {
		fmt.Fprintln(stderr)
		if h, ok := errors.AsType[withHelp](err); ok {
			h.help(stderr)
		} else {
			printUsage(stderr)
		}
		return 2
	}
	return 1
}

// quiet is a go-redis logger that logs nothing.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
