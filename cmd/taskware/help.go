package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// doc is how the help shows a command: its synopsis, and what it does, in
// lines as the table of commands wraps them.
type doc struct {
	synopsis []string
	about    []string
}

// aboutColumn is where the table of commands starts what a command does,
// past its two spaces of margin.
const aboutColumn = 28

// write prints d as a row of the table of commands: its synopsis and
// what it does side by side, or, when the synopsis is too long for its
// column, one above the other.
func (d doc) write(w io.Writer) {
	syn, about := d.synopsis, d.about
	if len(syn[0]) >= aboutColumn-1 {
		for _, s := range syn {
			fmt.Fprintf(w, "  %s\n", s)
		}
		syn = nil
	}
	for i := range max(len(syn), len(about)) {
		line := fmt.Sprintf("  %-*s%s", aboutColumn, at(syn, i), at(about, i))
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// at is lines[i], "" past its end.
func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// usageLine is d's synopsis on one line.
func (d doc) usageLine() string {
	return strings.Join(strings.Fields(strings.Join(d.synopsis, " ")), " ")
}

// help prints one command's help: its synopsis, what it does, and fs's
// flags.
func help(w io.Writer, d doc, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: taskware %s [flags]\n\n", d.usageLine())
	for _, line := range d.about {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprint(w, "\nflags:\n")
	printFlags(w, fs)
}

func (c *inspectCommand) help(w io.Writer) { help(w, c.doc, c.flags(&inspectOptions{})) }

// help prints the help of f's subcommands, and the flags of its first.
func (f *family) help(w io.Writer) {
	list := strings.TrimPrefix(f.subs[0].name, f.name+" ")
	fmt.Fprintf(w, "usage: taskware %s %s [flags]\n\n", f.name, f.choices("|", "|"))
	for _, sub := range f.subs {
		sub.write(w)
	}
	fmt.Fprintf(w, "\n  taskware %s alone is taskware %s %s; taskware %s SUBCOMMAND -h shows one subcommand's help.\n\nflags of %s %s:\n",
		f.name, f.name, list, f.name, f.name, list)
	fs := f.subs[0].flags(&inspectOptions{})
	printFlags(w, fs)
}

var (
	demoDoc = doc{
		synopsis: []string{"demo"},
		about: []string{"enqueue the same few hundred report tasks under two policies, run",
			"them through a worker, and compare their outcomes and what the", "result store keeps; then run two workflows, one failing",
			"until its failed step is retried"},
	}
	webDoc = doc{
		synopsis: []string{"web [--addr HOST:PORT] [--read-only] [--basic-auth USER:PASS]"},
		about: []string{"serve a web view of all of the above, with", "its actions, on 127.0.0.1:8080 by default,",
			"until interrupted"},
	}
)

// commandDocs are the inspection commands and web, in the help's order.
func commandDocs() []doc {
	var docs []doc
	for _, c := range []*inspectCommand{queuesCommand, partitionCommand, tasksCommand, taskCommand, workflowsCommand} {
		docs = append(docs, c.doc)
	}
	for _, f := range []*family{deadCommands, locksCommands, resultsCommands, workflowCommands, schedulesCommands} {
		for _, sub := range f.subs {
			docs = append(docs, sub.doc)
		}
	}
	for _, c := range []*inspectCommand{workersCommand, pauseCommand, resumeCommand} {
		docs = append(docs, c.doc)
	}
	return append(docs, webDoc)
}

// printUsage prints the help of every command.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "usage: taskware <command> [flags]\n\ncommands:\n")
	fmt.Fprintf(w, "  %-7s%s\n", demoDoc.synopsis[0], demoDoc.about[0])
	for _, line := range demoDoc.about[1:] {
		fmt.Fprintf(w, "  %-7s%s\n", "", line)
	}
	fmt.Fprintln(w)
	for _, d := range commandDocs() {
		d.write(w)
	}
	fmt.Fprint(w, `
  An ID is a task's ID, or a dead letter's entry ID. --queue "" is the
  queue of runs made in-process, which only results have. tasks, dead,
  locks, results and schedules alone list. taskware COMMAND -h, or
  taskware help COMMAND, shows one command's help.

flags of demo:
`)
	fs := demoFlags(&demoOptions{})
	printFlags(w, fs)
	fmt.Fprint(w, "\nflags of every other command:\n")
	var o inspectOptions
	fs = inspectFlags("inspect", &o, true, true)
	fs.StringVar(&o.State, "state", "ready", "of tasks: list the tasks in this `STATE`: ready, running, delayed, dead or finished")
	findFlags(fs, &o.Find, "of tasks: ")
	fs.BoolVar(&o.Stack, "stack", false, "of task: under the attempts, print each panic's error and stack in full")
	fs.StringVar(&o.Args, "args", "null", "of schedules add: the task's arguments as `JSON`, stored as worker.Enqueue encodes them (task.JSON)")
	fs.BoolVar(&o.Paused, "paused", false, "of schedules add: store the entry paused")
	printFlags(w, fs)
}

// printFlags prints fs's flags as flag.PrintDefaults does, but spelled as
// the README and every message spell them: "--json", not "-json". (Either
// parses.)
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		fmt.Fprintf(w, "  --%s%s\n    \t%s", f.Name, arg, strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch def := f.DefValue; {
		case def == "", def == "false", def == "0":
		case isStringFlag(f):
			fmt.Fprintf(w, " (default %q)", def)
		default:
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	})
}

// isStringFlag reports whether f holds a string, whose default is quoted.
func isStringFlag(f *flag.Flag) bool {
	_, ok := f.Value.(flag.Getter).Get().(string)
	return ok
}

// flagDashRe finds a flag as package flag's errors name it, "-json".
var flagDashRe = regexp.MustCompile(`(: |flag |for )-(\w)`)

// flagError is a bad flag, as a usageError, its flag spelled "--json" as
// in the help rather than "-json" as package flag spells it.
func flagError(fs *flag.FlagSet, err error) error {
	return usageError{fmt.Errorf("%s: %s", fs.Name(), flagDashRe.ReplaceAllString(err.Error(), "$1--$2"))}
}
