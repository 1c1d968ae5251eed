package faults_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A worker's events count outcomes a monitor can trust: with the replies
// of its finishes and start marks dropped over and over (Redis ran the
// call, the connection broke, go-redis sent it again), every task still
// reports exactly one outcome event, and none is superseded.
func TestFaultEventsOncePerOutcome(t *testing.T) {
	const n = 300
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix))
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix))
	ctx := context.Background()

	var mu sync.Mutex
	outcomes, started := map[string]int{}, map[string]int{}
	superseded := 0 // a finish sent again is not superseded: no other worker took the task
	record := func(e worker.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case worker.EventSuperseded:
			superseded++
		case worker.EventStarted:
			started[e.ID]++
		case worker.EventSucceeded, worker.EventFailed, worker.EventSkipped, worker.EventDeadLettered,
			worker.EventRetrying, worker.EventRescheduled, worker.EventAbandoned, worker.EventCanceled, worker.EventHandedBack:
			outcomes[e.ID]++
		}
	}
	tk := task.New("ev", func(ctx context.Context, i int) (int, error) { return i, nil })
	w := worker.New(faulty.Queue(), worker.Concurrency(8), worker.PollWait(50*time.Millisecond),
		worker.Visibility(2*time.Second), worker.OnEvent(record), worker.OnError(func(err error) { t.Log(err) }))
	worker.Register(w, tk)
	stop := taskwaretest.StartWorker(t, w)

	args := make([]int, n)
	for i := range args {
		args[i] = i
	}
	hs, err := worker.EnqueueMany(ctx, worker.NewClient(clean.Queue(), clean.Store()), tk, args)
	if err != nil {
		t.Fatal(err)
	}
	// Drop the reply of one script the worker sends, let the next one
	// through, drop the one after it that comes 2 ms after the drop, and so
	// on while the tasks run: finishes, start marks and Takes share its
	// pipelines. (Half the scripts at most: were each one dropped, the
	// worker's retries of a dropped call among them, Redis would be out of
	// reach, and the test would test an outage.)
	before := p.Dropped()
	done := make(chan struct{})
	var dropper sync.WaitGroup
	dropper.Go(func() {
		for {
			n := p.Dropped()
			passed := false
			p.DropReplies(1, func(cmd []string) bool {
				if cmd[0] != "evalsha" {
					return false
				}
				if !passed {
					passed = true
					return false
				}
				return true
			})
			for p.Dropped() == n {
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
				}
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	for i, h := range hs {
		if _, err := taskwaretest.Get(h, 30*time.Second); err != nil {
			close(done)
			dropper.Wait()
			dumpTask(t, direct, prefix, "default", h.ID)
			t.Fatalf("task %d: %v", i, err)
		}
	}
	close(done)
	dropper.Wait()
	stop()
	dropped := p.Dropped() - before

	mu.Lock()
	defer mu.Unlock()
	wrong, reran := 0, 0
	for _, h := range hs {
		if outcomes[h.ID] != 1 {
			wrong++
			if wrong <= 3 {
				t.Errorf("task %s: %d outcome events, want 1", h.ID, outcomes[h.ID])
			}
		}
		if started[h.ID] > 1 {
			reran++
		}
	}
	figure(t, "events under dropped replies", "%d of %d tasks without exactly one outcome event, %d superseded, %d replies dropped (%d tasks ran twice)",
		wrong, n, superseded, dropped, reran)
	if superseded > 0 {
		t.Errorf("%d superseded events: a finish sent again after a lost reply was taken for another worker's", superseded)
	}
	if dropped == 0 {
		t.Fatal("no reply was dropped: the test tested nothing")
	}
}

// dumpTask logs what Redis holds of a task that did not end: its state,
// its entry's pending record, the consumers and the taken-over entries.
func dumpTask(t *testing.T, c *redis.Client, prefix, name, id string) {
	t.Helper()
	ctx := context.Background()
	q := prefix + "queue:{" + name + "}"
	state := c.HGetAll(ctx, q+":task:"+id).Val()
	t.Logf("state of %s: %v", id, state)
	if e := state["e"]; e != "" {
		t.Logf("entry %s: %v", e, c.XRange(ctx, q, e, e).Val())
		t.Logf("pending: %+v", c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: q, Group: "taskware", Start: e, End: e, Count: 1}).Val())
	}
	t.Logf("group: %+v", c.XInfoGroups(ctx, q).Val())
	t.Logf("consumers: %+v", c.XInfoConsumers(ctx, q, "taskware").Val())
	t.Logf("ahead: %v; early: %v", c.ZRange(ctx, q+":ahead", 0, -1).Val(), c.HGetAll(ctx, q+":early").Val())
}
