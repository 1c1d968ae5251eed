package queuetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// The List cases of the Workflow group: ListWorkflows pages a home
// queue's workflows newest first, filters them by status, and refuses
// bad input; and a queue that holds only waiting steps is a queue.
func workflowListPromises() []promise {
	return []promise{
		{Name: "PagesNewestFirst", Check: listPagesNewestFirst},
		{Name: "ByStatus", Check: listByStatus},
		{Name: "DropsExpired", Check: listDropsExpired},
		{Name: "BadInput", Check: listBadInput},
		{Name: "QueuesListsWaitingOnly", Check: queuesListsWaitingOnly},
	}
}

// listAll pages through home's workflows of status, limit a page, until
// Next is "", and returns them. Every page but the last holds limit
// workflows unless a status filters them.
func (t *tester) listAll(home string, status queue.Status, limit int) []queue.WorkflowState {
	t.Helper()
	var all []queue.WorkflowState
	after := ""
	for range 100 {
		p, err := t.q.ListWorkflows(t.Context(), home, queue.WorkflowQuery{Status: status, Limit: limit, After: after})
		if err != nil {
			t.Fatalf("ListWorkflows(%q, status %q, limit %d, after %q): %v", home, status, limit, after, err)
		}
		all = append(all, p.Workflows...)
		if p.Next == "" {
			return all
		}
		if status == "" && len(p.Workflows) != limit {
			t.Fatalf("ListWorkflows(%q, limit %d): a page of %d with a Next; want every page but the last full", home, limit, len(p.Workflows))
		}
		after = p.Next
	}
	t.Fatalf("ListWorkflows(%q): no end after 100 pages", home)
	return nil
}

func workflowIDs(ws []queue.WorkflowState) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}

// wantListed fails t unless each listed workflow is as Workflow reads it,
// but for Result and StepStates, which a listing leaves out.
func (t *tester) wantListed(ws []queue.WorkflowState) {
	t.Helper()
	for _, got := range ws {
		w, err := t.q.Workflow(t.Context(), got.Queue, got.ID)
		if err != nil {
			t.Fatalf("Workflow(%q, %q) of a listed workflow: %v", got.Queue, got.ID, err)
		}
		want := *w
		want.Result, want.StepStates = nil, nil
		if got.Result != nil || got.StepStates != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("listed\n got  %+v\n want %+v (as Workflow reads it, without Result and StepStates)", got, want)
		}
	}
}

// Workflows are listed newest first, page after page, each once, until a
// page has no Next; those of another home queue are not.
func listPagesNewestFirst(t *tester) {
	const n = 7
	var want []string
	for i := range n { // the newest has the least ID: time, not ID, orders them
		f := chainFlow(fmt.Sprintf("l%d", n-1-i), "wl", "A", "B")
		t.enqueueFlow(f, time.Time{})
		want = slices.Insert(want, 0, f.spec.ID)
		t.advance(time.Millisecond)
	}
	t.enqueueFlow(chainFlow("elsewhere", "wl-other", "A"), time.Time{})
	for _, limit := range []int{3, 1, n, 0, 1_000_000} {
		got := t.listAll("wl", "", limit)
		if !slices.Equal(workflowIDs(got), want) {
			t.Fatalf("ListWorkflows(wl) by pages of %d = %q; want %q, newest first", limit, workflowIDs(got), want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].CreatedAt.After(got[i-1].CreatedAt) {
				t.Fatalf("ListWorkflows(wl): %s created %v after %s, %v, listed before it", got[i].ID, got[i].CreatedAt, got[i-1].ID, got[i-1].CreatedAt)
			}
		}
		t.wantListed(got)
		for _, w := range got {
			if w.Status != queue.Running || w.Steps != 2 || w.Ended != 0 || w.Name != "flow "+w.ID || w.Queue != "wl" {
				t.Fatalf("listed %+v; want running, 2 steps, none ended, of queue wl", w)
			}
		}
	}
	if p, err := t.q.ListWorkflows(t.Context(), "wl-none", queue.WorkflowQuery{}); err != nil || len(p.Workflows) != 0 || p.Next != "" {
		t.Fatalf("ListWorkflows of a queue without workflows = %+v, %v; want an empty page, no Next", p, err)
	}
}

