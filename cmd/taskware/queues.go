package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
)

var queuesCommand = &inspectCommand{name: "queues", run: listQueues, doc: doc{
	synopsis: []string{"queues"},
	about: []string{"each queue's partitions, its ready, running,", "delayed and dead tasks, the oldest ready one's",
		"wait, and its live workers"},
}}

var partitionCommand = &inspectCommand{name: "queues partition", run: setPartitions, doc: doc{
	synopsis: []string{"queues partition QUEUE N"},
	about: []string{"split a queue into N partitions (1 to 64), so", "that a Cluster spreads it over its masters;",
		"lowering N strands nothing"},
}}

// execQueues runs "queues", or "queues partition".
func execQueues(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) > 0 && args[0] == "partition" {
		return partitionCommand.exec(ctx, args[1:], out, errOut)
	}
	return queuesCommand.exec(ctx, args, out, errOut)
}

// setPartitions sets a queue's partition count, and says what changes.
func setPartitions(ctx context.Context, in *inspection, args []string) error {
	if len(args) != 2 {
		return usageError{fmt.Errorf("queues partition: want a queue and a count, got %d arguments", len(args))}
	}
	name := args[0]
	if err := queue.ValidateName(name); err != nil {
		return usageError{err}
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 || n > redisbackend.MaxPartitions {
		return usageError{fmt.Errorf("queues partition: count %q: want 1 to %d", args[1], redisbackend.MaxPartitions)}
	}
	old, _, err := in.q.Partitions(ctx, name)
	if err != nil {
		return err
	}
	if err := in.q.SetPartitions(ctx, name, n); err != nil {
		return err
	}
	_, high, err := in.q.Partitions(ctx, name)
	if err != nil {
		return err
	}
	if in.o.JSON {
		return in.json(map[string]any{"queue": name, "old": old, "partitions": n, "read": high})
	}
	fmt.Fprintf(in.out, "queue %s: %d -> %d partitions\n", visible(name), old, n)
	switch {
	case n < high:
		fmt.Fprintf(in.out, "new tasks go to %s; workers keep taking from, promoting and recovering\n"+
			"all %d, so what is left in %s is drained, not stranded.\n", partitionRange(0, n-1), high, partitionRange(n, high-1))
	case n > 1:
		fmt.Fprintf(in.out, "new tasks spread over %s, and workers take from all %d. Tasks of one\n"+
			"OrderKey keep their order only among those enqueued under one count.\n", partitionRange(0, n-1), high)
	}
	fmt.Fprintln(in.out, "every process follows within about a second.")
	return nil
}

// partitionRange names partitions from to to: "partition 2", "partitions 0-2".
func partitionRange(from, to int) string {
	if from == to {
		return fmt.Sprintf("partition %d", from)
	}
	return fmt.Sprintf("partitions %d-%d", from, to)
}

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
	tw := in.table("QUEUE", "PARTS", "READY", "RUNNING", "DELAYED", "DEAD", "WAITING", "GROUPED", "OLDEST", "WORKERS", "PAUSED")
	for _, q := range qs {
		paused := "-"
		if q.Paused {
			paused = "paused"
		}
		in.row(tw, q.Queue, q.Partitions, q.Ready, q.Running, q.Delayed, q.Dead, q.Waiting, q.Grouped, q.Oldest(), q.Workers, paused)
	}
	return tw.Flush()
}
