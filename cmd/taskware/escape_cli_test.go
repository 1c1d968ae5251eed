package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
)

// Names chosen by whoever enqueues, each with sequences a terminal acts
// on: set the title, clear the screen, write the clipboard (OSC 52), move
// the cursor, hide text, reorder the line, and CSI as a raw byte and as
// U+009B.
const (
	evilQueue  = "q\x1b[2J\u202e"
	evilID     = "id\x1b]0;pwned\x07"
	evilTask   = "t\x9b31m\r"
	evilError  = "boom\x1b]52;c;cHduZWQ=\x07\u009b\u2066\nline two\x1b[1A"
	evilKind   = "k\x1b[8m\x7f"
	evilLock   = "lk\x1b[2J\u202e"
	evilHolder = "h\x1b]0;x\x07\r"
	evilWorker = "w\x1b[1A\x9b"
	evilPrefix = "p\x1b]0;x\x07\u2067:"
	// evilStack is a panic's stack, with a hyperlink (OSC 8) in a file
	// line that a tab indents.
	evilStack = "goroutine 1 [running]:\n\tmain.go:1 \x1b]8;;http://evil\x07link\x1b]8;;\x07\u202e\r\x9b\n"
)

// seedEvil gives e's Redis, under e's prefix, a queue whose tasks in
// every state, dead letters, stored records, lock and worker are named
// with escape sequences (a failed task's attempt has a panic's stack with
// them too); and, under e.prefix+evilPrefix, a lock only, for
// the note on an empty prefix to name.
func seedEvil(t *testing.T, e *cliEnv) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	q := e.b.Queue()
	enqueue := func(id string, runAt time.Time) {
		must(q.Enqueue(ctx, &queue.Message{ID: id, Task: evilTask, Queue: evilQueue, Payload: []byte(`["x"]`),
			EnqueuedAt: time.Now(), Attempt: 1, Headers: map[string]string{"h\x1b[2J": evilError}}, runAt))
	}
	// take takes id, the one ready task, as evilWorker, and ends it with o
	// unless o is zero (then it stays running).
	take := func(id string, o queue.Outcome) {
		t.Helper()
		enqueue(id, time.Time{})
		ds, err := q.Take(ctx, evilQueue, evilWorker, 1, 0)
		must(err)
		if len(ds) != 1 || ds[0].ID != id {
			t.Fatalf("took %+v, want %q", ds, id)
		}
		if o.Status != "" {
			must(q.Finish(ctx, ds[0], o))
		}
	}
	take(evilID+"run", queue.Outcome{})
	for _, n := range []string{"", "2", "3", "4"} { // one for each change to a dead letter, and to list
		take(evilID+"dead"+n, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: evilKind, Error: evilError})
	}
	take(evilID+"fail", queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: evilKind, Error: evilError,
		Stack: evilStack, Worker: evilWorker, StartedAt: time.Now()})
	take(evilID+"retry", queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour),
		Retry: true, Kind: evilKind, Error: evilError})
	enqueue(evilID+"ready", time.Time{})
	enqueue(evilID+"later", time.Now().Add(time.Hour))

	for _, q := range []string{evilQueue, evilQueue + "2"} {
		must(e.b.Store().Put(ctx, &store.Record{Queue: q, ID: evilID, Task: evilTask, Status: store.Failed,
			Attempt: 1, Kind: evilKind, Error: evilError}, time.Hour))
	}
	held := redisbackend.New(e.client, redisbackend.Prefix(e.prefix), redisbackend.Holder(evilHolder))
	for _, key := range []string{evilLock, evilLock + "2"} {
		_, err := held.Locker().TryAcquire(ctx, key, time.Hour)
		must(err)
	}
	other := redisbackend.New(e.client, redisbackend.Prefix(e.prefix+evilPrefix), redisbackend.Holder(evilHolder))
	_, err := other.Locker().TryAcquire(ctx, evilLock, time.Hour)
	must(err)
}

// rawControl returns the first character of out a terminal would act on
// (any control character but newline and tab, a bidirectional control, a
// byte that is not UTF-8), and whether there is one.
func rawControl(out string) (string, bool) {
	for i, r := range out {
		if r == utf8.RuneError && !strings.HasPrefix(out[i:], "\uFFFD") {
			return out[i : i+1], true
		}
		if controlRune(r) && r != '\n' && r != '\t' {
			return string(r), true
		}
	}
	return "", false
}

