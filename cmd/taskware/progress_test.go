package main

import (
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
