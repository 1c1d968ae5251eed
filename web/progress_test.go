package web

import (
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// A running task's page shows its progress as a bar with an accessible
// label, and the JSON API has it; a task that reported none shows no bar.
func TestTaskProgress(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		q := e.b.q
		for _, id := range []string{"idx-1", "idx-2"} {
			if err := q.Enqueue(ctx, &queue.Message{ID: id, Task: "index", Queue: "pg"}, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := q.Take(ctx, "pg", "worker-9", 1, 0)
		if err != nil || len(ds) != 1 || ds[0].ID != "idx-1" {
			t.Fatalf("Take = %v, %v", ds, err)
		}
		q.Started(ctx, ds[0], "worker-9", time.Now())
		if err := q.Progress(ctx, ds[0], queue.Progress{Done: 40, Total: 100, Message: "indexing <docs>", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		var d taskData
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) { // written without waiting
			e.api(t, "task?queue=pg&id=idx-1", &d)
			if d.Progress != nil || time.Now().After(end) {
				break
			}
		}
		if p := d.Progress; p == nil || p.Done != 40 || p.Total != 100 || p.Message != "indexing <docs>" {
			t.Fatalf("api task: progress %+v, want 40/100 indexing <docs>", p)
		}
		body := e.page(t, "task?queue=pg&id=idx-1")
		want := `<progress value="40" max="100" aria-label="Progress: 40/100 (40%) indexing &lt;docs&gt;"></progress>`
		if !strings.Contains(body, want) {
			t.Fatalf("task page has no %s:\n%s", want, body)
		}
		// The listing of running tasks shows it too.
		list := e.page(t, "tasks?queue=pg&state=running")
		cell(t, list, "task-idx-1", "progress") // fails t if the row has none
		bar := `value="40" max="100" aria-label="Progress: 40/100 (40%) indexing &lt;docs&gt;"></progress>`
		if row := list[strings.Index(list, `data-testid="task-idx-1"`):]; !strings.Contains(row, bar) {
			t.Fatalf("running tasks: no %s in the row of idx-1:\n%s", bar, row)
		}
		if body := e.page(t, "task?queue=pg&id=idx-2"); strings.Contains(body, "<progress") {
			t.Error("a task that reported no progress shows a bar")
		}
	})
}

// The JSON a page's script reads carries each progress bar by its
// data-bar-live key, on the task page and in the running listing, and a
// new report changes it; a running task that has not reported yet has its
// bar in the page, hidden, for the script to show, and none in the JSON.
func TestTaskProgressLive(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		q := e.b.q
		for _, id := range []string{"live-1", "live-2"} {
			if err := q.Enqueue(ctx, &queue.Message{ID: id, Task: "index", Queue: "pg"}, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := q.Take(ctx, "pg", "worker-9", 2, 0)
		if err != nil || len(ds) != 2 {
			t.Fatalf("Take = %v, %v", ds, err)
		}
		for _, d := range ds {
			q.Started(ctx, d, "worker-9", time.Now())
		}
		reporter := ds[0]
		other := ds[1].ID
		var page string
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) { // Started is written without waiting
			page = e.page(t, "task?queue=pg&id="+other)
			if strings.Contains(page, `data-live="task/status">running<`) || time.Now().After(end) {
				break
			}
		}
		if want := `<div data-bar-live="task/progress" hidden>`; !strings.Contains(page, want) {
			t.Fatalf("a running task that has not reported: no %s in\n%s", want, page)
		}
		var d taskData
		e.api(t, "task?queue=pg&id="+other, &d)
		if len(d.Bars) != 0 {
			t.Fatalf("api task of a task that has not reported: bars %v, want none", d.Bars)
		}
		for _, p := range []queue.Progress{{Done: 4, Total: 10, Message: "rows"}, {Done: 7, Total: 10, Message: "rows"}, {Done: 3, Message: "files"}} {
			p.At = time.Now()
			if err := q.Progress(ctx, reporter, p); err != nil {
				t.Fatal(err)
			}
			want := liveBar{Value: p.Done, Max: p.Total, Text: p.String()}
			if p.Total == 0 {
				want.Value = 0 // a total not known: the bar has no value
			}
			var got liveBar
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) { // written without waiting
				var d taskData
				e.api(t, "task?queue=pg&id="+reporter.ID, &d)
				if got = d.Bars["task/progress"]; got == want || time.Now().After(end) {
					break
				}
			}
			if got != want {
				t.Fatalf("api task: bar %+v, want %+v", got, want)
			}
			var l tasksData
			e.api(t, "tasks?queue=pg&state=running", &l)
			key := "task/" + reporter.ID + "/progress"
			if l.Bars[key] != want || len(l.Bars) != 1 {
				t.Fatalf("api tasks: bars %+v, want only %s: %+v", l.Bars, key, want)
			}
		}
		list := e.page(t, "tasks?queue=pg&state=running")
		for id, want := range map[string]string{reporter.ID: `<span data-bar-live="task/` + reporter.ID + `/progress"><br>`,
			other: `<span data-bar-live="task/` + other + `/progress" hidden><br>`} {
			if row := list[strings.Index(list, `data-testid="task-`+id+`"`):]; !strings.Contains(row, want) {
				t.Fatalf("running tasks: no %s in the row of %s:\n%s", want, id, row)
			}
		}
	})
}
