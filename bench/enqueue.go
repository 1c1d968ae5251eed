package bench

import (
	"context"
	"errors"
	"fmt"
)

// EnqueueWay is one way to enqueue tasks from one goroutine: a contender
// of QueueLibs, and how many tasks it puts in one call.
type EnqueueWay struct {
	Name string
	Peer bool
	// Lib names the contender of QueueLibs whose task is enqueued.
	Lib string
	// Batch is the tasks per call (TaskQueue.EnqueueSerial).
	Batch int
}

// EnqueueWays lists the ways the queuebench command compares, taskware's
// first. Asynq has no call that enqueues many tasks: its Client.Enqueue,
// one task at a time, is how it enqueues from one goroutine.
var EnqueueWays = []EnqueueWay{
	{Name: "taskware EnqueueMany, batches of 1000", Lib: "taskware bare", Batch: 1000},
	{Name: "taskware Enqueue", Lib: "taskware bare", Batch: 1},
	{Name: "asynq Enqueue", Peer: true, Lib: "asynq", Batch: 1},
}

// EnqueueRate opens way's queue on env, enqueues n tasks from the caller's
// goroutine, timed, and closes the queue, which deletes every key it
// wrote. What it saw is a DrainResult of the enqueues: their number and
// time, and their round trips, allocations and Redis CPU time as m
// measures them.
func EnqueueRate(ctx context.Context, way EnqueueWay, env Env, n int, m Meter) (res DrainResult, err error) {
	if n < 1 {
		return res, fmt.Errorf("bench: EnqueueRate of %d tasks", n)
	}
	lib, ok := QueueLibNamed(way.Lib)
	if !ok {
		return res, fmt.Errorf("bench: %s: no contender %q", way.Name, way.Lib)
	}
	q, err := lib.Open(env)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, q.Close()) }()

	r, err := m.begin(ctx)
	if err != nil {
		return res, err
	}
	if err := q.EnqueueSerial(ctx, 0, n, way.Batch); err != nil {
		return res, fmt.Errorf("%s: %w", way.Name, err)
	}
	return r.end(ctx, n)
}
