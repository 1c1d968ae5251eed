package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// The executor tests: workflows run by a real worker, over memory,
// miniredis and a real Redis.

// wait bounds every wait of these tests.
const wait = 20 * time.Second

// start runs a worker of b's queue over queues (queue.Default if none),
// with tasks registered by register, and returns a client with the
// queue's workflow side.
func start(t *testing.T, b *taskwaretest.Backend, register func(w *worker.Worker), queues ...string) *worker.Client {
	t.Helper()
	if len(queues) == 0 {
		queues = []string{queue.Default}
	}
	w := worker.New(b.Queue, worker.Queues(queues...), worker.Concurrency(8), worker.PollWait(20*time.Millisecond),
		worker.PromoteEvery(10*time.Millisecond), worker.Grace(2*time.Second))
	register(w)
	taskwaretest.StartWorker(t, w)
	return worker.NewClient(b.Queue, b.Store, worker.WithWorkflows(b.Queue))
}

// get waits for h's result, at most wait.
func get[R any](t *testing.T, h *workflow.Handle[R]) (R, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return h.Get(ctx)
}

// enqueue builds w with out as its output and enqueues it.
func enqueue[R any](t *testing.T, c *worker.Client, w *workflow.Builder, out workflow.Step[R]) *workflow.Handle[R] {
	t.Helper()
	def, err := workflow.Build(w, out)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	h, err := workflow.Enqueue(context.Background(), c, def)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return h
}

// stateOf returns the workflow's state, and its steps by name.
func stateOf[R any](t *testing.T, h *workflow.Handle[R]) (*queue.WorkflowState, map[string]queue.StepState) {
	t.Helper()
	st, err := h.State(context.Background())
	if err != nil {
		t.Fatalf("State: %v", err)
	}
	steps := make(map[string]queue.StepState, len(st.StepStates))
	for _, s := range st.StepStates {
		steps[s.Name] = s
	}
	return st, steps
}

// eventually polls cond every 10 ms until it holds, or fails t after
// wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(wait); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v", what, wait)
		}
	}
}

// counted returns a task named name that counts its runs in runs and
// returns fn of its argument.
func counted[A, R any](name string, runs *atomic.Int64, fn func(A) R, mws ...task.Middleware) *task.Task[A, R] {
	return task.New(name, func(ctx context.Context, a A) (R, error) {
		runs.Add(1)
		return fn(a), nil
	}, mws...)
}

func TestChainOfThree(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var runs [3]atomic.Int64
		add1 := counted("add1", &runs[0], func(n int) int { return n + 1 })
		times10 := counted("times10", &runs[1], func(n int) int { return n * 10 })
		format := counted("format", &runs[2], func(n int) string { return fmt.Sprintf("value %d", n) })
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, add1)
			worker.Register(w, times10)
			worker.Register(w, format)
		})

		w := workflow.New("chain")
		a := workflow.Start(w, add1, 1, workflow.Name("a"))
		bb := workflow.Then(w, a, times10, workflow.Name("b"))
		h := enqueue(t, c, w, workflow.Then(w, bb, format, workflow.Name("c")))

		got, err := get(t, h)
		if err != nil || got != "value 20" {
			t.Fatalf("Get = %q, %v; want value 20, made of (1+1)*10", got, err)
		}
		st, _ := stateOf(t, h)
		if st.Status != queue.Succeeded || st.Steps != 3 || st.Ended != 3 || st.Output != "c" || st.Name != "chain" {
			t.Fatalf("state %+v", st)
		}
		var names []string
		for _, s := range st.StepStates {
			names = append(names, s.Name)
			if s.Status != queue.Succeeded || s.ID != queue.StepID(h.ID, s.Name) {
				t.Errorf("step %+v", s)
			}
		}
		if !slices.Equal(names, []string{"a", "b", "c"}) {
			t.Fatalf("steps %v, want a b c in order", names)
		}
		for i := range runs {
			if n := runs[i].Load(); n != 1 {
				t.Errorf("step %d ran %d times, want 1", i, n)
			}
		}
	})
}

