package faults_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// takeLog is a worker's queue that records, per task ID, the entries its
// Takes handed out: each release of a workflow step adds an entry, so a
// child released twice shows two. (A Take sent again, or a takeover,
// hands out the same entry again.)
type takeLog struct {
	worker.Queue
	mu      sync.Mutex
	entries map[string]map[string]bool
}

func (l *takeLog) Take(ctx context.Context, q, consumer string, n int, wait time.Duration) ([]*queue.Delivery, error) {
	ds, err := l.Queue.Take(ctx, q, consumer, n, wait)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range ds {
		if l.entries[d.ID] == nil {
			l.entries[d.ID] = map[string]bool{}
		}
		l.entries[d.ID][d.Receipt] = true
	}
	return ds, err
}

// releases returns how many entries of id were handed out.
func (l *takeLog) releases(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries[id])
}

// runLog counts the runs of workflow steps, by step ID, and those that
// began when the step's own state said it had succeeded already: a run
// after its finish landed.
type runLog struct {
	states queue.Producer // read directly, not through the faults
	mu     sync.Mutex
	runs   map[string]int
	again  int
}

// ran records the run of ctx's step.
func (l *runLog) ran(ctx context.Context) error {
	inv, ok := task.InvocationFrom(ctx)
	if !ok {
		return fmt.Errorf("no invocation in the run's context")
	}
	st, err := l.states.State(ctx, inv.Queue, inv.ID)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs[inv.ID]++
	if st.Status == queue.Succeeded {
		l.again++
	}
	return nil
}

// A thousand diamonds (a → b, c → d) run by two workers through the
// proxy, which drops the reply of every step's finish once: Redis ran the
// finish script, ended the step and released its children, and the worker
// never heard, so go-redis sent the same script again. The finish sent
// again must release nothing more: each child is released once, d counts
// each of its parents once, no step runs again after its finish landed,
// and every workflow succeeds.
func TestFaultWorkflowResentFinish(t *testing.T) {
	const n = 1000
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix))
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix))
	ctx := context.Background()

	runs := &runLog{states: clean.Queue(), runs: map[string]int{}}
	var badInputs atomic.Int64 // d runs whose inputs were not its two parents' results
	ta := task.New("wfr-a", func(ctx context.Context, i int) (int, error) { return i, runs.ran(ctx) })
	tb := task.New("wfr-b", func(ctx context.Context, x int) (int, error) { return 2 * x, runs.ran(ctx) })
	tc := task.New("wfr-c", func(ctx context.Context, x int) (int, error) { return 3 * x, runs.ran(ctx) })
	td := task.New("wfr-d", func(ctx context.Context, xs []int) (int, error) {
		if len(xs) != 2 || xs[1]*2 != xs[0]*3 {
			badInputs.Add(1)
		}
		sum := 0
		for _, x := range xs {
			sum += x
		}
		return sum, runs.ran(ctx)
	})

	// Drop the reply of the first finish of each step: finish_step.lua's
	// ARGV ends with the key prefix, the workflow, its home queue, the
	// step's name and its result, whatever comes before.
	var seenMu sync.Mutex
	seen := map[string]bool{}
	p.DropReplies(4*n, func(cmd []string) bool {
		k := len(cmd)
		if cmd[0] != "evalsha" || k < 8 || cmd[k-5] != prefix || !strings.HasPrefix(cmd[k-4], "wfr-") {
			return false
		}
		seenMu.Lock()
		defer seenMu.Unlock()
		step := cmd[k-4] + "/" + cmd[k-2]
		if seen[step] {
			return false
		}
		seen[step] = true
		return true
	})

	takes := &takeLog{Queue: faulty.Queue(), entries: map[string]map[string]bool{}}
	var workerErrs atomic.Int64
	var stops []func()
	for i := range 2 {
		w := worker.New(takes, worker.Name(fmt.Sprint("wfr", i)), worker.Concurrency(8), worker.Visibility(10*time.Second),
			worker.PollWait(50*time.Millisecond), worker.Grace(time.Second), worker.OnError(func(error) { workerErrs.Add(1) }))
		worker.Register(w, ta)
		worker.Register(w, tb)
		worker.Register(w, tc)
		worker.Register(w, td)
		stops = append(stops, taskwaretest.StartWorker(t, w))
	}

	client := worker.NewClient(clean.Queue(), clean.Store(), worker.WithWorkflows(clean.Queue()))
	hs := make([]*workflow.Handle[int], n)
	for i := range n {
		w := workflow.New("diamond")
		a := workflow.Start(w, ta, i, workflow.Name("a"))
		b := workflow.Then(w, a, tb, workflow.Name("b"))
		c := workflow.Then(w, a, tc, workflow.Name("c"))
		def, err := workflow.Build(w, workflow.Join(w, []workflow.Step[int]{b, c}, td, workflow.Name("d")))
		if err != nil {
			t.Fatal(err)
		}
		if hs[i], err = workflow.Enqueue(ctx, client, def, workflow.ID(fmt.Sprint("wfr-", i))); err != nil {
			t.Fatal(err)
		}
	}

	deadline := time.Now().Add(3 * time.Minute) // a bound for hangs only
	notSucceeded := 0
	for i, h := range hs {
		gctx, cancel := context.WithDeadline(ctx, deadline)
		got, err := h.Get(gctx)
		cancel()
		if err != nil || got != 5*i {
			notSucceeded++
			if notSucceeded <= 3 {
				st, serr := h.State(ctx)
				t.Errorf("workflow %s: %d, %v (want %d); state %+v, %v", h.ID, got, err, 5*i, st, serr)
			}
		}
	}
	for _, stop := range stops {
		stop()
	}

	runs.mu.Lock()
	defer runs.mu.Unlock()
	children, released, twice, lost, reran := 0, 0, 0, 0, 0
	for _, h := range hs {
		for _, name := range []string{"a", "b", "c", "d"} {
			id := queue.StepID(h.ID, name)
			if runs.runs[id] == 0 {
				lost++
			}
			if runs.runs[id] > 1 {
				reran++
			}
			if name == "a" {
				continue
			}
			children++
			r := takes.releases(id)
			released += r
			if r > 1 {
				twice++
			}
		}
	}
	seenMu.Lock()
	finishesDropped := len(seen)
	seenMu.Unlock()
	figure(t, "workflows under resent finishes", "%d of %d workflows (diamonds) not succeeded; %d of %d step finishes had their reply dropped (%d replies dropped in all); "+
		"%d child releases for %d children, %d released twice; %d steps run again after their finish landed; %d fan-ins saw a parent counted twice or missing; "+
		"%d steps lost (never run); %d steps ran twice (at least once); %d worker errors reported",
		notSucceeded, n, finishesDropped, 4*n, p.Dropped(), released, children, twice, runs.again, badInputs.Load(), lost, reran, workerErrs.Load())
	if finishesDropped < 4*n/2 {
		t.Fatalf("only %d of %d step finishes had their reply dropped: the matcher no longer recognises finish_step.lua's call", finishesDropped, 4*n)
	}
	if notSucceeded > 0 || twice > 0 || released != children || runs.again > 0 || badInputs.Load() > 0 || lost > 0 {
		t.Fatalf("a resent finish changed the workflow: %d not succeeded, %d children released twice, %d releases for %d children, %d reruns after landing, %d bad fan-ins, %d lost",
			notSucceeded, twice, released, children, runs.again, badInputs.Load(), lost)
	}
}

