package faults_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	// Drop the reply of one script the worker sends, then of the next one
	// sent 2 ms after that drop, and so on while the tasks run: finishes
	// and start marks share its pipelines. (A drop waits for its script,
	// so that drops never pile up faster than the worker sends.)
	before := p.Dropped()
	done := make(chan struct{})
	var dropper sync.WaitGroup
	dropper.Go(func() {
		for {
			n := p.Dropped()
			p.DropReplies(1, func(cmd []string) bool { return cmd[0] == "evalsha" && !isTake(cmd) })
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

// isTake reports whether cmd is a Take's script, whose keys name the
// queue's set of taken-over entries: this test drops the replies of the
// scripts that start and end runs, as it did when a Take sent no script.
func isTake(cmd []string) bool {
	return slices.ContainsFunc(cmd, func(arg string) bool { return strings.HasSuffix(arg, ":ahead") })
}
