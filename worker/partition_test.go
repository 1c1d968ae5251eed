package worker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// runCounter is a task that counts its runs by ID, and the events'
// queues.
type runCounter struct {
	mu     sync.Mutex
	runs   map[string]int
	queues map[string]int // Event.Queue of each EventSucceeded
	total  int
	task   *task.Task[int, struct{}]
}

func newRunCounter() *runCounter {
	c := &runCounter{runs: map[string]int{}, queues: map[string]int{}}
	c.task = task.New("count", func(ctx context.Context, i int) (struct{}, error) { return struct{}{}, nil },
		func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				c.mu.Lock()
				c.runs[inv.ID]++
				c.total++
				c.mu.Unlock()
				return next(ctx, inv)
			}
		})
	return c
}

func (c *runCounter) onEvent(e worker.Event) {
	if e.Kind == worker.EventSucceeded {
		c.mu.Lock()
		c.queues[e.Queue]++
		c.mu.Unlock()
	}
}

// wait waits until n runs were counted, or fails t after a minute.
func (c *runCounter) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		total := c.total
		c.mu.Unlock()
		if total >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d runs after a minute, want %d", c.total, n)
}

// check fails t unless each of ids ran once, and no other ran, and the
// events named the logical queue name only.
func (c *runCounter) check(t *testing.T, ids map[string]bool, name string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range ids {
		if c.runs[id] != 1 {
			t.Errorf("task %s ran %d times, want once", id, c.runs[id])
		}
	}
	if len(c.runs) != len(ids) {
		t.Errorf("%d tasks ran, want %d", len(c.runs), len(ids))
	}
	for q, n := range c.queues {
		if q != name {
			t.Errorf("%d events name queue %q, want %q", n, q, name)
		}
	}
}

// startWorker runs a worker of b's queue until t ends.
func startWorker(t *testing.T, b *taskwaretest.Backend, c *runCounter, name string) {
	w := worker.New(b.Queue, worker.Concurrency(8), worker.Queues(name), worker.PollWait(200*time.Millisecond), worker.OnEvent(c.onEvent))
	worker.Register(w, c.task)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}

// A worker drains a queue of 3 partitions: every task runs once, none is
// lost, and its events name the queue, not a partition.
func TestPartitionedDrain(t *testing.T) {
	for _, name := range []string{"miniredis", "redis", "cluster"} {
		t.Run(name, func(t *testing.T) {
			b := taskwaretest.NewPartitioned(t, name, 3)
			c := newRunCounter()
			client := worker.NewClient(b.Queue, nil)
			ctx := t.Context()
			ids := map[string]bool{}
			const n = 300
			args, many := make([]int, n/2), make([]string, n/2)
			for i := range many {
				many[i] = fmt.Sprintf("many-%d", i)
				ids[many[i]] = true
			}
			if _, err := worker.EnqueueMany(ctx, client, c.task, args, worker.OnQueue("hot"), worker.IDs(many...)); err != nil {
				t.Fatal(err)
			}
			startWorker(t, b, c, "hot")
			for i := range n / 2 { // while the worker drains
				id := fmt.Sprintf("one-%d", i)
				ids[id] = true
				if _, err := worker.Enqueue(ctx, client, c.task, i, worker.OnQueue("hot"), worker.ID(id), worker.OrderKey(fmt.Sprint(i%5))); err != nil {
					t.Fatal(err)
				}
			}
			c.wait(t, n)
			time.Sleep(300 * time.Millisecond) // room for a run too many to show
			c.check(t, ids, "hot")
		})
	}
}

// Changing a queue's partition count while tasks are enqueued and run
// loses none and runs none twice: 1, then 3, then 2 partitions, each
// count held past the backends' cache of it (a second). The partitions
// past 2 keep being drained after the count is lowered.
func TestPartitionsChangeLive(t *testing.T) {
	for _, name := range []string{"miniredis", "redis", "cluster"} {
		t.Run(name, func(t *testing.T) {
			b := taskwaretest.NewPartitioned(t, name, 1)
			// The producer is another process, as it were: a backend of
			// its own, with its own cache of the count.
			producer := redisbackend.New(b.Client, redisbackend.Prefix(b.Prefix()))
			c := newRunCounter()
			client := worker.NewClient(producer.Queue(), nil)
			q := b.Redis.Queue()
			ctx := t.Context()
			startWorker(t, b, c, "live")
			ids := map[string]bool{}
			seq := 0
			enqueueFor := func(d time.Duration) {
				for end := time.Now().Add(d); time.Now().Before(end); {
					id := fmt.Sprintf("t-%d", seq)
					ids[id] = true
					if _, err := worker.Enqueue(ctx, client, c.task, seq, worker.OnQueue("live"), worker.ID(id)); err != nil {
						t.Fatal(err)
					}
					seq++
					time.Sleep(2 * time.Millisecond)
				}
			}
			enqueueFor(500 * time.Millisecond)
			for _, n := range []int{3, 2} {
				if err := q.SetPartitions(ctx, "live", n); err != nil {
					t.Fatal(err)
				}
				enqueueFor(1500 * time.Millisecond) // past the producer's cache
			}
			c.wait(t, len(ids))
			time.Sleep(300 * time.Millisecond)
			c.check(t, ids, "live")
			// Partition 2, used only while there were 3, ended tasks.
			parts, err := b.Redis.Queue().PartitionNames(ctx, "live")
			if err != nil || len(parts) != 3 {
				t.Fatalf("PartitionNames(live) = %v, %v; want 3", parts, err)
			}
			livePartition2 := parts[2]
			if n, err := b.Client.ZCard(ctx, b.Prefix()+"queue:{"+livePartition2+"}:ended").Result(); err != nil || n == 0 {
				t.Errorf("partition 2 ended %d tasks, %v; want some", n, err)
			}
		})
	}
}
