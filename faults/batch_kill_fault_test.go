package faults_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

const (
	bKillChildEnv  = "TASKWARE_BKILL_CHILD"
	bKillPrefixEnv = "TASKWARE_BKILL_PREFIX"
	bKillTasks     = 1000
	bKillGroups    = 10
	bKillSize      = 50
	bKillAfter     = 300 // member runs before the kill
	bKillVis       = 2 * time.Second
)

// bKillTask is the task of TestFaultBatchWorkerKilled, its result stored,
// and its batch handler: it counts each member's run in Redis first, then
// works a while (so that the kill finds batches under way), then doubles
// each argument.
func bKillTask(rb *redisbackend.Backend, c *redis.Client, prefix string) (*task.Task[int, int], func(context.Context, []int) ([]int, error)) {
	tk := task.New("bkill", func(_ context.Context, n int) (int, error) { return 2 * n, nil },
		middleware.StoreResult(rb.Store()))
	fn := func(ctx context.Context, args []int) ([]int, error) {
		pipe := c.Pipeline()
		for _, n := range args {
			pipe.HIncrBy(ctx, prefix+"bkill:runs", strconv.Itoa(n), 1)
		}
		pipe.IncrBy(ctx, prefix+"bkill:total", int64(len(args)))
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
		select {
		case <-time.After(150 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		out := make([]int, len(args))
		for i, n := range args {
			out[i] = 2 * n
		}
		return out, nil
	}
	return tk, fn
}

func bKillWorker(rb *redisbackend.Backend, c *redis.Client, prefix string) *worker.Worker {
	w := worker.New(rb.Queue(), worker.Concurrency(2), worker.Visibility(bKillVis), worker.PollWait(50*time.Millisecond))
	tk, fn := bKillTask(rb, c, prefix)
	worker.RegisterBatch(w, tk, fn, worker.BatchSize(bKillSize), worker.BatchDelay(time.Hour))
	return w
}

// A worker process SIGKILLed while it runs batches: a new worker takes
// the batches under way over once their claims lapse, and every member
// runs and ends, once it ended before the kill, at least once if it was
// under way then, and none is lost.
func TestFaultBatchWorkerKilled(t *testing.T) {
	if os.Getenv(bKillChildEnv) == "1" {
		batchKilledChild(t)
		return
	}
	c, prefix := taskwaretest.Redis(t)
	ctx := context.Background()
	rb := redisbackend.New(c, redisbackend.Prefix(prefix))
	tk, _ := bKillTask(rb, c, prefix)
	client := worker.NewClient(rb.Queue(), rb.Store())
	hs := make([]*worker.Handle[int], 0, bKillTasks)
	for g := range bKillGroups {
		args := make([]int, bKillTasks/bKillGroups)
		for i := range args {
			args[i] = g*len(args) + i
		}
		got, err := worker.EnqueueMany(ctx, client, tk, args, worker.Group(fmt.Sprint("g", g)))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, got...)
	}

	child := exec.Command(os.Args[0], "-test.run", "^TestFaultBatchWorkerKilled$", "-test.v")
	child.Env = append(os.Environ(), bKillChildEnv+"=1", bKillPrefixEnv+"="+prefix, "TASKWARE_REDIS_URL="+taskwaretest.RedisURL())
	out := &strings.Builder{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	deadline := time.Now().Add(time.Minute) // a bound for hangs only
	for {
		if n, _ := c.Get(ctx, prefix+"bkill:total").Int(); n >= bKillAfter {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child did not run %d members within a minute; it said:\n%s", bKillAfter, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killed := time.Now()
	atKill := map[queue.Status]int{}
	endedAtKill := map[string]bool{}
	for _, h := range hs {
		st, err := h.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		atKill[st.Status]++
		if st.Status == queue.Succeeded {
			endedAtKill[h.ID] = true
		}
	}

	w := bKillWorker(rb, c, prefix)
	taskwaretest.StartWorker(t, w)
	incomplete := 0
	deadline = time.Now().Add(2 * time.Minute)
	for i, h := range hs {
		gctx, cancel := context.WithDeadline(ctx, deadline)
		got, err := h.Get(gctx)
		cancel()
		if err != nil || got != 2*i {
			incomplete++
			if incomplete <= 3 {
				t.Errorf("task %s: %d, %v; want %d", h.ID, got, err, 2*i)
			}
		}
	}
	finished := time.Since(killed)

	runs, err := c.HGetAll(ctx, prefix+"bkill:runs").Result()
	if err != nil {
		t.Fatal(err)
	}
	again, underWay, lost, total := 0, 0, 0, 0
	for i, h := range hs {
		n, _ := strconv.Atoi(runs[strconv.Itoa(i)])
		total += n
		switch {
		case n == 0:
			lost++
		case n > 1 && endedAtKill[h.ID]:
			again++
		case n > 1:
			underWay++
		}
	}
	figure(t, "batches after a worker's SIGKILL", "%d of %d grouped tasks (batches of %d) succeeded with their results, the last %v after the kill (visibility %v); "+
		"at the kill %d had succeeded, %d were running, %d queued; %d succeeded tasks run again; %d tasks under way at the kill run again; "+
		"%d never run; %d member runs in all",
		bKillTasks-incomplete, bKillTasks, bKillSize, finished.Round(10*time.Millisecond), bKillVis,
		atKill[queue.Succeeded], atKill[queue.Running], atKill[queue.Queued], again, underWay, lost, total)
	if incomplete > 0 || again > 0 || lost > 0 {
		t.Fatalf("%d tasks incomplete, %d succeeded tasks run again, %d never run", incomplete, again, lost)
	}
	if atKill[queue.Running] == 0 {
		t.Fatalf("no batch was under way at the kill: the test tested nothing (%v)", atKill)
	}
}

// batchKilledChild is the worker process that the parent kills; it gives
// up on its own after two minutes, should the parent die first.
func batchKilledChild(t *testing.T) {
	opt, err := redis.ParseURL(taskwaretest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	prefix := os.Getenv(bKillPrefixEnv)
	rb := redisbackend.New(c, redisbackend.Prefix(prefix))
	w := bKillWorker(rb, c, prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = w.Run(ctx)
}