// A status keeps the workflows of that status only, as they go from
// running to their ends, and a page of them goes on as any does.
func listByStatus(t *tester) {
	flows := map[queue.Status][]*flow{}
	for i := range 2 {
		for _, s := range queue.WorkflowStatuses {
			f := chainFlow(fmt.Sprintf("%s-%d", s, i), "ws", "A")
			t.enqueueFlow(f, time.Time{})
			flows[s] = append(flows[s], f)
			t.advance(time.Millisecond)
		}
	}
	ds := t.take("ws", "c1", 1000)
	byID := map[string]*queue.Delivery{}
	for _, d := range ds {
		byID[d.ID] = d
	}
	for _, f := range flows[queue.Succeeded] {
		t.succeed(byID[f.id("A")], "done")
	}
	for _, f := range flows[queue.Failed] {
		t.finish(byID[f.id("A")], boom)
	}
	for _, f := range flows[queue.Canceled] {
		if _, err := t.q.CancelWorkflow(t.Context(), "ws", f.spec.ID); err != nil {
			t.Fatalf("CancelWorkflow(%q): %v", f.spec.ID, err)
		}
	}
	for _, s := range queue.WorkflowStatuses {
		got := t.listAll("ws", s, 1)
		want := []string{flows[s][1].spec.ID, flows[s][0].spec.ID}
		if !slices.Equal(workflowIDs(got), want) {
			t.Fatalf("ListWorkflows(ws, status %q) = %q; want %q", s, workflowIDs(got), want)
		}
		t.wantListed(got)
		for _, w := range got {
			if w.Status != s {
				t.Fatalf("ListWorkflows(ws, status %q) lists %+v", s, w)
			}
		}
	}
	if got := t.listAll("ws", "", 3); len(got) != 2*len(queue.WorkflowStatuses) {
		t.Fatalf("ListWorkflows(ws) = %q; want all %d", workflowIDs(got), 2*len(queue.WorkflowStatuses))
	}
}

// A workflow whose record expired after its end is no longer listed; a
// running one is, however old.
func listDropsExpired(t *tester) {
	running, ended := chainFlow("old-running", "wx", "A"), chainFlow("old-ended", "wx", "A")
	t.enqueueFlow(running, time.Time{})
	t.enqueueFlow(ended, time.Time{})
	if _, err := t.q.CancelWorkflow(t.Context(), "wx", ended.spec.ID); err != nil {
		t.Fatalf("CancelWorkflow: %v", err)
	}
	if got := workflowIDs(t.listAll("wx", "", 10)); len(got) != 2 {
		t.Fatalf("ListWorkflows(wx) within the state TTL = %q; want both", got)
	}
	t.advance(t.b.StateTTL + max(t.b.StateTTL/10, 300*time.Millisecond))
	t.wantNoWorkflow(ended)
	for range 2 { // the second reads what the first left
		if got := workflowIDs(t.listAll("wx", "", 10)); !slices.Equal(got, []string{running.spec.ID}) {
			t.Fatalf("ListWorkflows(wx) past the state TTL = %q; want only %q", got, running.spec.ID)
		}
	}
}

// A negative limit, a status that is not a workflow's, a cursor the
// queue did not make and a bad queue name are refused, as bad input.
func listBadInput(t *tester) {
	t.enqueueFlow(chainFlow("b1", "wb", "A"), time.Time{})
	p, err := t.q.ListWorkflows(t.Context(), "wb", queue.WorkflowQuery{Limit: 1})
	if err != nil || len(p.Workflows) != 1 {
		t.Fatalf("ListWorkflows(wb) = %+v, %v", p, err)
	}
	for _, c := range []struct {
		what  string
		name  string
		q     queue.WorkflowQuery
		isBad bool // a bad cursor
	}{
		{"a negative limit", "wb", queue.WorkflowQuery{Limit: -1}, false},
		{"an unknown status", "wb", queue.WorkflowQuery{Status: "nope"}, false},
		{"a task's status", "wb", queue.WorkflowQuery{Status: queue.Waiting}, false},
		{"a cursor not base64", "wb", queue.WorkflowQuery{After: "!!"}, true},
		{"a cursor of another listing", "wb", queue.WorkflowQuery{After: base64.RawURLEncoding.EncodeToString([]byte("ready|1|x"))}, true},
		{"a cursor cut short", "wb", queue.WorkflowQuery{After: queue.WorkflowMark{Created: 1, ID: "b1"}.Cursor()[:5]}, true},
		{"a bad queue name", "", queue.WorkflowQuery{}, false},
	} {
		p, err := t.q.ListWorkflows(t.Context(), c.name, c.q)
		if !errors.Is(err, task.ErrInvalidConfig) || c.isBad != errors.Is(err, queue.ErrBadCursor) {
			t.Fatalf("ListWorkflows(%q) with %s = %+v, %v; want task.ErrInvalidConfig (and queue.ErrBadCursor: %v)", c.name, c.what, p, err, c.isBad)
		}
	}
}

// A queue whose only tasks are steps waiting for their parents, on
// another queue, is listed by Queues.
func queuesListsWaitingOnly(t *tester) {
	f := newFlow("wo", "wo-home", step("A"), step("B", "A").on("wo-waiting"))
	t.enqueueFlow(f, time.Time{})
	t.wantSteps(f, queue.Waiting, "", "B")
	queues, err := t.q.Queues(t.Context())
	if err != nil || !slices.Contains(queues, "wo-waiting") || !slices.Contains(queues, "wo-home") {
		t.Fatalf("Queues() = %q, %v; want wo-home and wo-waiting, whose step waits", queues, err)
	}
	t.noneReady("wo-waiting")
}
