package queuetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
)

func pagePromises() []promise {
	return []promise{
		{Name: "EveryRowOnce", Check: pageEveryRow},
		{Name: "Filters", Check: pageFilters},
		{Name: "CursorSurvivesChanges", Check: pageSurvives},
		{Name: "BadCursor", Check: pageBadCursor},
	}
}

// pages lists every page of queue's set under tq, from the first, and
// returns the IDs in order; it fails t on an error or a loop.
func (t *tester) pages(name string, tq queue.TaskQuery) []string {
	t.Helper()
	var out []string
	for range 1000 {
		p, err := t.q.ListTasks(t.Context(), name, tq)
		if err != nil {
			t.Fatalf("ListTasks(%s, %+v): %v", name, tq, err)
		}
		if len(p.Tasks) > tq.PageLimit() {
			t.Fatalf("ListTasks(%s, %+v): %d tasks, over the limit", name, tq, len(p.Tasks))
		}
		for _, ti := range p.Tasks {
			if ti.Queue != name {
				t.Errorf("ListTasks(%s): task %s of queue %q", name, ti.ID, ti.Queue)
			}
			out = append(out, ti.ID)
		}
		if p.Next == "" {
			return out
		}
		tq.After = p.Next
	}
	t.Fatalf("ListTasks(%s, %+v): no end after 1000 pages", name, tq)
	return nil
}

func wantPages(t *tester, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: paged %q, want %q", what, got, want)
	}
}

