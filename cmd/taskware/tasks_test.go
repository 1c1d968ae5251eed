package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/pagecursor"
	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/taskwaretest"
)

// tasksRun runs the command args against e's Redis and prefix, and
// returns its stdout and stderr; it fails t on an error.
func (e *cliEnv) tasksRun(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	return runArgs(t, append(args, "--redis", e.url, "--prefix", e.prefix))
}

// runArgs runs the command line args, and returns its stdout and stderr;
// it fails t on an error.
func runArgs(t *testing.T, args []string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if err := run(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("taskware %q: %v\n%s%s", args, err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// listedIDs are the IDs of a table of tasks of one queue: its rows' first
// cells.
func listedIDs(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("no table of tasks of one queue:\n%s", out)
	}
	ids := []string{}
	for _, line := range lines[1:] {
		ids = append(ids, strings.Fields(line)[0])
	}
	return ids
}

// enqueueAll enqueues ready tasks on e's queue name, each {ID, task,
// arguments}, enqueued at enqueued.
func (e *cliEnv) enqueueAll(t *testing.T, name string, enqueued time.Time, tasks ...[3]string) {
	t.Helper()
	for _, tk := range tasks {
		m := &queue.Message{ID: tk[0], Task: tk[1], Queue: name, Payload: []byte(tk[2]), EnqueuedAt: enqueued, Attempt: 1}
		if err := e.b.Queue().Enqueue(t.Context(), m, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
}

// --search finds tasks by their arguments' text, ID or name, ignoring
// case; --task keeps one task's; together, both must match.
func TestTasksSearch(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.enqueueAll(t, "find", time.Now(),
			[3]string{"a-1", "email", `["alice@example.com"]`},
			[3]string{"a-2", "email", `["Bob@Example.com"]`},
			[3]string{"a-3", "report", `{"account":"bob-co"}`},
			[3]string{"a-4", "email", `["carol@example.com"]`})
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"--search", "bob@"}, []string{"a-2"}},
			{[]string{"--search", "BOB"}, []string{"a-2", "a-3"}},
			{[]string{"--search", "A-4"}, []string{"a-4"}},
			{[]string{"--search", "rEpOrT"}, []string{"a-3"}},
			{[]string{"--task", "email"}, []string{"a-1", "a-2", "a-4"}},
			{[]string{"--task", "email", "--search", "bob"}, []string{"a-2"}},
			{[]string{"--task", "emai"}, []string{}},
			{[]string{"--search", "nobody"}, []string{}},
		} {
			out, stderr := e.tasksRun(t, append([]string{"tasks", "--queue", "find"}, tc.args...)...)
			if got := listedIDs(t, out); !slices.Equal(got, tc.want) {
				t.Errorf("%q listed %q, want %q:\n%s", tc.args, got, tc.want, out)
			}
			if stderr != "" {
				t.Errorf("%q: stderr %q, want nothing: no next page", tc.args, stderr)
			}
		}
	})
}

// --status and --kind keep the finished (or dead) tasks that ended so.
func TestTasksStatusAndKind(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		ctx := t.Context()
		q := e.b.Queue()
		for _, tc := range []struct {
			id string
			o  queue.Outcome
		}{
			{"f-ok", queue.Outcome{Status: queue.Succeeded, Attempt: 1}},
			{"f-dead", queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k.dead", Error: "gone"}},
			{"f-fail", queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k.fail", Error: "no"}},
			{"f-skip", queue.Outcome{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked"}},
		} {
			e.enqueueAll(t, "fin", time.Now(), [3]string{tc.id, "job", `[]`})
			ds, err := q.Take(ctx, "fin", "w", 1, 0)
			if err != nil || len(ds) != 1 || ds[0].ID != tc.id {
				t.Fatalf("took %+v, %v; want %s", ds, err, tc.id)
			}
			if err := q.Finish(ctx, ds[0], tc.o); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"--state", "finished"}, []string{"f-skip", "f-fail", "f-dead", "f-ok"}},
			{[]string{"--state", "finished", "--status", "dead"}, []string{"f-dead"}},
			{[]string{"--state", "finished", "--status", "succeeded"}, []string{"f-ok"}},
			{[]string{"--state", "finished", "--status", "canceled"}, []string{}},
			{[]string{"--state", "finished", "--kind", "lock.locked"}, []string{"f-skip"}},
			{[]string{"--state", "finished", "--status", "failed", "--kind", "k.dead"}, []string{}},
			{[]string{"--state", "dead", "--status", "dead"}, []string{"f-dead"}},
			{[]string{"--state", "dead", "--kind", "k.fail"}, []string{}},
		} {
			out, _ := e.tasksRun(t, append([]string{"tasks", "--queue", "fin"}, tc.args...)...)
			if got := listedIDs(t, out); !slices.Equal(got, tc.want) {
				t.Errorf("%q listed %q, want %q:\n%s", tc.args, got, tc.want, out)
			}
		}
	})
}

