package worker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

const batchCrashSize = 10

// batchCrashTask is a task whose batch handler records, in Redis, each
// member's runs and the batches it ran in (by their members), then works:
// for ever in the child, which is killed mid-batch, at once in the parent.
func batchCrashTask(rb *redisbackend.Backend) (*task.Task[string, string], func(context.Context, []string) ([]string, error)) {
	c, prefix := rb.Client(), rb.Prefix()
	tk := task.New("crashy-batch", func(ctx context.Context, id string) (string, error) { return "", nil },
		middleware.StoreResult(rb.Store()))
	return tk, func(ctx context.Context, ids []string) ([]string, error) {
		members := strings.Join(slices.Sorted(slices.Values(ids)), ",")
		pipe := c.TxPipeline()
		for _, id := range ids {
			pipe.Incr(ctx, prefix+"runs:"+id)
			pipe.SAdd(ctx, prefix+"batches:"+id, members)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
		if os.Getenv(crashChildEnv) == "1" {
			<-ctx.Done() // killed long before
			return nil, ctx.Err()
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = "done " + id
		}
		return out, nil
	}
}

// A worker process killed with SIGKILL while its batch handler runs loses
// no task of the batch, and doubles none: another worker takes the batch
// over after the visibility timeout and runs it again, whole; every task
// runs and ends exactly once as far as its state goes (one attempt, one
// result), and none is in two batches.
func TestBatchCrashRecovery(t *testing.T) {
	if os.Getenv(crashChildEnv) == "1" {
		batchCrashChild(t)
		return
	}
	c, prefix := taskwaretest.Redis(t)
	ctx := context.Background()
	rb := redisbackend.New(c, redisbackend.Prefix(prefix))
	tk, fn := batchCrashTask(rb)
	q := rb.Queue()
	client := worker.NewClient(q, rb.Store())

	const n = 3 * batchCrashSize
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("b", i)
	}
	handles, err := worker.EnqueueMany(ctx, client, tk, ids, worker.IDs(ids...), worker.Group("g"))
	if err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run", "^TestBatchCrashRecovery$", "-test.v")
	child.Env = append(os.Environ(), crashChildEnv+"=1", crashPrefixEnv+"="+prefix, "TASKWARE_REDIS_URL="+taskwaretest.RedisURL())
	out := &strings.Builder{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()

	// Wait until the child is inside a batch: its members' runs counted.
	runs := func(id string) int { n, _ := c.Get(ctx, prefix+"runs:"+id).Int(); return n }
	var inChild []string
	for deadline := time.Now().Add(15 * time.Second); len(inChild) < batchCrashSize; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the child did not start a batch; it said:\n%s", out)
		}
		inChild = inChild[:0]
		for _, id := range ids {
			if runs(id) == 1 {
				inChild = append(inChild, id)
			}
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	inChild = inChild[:0]
	for _, id := range ids {
		if runs(id) == 1 {
			inChild = append(inChild, id)
		}
	}

	// Another worker finishes everything.
	w := worker.New(q, worker.Concurrency(4), worker.Visibility(time.Second), worker.PollWait(50*time.Millisecond),
		worker.PromoteEvery(20*time.Millisecond))
	worker.RegisterBatch(w, tk, fn, worker.BatchSize(batchCrashSize), worker.BatchDelay(time.Hour))
	start(t, w)
	for _, h := range handles {
		res, err := getWithin(t, h, 20*time.Second)
		if err != nil || res != "done "+h.ID {
			t.Fatalf("%s: %q, %v", h.ID, res, err)
		}
	}
	if len(inChild) != batchCrashSize {
		t.Fatalf("the child ran %d tasks before it was killed, want one batch of %d", len(inChild), batchCrashSize)
	}
	for _, h := range handles {
		want := 1
		if slices.Contains(inChild, h.ID) {
			want = 2
		}
		if got := runs(h.ID); got != want {
			t.Errorf("%s ran %d times, want %d (killed mid-batch: %v)", h.ID, got, want, want == 2)
		}
		if batches, err := c.SMembers(ctx, prefix+"batches:"+h.ID).Result(); err != nil || len(batches) != 1 {
			t.Errorf("%s ran in batches %q, %v; want one", h.ID, batches, err)
		}
		if st, err := h.State(ctx); err != nil || st.Status != queue.Succeeded || st.Result != queue.ResultStored || st.Attempt != 1 {
			t.Errorf("%s: state %+v, %v", h.ID, st, err)
		}
		if as, err := q.Attempts(ctx, h.Queue, h.ID); err != nil || len(as) != 1 || as[0].Status != queue.Succeeded {
			t.Errorf("%s: attempts %+v, %v; want one, succeeded", h.ID, as, err)
		}
		if rec, err := rb.Store().Get(ctx, h.Queue, h.ID); err != nil || rec.Status != store.Succeeded {
			t.Errorf("%s: stored %+v, %v", h.ID, rec, err)
		}
	}
}

// batchCrashChild is the worker process that the parent kills.
func batchCrashChild(t *testing.T) {
	opt, err := redis.ParseURL(taskwaretest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rb := redisbackend.New(redis.NewClient(opt), redisbackend.Prefix(os.Getenv(crashPrefixEnv)))
	w := worker.New(rb.Queue(), worker.Concurrency(1), worker.Visibility(time.Second), worker.PollWait(50*time.Millisecond),
		worker.PromoteEvery(20*time.Millisecond))
	tk, fn := batchCrashTask(rb)
	worker.RegisterBatch(w, tk, fn, worker.BatchSize(batchCrashSize), worker.BatchDelay(time.Hour))
	_ = w.Run(context.Background()) // until killed
}