const (
	wfKillChildEnv  = "TASKWARE_WFKILL_CHILD"
	wfKillPrefixEnv = "TASKWARE_WFKILL_PREFIX"
	wfKillChains    = 200
	wfKillLength    = 5
	wfKillAfter     = 500 // step runs before the kill
	wfKillVis       = 3 * time.Second
)

// wfKillSteps is the step of the killed worker's chains, with the chain of
// 5 built on it for chain i. Each run counts itself in Redis, under
// prefix, by step ID ("runs"), and counts itself in "again" if its step's
// state said it had succeeded already; it then works a few ms, so that
// the kill finds runs under way.
func wfKillSteps(rb *redisbackend.Backend) (*task.Task[int, int], func() (*workflow.Def[int], error)) {
	c, prefix, q := rb.Client(), rb.Prefix(), rb.Queue()
	step := task.New("wfkill-step", func(ctx context.Context, x int) (int, error) {
		inv, _ := task.InvocationFrom(ctx)
		st, err := q.State(ctx, inv.Queue, inv.ID)
		if err != nil {
			return 0, err
		}
		_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if st.Status == queue.Succeeded {
				p.HIncrBy(ctx, prefix+"wfkill:again", inv.ID, 1)
			}
			p.HIncrBy(ctx, prefix+"wfkill:runs", inv.ID, 1)
			p.Incr(ctx, prefix+"wfkill:total")
			return nil
		})
		if err != nil {
			return 0, err
		}
		time.Sleep(3 * time.Millisecond)
		return x + 1, nil
	})
	build := func() (*workflow.Def[int], error) {
		w := workflow.New("wfkill")
		s := workflow.Start(w, step, 0, workflow.Name("s1"))
		for j := 2; j <= wfKillLength; j++ {
			s = workflow.Then(w, s, step, workflow.Name(fmt.Sprint("s", j)))
		}
		return workflow.Build(w, s)
	}
	return step, build
}