// bashWords returns the words bash reads in line, or skips t without
// bash.
func bashWords(t *testing.T, line string) []string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash to read the command back with")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", "-c", `printf '%s\0' `+line).Output()
	if err != nil {
		t.Fatalf("bash read %q: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// nextCommand is the next page's command that stderr gives, as bash reads
// it; nil if stderr gives none.
func nextCommand(t *testing.T, stderr string) []string {
	t.Helper()
	if stderr == "" {
		return nil
	}
	rest, ok := strings.CutPrefix(stderr, "next page: taskware ")
	if !ok || strings.Count(rest, "\n") != 1 || !strings.HasSuffix(rest, "\n") {
		t.Fatalf("stderr is not one next page's command:\n%s", stderr)
	}
	return bashWords(t, strings.TrimSuffix(rest, "\n"))
}

// Following the next page's command that stderr gives, as a shell reads
// it, from the first page to the last, lists every task that matches
// once, in order, whatever characters the flags' values hold; a duration
// is given on as the time it meant.
func TestTasksPaging(t *testing.T) {
	const name = `rep'ort $HOME \o/ "q" *`
	cliEach(t, func(t *testing.T, e *cliEnv) {
		var want []string
		for i := range 7 {
			id := "p-" + string(rune('0'+i))
			want = append(want, id)
			e.enqueueAll(t, "pg", time.Now(), [3]string{id, name, `["x"]`}, [3]string{"o-" + id, "other", `["x"]`})
		}
		e.enqueueAll(t, "pg", time.Now().Add(-2*time.Hour), [3]string{"old", name, `["x"]`})

		args := []string{"tasks", "--queue", "pg", "--task", name, "--since", "1h", "--limit", "3", "--redis", e.url, "--prefix", e.prefix}
		var got []string
		pages := 0
		for ; args != nil && pages < 10; pages++ {
			out, stderr := runArgs(t, args)
			ids := listedIDs(t, out)
			got = append(got, ids...)
			next := nextCommand(t, stderr)
			if next == nil {
				break
			}
			if len(ids) != 3 {
				t.Errorf("page %d lists %q, want 3 tasks: it has a next page", pages+1, ids)
			}
			if next[0] != "tasks" || !slices.Contains(next, name) || !slices.Contains(next, "--after") {
				t.Fatalf("next page's command %q lacks the task's name as given, or --after", next)
			}
			if i := slices.Index(next, "--since"); i < 0 || i+1 >= len(next) {
				t.Fatalf("next page's command %q drops --since", next)
			} else if at, err := time.Parse(time.RFC3339Nano, next[i+1]); err != nil || time.Since(at) < time.Hour || time.Since(at) > time.Hour+time.Minute {
				t.Errorf("next page's --since %q (%v), want the time an hour ago", next[i+1], err)
			}
			args = next
		}
		if pages != 2 {
			t.Errorf("%d pages after the first, want 2", pages)
		}
		if !slices.Equal(got, want) {
			t.Errorf("the pages listed %q, want %q", got, want)
		}
	})
}

// --json's "next" is the next page's cursor, absent on the last page;
// following it lists every task once.
func TestTasksJSONNext(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		for _, id := range []string{"j-1", "j-2", "j-3"} {
			e.enqueueAll(t, "js", time.Now(), [3]string{id, "job", `[]`})
		}
		type page struct {
			Tasks []rows.Task
			Next  string
		}
		var first, last page
		out, stderr := e.tasksRun(t, "tasks", "--queue", "js", "--limit", "2", "--json")
		decode(t, out, &first)
		if len(first.Tasks) != 2 || first.Tasks[0].ID != "j-1" || first.Tasks[1].ID != "j-2" || first.Next == "" {
			t.Fatalf("first page: %+v; want j-1, j-2 and a next", first)
		}
		if next := nextCommand(t, stderr); !slices.Contains(next, "--json") || next[len(next)-1] != first.Next {
			t.Errorf("next page's command %q, want --json kept and --after %s", next, first.Next)
		}
		out, stderr = e.tasksRun(t, "tasks", "--queue", "js", "--limit", "2", "--json", "--after", first.Next)
		decode(t, out, &last)
		if len(last.Tasks) != 1 || last.Tasks[0].ID != "j-3" || last.Next != "" || strings.Contains(out, `"next"`) || stderr != "" {
			t.Errorf("last page: %+v\n%s%s; want j-3 alone, no next", last, out, stderr)
		}
	})
}

