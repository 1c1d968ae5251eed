package main

import (
	"context"
	"fmt"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

var deadCommands = &family{name: "dead", subs: []*inspectCommand{
	{name: "dead list", queue: true, limit: true, run: listDead, doc: doc{
		synopsis: []string{"dead list [--queue Q] [--limit N]"},
		about:    []string{"the dead letters"},
	}},
	{name: "dead requeue", queue: true, run: requeueDead, doc: doc{
		synopsis: []string{"dead requeue [--queue Q] [ID...]"},
		about:    []string{"run dead letters again, as fresh tasks (all of", "them if no ID is given)"},
	}},
	{name: "dead purge", queue: true, run: purgeDead, doc: doc{
		synopsis: []string{"dead purge [--queue Q] [ID...]"},
		about:    []string{"delete dead letters (all of them if no ID is", "given)"},
	}},
}}

// deadJSON is what `dead requeue --json` and `dead purge --json` print.
type deadJSON struct {
	Requeued []queueID `json:"requeued,omitempty"`
	Kept     []queueID `json:"kept,omitempty"`
	Purged   *int      `json:"purged,omitempty"`
}

type queueID struct {
	Queue string `json:"queue"`
	ID    string `json:"id"`
}

func listDead(ctx context.Context, in *inspection, args []string) error {
	if err := noArgs("dead list", args); err != nil {
		return err
	}
	queues, err := in.queues(ctx)
	if err != nil {
		return err
	}
	all := []queue.TaskInfo{}
	for _, name := range queues {
		if len(all) >= in.o.Limit {
			break
		}
		ts, err := in.q.Tasks(ctx, name, queue.DeadTasks, in.o.Limit-len(all))
		if err != nil {
			return err
		}
		all = append(all, ts...)
	}
	in.empty = len(all) == 0
	if in.o.JSON {
		return in.json(map[string]any{"dead": rows.TasksOf(all)})
	}
	in.taskTable(queue.DeadTasks, all, true)
	return nil
}

func requeueDead(ctx context.Context, in *inspection, ids []string) error {
	queues, err := in.queues(ctx)
	if err != nil {
		return err
	}
	var res deadJSON
	for _, name := range queues {
		done, kept, err := in.q.RequeueDead(ctx, name, ids...)
		if err != nil {
			return err
		}
		for _, id := range done {
			res.Requeued = append(res.Requeued, queueID{name, id})
		}
		for _, id := range kept {
			res.Kept = append(res.Kept, queueID{name, id})
		}
	}
	if err := in.printRequeued(res); err != nil {
		return err
	}
	if in.empty = len(res.Requeued)+len(res.Kept) == 0; in.empty && len(ids) > 0 {
		return fmt.Errorf("dead requeue: %w", in.deadNotFound(ids))
	}
	return nil
}

func (in *inspection) printRequeued(res deadJSON) error {
	if in.o.JSON {
		return in.json(res)
	}
	fmt.Fprintf(in.out, "requeued %d dead letters\n", len(res.Requeued))
	for _, r := range res.Requeued {
		fmt.Fprintf(in.out, "  %s %s\n", visible(r.Queue), visible(r.ID))
	}
	if len(res.Kept) > 0 {
		fmt.Fprintf(in.out, "left %d dead letters that cannot be read, whose task is known again, or of workflow steps (taskware workflow retry):\n", len(res.Kept))
		for _, r := range res.Kept {
			fmt.Fprintf(in.out, "  %s entry %s\n", visible(r.Queue), visible(r.ID))
		}
	}
	return nil
}

func purgeDead(ctx context.Context, in *inspection, ids []string) error {
	queues, err := in.queues(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, name := range queues {
		m, err := in.q.PurgeDead(ctx, name, ids...)
		if err != nil {
			return err
		}
		n += m
	}
	if in.o.JSON {
		if err := in.json(deadJSON{Purged: &n}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(in.out, "purged %d dead letters\n", n)
	}
	if in.empty = n == 0; in.empty && len(ids) > 0 {
		return fmt.Errorf("dead purge: %w", in.deadNotFound(ids))
	}
	return nil
}

// deadNotFound says that none of the dead letters ids was found, in the
// queue --queue names or in any.
func (in *inspection) deadNotFound(ids []string) error {
	var queues []string
	if in.o.QueueSet {
		queues = []string{in.o.Queue}
	}
	return &notFoundError{what: "dead letter", ids: ids, queues: queues}
}