func TestFanOutFanIn(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var squares, sums atomic.Int64
		var mu sync.Mutex
		var joined []int
		square := counted("square", &squares, func(n int) int { return n * n })
		sum := task.New("sum", func(ctx context.Context, ns []int) (int, error) {
			sums.Add(1)
			mu.Lock()
			joined = slices.Clone(ns)
			mu.Unlock()
			total := 0
			for _, n := range ns {
				total += n
			}
			return total, nil
		})
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, square)
			worker.Register(w, sum)
		})

		args := make([]int, 100)
		want, total := make([]int, 100), 0
		for i := range args {
			args[i] = i + 1
			want[i] = (i + 1) * (i + 1)
			total += want[i]
		}
		w := workflow.New("fan")
		h := enqueue(t, c, w, workflow.Join(w, workflow.Group(w, square, args), sum))

		got, err := get(t, h)
		if err != nil || got != total {
			t.Fatalf("Get = %d, %v; want %d", got, err, total)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(joined, want) {
			t.Fatalf("the join got %v, want the squares in the parents' order", joined)
		}
		if squares.Load() != 100 || sums.Load() != 1 {
			t.Fatalf("%d squares and %d sums ran, want 100 and 1", squares.Load(), sums.Load())
		}
	})
}

// Combined is the diamond's last step's arguments: a payload field, and
// two fields from its parents.
type Combined struct {
	Prefix string
	Num    int
	Text   string
}

func TestDiamond(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var runs [4]atomic.Int64
		base := counted("base", &runs[0], func(n int) int { return n })
		double := counted("double", &runs[1], func(n int) int { return 2 * n })
		name := counted("name", &runs[2], func(n int) string { return strings.Repeat("n", n) })
		combine := counted("combine", &runs[3], func(a Combined) string { return fmt.Sprintf("%s:%d:%s", a.Prefix, a.Num, a.Text) })
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, base)
			worker.Register(w, double)
			worker.Register(w, name)
			worker.Register(w, combine)
		})

		w := workflow.New("diamond")
		a := workflow.Start(w, base, 3)
		left := workflow.Then(w, a, double)
		right := workflow.Then(w, a, name)
		h := enqueue(t, c, w, workflow.Add(w, combine, Combined{Prefix: "x"},
			workflow.Input("Num", left), workflow.Input("Text", right)))

		got, err := get(t, h)
		if err != nil || got != "x:6:nnn" {
			t.Fatalf("Get = %q, %v; want x:6:nnn", got, err)
		}
		for i := range runs {
			if n := runs[i].Load(); n != 1 {
				t.Errorf("step %d ran %d times, want 1", i, n)
			}
		}
	})
}

var errFlaky = task.NewError("workflow_test.flaky", "flaky")

