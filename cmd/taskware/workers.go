package main

import (
	"context"

	"github.com/taskware/taskware/internal/rows"
)

var workersCommand = &inspectCommand{name: "workers", queue: true, run: listWorkers, doc: doc{
	synopsis: []string{"workers [--queue Q]"},
	about:    []string{"the workers each queue knows of"},
}}

func listWorkers(ctx context.Context, in *inspection, args []string) error {
	if err := noArgs("workers", args); err != nil {
		return err
	}
	queues, err := in.queues(ctx)
	if err != nil {
		return err
	}
	ws, err := rows.ReadWorkers(ctx, in.q, queues)
	if err != nil {
		return err
	}
	in.empty = len(ws) == 0
	if in.o.JSON {
		return in.json(map[string]any{"workers": ws})
	}
	tw := in.table("QUEUE", "WORKER", "PENDING", "IDLE", "LIVE")
	for _, w := range ws {
		in.row(tw, w.Queue, w.Name, w.Pending, w.Idle(), w.LiveText())
	}
	return tw.Flush()
}
