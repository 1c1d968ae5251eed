package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// workflowCommands are taskware workflow ID (show), workflow retry and
// workflow cancel.
var workflowCommands = &family{name: "workflow", subs: []*inspectCommand{
	{name: "workflow show", queue: true, run: showWorkflow, doc: doc{
		synopsis: []string{"workflow [show] ID [--queue Q]"},
		about: []string{"workflow ID: its status, progress, the step", "that failed it, and each step's status,",
			"attempt, kind, error and parents"},
	}},
	{name: "workflow retry", queue: true, run: retryWorkflowStep, doc: doc{
		synopsis: []string{"workflow retry ID STEP", "        [--queue Q]"},
		about:    []string{"run again STEP, the step that failed workflow", "ID, which then resumes from it"},
	}},
	{name: "workflow cancel", queue: true, run: cancelWorkflow, doc: doc{
		synopsis: []string{"workflow cancel ID [--queue Q]"},
		about:    []string{"cancel workflow ID: its steps not started end", "canceled, those running are told to stop"},
	}},
}}

// execWorkflow runs taskware workflow: ID alone (flags anywhere) shows
// the workflow, as workflow show ID does.
func execWorkflow(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) > 0 && !isHelp(args[0]) && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "show", "retry", "cancel":
		default:
			return workflowCommands.subs[0].exec(ctx, args, out, errOut)
		}
	}
	return workflowCommands.exec(ctx, args, out, errOut)
}

// findWorkflow returns workflow id of the queue --queue names, else of
// the first queue that knows it.
func (in *inspection) findWorkflow(ctx context.Context, id string) (*queue.WorkflowState, error) {
	queues, err := in.queues(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range queues {
		st, err := in.q.Workflow(ctx, name, id)
		if errors.Is(err, queue.ErrNotFound) {
			continue
		}
		return st, err
	}
	in.empty = true
	nf := &notFoundError{what: "workflow", ids: []string{id}}
	if in.o.QueueSet {
		nf.queues = queues
	}
	return nil, nf
}

// workflowArgs checks that args are n words, named by what (for the
// message of a missing one).
func workflowArgs(cmd string, args []string, what ...string) error {
	if len(args) < len(what) {
		return usageError{fmt.Errorf("%s: no %s given", cmd, what[len(args)])}
	}
	if len(args) > len(what) {
		return usageError{fmt.Errorf("%s: unexpected argument %q", cmd, args[len(what)])}
	}
	return nil
}

func showWorkflow(ctx context.Context, in *inspection, args []string) error {
	if err := workflowArgs("workflow", args, "workflow ID"); err != nil {
		return err
	}
	st, err := in.findWorkflow(ctx, args[0])
	if err != nil {
		return err
	}
	d := rows.WorkflowDetailOf(st)
	if in.o.JSON {
		return in.json(map[string]any{"workflow": d})
	}
	in.workflowFields(d)
	fmt.Fprintln(in.out)
	tw := in.table("STEP", "STATUS", "ATTEMPT", "TASK", "ID", "KIND", "ERROR", "PARENTS")
	for _, s := range d.StepStates {
		in.row(tw, s.Name, s.Status, s.Attempt, s.Task, s.ID, cmp.Or(s.Kind, "-"), cmp.Or(s.Error, "-"),
			cmp.Or(strings.Join(s.Parents, ","), "-"))
	}
	tw.Flush()
	if d.Status == string(queue.Failed) {
		fmt.Fprintf(in.out, "\n(taskware workflow retry %s %s runs the failed step again)\n", shellWord(d.ID), shellWord(d.FailedStep))
	}
	return nil
}

// workflowFields prints the facts of a workflow, a field a line.
func (in *inspection) workflowFields(d rows.WorkflowDetail) {
	failed := "-"
	if d.FailedStep != "" {
		failed = d.FailedStep
	}
	tw := tabwriter.NewWriter(in.out, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"ID", d.ID}, {"NAME", d.Name}, {"QUEUE", d.Queue}, {"STATUS", d.Status},
		{"PROGRESS", fmt.Sprintf("%d/%d steps ended", d.Ended, d.Steps)},
		{"CREATED", in.ago(d.CreatedAt)}, {"FINISHED", in.ago(d.FinishedAt)},
		{"FAILED STEP", failed}, {"KIND", d.Kind}, {"ERROR", d.Error}, {"OUTPUT", d.Output}, {"RESULT", d.Result},
	} {
		for i, line := range strings.Split(cmp.Or(kv[1], "-"), "\n") {
			if i == 0 {
				fmt.Fprintf(tw, "%s:\t%s\n", kv[0], visible(line))
			} else {
				fmt.Fprintf(tw, "\t%s\n", visible(line))
			}
		}
	}
	tw.Flush()
}

// workflowAction is what workflow retry and workflow cancel print with
// --json.
type workflowAction struct {
	Queue    string `json:"queue"`
	ID       string `json:"id"`
	Retried  string `json:"retried,omitempty"`
	Canceled *int   `json:"canceled,omitempty"`
	Sent     *int   `json:"sent,omitempty"`
	Ended    bool   `json:"ended,omitempty"`
}

func retryWorkflowStep(ctx context.Context, in *inspection, args []string) error {
	if err := workflowArgs("workflow retry", args, "workflow ID", "STEP"); err != nil {
		return err
	}
	st, err := in.findWorkflow(ctx, args[0])
	if err != nil {
		return err
	}
	step := args[1]
	err = in.q.RetryStep(ctx, st.Queue, st.ID, step)
	switch {
	case errors.Is(err, queue.ErrNotRetryable) && st.Status != queue.Failed:
		return fmt.Errorf("workflow retry: workflow %s is %s, not failed: %w", quote(st.ID), st.Status, err)
	case errors.Is(err, queue.ErrNotRetryable):
		return fmt.Errorf("workflow retry: step %s did not fail workflow %s; step %s did: %w",
			quote(step), quote(st.ID), quote(st.FailedStep), err)
	case errors.Is(err, queue.ErrNotFound):
		return fmt.Errorf("workflow retry: workflow %s has no step %s: %w", quote(st.ID), quote(step), err)
	case err != nil:
		return err
	}
	if in.o.JSON {
		return in.json(workflowAction{Queue: st.Queue, ID: st.ID, Retried: step})
	}
	fmt.Fprintf(in.out, "workflow %s runs again from step %s\n", visible(st.ID), visible(step))
	return nil
}

func cancelWorkflow(ctx context.Context, in *inspection, args []string) error {
	if err := workflowArgs("workflow cancel", args, "workflow ID"); err != nil {
		return err
	}
	st, err := in.findWorkflow(ctx, args[0])
	if err != nil {
		return err
	}
	c, err := in.q.CancelWorkflow(ctx, st.Queue, st.ID)
	if err != nil {
		return err
	}
	if in.o.JSON {
		return in.json(workflowAction{Queue: st.Queue, ID: st.ID, Canceled: &c.Canceled, Sent: &c.Sent, Ended: c.Ended})
	}
	if c.Ended {
		fmt.Fprintf(in.out, "workflow %s had ended already: left as it is\n", visible(st.ID))
		return nil
	}
	fmt.Fprintf(in.out, "workflow %s canceled: %s steps canceled, %s running told to stop\n", visible(st.ID),
		strconv.Itoa(c.Canceled), strconv.Itoa(c.Sent))
	return nil
}