// TestFailureThenRetry: A -> B -> C -> E, and a root D -> E queued on a
// paused queue. B fails after its own retries: the workflow fails, C and
// D are canceled. Once B is mended, Retry resumes it: B, C, D and E run,
// and A does not run again.
func TestFailureThenRetry(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var aRuns, bRuns, cRuns, dRuns atomic.Int64
		var broken atomic.Bool
		broken.Store(true)
		one := counted("one", &aRuns, func(n int) int { return n })
		flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
			bRuns.Add(1)
			if broken.Load() {
				return 0, errFlaky
			}
			return n + 1, nil
		}, middleware.Retry(2, middleware.RetryBackoff(10*time.Millisecond, 10*time.Millisecond)))
		inc := counted("inc", &cRuns, func(n int) int { return n + 1 })
		side := counted("side", &dRuns, func(n int) int { return n })
		sum := task.New("sum", func(ctx context.Context, ns []int) (int, error) { return ns[0] + ns[1], nil })
		if err := b.Queue.Pause(ctx, "side"); err != nil {
			t.Fatal(err)
		}
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, one)
			worker.Register(w, flaky)
			worker.Register(w, inc)
			worker.Register(w, side)
			worker.Register(w, sum)
		}, queue.Default, "side")

		w := workflow.New("retry")
		a := workflow.Start(w, one, 1, workflow.Name("a"))
		bb := workflow.Then(w, a, flaky, workflow.Name("b"))
		cc := workflow.Then(w, bb, inc, workflow.Name("c"))
		d := workflow.Start(w, side, 100, workflow.Name("d"), workflow.OnQueue("side"))
		h := enqueue(t, c, w, workflow.Join(w, []workflow.Step[int]{cc, d}, sum, workflow.Name("e")))

		_, err := get(t, h)
		// Its retries spent, b is dead-lettered, with its last failure's kind.
		if !errors.Is(err, workflow.ErrFailed) || !errors.Is(err, errFlaky) || !errors.Is(err, queue.ErrDeadLettered) {
			t.Fatalf("Get = %v, want a dead step b matching errFlaky", err)
		}
		if we, ok := errors.AsType[*workflow.Error](err); !ok || we.Step != "b" {
			t.Fatalf("Get = %v, want a *workflow.Error of step b", err)
		}
		st, steps := stateOf(t, h)
		if st.Status != queue.Failed || st.FailedStep != "b" || st.Kind != errFlaky.ErrorKind() {
			t.Fatalf("state %+v", st)
		}
		for name, want := range map[string]queue.Status{"a": queue.Succeeded, "b": queue.Dead, "c": queue.Canceled, "d": queue.Canceled, "e": queue.Canceled} {
			if s := steps[name]; s.Status != want {
				t.Errorf("step %s is %s, want %s", name, s.Status, want)
			}
		}
		for _, name := range []string{"c", "d", "e"} {
			if k := steps[name].Kind; k != queue.KindWorkflowFailed {
				t.Errorf("step %s canceled with kind %q, want %q", name, k, queue.KindWorkflowFailed)
			}
		}
		if bRuns.Load() != 2 || cRuns.Load() != 0 || dRuns.Load() != 0 {
			t.Fatalf("b ran %d times (want 2), c %d and d %d (want 0)", bRuns.Load(), cRuns.Load(), dRuns.Load())
		}

		broken.Store(false)
		if err := b.Queue.Resume(ctx, "side"); err != nil {
			t.Fatal(err)
		}
		if err := h.Retry(ctx, "b"); err != nil {
			t.Fatalf("Retry: %v", err)
		}
		got, err := get(t, h)
		if err != nil || got != 103 {
			t.Fatalf("Get after the retry = %d, %v; want (1+1+1)+100", got, err)
		}
		if aRuns.Load() != 1 || bRuns.Load() != 3 || cRuns.Load() != 1 || dRuns.Load() != 1 {
			t.Fatalf("runs: a %d (want 1), b %d (want 3), c %d, d %d (want 1)", aRuns.Load(), bRuns.Load(), cRuns.Load(), dRuns.Load())
		}
		if st, _ := stateOf(t, h); st.Status != queue.Succeeded || st.FailedStep != "" || st.Ended != 5 {
			t.Fatalf("state after the retry %+v", st)
		}
		if err := h.Retry(ctx, "b"); !errors.Is(err, queue.ErrNotRetryable) {
			t.Fatalf("Retry of a succeeded workflow = %v, want ErrNotRetryable", err)
		}
	})
}

// TestCancelWhileRunning: the workflow is canceled while its first step
// runs: that run's context is canceled, Get says canceled, and the next
// step never runs.
func TestCancelWhileRunning(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		started := make(chan struct{}, 1)
		var after atomic.Int64
		var cause atomic.Value
		block := task.New("block", func(ctx context.Context, n int) (int, error) {
			started <- struct{}{}
			select {
			case <-ctx.Done():
				cause.Store(context.Cause(ctx))
				return 0, ctx.Err()
			case <-time.After(wait):
				return n, nil
			}
		})
		next := counted("next", &after, func(n int) int { return n })
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, block)
			worker.Register(w, next)
		})

		w := workflow.New("cancel")
		a := workflow.Start(w, block, 1, workflow.Name("a"))
		h := enqueue(t, c, w, workflow.Then(w, a, next, workflow.Name("b")))
		select {
		case <-started:
		case <-time.After(wait):
			t.Fatal("the first step did not start")
		}
		wc, err := h.Cancel(ctx)
		if err != nil || wc.Ended || wc.Sent != 1 || wc.Canceled != 1 {
			t.Fatalf("Cancel = %+v, %v; want the running step told, the waiting one canceled", wc, err)
		}
		if _, err := get(t, h); !errors.Is(err, queue.ErrCanceled) || errors.Is(err, workflow.ErrFailed) {
			t.Fatalf("Get = %v, want ErrCanceled", err)
		}
		eventually(t, "the running step ends", func() bool {
			_, steps := stateOf(t, h)
			return steps["a"].Status.Terminal()
		})
		if err, _ := cause.Load().(error); !errors.Is(err, queue.ErrCanceled) {
			t.Fatalf("the run's context ended with cause %v, want ErrCanceled", err)
		}
		st, steps := stateOf(t, h)
		if st.Status != queue.Canceled || steps["a"].Status != queue.Canceled || steps["b"].Status != queue.Canceled {
			t.Fatalf("state %+v", st)
		}
		time.Sleep(100 * time.Millisecond) // room for a release that must not come
		if n := after.Load(); n != 0 {
			t.Fatalf("the step after ran %d times, want 0", n)
		}
		if wc, err := h.Cancel(ctx); err != nil || !wc.Ended {
			t.Fatalf("a second Cancel = %+v, %v; want Ended", wc, err)
		}
	})
}