// A find flag, or --after, without --queue; a bad --status, time or
// cursor: each is a usage error that names the flag and its value.
func TestTasksFindUsage(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	otherSet := pagecursor.Encode(queue.FinishedTasks, 1, "x")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--search", "x"}, "tasks: --search needs --queue"},
		{[]string{"--state", "finished", "--status", "dead"}, "tasks: --status needs --queue"},
		{[]string{"--after", "abc"}, "tasks: --after needs --queue"},
		{[]string{"--since", "1h"}, "tasks: --since needs --queue"},
		{[]string{"--queue", "q", "--status", "bogus\x1b"}, `tasks: --status must be queued, running, scheduled, succeeded, failed, skipped, dead or canceled, not "bogus\x1b"`},
		{[]string{"--queue", "q", "--since", "yesterday"}, `tasks: --since "yesterday" is no time`},
		{[]string{"--queue", "q", "--until", "2026-13-01T00:00:00Z"}, `tasks: --until "2026-13-01T00:00:00Z" is no time`},
		{[]string{"--queue", "q", "--after", "nope"}, `tasks: --after "nope" is no cursor of ready tasks of queue "q"`},
		{[]string{"--queue", "q", "--after", otherSet}, `tasks: --after "` + otherSet + `" is no cursor of ready tasks`},
	} {
		args := append([]string{"tasks", "--redis", "redis://" + m.Addr()}, tc.args...)
		err := run(t.Context(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if _, ok := errors.AsType[usageError](err); !ok {
			t.Errorf("%q: %v, want a usage error", tc.args, err)
			continue
		}
		var stderr bytes.Buffer
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) ||
			!strings.Contains(stderr.String(), "usage: taskware tasks") {
			t.Errorf("%q: exit %d, want 2, with %q and tasks' help:\n%s", tc.args, code, tc.want, stderr.String())
		}
	}
	// Without --queue, as without any find flag, tasks lists every queue.
	for _, args := range [][]string{{"tasks"}, {"tasks", "--search", ""}} {
		if out, _ := runArgs(t, append(args, "--redis", "redis://"+m.Addr())); !strings.HasPrefix(out, "QUEUE ") {
			t.Errorf("%q: %q, want a table of every queue's tasks", args, out)
		}
	}
}

// A value shellWord quotes reads back in bash as it was, and shows no
// control character raw.
func TestShellWord(t *testing.T) {
	values := []string{"", "plain-1.2_x@y:z", "a b", "it's", `$HOME`, "`ls`", `back\slash`, `"dq"`, "*", "~user", "a=b",
		"!x", "é ü", "\x1b[2J", "t\x9b31m\r", "bidi\u202eover", "line\nbreak\ttab", `'\x1b'`, "\x7f", "\u009b"}
	line := make([]string, len(values))
	for i, v := range values {
		line[i] = shellWord(v)
		if c, ok := rawControl(line[i]); ok {
			t.Errorf("shellWord(%q) = %q has %q raw", v, line[i], c)
		}
	}
	got := bashWords(t, strings.Join(line, " "))
	if !slices.Equal(got, values) {
		t.Errorf("bash read back\n%q\nfrom %s\nwant\n%q", got, strings.Join(line, " "), values)
	}
	if got := shellWord("ready"); got != "ready" {
		t.Errorf("shellWord(ready) = %q, want it bare", got)
	}
}
