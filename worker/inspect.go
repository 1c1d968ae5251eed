package worker

import (
	"context"
	"time"
)

// QueueStats counts a queue's tasks by where they are, for dashboards,
// metrics and the taskware command.
type QueueStats struct {
	Queue string
	// Ready tasks wait for a worker; Running ones are taken by one (running,
	// or prefetched to start next); Delayed ones wait to be due (delayed,
	// retried or rescheduled); Dead ones are dead letters.
	Ready, Running, Delayed, Dead int64
	// OldestReady is how long the oldest ready task has waited, 0 if none.
	OldestReady time.Duration
	// Workers counts the workers seen on the queue within LiveWorkerWindow.
	Workers int
}

// LiveWorkerWindow is how recently a worker must have taken from, or
// renewed its claims on, a queue to count as live there. A live worker
// does so at least every PollWait and Visibility/3.
const LiveWorkerWindow = time.Minute

// WorkerInfo is what a queue knows of one worker that read from it.
type WorkerInfo struct {
	Name  string
	Queue string
	// Pending counts the tasks it holds: running, or prefetched.
	Pending int64
	// Idle is the time since it last took from, or renewed its claims on,
	// the queue.
	Idle time.Duration
}

// Inspector shows a backend's queues, for operators, metrics and the
// taskware command. Both backends' queues implement it.
type Inspector interface {
	// Queues lists the queues that hold anything: ready, taken, delayed or
	// dead tasks. Sorted by name.
	Queues(ctx context.Context) ([]string, error)
	// Stats counts queue's tasks. A queue that holds nothing has zero
	// counts, and no error.
	Stats(ctx context.Context, queue string) (*QueueStats, error)
	// Workers lists the workers known to queue, by name.
	Workers(ctx context.Context, queue string) ([]WorkerInfo, error)
}

// Starter is a Consumer that records when a delivery starts to run, and on
// which worker, in the task's state (Running, StartedAt, Worker). A worker
// calls it, without waiting, as it starts each run; a start recorded after
// the task ended changes nothing.
type Starter interface {
	Started(ctx context.Context, d *Delivery, worker string, at time.Time)
}