// Final is the skip test's output's arguments.
type Final struct {
	Zero    int
	Outcome string
}

// TestSkipLockedStep: a step finds its lock held and skips. Its SkipToo
// child skips too, its RunWithout child runs with the zero value, its
// outcome child sees the skip, and the workflow succeeds.
func TestSkipLockedStep(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var lockedRuns, skipTooRuns, zeroRuns atomic.Int64
		var zeroGot atomic.Int64
		zeroGot.Store(-1)
		locked := counted("locked", &lockedRuns, func(n int) int { return n },
			middleware.SkipLocked(), middleware.WithLock(b.Locker, "held-by-test"))
		skipToo := counted("skiptoo", &skipTooRuns, func(n int) int { return n })
		zero := task.New("zero", func(ctx context.Context, n int) (int, error) {
			zeroRuns.Add(1)
			zeroGot.Store(int64(n))
			return 7, nil
		})
		outcome := task.New("outcome", func(ctx context.Context, u task.Upstream[int]) (string, error) {
			return fmt.Sprintf("step %s skipped %v, locked %v", u.Step, errors.Is(u.Err, task.ErrSkipped), errors.Is(u.Err, lock.ErrLocked)), nil
		})
		final := task.New("final", func(ctx context.Context, f Final) (string, error) {
			return fmt.Sprintf("%d; %s", f.Zero, f.Outcome), nil
		})
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, locked)
			worker.Register(w, skipToo)
			worker.Register(w, zero)
			worker.Register(w, outcome)
			worker.Register(w, final)
		})

		w := workflow.New("skips")
		s := workflow.Start(w, locked, 1, workflow.Name("s"))
		workflow.Then(w, s, skipToo, workflow.Name("skiptoo"))
		z := workflow.Then(w, s, zero, workflow.Name("zero"), workflow.IfSkipped(queue.RunWithout))
		o := workflow.ThenOutcome(w, s, outcome, workflow.Name("outcome"))
		out := workflow.Add(w, final, Final{}, workflow.Name("final"), workflow.Input("Zero", z), workflow.Input("Outcome", o))

		var h *workflow.Handle[string]
		err := lock.Do(ctx, b.Locker, "held-by-test", func(context.Context) error {
			h = enqueue(t, c, w, out)
			got, err := get(t, h)
			if err != nil || got != "7; step s skipped true, locked true" {
				t.Errorf("Get = %q, %v", got, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		st, steps := stateOf(t, h)
		if st.Status != queue.Succeeded || st.Ended != 5 {
			t.Fatalf("state %+v", st)
		}
		if steps["s"].Status != queue.Skipped || steps["skiptoo"].Status != queue.Skipped || steps["skiptoo"].Kind != queue.KindParentSkipped {
			t.Fatalf("s %+v, skiptoo %+v: want both skipped, skiptoo of kind %s", steps["s"], steps["skiptoo"], queue.KindParentSkipped)
		}
		if lockedRuns.Load() != 0 || skipTooRuns.Load() != 0 || zeroRuns.Load() != 1 || zeroGot.Load() != 0 {
			t.Fatalf("runs: locked %d, skiptoo %d (want 0), zero %d (want 1) with %d (want 0)",
				lockedRuns.Load(), skipTooRuns.Load(), zeroRuns.Load(), zeroGot.Load())
		}
	})
}

// TestStepResultTooLarge: a step whose result is over queue.MaxStepResult
// ends dead, and fails the workflow: its children could not take it.
func TestStepResultTooLarge(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var after atomic.Int64
		big := task.New("big", func(ctx context.Context, n int) (string, error) {
			return strings.Repeat("x", queue.MaxStepResult+n), nil
		})
		size := counted("size", &after, func(s string) int { return len(s) })
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, big)
			worker.Register(w, size)
		})
		w := workflow.New("large")
		h := enqueue(t, c, w, workflow.Then(w, workflow.Start(w, big, 1, workflow.Name("big")), size))
		_, err := get(t, h)
		if !errors.Is(err, workflow.ErrFailed) || !errors.Is(err, task.ErrTooLarge) || !errors.Is(err, queue.ErrDeadLettered) {
			t.Fatalf("Get = %v, want a dead step of kind too_large", err)
		}
		if _, steps := stateOf(t, h); steps["big"].Status != queue.Dead || after.Load() != 0 {
			t.Fatalf("step big %+v, its child ran %d times", steps["big"], after.Load())
		}
	})
}