// A worker process running 200 chains of 5 steps is killed (SIGKILL) once
// about 500 steps ran; a new worker takes its runs over after the
// visibility timeout and finishes. Every workflow completes, and no step
// whose finish landed runs again: the only steps run twice are those the
// dead worker had under way (at least once allows them).
func TestFaultWorkflowWorkerKilled(t *testing.T) {
	if os.Getenv(wfKillChildEnv) == "1" {
		workflowKilledChild(t)
		return
	}
	c, prefix := taskwaretest.Redis(t)
	ctx := context.Background()
	rb := redisbackend.New(c, redisbackend.Prefix(prefix))
	step, build := wfKillSteps(rb)
	client := worker.NewClient(rb.Queue(), rb.Store(), worker.WithWorkflows(rb.Queue()))
	hs := make([]*workflow.Handle[int], wfKillChains)
	for i := range hs {
		def, err := build()
		if err != nil {
			t.Fatal(err)
		}
		if hs[i], err = workflow.Enqueue(ctx, client, def, workflow.ID(fmt.Sprint("wfkill-", i))); err != nil {
			t.Fatal(err)
		}
	}

	child := exec.Command(os.Args[0], "-test.run", "^TestFaultWorkflowWorkerKilled$", "-test.v")
	child.Env = append(os.Environ(), wfKillChildEnv+"=1", wfKillPrefixEnv+"="+prefix, "TASKWARE_REDIS_URL="+taskwaretest.RedisURL())
	out := &strings.Builder{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	deadline := time.Now().Add(time.Minute) // a bound for hangs only
	for {
		if n, _ := c.Get(ctx, prefix+"wfkill:total").Int(); n >= wfKillAfter {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child did not run %d steps within a minute; it said:\n%s", wfKillAfter, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killed := time.Now()
	atKill, _ := c.Get(ctx, prefix+"wfkill:total").Int()

	w := worker.New(rb.Queue(), worker.Concurrency(4), worker.Visibility(wfKillVis), worker.PollWait(50*time.Millisecond))
	worker.Register(w, step)
	taskwaretest.StartWorker(t, w)
	deadline = time.Now().Add(2 * time.Minute)
	incomplete := 0
	for _, h := range hs {
		gctx, cancel := context.WithDeadline(ctx, deadline)
		got, err := h.Get(gctx)
		cancel()
		if err != nil || got != wfKillLength {
			incomplete++
			if incomplete <= 3 {
				st, serr := h.State(ctx)
				t.Errorf("workflow %s: %d, %v (want %d); state %+v, %v", h.ID, got, err, wfKillLength, st, serr)
			}
		}
	}
	finished := time.Since(killed)

	runs, err := c.HGetAll(ctx, prefix+"wfkill:runs").Result()
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.HGetAll(ctx, prefix+"wfkill:again").Result()
	if err != nil {
		t.Fatal(err)
	}
	rerun, lost, total := 0, 0, 0
	for _, h := range hs {
		for j := 1; j <= wfKillLength; j++ {
			n, _ := strconv.Atoi(runs[queue.StepID(h.ID, fmt.Sprint("s", j))])
			total += n
			switch {
			case n == 0:
				lost++
			case n > 1:
				rerun++
			}
		}
	}
	figure(t, "workflows after a worker's SIGKILL", "%d of %d workflows (chains of %d) completed, the last %v after the kill (visibility %v); "+
		"%d succeeded steps run again; %d steps under way at the kill run again (at least once); %d steps never run; "+
		"the worker was killed after %d step runs; %d runs in all for %d steps",
		wfKillChains-incomplete, wfKillChains, wfKillLength, finished.Round(10*time.Millisecond), wfKillVis,
		len(again), rerun, lost, atKill, total, wfKillChains*wfKillLength)
	if incomplete > 0 || len(again) > 0 || lost > 0 {
		t.Fatalf("%d workflows incomplete, %d succeeded steps run again (%v), %d steps never run", incomplete, len(again), again, lost)
	}
	if atKill >= wfKillChains*wfKillLength {
		t.Fatalf("the child ran all %d steps before the kill: the test tested nothing", atKill)
	}
}

// workflowKilledChild is the worker process that the parent kills; it
// gives up on its own after two minutes, should the parent die first.
func workflowKilledChild(t *testing.T) {
	opt, err := redis.ParseURL(taskwaretest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	rb := redisbackend.New(c, redisbackend.Prefix(os.Getenv(wfKillPrefixEnv)))
	step, _ := wfKillSteps(rb)
	w := worker.New(rb.Queue(), worker.Concurrency(4), worker.Visibility(wfKillVis), worker.PollWait(50*time.Millisecond))
	worker.Register(w, step)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = w.Run(ctx)
}