// Paging from "" to the end lists each task of a set once, in the order
// Tasks lists them, whatever the page size: ready, running, delayed (ties
// of due time by ID), dead and finished.
func pageEveryRow(t *tester) {
	var ready []string
	for i := range 12 {
		id := fmt.Sprintf("r%02d", i)
		ready = append(ready, id)
		t.enqueue(t.ordered("pg", id), time.Time{})
	}
	due := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	for _, id := range []string{"d3", "d1", "d2", "d0"} {
		t.enqueue(t.ordered("pg", id), due)
	}
	t.enqueue(t.ordered("pg", "d9"), due.Add(-time.Minute))
	for _, n := range []int{1, 5, 12, 0} {
		wantPages(t, fmt.Sprintf("ready by %d", n), t.pages("pg", queue.TaskQuery{Set: queue.ReadyTasks, Limit: n}), ready...)
		wantPages(t, fmt.Sprintf("delayed by %d", n), t.pages("pg", queue.TaskQuery{Set: queue.DelayedTasks, Limit: n}),
			"d9", "d0", "d1", "d2", "d3")
	}
	ds := t.take("pg", "w1", 6)
	wantIDs(t, "Take", ds, ready[:6]...)
	wantPages(t, "ready after a take", t.pages("pg", queue.TaskQuery{Set: queue.ReadyTasks, Limit: 4}), ready[6:]...)
	t.finish(ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k.one", Error: "one"})
	t.finish(ds[1], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k.two", Error: "two"})
	t.finish(ds[2], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k.one", Error: "three"})
	wantPages(t, "running", t.pages("pg", queue.TaskQuery{Set: queue.RunningTasks, Limit: 2}), ready[3:6]...)
	wantPages(t, "dead", t.pages("pg", queue.TaskQuery{Set: queue.DeadTasks, Limit: 2}), ready[:3]...)
	ts, err := t.q.Tasks(t.Context(), "pg", queue.FinishedTasks, 0)
	if err != nil {
		t.Fatal(err)
	}
	var finished []string
	for _, ti := range ts {
		finished = append(finished, ti.ID)
	}
	wantPages(t, "finished", t.pages("pg", queue.TaskQuery{Set: queue.FinishedTasks, Limit: 1}), finished...)
	if p, err := t.q.ListTasks(t.Context(), "none", queue.TaskQuery{Set: queue.ReadyTasks}); err != nil || len(p.Tasks) != 0 || p.Next != "" {
		t.Errorf("ListTasks of an unknown queue = %+v, %v; want an empty last page", p, err)
	}
}

// Filters keep the tasks of a name, status, error kind and time, and those
// whose ID, name or arguments contain the search, ignoring case; a
// filtered listing pages as a plain one does.
func pageFilters(t *tester) {
	for i := range 10 {
		m := t.ordered("pf", fmt.Sprintf("t%d", i))
		if i%2 == 1 {
			m.Task = "sms"
		}
		if i == 7 {
			m.Payload = []byte(`{"to":"Needle@example.com"}`)
		}
		t.enqueue(m, time.Time{})
	}
	ready := queue.TaskQuery{Set: queue.ReadyTasks, Limit: 2}
	byTask := ready
	byTask.Task = "sms"
	wantPages(t, "task sms", t.pages("pf", byTask), "t1", "t3", "t5", "t7", "t9")
	search := ready
	search.Search = "nEEDLE@"
	wantPages(t, "search in arguments", t.pages("pf", search), "t7")
	search.Search = "T4"
	wantPages(t, "search by ID", t.pages("pf", search), "t4")
	search.Search = "SMS"
	search.Task = "sms"
	wantPages(t, "search by name", t.pages("pf", search), "t1", "t3", "t5", "t7", "t9")
	search = ready
	search.Search = "nothing like it"
	wantPages(t, "search for nothing", t.pages("pf", search))

	ds := t.take("pf", "w1", 4)
	wantIDs(t, "Take", ds, "t0", "t1", "t2", "t3")
	t.finish(ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k.one", Error: "one"})
	t.finish(ds[1], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k.two", Error: "two"})
	t.finish(ds[2], queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k.one", Error: "failed"})
	t.finish(ds[3], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	wantPages(t, "dead of kind k.one", t.pages("pf", queue.TaskQuery{Set: queue.DeadTasks, Kind: "k.one"}), "t0")
	wantPages(t, "finished failed", t.pages("pf", queue.TaskQuery{Set: queue.FinishedTasks, Status: queue.Failed}), "t2")
	// The latest first; they may have ended in the same microsecond.
	got := t.pages("pf", queue.TaskQuery{Set: queue.FinishedTasks, Kind: "k.one", Limit: 1})
	slices.Sort(got)
	wantPages(t, "finished of kind k.one", got, "t0", "t2")

	base := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	for i := range 3 {
		t.enqueue(t.ordered("pf", fmt.Sprintf("e%d", i)), base.Add(time.Duration(i)*time.Hour))
	}
	window := queue.TaskQuery{Set: queue.DelayedTasks, Since: base.Add(30 * time.Minute), Until: base.Add(2 * time.Hour)}
	wantPages(t, "delayed due in a window", t.pages("pf", window), "e1")
	window.Since, window.Until = time.Time{}, base.Add(time.Hour)
	wantPages(t, "delayed due before a time", t.pages("pf", window), "e0")
}

// A cursor is the place of the last row: tasks added or removed before or
// after it, the row itself included, change nothing but what is listed
// after it.
func pageSurvives(t *tester) {
	for i := range 10 {
		t.enqueue(t.ordered("ps", fmt.Sprintf("r%d", i)), time.Time{})
	}
	p, err := t.q.ListTasks(t.Context(), "ps", queue.TaskQuery{Set: queue.ReadyTasks, Limit: 4})
	if err != nil || len(p.Tasks) != 4 || p.Next == "" {
		t.Fatalf("first page = %+v, %v; want 4 tasks and a next", p, err)
	}
	ds := t.take("ps", "w1", 5) // r0..r4: the cursor's own row, and one after it
	wantIDs(t, "Take", ds, "r0", "r1", "r2", "r3", "r4")
	t.enqueue(t.ordered("ps", "r10"), time.Time{})
	wantPages(t, "ready after takes and an enqueue", t.pages("ps", queue.TaskQuery{Set: queue.ReadyTasks, Limit: 4, After: p.Next}),
		"r5", "r6", "r7", "r8", "r9", "r10")

	due := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	for _, id := range []string{"d0", "d1", "d2", "d3"} {
		t.enqueue(t.ordered("ps", id), due)
	}
	p, err = t.q.ListTasks(t.Context(), "ps", queue.TaskQuery{Set: queue.DelayedTasks, Limit: 2})
	if err != nil || len(p.Tasks) != 2 || p.Next == "" {
		t.Fatalf("first delayed page = %+v, %v; want 2 tasks and a next", p, err)
	}
	t.enqueue(t.ordered("ps", "d15"), due)                  // after the cursor, at its due time
	t.enqueue(t.ordered("ps", "d00"), due)                  // before it
	t.enqueue(t.ordered("ps", "d5"), due.Add(-time.Second)) // before it, earlier
	if moved := t.promote("ps", due.Add(-time.Second), 10); moved != 1 {
		t.Fatalf("Promote = %d, want d5", moved)
	}
	wantPages(t, "delayed after enqueues", t.pages("ps", queue.TaskQuery{Set: queue.DelayedTasks, Limit: 2, After: p.Next}),
		"d15", "d2", "d3")

	for _, d := range ds[:4] {
		t.finish(d, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
	}
	p, err = t.q.ListTasks(t.Context(), "ps", queue.TaskQuery{Set: queue.DeadTasks, Limit: 2})
	if err != nil || len(p.Tasks) != 2 || p.Next == "" {
		t.Fatalf("first dead page = %+v, %v; want 2 tasks and a next", p, err)
	}
	if n, err := t.q.PurgeDead(t.Context(), "ps", "r1", "r2"); err != nil || n != 2 {
		t.Fatalf("PurgeDead(r1, r2) = %d, %v", n, err)
	}
	wantPages(t, "dead after a purge", t.pages("ps", queue.TaskQuery{Set: queue.DeadTasks, Limit: 2, After: p.Next}), "r3")
}

// A cursor the backend did not make, or one of another set, is an error
// matching queue.ErrBadCursor.
func pageBadCursor(t *tester) {
	for i := range 3 {
		t.enqueue(msg("pb", fmt.Sprintf("r%d", i)), time.Time{})
	}
	p, err := t.q.ListTasks(t.Context(), "pb", queue.TaskQuery{Set: queue.ReadyTasks, Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("first page = %+v, %v", p, err)
	}
	for _, tq := range []queue.TaskQuery{
		{Set: queue.ReadyTasks, After: "garbage!"},
		{Set: queue.ReadyTasks, After: strings.Repeat("A", 40)},
		{Set: queue.DelayedTasks, After: p.Next},
		{Set: queue.DeadTasks, After: p.Next},
	} {
		if p, err := t.q.ListTasks(t.Context(), "pb", tq); !errors.Is(err, queue.ErrBadCursor) {
			t.Errorf("ListTasks(%+v) = %+v, %v; want queue.ErrBadCursor", tq, p, err)
		}
	}
	if _, err := t.q.ListTasks(t.Context(), "pb", queue.TaskQuery{Set: "nope"}); err == nil {
		t.Error("ListTasks of set nope: no error")
	}
}