// TestUnregisteredStep: a step whose task no worker registered is
// dead-lettered, and fails the workflow.
func TestUnregisteredStep(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var runs atomic.Int64
		known := counted("known", &runs, func(n int) int { return n })
		unknown := counted("unknown", &runs, func(n int) int { return n })
		c := start(t, b, func(w *worker.Worker) { worker.Register(w, known) })
		w := workflow.New("unregistered")
		h := enqueue(t, c, w, workflow.Then(w, workflow.Start(w, known, 1), unknown))
		if _, err := get(t, h); !errors.Is(err, worker.ErrUnknownTask) || !errors.Is(err, workflow.ErrFailed) {
			t.Fatalf("Get = %v, want ErrUnknownTask", err)
		}
	})
}

// TestAfterOrdersWithoutData: a step that waits for another through After
// (and one through Order) takes no data from it, and runs once it ended.
func TestAfterOrdersWithoutData(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var firstDone, secondDone atomic.Bool
		var sawFirst, sawSecond atomic.Bool
		first := task.New("first", func(ctx context.Context, s string) (string, error) {
			firstDone.Store(true)
			return "not a number", nil // a value the step after could not decode
		})
		second := task.New("second", func(ctx context.Context, n int) (int, error) {
			secondDone.Store(true)
			return n, nil
		})
		add := task.New("add", func(ctx context.Context, n int) (int, error) {
			sawFirst.Store(firstDone.Load())
			sawSecond.Store(secondDone.Load())
			return n + 1, nil
		})
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, first)
			worker.Register(w, second)
			worker.Register(w, add)
		})
		w := workflow.New("after")
		f := workflow.Start(w, first, "x", workflow.Name("first"))
		s := workflow.Start(w, second, 5, workflow.Name("second"))
		root := workflow.Start(w, add, 10, workflow.Name("root"))
		out := workflow.Then(w, root, add, workflow.Name("out"), workflow.After(f))
		workflow.Order(w, s, out)
		h := enqueue(t, c, w, out)
		got, err := get(t, h)
		if err != nil || got != 12 {
			t.Fatalf("Get = %d, %v; want 12, from root's 11 alone", got, err)
		}
		if !sawFirst.Load() || !sawSecond.Load() {
			t.Fatalf("out ran before first (%v) or second (%v) ended", sawFirst.Load(), sawSecond.Load())
		}
		if _, steps := stateOf(t, h); !slices.Equal(steps["out"].Parents, []string{"root", "first", "second"}) {
			t.Fatalf("out's parents %v", steps["out"].Parents)
		}
	})
}

// TestOutcomeAbsorbsFailure: a step whose only child takes its outcome
// fails without failing the workflow: the child runs, and sees the
// failure's kind.
func TestOutcomeAbsorbsFailure(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		fails := task.New("fails", func(ctx context.Context, n int) (int, error) { return 0, errFlaky })
		ok := task.New("ok", func(ctx context.Context, n int) (int, error) { return n, nil })
		report := task.New("report", func(ctx context.Context, us []task.Upstream[int]) (string, error) {
			var parts []string
			for _, u := range us {
				parts = append(parts, fmt.Sprintf("%s=%d/%v", u.Step, u.Value, errors.Is(u.Err, errFlaky)))
			}
			return strings.Join(parts, " "), nil
		})
		c := start(t, b, func(w *worker.Worker) {
			worker.Register(w, fails)
			worker.Register(w, ok)
			worker.Register(w, report)
		})
		w := workflow.New("absorb")
		x := workflow.Start(w, fails, 1, workflow.Name("x"))
		y := workflow.Start(w, ok, 2, workflow.Name("y"))
		h := enqueue(t, c, w, workflow.JoinOutcomes(w, []workflow.Step[int]{x, y}, report))
		got, err := get(t, h)
		if err != nil || got != "x=0/true y=2/false" {
			t.Fatalf("Get = %q, %v; want the failure and the success, in order", got, err)
		}
		if st, steps := stateOf(t, h); st.Status != queue.Succeeded || steps["x"].Status != queue.Failed {
			t.Fatalf("workflow %s, x %s: want succeeded, failed", st.Status, steps["x"].Status)
		}
	})
}
