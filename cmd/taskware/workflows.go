package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

var workflowsCommand = &inspectCommand{name: "workflows", queue: true, limit: true, more: workflowFlags, run: listWorkflows, doc: doc{
	synopsis: []string{"workflows [--queue Q]", "          [--status S]", "          [--limit N]", "          [--after CURSOR]"},
	about: []string{"the workflows whose home is queue Q, or", "every queue's, newest first; of status S",
		"(running, succeeded, failed or canceled)", "if given. Of one queue, a page of N (at", "most 500); stderr gets the next page's command"},
}}

// workflowFlags are the flags of workflows but for the common ones:
// --status and --after, kept where tasks keeps its own.
func workflowFlags(fs *flag.FlagSet, o *inspectOptions) {
	fs.StringVar(&o.Find.Status, "status", "", "only the workflows of this `STATUS`: "+workflowStatusChoices())
	fs.StringVar(&o.Find.After, "after", "", "with --queue: the page after this `CURSOR`, as the next page's command (on stderr) or --json's \"next\" gives it")
}

// workflowStatusChoices are queue.WorkflowStatuses as a message says
// them: "running, succeeded, failed or canceled".
func workflowStatusChoices() string {
	names := make([]string, len(queue.WorkflowStatuses))
	for i, s := range queue.WorkflowStatuses {
		names[i] = string(s)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// listWorkflows lists the workflows of --queue, a page from --after, and
// notes the next page's command on stderr; or, without --queue, the
// newest of every queue's, up to --limit, unpaged.
func listWorkflows(ctx context.Context, in *inspection, args []string) error {
	o := in.o
	if err := noArgs("workflows", args); err != nil {
		return err
	}
	wq := queue.WorkflowQuery{Status: queue.Status(o.Find.Status), Limit: o.Limit, After: o.Find.After}
	switch {
	case wq.Status != "" && !slices.Contains(queue.WorkflowStatuses, wq.Status):
		return usageError{fmt.Errorf("workflows: --status must be %s, not %s", workflowStatusChoices(), quote(o.Find.Status))}
	case wq.After != "" && !o.QueueSet:
		return usageError{errors.New("workflows: --after needs --queue: workflows are paged in one queue")}
	}
	queues, err := in.queues(ctx)
	if err != nil {
		return err
	}
	var ws []queue.WorkflowState
	next := ""
	for _, name := range queues {
		page, err := in.q.ListWorkflows(ctx, name, wq)
		if errors.Is(err, queue.ErrBadCursor) {
			return usageError{fmt.Errorf("workflows: --after %s is no cursor of the workflows of queue %s: start again without it",
				quote(wq.After), quote(name))}
		}
		if err != nil {
			return err
		}
		ws, next = append(ws, page.Workflows...), page.Next
	}
	if !o.QueueSet { // the newest of all, as one queue's are
		slices.SortStableFunc(ws, func(a, b queue.WorkflowState) int {
			return cmp.Or(queue.MarkOf(&a).Compare(queue.MarkOf(&b)), cmp.Compare(a.Queue, b.Queue))
		})
		ws, next = ws[:min(len(ws), o.Limit)], ""
	}
	in.empty = len(ws) == 0
	if next != "" {
		fmt.Fprintf(in.notes, "next page: taskware workflows %s\n", nextPageArgs(o.Given, queue.TaskQuery{}, next))
	}
	if o.JSON {
		doc := map[string]any{"workflows": rows.WorkflowSummariesOf(ws)}
		if next != "" {
			doc["next"] = next
		}
		return in.json(doc)
	}
	header := []string{"ID", "NAME", "STATUS", "ENDED", "CREATED", "FINISHED", "FAILED STEP", "KIND", "ERROR"}
	if !o.QueueSet {
		header = append([]string{"QUEUE"}, header...)
	}
	tw := in.table(header...)
	for _, w := range ws {
		c := []any{w.ID, w.Name, w.Status, strconv.Itoa(w.Ended) + "/" + strconv.Itoa(w.Steps), in.ago(w.CreatedAt),
			in.ago(w.FinishedAt), cmp.Or(w.FailedStep, "-"), w.Kind, w.Error}
		if !o.QueueSet {
			c = append([]any{w.Queue}, c...)
		}
		in.row(tw, c...)
	}
	tw.Flush()
	return nil
}
