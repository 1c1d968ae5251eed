package worker_test

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

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

const (
	crashChildEnv  = "TASKWARE_CRASH_CHILD"
	crashPrefixEnv = "TASKWARE_CRASH_PREFIX"
	crashLockTTL   = time.Second
)

// crashTask counts its runs per ID in Redis, then works: for ever in the
// child, which is killed mid-run, and at once in the parent. Its lock and
// result are rb's, as its worker's queue is.
func crashTask(rb *redisbackend.Backend) *task.Task[string, string] {
	c, prefix := rb.Client(), rb.Prefix()
	return task.New("crashy", func(ctx context.Context, id string) (string, error) {
		if err := c.Incr(ctx, prefix+"runs:"+id).Err(); err != nil {
			return "", err
		}
		if os.Getenv(crashChildEnv) == "1" {
			<-ctx.Done() // killed long before
			return "", ctx.Err()
		}
		return "done " + id, nil
	},
		middleware.StoreResult(rb.Store()),
		middleware.WithLockFunc(rb.Locker(), middleware.KeyFromArgs(func(id string) string { return "job:" + id }),
			lock.TTL(crashLockTTL), lock.Wait(10*time.Second)),
	)
}

// A worker process killed with SIGKILL mid-task loses nothing: another worker
// takes its tasks over after the visibility timeout, and the locks it held
// free themselves within their TTL.
//
// Delivery is at least once, so a task killed mid-run runs again. The test
// counts runs per task ID (an INCR in the task) and asserts: every task ran
// and succeeded exactly once as far as its outcome goes (one result record,
// status succeeded); the tasks the child was running ran exactly twice; the
// others exactly once.
func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashChildEnv) == "1" {
		crashChild(t)
		return
	}
	c, prefix := taskwaretest.Redis(t)
	ctx := context.Background()
	rb := redisbackend.New(c, redisbackend.Prefix(prefix))
	tk := crashTask(rb)
	q, results, locker := rb.Queue(), rb.Store(), rb.Locker()
	client := worker.NewClient(q, results)

	const n, childConcurrency = 8, 3
	var handles []*worker.Handle[string]
	for i := range n {
		h, err := worker.Enqueue(ctx, client, tk, fmt.Sprint("t", i), worker.ID(fmt.Sprint("t", i)))
		if err != nil {
			t.Fatal(err)
		}
		handles = append(handles, h)
	}

	child := exec.Command(os.Args[0], "-test.run", "^TestCrashRecovery$", "-test.v")
	child.Env = append(os.Environ(), crashChildEnv+"=1", crashPrefixEnv+"="+prefix, "TASKWARE_REDIS_URL="+taskwaretest.RedisURL())
	out := &strings.Builder{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()

	// Wait until the child is inside childConcurrency tasks: holding their
	// locks, and past the count of their runs (the lock comes first).
	var held []lock.Info
	inside := func() bool {
		held, _ = locker.Held(ctx)
		if len(held) < childConcurrency {
			return false
		}
		for _, h := range held {
			if n, _ := c.Get(ctx, prefix+"runs:"+strings.TrimPrefix(h.Key, "job:")).Int(); n != 1 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(15 * time.Second)
	for !inside() {
		if time.Now().After(deadline) {
			t.Fatalf("the child did not start its tasks; it said:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	childHolder := ":" + strconv.Itoa(child.Process.Pid)
	for _, h := range held {
		if !strings.HasSuffix(h.Holder, childHolder) {
			t.Fatalf("lock %s held by %s, not the child (pid %d)", h.Key, h.Holder, child.Process.Pid)
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killed := time.Now()

	// Nobody releases the dead child's locks: they free themselves.
	for {
		now, err := locker.Held(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(now) == 0 {
			break
		}
		if time.Since(killed) > crashLockTTL+time.Second {
			t.Fatalf("the killed holder's locks outlived their TTL: %+v", now)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Another worker finishes everything.
	w := worker.New(q, worker.Concurrency(4), worker.Visibility(time.Second), worker.PollWait(50*time.Millisecond),
		worker.PromoteEvery(20*time.Millisecond))
	worker.Register(w, tk)
	start(t, w)
	for _, h := range handles {
		res, err := getWithin(t, h, 15*time.Second)
		if err != nil || res != "done "+h.ID {
			t.Fatalf("%s: %q, %v", h.ID, res, err)
		}
	}
	inChild := map[string]bool{}
	for _, h := range held {
		inChild[strings.TrimPrefix(h.Key, "job:")] = true
	}
	for _, h := range handles {
		runs, err := c.Get(ctx, prefix+"runs:"+h.ID).Int()
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if inChild[h.ID] {
			want = 2
		}
		if runs != want {
			t.Errorf("%s ran %d times, want %d (killed mid-run: %v)", h.ID, runs, want, inChild[h.ID])
		}
		rec, err := results.Get(ctx, h.Queue, h.ID)
		if err != nil || rec.Status != store.Succeeded || rec.Queue != queue.Default || rec.Value == nil {
			t.Errorf("%s: stored %+v, %v", h.ID, rec, err)
		}
		if st, err := h.State(ctx); err != nil || st.Status != queue.Succeeded || st.Result != queue.ResultStored {
			t.Errorf("%s: state %+v, %v", h.ID, st, err)
		}
	}
	if left, _ := locker.Held(ctx); len(left) != 0 {
		t.Fatalf("locks left: %+v", left)
	}
}

// crashChild is the worker process that the parent kills.
func crashChild(t *testing.T) {
	prefix := os.Getenv(crashPrefixEnv)
	opt, err := redis.ParseURL(taskwaretest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rb := redisbackend.New(redis.NewClient(opt), redisbackend.Prefix(prefix))
	w := worker.New(rb.Queue(), worker.Concurrency(3), worker.Visibility(time.Second), worker.PollWait(50*time.Millisecond))
	worker.Register(w, crashTask(rb))
	_ = w.Run(context.Background()) // until killed
}
