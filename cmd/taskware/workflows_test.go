package main

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/taskwaretest"
)

// enqueueFlows enqueues a workflow of one step on e's queue name for each
// of ids, in turn, the last the newest.
func (e *cliEnv) enqueueFlows(t *testing.T, name string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		s := &queue.Step{Workflow: id, Home: name, Name: "a", Output: true}
		m := &queue.Message{ID: queue.StepID(id, "a"), Task: "job", Queue: name, Payload: []byte(`[]`), Attempt: 1, Step: s}
		spec := &queue.WorkflowSpec{ID: id, Name: "flow of " + id, Queue: name, Digest: "d", Steps: []*queue.Message{m}}
		if err := e.b.Queue().EnqueueWorkflow(t.Context(), spec, time.Time{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // each newer than the one before
	}
}

// endFlow ends workflow id of queue name by its one step's outcome o.
// The steps of the others it takes are left running: their workflows
// run on.
func (e *cliEnv) endFlow(t *testing.T, name, id string, o queue.Outcome) {
	t.Helper()
	q := e.b.Queue()
	ds, err := q.Take(t.Context(), name, "w", 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == queue.StepID(id, "a") {
			if err := q.Finish(t.Context(), d, o); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("step a of workflow %s is not ready in queue %s", id, name)
}

// Following the next page's command on stderr, as a shell reads it,
// lists every workflow of the status asked for once, newest first.
func TestWorkflowsPaging(t *testing.T) {
	const name = `flows 'of' $HOME "q"`
	cliEach(t, func(t *testing.T, e *cliEnv) {
		var want []string
		for i := range 7 {
			id := fmt.Sprintf("wf-%d", i)
			e.enqueueFlows(t, name, id)
			want = slices.Insert(want, 0, id)
		}
		e.enqueueFlows(t, name, "done")
		e.endFlow(t, name, "done", queue.Outcome{Status: queue.Succeeded, Attempt: 1})

		args := []string{"workflows", "--queue", name, "--status", "running", "--limit", "3", "--redis", e.url, "--prefix", e.prefix}
		var got []string
		pages := 0
		for ; pages < 10; pages++ {
			out, stderr := runArgs(t, args)
			ids := listedIDs(t, out)
			got = append(got, ids...)
			next := nextCommand(t, stderr)
			if next == nil {
				break
			}
			if len(ids) != 3 {
				t.Errorf("page %d lists %q, want 3 workflows: it has a next page", pages+1, ids)
			}
			if next[0] != "workflows" || !slices.Contains(next, name) || !slices.Contains(next, "running") || !slices.Contains(next, "--after") {
				t.Fatalf("next page's command %q lacks the queue or status as given, or --after", next)
			}
			args = next
		}
		if pages != 2 || !slices.Equal(got, want) {
			t.Errorf("%d pages after the first listed %q; want 2, listing %q", pages, got, want)
		}
		out, _ := e.tasksRun(t, "workflows", "--queue", name, "--status", "succeeded")
		if ids := listedIDs(t, out); !slices.Equal(ids, []string{"done"}) || !strings.Contains(out, "1/1") {
			t.Errorf("--status succeeded listed %q; want done, its step ended:\n%s", ids, out)
		}
	})
}

// --json lists the workflows as rows, and "next" is the next page's
// cursor, absent on the last page; without --queue, every queue's are
// listed, newest first, unpaged.
func TestWorkflowsJSON(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.enqueueFlows(t, "js", "j-1", "j-2")
		e.enqueueFlows(t, "other", "o-1")
		e.enqueueFlows(t, "js", "j-3")
		e.endFlow(t, "js", "j-2", queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k.fail", Error: "no"})
		type page struct {
			Workflows []rows.WorkflowSummary
			Next      string
		}
		var first, last page
		out, stderr := e.tasksRun(t, "workflows", "--queue", "js", "--limit", "2", "--json")
		decode(t, out, &first)
		if len(first.Workflows) != 2 || first.Workflows[0].ID != "j-3" || first.Workflows[1].ID != "j-2" || first.Next == "" {
			t.Fatalf("first page: %+v; want j-3, j-2 and a next", first)
		}
		if f := first.Workflows[1]; f.Status != "failed" || f.FailedStep != "a" || f.Kind != "k.fail" || f.Error != "no" ||
			f.Steps != 1 || f.Ended != 1 || f.Name != "flow of j-2" || f.Queue != "js" || f.CreatedAt.IsZero() || f.FinishedAt.IsZero() {
			t.Errorf("the failed workflow's row: %+v", f)
		}
		if next := nextCommand(t, stderr); !slices.Contains(next, "--json") || next[len(next)-1] != first.Next {
			t.Errorf("next page's command %q, want --json kept and --after %s", next, first.Next)
		}
		out, stderr = e.tasksRun(t, "workflows", "--queue", "js", "--limit", "2", "--json", "--after", first.Next)
		decode(t, out, &last)
		if len(last.Workflows) != 1 || last.Workflows[0].ID != "j-1" || last.Next != "" || strings.Contains(out, `"next"`) || stderr != "" {
			t.Errorf("last page: %+v\n%s%s; want j-1 alone, no next", last, out, stderr)
		}
		var all page
		out, stderr = e.tasksRun(t, "workflows", "--json")
		decode(t, out, &all)
		var ids []string
		for _, w := range all.Workflows {
			ids = append(ids, w.Queue+"/"+w.ID)
		}
		if want := []string{"js/j-3", "other/o-1", "js/j-2", "js/j-1"}; !slices.Equal(ids, want) || stderr != "" {
			t.Errorf("every queue's: %q, %q; want %q", ids, stderr, want)
		}
		if out, _ := e.tasksRun(t, "workflows", "--limit", "1"); !strings.HasPrefix(out, "QUEUE ") || !strings.Contains(out, "j-3") {
			t.Errorf("every queue's table, limit 1:\n%s", out)
		}
	})
}

// A bad --status or cursor, or --after without --queue, is a usage error
// that names the flag and its value.
func TestWorkflowsUsage(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--after", "abc"}, "workflows: --after needs --queue"},
		{[]string{"--queue", "q", "--status", "waiting"}, `workflows: --status must be running, succeeded, failed or canceled, not "waiting"`},
		{[]string{"--queue", "q", "--after", "nope"}, `workflows: --after "nope" is no cursor of the workflows of queue "q"`},
		{[]string{"--limit", "0"}, "workflows: --limit must be at least 1"},
		{[]string{"extra"}, `workflows: unexpected argument "extra"`},
	} {
		args := append([]string{"workflows", "--redis", "redis://" + m.Addr()}, tc.args...)
		err := run(t.Context(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if _, ok := errors.AsType[usageError](err); !ok {
			t.Errorf("%q: %v, want a usage error", tc.args, err)
			continue
		}
		var stderr bytes.Buffer
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) ||
			!strings.Contains(stderr.String(), "usage: taskware workflows") {
			t.Errorf("%q: exit %d, want 2, with %q and workflows' help:\n%s", tc.args, code, tc.want, stderr.String())
		}
	}
}
