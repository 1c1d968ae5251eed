package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// task shows a running task's progress: a PROGRESS line, and in --json;
// a task that reported none has neither.
func TestTaskProgress(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.enqueueAll(t, "pq", time.Now(), [3]string{"p-1", "index", "{}"}, [3]string{"p-2", "index", "{}"})
		q := e.b.Queue()
		ds, err := q.Take(t.Context(), "pq", "w1", 1, 0)
		if err != nil || len(ds) != 1 || ds[0].ID != "p-1" {
			t.Fatalf("Take = %v, %v", ds, err)
		}
		q.Started(t.Context(), ds[0], "w1", time.Now())
		if err := q.Progress(t.Context(), ds[0], queue.Progress{Done: 40, Total: 100, Message: "indexing", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		var out string
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) { // the write is sent without waiting
			if out = e.cli(t, "task", "p-1"); strings.Contains(out, "PROGRESS") || time.Now().After(end) {
				break
			}
		}
		if !strings.Contains(out, "PROGRESS:  40/100 (40%) indexing\n") {
			t.Fatalf("task p-1:\n%s\nwant a line PROGRESS:  40/100 (40%%) indexing", out)
		}
		var one struct{ Tasks []taskAttempts }
		decode(t, e.cli(t, "task", "--json", "p-1"), &one)
		p := one.Tasks[0].Progress
		if p == nil || p.Done != 40 || p.Total != 100 || p.Percent == nil || *p.Percent != 40 || p.Message != "indexing" || p.At.IsZero() {
			t.Fatalf("task --json p-1: progress %+v", p)
		}
		if out := e.cli(t, "task", "p-2"); strings.Contains(out, "PROGRESS") {
			t.Fatalf("task p-2, never run:\n%s\nwant no PROGRESS line", out)
		}
		var two struct{ Tasks []taskAttempts }
		decode(t, e.cli(t, "task", "--json", "p-2"), &two)
		if two.Tasks[0].Progress != nil {
			t.Fatalf("task --json p-2: progress %+v, want none", two.Tasks[0].Progress)
		}
	})
}

// tasks --state running has a PROGRESS column: the percent and counts of
// a task with a total, the count of one without, "-" for one that
// reported none; of one queue and of every queue.
func TestTasksProgressColumn(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.enqueueAll(t, "pc", time.Now(), [3]string{"c-1", "index", "{}"}, [3]string{"c-2", "index", "{}"},
			[3]string{"c-3", "index", "{}"})
		q := e.b.Queue()
		ds, err := q.Take(t.Context(), "pc", "w1", 3, 0)
		if err != nil || len(ds) != 3 {
			t.Fatalf("Take = %v, %v", ds, err)
		}
		reports := map[string]*queue.Progress{"c-1": {Done: 4, Total: 10, Message: "rows"}, "c-2": {Done: 3, Message: "files"}}
		for _, d := range ds {
			q.Started(t.Context(), d, "w1", time.Now())
			if p := reports[d.ID]; p != nil {
				p.At = time.Now()
				if err := q.Progress(t.Context(), d, *p); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := map[string]string{"c-1": "40% 4/10", "c-2": "3 done", "c-3": "-"}
		for _, args := range [][]string{{"tasks", "--queue", "pc", "--state", "running"}, {"tasks", "--state", "running"}} {
			var got map[string]string
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) { // the writes are sent without waiting
				got = progressColumn(t, e.cli(t, args...))
				if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(end) {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: PROGRESS by ID %v, want %v", strings.Join(args, " "), got, want)
			}
		}
	})
}

// progressColumn reads a table's PROGRESS cells by ID, by the columns'
// offsets in the header (a cell may hold a space).
func progressColumn(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header := lines[0]
	id, from, to := strings.Index(header, "ID"), strings.Index(header, "PROGRESS"), strings.Index(header, "IDLE")
	if id < 0 || from < 0 || to < from {
		t.Fatalf("no ID, PROGRESS and IDLE columns in\n%s", out)
	}
	got := map[string]string{}
	for _, line := range lines[1:] {
		got[strings.Fields(line[id:])[0]] = strings.TrimSpace(line[from:to])
	}
	return got
}