// Every command, fed names, IDs, errors, lock keys and holders, worker
// names and prefixes holding escape sequences, prints none of them raw,
// on stdout or stderr, as a table, as JSON, in a note or in an error.
func TestNoRawControlInAnyCommand(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		seedEvil(t, e)
		// First, while the four dead letters are there: the next page's
		// command shows the evil names escaped, a shell reads them back
		// as they were, and run again it lists the next page.
		t.Run("tasks next page", func(t *testing.T) {
			args := []string{"tasks", "--queue", evilQueue, "--state", "dead", "--task", evilTask, "--kind", evilKind,
				"--limit", "1", "--redis", e.url, "--prefix", e.prefix}
			seen := map[string]bool{}
			for page := 0; args != nil; page++ {
				if page == 10 {
					t.Fatal("ten pages of dead letters, and more")
				}
				out, stderr := runArgs(t, args)
				if c, ok := rawControl(stderr); ok {
					t.Fatalf("stderr has %q raw:\n%q", c, stderr)
				}
				for _, id := range listedIDs(t, out) {
					if seen[id] {
						t.Errorf("page %d lists %s again", page+1, id)
					}
					seen[id] = true
				}
				next := nextCommand(t, stderr)
				if next != nil && (!slices.Contains(next, evilQueue) || !slices.Contains(next, evilTask) || !slices.Contains(next, evilKind)) {
					t.Fatalf("bash reads the next page's command as %q; want the evil queue, task and kind as given\n%s", next, stderr)
				}
				args = next
			}
			if len(seen) != 4 {
				t.Errorf("the pages listed %d dead letters, want the 4", len(seen))
			}
		})
		// ESC as the table shows it, or as JSON does.
		shown := []string{`\x1b`, `\u001b`}
		for _, tc := range []struct {
			name string
			args []string
			// jsonArgs, if set, are those of the --json form: a change
			// acts on other names than its table form did.
			jsonArgs []string
			code     int
			// seen says stdout or stderr shows an escape: the evil text
			// reached the output, made visible.
			seen bool
		}{
			{"queues", []string{"queues"}, nil, 0, true},
			{"tasks", []string{"tasks"}, nil, 0, true},
			{"tasks ready", []string{"tasks", "--queue", evilQueue, "--state", "ready"}, nil, 0, true},
			{"tasks running", []string{"tasks", "--queue", evilQueue, "--state", "running"}, nil, 0, true},
			{"tasks delayed", []string{"tasks", "--queue", evilQueue, "--state", "delayed"}, nil, 0, true},
			{"tasks dead", []string{"tasks", "--queue", evilQueue, "--state", "dead"}, nil, 0, true},
			{"tasks finished", []string{"tasks", "--queue", evilQueue, "--state", "finished"}, nil, 0, true},
			{"tasks bad state", []string{"tasks", "--queue", evilQueue, "--state", evilKind}, nil, 2, true},
			{"tasks search", []string{"tasks", "--queue", evilQueue, "--search", evilTask}, nil, 0, true},
			{"tasks task", []string{"tasks", "--queue", evilQueue, "--state", "finished", "--task", evilTask}, nil, 0, true},
			{"tasks kind", []string{"tasks", "--queue", evilQueue, "--state", "dead", "--kind", evilKind}, nil, 0, true},
			{"tasks status", []string{"tasks", "--queue", evilQueue, "--state", "finished", "--status", "failed"}, nil, 0, true},
			// The next page's command repeats the queue, the task and the
			// kind, escaped as a shell reads them.
			{"tasks next page", []string{"tasks", "--queue", evilQueue, "--state", "dead", "--task", evilTask, "--kind", evilKind,
				"--limit", "1"}, nil, 0, true},
			{"tasks bad status", []string{"tasks", "--queue", evilQueue, "--status", evilKind}, nil, 2, true},
			{"tasks bad since", []string{"tasks", "--queue", evilQueue, "--since", evilError}, nil, 2, true},
			{"tasks bad until", []string{"tasks", "--queue", evilQueue, "--until", evilKind}, nil, 2, true},
			{"tasks bad after", []string{"tasks", "--queue", evilQueue, "--after", evilID}, nil, 2, true},
			{"tasks search without queue", []string{"tasks", "--search", evilTask}, nil, 2, false},
			{"task ready", []string{"task", evilID + "ready"}, nil, 0, true},
			{"task running", []string{"task", evilID + "run", "--queue", evilQueue}, nil, 0, true},
			{"task retried", []string{"task", evilID + "retry"}, nil, 0, true},
			{"task dead", []string{"task", evilID + "dead"}, nil, 0, true},
			{"task failed", []string{"task", evilID + "fail"}, nil, 0, true},
			{"task failed --stack", []string{"task", evilID + "fail", "--stack"}, nil, 0, true},
			{"task missing", []string{"task", evilID + "none", "--queue", evilQueue}, nil, 1, true},
			{"dead", []string{"dead"}, nil, 0, true},
			{"dead list", []string{"dead", "list", "--queue", evilQueue}, nil, 0, true},
			{"locks", []string{"locks"}, nil, 0, true},
			{"locks list", []string{"locks", "list"}, nil, 0, true},
			{"results", []string{"results"}, nil, 0, true},
			{"results list", []string{"results", "list", "--queue", evilQueue}, nil, 0, true},
			{"results stats", []string{"results", "stats"}, nil, 0, true},
			{"workers", []string{"workers"}, nil, 0, true},
			{"pause", []string{"pause", evilQueue}, nil, 0, true},
			{"resume", []string{"resume", evilQueue}, nil, 0, true},
			{"pause bad name", []string{"pause", evilQueue + "{"}, nil, 2, true},
			{"unknown command", []string{evilTask}, nil, 2, false},
			{"unknown subcommand", []string{"dead", evilKind}, nil, 2, true},
			{"empty prefix", []string{"queues", "--prefix", e.prefix + "empty:"}, nil, 0, true},
			{"dead requeue", []string{"dead", "requeue", "--queue", evilQueue, evilID + "dead"}, []string{"dead", "requeue", evilID + "dead2"}, 0, true},
			{"dead requeue missing", []string{"dead", "requeue", evilID}, nil, 1, true},
			{"dead purge", []string{"dead", "purge", evilID + "dead3"}, []string{"dead", "purge", "--queue", evilQueue, evilID + "dead4"}, 0, false},
			{"dead purge missing", []string{"dead", "purge", evilID, "--queue", evilQueue}, nil, 1, true},
			{"locks break", []string{"locks", "break", evilLock}, []string{"locks", "break", evilLock + "2"}, 0, true},
			{"locks break missing", []string{"locks", "break", evilLock + "none"}, nil, 1, true},
			{"results purge", []string{"results", "purge", "--queue", evilQueue}, []string{"results", "purge"}, 0, false},
		} {
			for _, asJSON := range []bool{false, true} {
				args := tc.args
				if asJSON && tc.jsonArgs != nil {
					args = tc.jsonArgs
				}
				args = append(slices.Clone(args), "--redis", e.url)
				if !slices.Contains(args, "--prefix") {
					args = append(args, "--prefix", e.prefix)
				}
				name := tc.name
				if asJSON {
					args, name = append(args, "--json"), name+" --json"
				}
				t.Run(name, func(t *testing.T) {
					var stdout, stderr bytes.Buffer
					ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
					defer cancel()
					code := cli(ctx, args, &stdout, &stderr)
					if code != tc.code {
						t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
					}
					for stream, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
						if c, ok := rawControl(out); ok {
							t.Errorf("%s has %q raw:\n%q", stream, c, out)
						}
					}
					both := stdout.String() + stderr.String()
					// The note on an empty prefix looks at 100k keys at
					// most: on the shared Redis, other tests' keys can hide
					// the evil prefix's, so only miniredis, whose keys are
					// this test's, must show it.
					seen := tc.seen && !(tc.name == "empty prefix" && e.shared)
					if seen && !strings.Contains(both, shown[0]) && !strings.Contains(both, shown[1]) {
						t.Errorf("no escape shown: the evil names did not reach the output\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
					}
					if asJSON && code == 0 {
						var doc map[string]any
						if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
							t.Errorf("--json prints no JSON document: %v\n%s", err, stdout.String())
						}
					}
				})
			}
		}
		// The failed task's attempt reaches the output, made visible: its
		// error in the table, its stack with --stack, both in --json.
		t.Run("task attempts", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			show := func(args ...string) string {
				t.Helper()
				var stdout, stderr bytes.Buffer
				args = append([]string{"task", evilID + "fail", "--redis", e.url, "--prefix", e.prefix}, args...)
				if code := cli(ctx, args, &stdout, &stderr); code != 0 {
					t.Fatalf("%q: exit status %d\n%s", args, code, stderr.String())
				}
				return stdout.String()
			}
			errorCell := `boom\x1b]52;c;cHduZWQ=\x07\u009b\u2066 line two\x1b[1A`
			if out := show(); !strings.Contains(out, "  "+errorCell+"\n") || !strings.Contains(out, "--stack prints the stack") {
				t.Errorf("the attempt's error is not in its table, visible on one line as %s:\n%s", errorCell, out)
			}
			// (Its last byte, not UTF-8, may be stored as U+FFFD.)
			stackLine := "    \tmain.go:1 " + `\x1b]8;;http://evil\x07link\x1b]8;;\x07\u202e\r`
			if out := show("--stack"); !strings.Contains(out, stackLine) {
				t.Errorf("task --stack lacks the stack's line %q:\n%s", stackLine, out)
			}
			var doc struct{ Tasks []taskAttempts }
			if err := json.Unmarshal([]byte(show("--json")), &doc); err != nil || len(doc.Tasks) != 1 || len(doc.Tasks[0].Attempts) != 1 {
				t.Fatalf("task --json: %+v, %v; want one task, one attempt", doc, err)
			}
			valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") } // as encoding/json reads a bad byte
			if a := doc.Tasks[0].Attempts[0]; a.Stack != valid(evilStack) || a.Error != valid(evilError) || a.Worker != valid(evilWorker) {
				t.Errorf("task --json's attempt: %+v; want the evil stack, error and worker", a)
			}
		})
	})
}
