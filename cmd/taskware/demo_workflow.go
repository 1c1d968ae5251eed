package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// workflowQueue is the home queue of the demo's workflows, and their
// steps' queue.
const workflowQueue = "accounts"

// frozenAccount is the account of the second workflow that is closed
// until the demo reopens it.
const frozenAccount = "acct-7"

// errClosed fails a fetch of a closed account. No retry mends it: the
// account must be reopened first.
var errClosed = task.NewError("demo.account_closed", "account closed")

// workflowStats is what the demo's workflows did.
type workflowStats struct {
	// IDs are the two workflows' IDs: the one that succeeds, and the one
	// that fails and then resumes.
	IDs [2]string
	// Result is the first workflow's result, Resumed the second's once
	// its failed step was retried.
	Result, Resumed string
	// FailedStep and Kind say which step failed the second workflow, and
	// how; Canceled counts the steps its failure canceled.
	FailedStep, Kind string
	Canceled         int
	// FetchRuns counts the runs of the fetch steps of both workflows.
	FetchRuns int
}

// balanceOf is an account's balance: acct-N has 100×(N+1).
func balanceOf(account string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(account, "acct-"))
	return 100 * (n + 1)
}

// demoWorkflows runs two workflows of the same DAG on prefix: each fetches
// its accounts' balances in parallel, totals them and describes the total.
// The first succeeds; the second meets a closed account, fails and
// cancels what is left, and resumes when that step is retried.
func demoWorkflows(ctx context.Context, rdb redis.UniversalClient, prefix string, out io.Writer) (workflowStats, error) {
	var st workflowStats
	backend := redisbackend.New(rdb, redisbackend.Prefix(prefix))
	q := backend.Queue()
	var closed atomic.Bool
	closed.Store(true)
	var fetchRuns atomic.Int64
	fetch := task.New("fetch", func(ctx context.Context, account string) (int, error) {
		fetchRuns.Add(1)
		if account == frozenAccount && closed.Load() {
			return 0, task.Permanent(errClosed)
		}
		return balanceOf(account), nil
	})
	total := task.New("total", func(ctx context.Context, balances []int) (int, error) {
		sum := 0
		for _, b := range balances {
			sum += b
		}
		return sum, nil
	})
	describe := task.New("describe", func(ctx context.Context, sum int) (string, error) {
		return fmt.Sprintf("%d in total", sum), nil
	})

	w := worker.New(q, worker.Queues(workflowQueue), worker.Concurrency(4),
		worker.PollWait(50*time.Millisecond), worker.PromoteEvery(5*time.Millisecond))
	worker.Register(w, fetch)
	worker.Register(w, total)
	worker.Register(w, describe)
	wctx, stopWorker := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = w.Run(wctx) })
	defer func() { stopWorker(); wg.Wait() }()

	build := func(accounts ...string) (*workflow.Def[string], error) {
		flow := workflow.New("balances", workflow.OnQueue(workflowQueue))
		balances := workflow.Group(flow, fetch, accounts)
		return workflow.Build(flow, workflow.Then(flow, workflow.Join(flow, balances, total), describe))
	}
	good, err := build("acct-0", "acct-1", "acct-2", "acct-3")
	if err != nil {
		return st, err
	}
	bad, err := build("acct-0", "acct-1", "acct-2", frozenAccount)
	if err != nil {
		return st, err
	}
	client := worker.NewClient(q, nil, worker.WithWorkflows(q))
	gctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	id := randid.New()[:6]
	st.IDs = [2]string{"balances-" + id + "-1", "balances-" + id + "-2"}

	start := time.Now()
	h, err := workflow.Enqueue(gctx, client, good, workflow.ID(st.IDs[0]))
	if err != nil {
		return st, err
	}
	if st.Result, err = h.Get(gctx); err != nil {
		return st, fmt.Errorf("workflow %s: %w", h.ID, err)
	}
	took := time.Since(start)

	h, err = workflow.Enqueue(gctx, client, bad, workflow.ID(st.IDs[1]))
	if err != nil {
		return st, err
	}
	_, err = h.Get(gctx)
	var failed *workflow.Error
	if !errors.As(err, &failed) {
		return st, fmt.Errorf("workflow %s: %v, want a failed step", h.ID, err)
	}
	state, err := h.State(gctx)
	if err != nil {
		return st, err
	}
	st.FailedStep, st.Kind = state.FailedStep, state.Kind
	for _, s := range state.StepStates {
		if s.Status == queue.Canceled {
			st.Canceled++
		}
	}
	closed.Store(false) // the account is reopened
	if err := h.Retry(gctx, st.FailedStep); err != nil {
		return st, fmt.Errorf("retry %s: %w", st.FailedStep, err)
	}
	if st.Resumed, err = h.Get(gctx); err != nil {
		return st, fmt.Errorf("workflow %s after its retry: %w", h.ID, err)
	}
	st.FetchRuns = int(fetchRuns.Load())
	stopWorker()
	wg.Wait()
	if runErr != nil {
		return st, fmt.Errorf("worker: %w", runErr)
	}

	fmt.Fprintf(out, "\nWorkflow: 4 fetch steps in parallel (a group), total joins their balances, describe follows;\n"+
		"           %s succeeded in %v: %q.\n", st.IDs[0], took.Round(time.Millisecond), st.Result)
	fmt.Fprintf(out, "Failure:  %s met %s closed: step %s failed (kind %s, permanent: no retry),\n"+
		"           the workflow failed and %s not started were canceled.\n",
		st.IDs[1], frozenAccount, st.FailedStep, st.Kind, count(st.Canceled, "step"))
	again := "only the retried step ran twice"
	if st.FetchRuns != 2*4+1 {
		again = "some ran again" // a redelivery: at least once
	}
	fmt.Fprintf(out, "Retry:    %s reopened, step %s retried: the workflow resumed from it and succeeded: %q;\n"+
		"           %d runs of the 8 fetch steps: %s.\n", frozenAccount, st.FailedStep, st.Resumed, st.FetchRuns, again)
	return st, nil
}

// printWorkflowCommands prints the commands that show the demo's
// workflows, kept under prefix; args are the flags that reach its Redis.
func printWorkflowCommands(out io.Writer, args string, st workflowStats) {
	fmt.Fprintf(out, "  taskware workflows %s --queue %s\n  taskware workflow %s %s --queue %s\n",
		args, workflowQueue, st.IDs[1], args, workflowQueue)
}
