package main

import (
	"context"

	"github.com/taskware/taskware/internal/rows"
)

var queuesCommand = &inspectCommand{name: "queues", run: listQueues, doc: doc{
	synopsis: []string{"queues"},
	about: []string{"each queue's ready, running, delayed and dead", "tasks, the oldest ready one's wait, and its",
		"live workers"},
}}

func listQueues(ctx context.Context, in *inspection, args []string) error {
	if err := noArgs("queues", args); err != nil {
		return err
	}
	names, err := in.q.Queues(ctx)
	if err != nil {
		return err
	}
	qs, err := rows.ReadQueues(ctx, in.q, names)
	if err != nil {
		return err
	}
	in.empty = len(qs) == 0
	if in.o.JSON {
		return in.json(map[string]any{"queues": qs})
	}
	tw := in.table("QUEUE", "READY", "RUNNING", "DELAYED", "DEAD", "WAITING", "GROUPED", "OLDEST", "WORKERS", "PAUSED")
	for _, q := range qs {
		paused := "-"
		if q.Paused {
			paused = "paused"
		}
		in.row(tw, q.Queue, q.Ready, q.Running, q.Delayed, q.Dead, q.Waiting, q.Grouped, q.Oldest(), q.Workers, paused)
	}
	return tw.Flush()
}
