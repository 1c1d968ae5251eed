package faults_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A worker holding 16 running tasks and 16 prefetched ones is cut off from
// Redis for 8 s, longer than its 5 s visibility timeout; another worker
// takes its claims over and runs them. At most the 16 running at the cut
// may run twice: a prefetched task must not start on a claim that may have
// been taken over, and once the partition heals the cut-off worker learns
// which claims it lost.
func TestFaultPartitionLongerThanVisibility(t *testing.T) {
	const (
		n          = 64
		held       = 16
		visibility = 5 * time.Second
		partition  = 8 * time.Second
	)
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix))
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix))
	ctx := context.Background()

	type run struct {
		worker string
		at     time.Time
	}
	var mu sync.Mutex
	runs := map[int][]run{}
	job := func(name string, took time.Duration, b *redisbackend.Backend) *task.Task[int, int] {
		return task.New("job", func(ctx context.Context, i int) (int, error) {
			mu.Lock()
			runs[i] = append(runs[i], run{name, time.Now()})
			mu.Unlock()
			select {
			case <-ctx.Done():
				return 0, context.Cause(ctx)
			case <-time.After(took):
				return i, nil
			}
		}, middleware.StoreResult(b.Store()))
	}
	cutOff, other := job("cut-off", 4*time.Second, faulty), job("other", 50*time.Millisecond, clean)
	client := worker.NewClient(clean.Queue(), clean.Store())
	hs := make([]*worker.Handle[int], n)
	for i := range n {
		h, err := worker.Enqueue(ctx, client, cutOff, i)
		if err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	var superseded, claimLost sync.Map
	a := worker.New(faulty.Queue(), worker.Name("cut-off"), worker.Concurrency(held), worker.Prefetch(held),
		worker.Visibility(visibility), worker.PollWait(50*time.Millisecond), worker.Grace(time.Second),
		worker.OnError(func(error) {}), worker.OnEvent(func(e worker.Event) {
			if e.Kind == worker.EventSuperseded {
				superseded.Store(e.ID, true)
				if errors.Is(e.Err, queue.ErrClaimLost) {
					claimLost.Store(e.ID, true)
				}
			}
		}))
	worker.Register(a, cutOff)
	stopA := taskwaretest.StartWorker(t, a)
	startedOn := func(name string) int {
		mu.Lock()
		defer mu.Unlock()
		k := 0
		for _, rs := range runs {
			for _, r := range rs {
				if r.worker == name {
					k++
				}
			}
		}
		return k
	}
	for deadline := time.Now().Add(10 * time.Second); startedOn("cut-off") < held; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the cut-off worker started %d tasks", startedOn("cut-off"))
		}
	}
	b := worker.New(clean.Queue(), worker.Name("other"), worker.Concurrency(held), worker.Visibility(visibility),
		worker.PollWait(50*time.Millisecond))
	worker.Register(b, other)
	stopB := taskwaretest.StartWorker(t, b)
	time.Sleep(time.Second)

	cut := time.Now()
	p.Stall()
	time.Sleep(partition)
	p.Resume()
	healed := time.Now()

	for _, h := range hs {
		if _, err := taskwaretest.Get(h, 30*time.Second); err != nil {
			t.Fatalf("task %s: %v", h.ID, err)
		}
		if st, err := h.State(ctx); err != nil || st.Status != queue.Succeeded {
			t.Fatalf("state %+v, %v", st, err)
		}
	}
	time.Sleep(visibility / 2) // what the cut-off worker still holds, it learns of by now
	stopA()
	stopB()

	mu.Lock()
	defer mu.Unlock()
	twice, prefetched, afterHeal, atCut := 0, 0, 0, 0
	for _, rs := range runs {
		if rs[0].worker == "cut-off" && rs[0].at.Before(cut) {
			atCut++
		}
		for _, r := range rs {
			if r.worker == "cut-off" && r.at.After(healed) {
				afterHeal++
			}
		}
		if len(rs) < 2 {
			continue
		}
		twice++
		if rs[0].worker == "cut-off" && rs[0].at.After(cut) {
			prefetched++
		}
	}
	nSup, nLost := 0, 0
	superseded.Range(func(_, _ any) bool { nSup++; return true })
	claimLost.Range(func(_, _ any) bool { nLost++; return true })
	figure(t, "partition", "after an %v partition at a %v visibility, %d of %d tasks ran twice (%d running at the cut), %d of them prefetched (first started after the cut), %d runs of the cut-off worker started after the heal; %d deliveries superseded (%d known lost before their run ended)",
		partition, visibility, twice, n, atCut, prefetched, afterHeal, nSup, nLost)
	if atCut == 0 || atCut > held {
		t.Fatalf("%d tasks running at the cut; want 1 to %d: the scene did not happen", atCut, held)
	}
	if twice > atCut || prefetched > 0 || afterHeal > 0 {
		t.Fatalf("%d ran twice (%d running at the cut), %d of them prefetched, %d runs started after the heal; want at most %d, 0, 0",
			twice, atCut, prefetched, afterHeal, atCut)
	}
}
