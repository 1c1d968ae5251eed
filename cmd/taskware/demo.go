package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

const (
	defaultTasks = 300
	// accounts is how many accounts the reports are for. A report holds its
	// account's lock, so the tasks of one account contend for it.
	accounts = 4
	// work is how long a report holds its account's lock.
	work = 5 * time.Millisecond
	// concurrency is how many tasks the worker runs at once.
	concurrency = 8
	// maxAttempts is how often a failing task runs before it is
	// dead-lettered.
	maxAttempts = 3
	// waitLimit bounds how long the demo waits for the outcomes.
	waitLimit = time.Minute
)

// demoOptions configure the demo.
type demoOptions struct {
	// RedisURL is the Redis to run on; "" means an embedded miniredis.
	RedisURL string
	// TLS are the --tls-* flags: TLS to RedisURL.
	TLS tlsOptions
	// Prefix starts every key the demo writes; "" means
	// "taskware-demo:<random>:". The demo deletes its keys when it ends.
	Prefix string
	// Tasks is how many tasks each policy runs (defaultTasks if not
	// positive).
	Tasks int
	// Keep leaves the demo's keys behind, with a few tasks waiting and a
	// lock held for an hour, for `taskware web` and the other commands to
	// show.
	Keep bool
}

// summary is what the demo saw.
type summary struct {
	// Tasks is the size of the workload; Expiring and Closed count its
	// tasks that are bound to expire and to fail every attempt.
	Tasks, Expiring, Closed int
	Policies                []policyStats
	// Flow is what the periodic and rate-limited tasks did.
	Flow flowStats
	// Workflows is what the workflows did, under WorkflowPrefix.
	Workflows      workflowStats
	WorkflowPrefix string
}

// policyStats is what one policy made of the workload.
type policyStats struct {
	Name string
	// The outcomes, one per task, as the tasks' handles report them.
	Ran           int // succeeded
	SkippedLocked int // skipped: another run held the account's lock
	Expired       int // skipped: started after its deadline
	FailedLocked  int // failed: another run held the account's lock
	Dead          int // failed every attempt, and was dead-lettered
	Failed        int // failed otherwise
	// Retries counts the runs after a task's first.
	Retries int
	// What the store holds afterwards: successes and failures, and among the
	// failures those of kind "locked".
	StoredOK, StoredFailed, StoredLocked int
	// Held lists the locks still held afterwards.
	Held []lock.Info
	// Metrics counts the worker's events by kind, as a metrics
	// subscriber sees them (contrib/prometheus's taskware_events_total),
	// and among the skips and failures those of a lock held elsewhere.
	Metrics                     map[worker.EventKind]int
	SkipsLocked, FailuresLocked int
}

// countEvents returns an event subscriber that counts into st's metrics.
func countEvents(mu *sync.Mutex, st *policyStats) func(worker.Event) {
	st.Metrics = map[worker.EventKind]int{}
	return func(e worker.Event) {
		mu.Lock()
		defer mu.Unlock()
		st.Metrics[e.Kind]++
		switch {
		case e.Kind == worker.EventSkipped && errors.Is(e.Err, lock.ErrLocked):
			st.SkipsLocked++
		case e.Kind == worker.EventFailed && errors.Is(e.Err, lock.ErrLocked):
			st.FailuresLocked++
		}
	}
}

func (st *policyStats) skipped() int { return st.SkippedLocked + st.Expired }
func (st *policyStats) failed() int  { return st.FailedLocked + st.Dead + st.Failed }
func (st *policyStats) done() int    { return st.Ran + st.skipped() + st.failed() }

// reportArgs are the arguments of a report task: the account, and the
// task's number in the workload, from which its fate follows.
type reportArgs struct {
	Account string
	N       int
}

// report is a report task's result.
type report struct {
	Account string
	Rows    int
	Fence   int64 // the fencing token of the lock it was built under
}

var (
	errAccountClosed = errors.New("account closed")
	errUpstream      = errors.New("upstream timed out")
)

// The workload is the same under both policies. Task n builds the report of
// account n%accounts, except that some tasks are special.
func expiring(n int) bool      { return n%20 == 5 }  // due in 100ms, but expires in 50ms
func closedAccount(n int) bool { return n%50 == 49 } // fails every attempt: dead-lettered
func flaky(n int) bool         { return n%10 == 0 }  // fails its first run, succeeds when retried

// plan returns task n's arguments and enqueue options.
func plan(n int) (reportArgs, []worker.EnqueueOption) {
	args := reportArgs{Account: fmt.Sprintf("acct-%d", n%accounts), N: n}
	switch {
	case closedAccount(n):
		args.Account = fmt.Sprintf("closed-%d", n) // its own lock: only its own failures
	case expiring(n):
		return args, []worker.EnqueueOption{worker.Delay(100 * time.Millisecond), worker.ExpiresIn(50 * time.Millisecond)}
	}
	return args, nil
}

// newReportTask defines the report task with the chain mws. It holds the
// account's lock for a while and returns a report stamped with the lock's
// fencing token. It fails for a closed account, and on a flaky task's first
// run.
func newReportTask(mws ...task.Middleware) *task.Task[reportArgs, report] {
	var failedOnce sync.Map // the flaky tasks whose first run failed
	return task.New("report", func(ctx context.Context, a reportArgs) (report, error) {
		if strings.HasPrefix(a.Account, "closed-") {
			return report{}, errAccountClosed
		}
		if flaky(a.N) {
			if _, again := failedOnce.LoadOrStore(a.N, true); !again {
				return report{}, errUpstream
			}
		}
		select {
		case <-time.After(work):
		case <-ctx.Done():
			return report{}, context.Cause(ctx)
		}
		fence, _ := lock.Fence(ctx)
		return report{Account: a.Account, Rows: 42, Fence: fence}, nil
	}, mws...)
}

// perAccount locks one report per account at a time.
var perAccount = middleware.KeyFromArgs(func(a reportArgs) string { return "report:" + a.Account })

// Both policies expire and retry alike, so that only their handling of the
// lock and the store differs. Retry leaves "locked" alone: the account's
// report is being built by another run, there is nothing to retry.
var (
	expire = middleware.Expires(time.Minute) // and each task's own deadline
	retry  = middleware.Retry(maxAttempts, middleware.RetryBackoff(5*time.Millisecond, 20*time.Millisecond),
		middleware.RetryIf(func(err error) bool {
			return !errors.Is(err, lock.ErrLocked) && !errors.Is(err, task.ErrBadPayload)
		}))
)

// policy is one way to run the report task: its chain, first outermost.
type policy struct {
	name  string
	chain func(l lock.Locker, s store.Writer) []task.Middleware
}

var policies = []policy{
	{"taskware", func(l lock.Locker, s store.Writer) []task.Middleware {
		return []task.Middleware{
			middleware.StoreResult(s, middleware.IgnoreErrors(lock.ErrLocked)), // never store contention
			expire,
			retry,
			middleware.SkipLocked(), // contention is a skip: no failure, no retry, nothing stored
			middleware.WithLockFunc(l, perAccount),
		}
	}},
	{"huey-like", func(l lock.Locker, s store.Writer) []task.Middleware {
		return []task.Middleware{
			middleware.StoreResult(s), // every outcome, "locked" failures included
			expire,
			retry,
			middleware.WithLockFunc(l, perAccount),
		}
	}},
}

// countRetries counts the runs after a task's first. Put outermost, it sees
// every run the worker starts.
func countRetries(n *atomic.Int64) task.Middleware {
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			if inv.Attempt > 1 {
				n.Add(1)
			}
			return next(ctx, inv)
		}
	}
}

// demo runs the workload under each policy in turn, each on its own key
// prefix, prints what happened to out, and returns it.
func demo(ctx context.Context, opts demoOptions, out io.Writer) (sum summary, err error) {
	if opts.Tasks <= 0 {
		opts.Tasks = defaultTasks
	}
	if opts.Prefix == "" {
		opts.Prefix = "taskware-demo:" + randid.New()[:8] + ":"
	}
	client, where, closeAll, err := connect(ctx, opts.RedisURL, opts.TLS)
	if err != nil {
		return summary{}, err
	}
	defer closeAll()
	defer func() {
		if opts.Keep && err == nil {
			return
		}
		_, perr := redisbackend.New(client, redisbackend.Prefix(opts.Prefix)).Purge(context.WithoutCancel(ctx))
		err = errors.Join(err, perr)
	}()

	sum.Tasks = opts.Tasks
	for n := range opts.Tasks {
		if expiring(n) {
			sum.Expiring++
		}
		if closedAccount(n) {
			sum.Closed++
		}
	}
	fmt.Fprintf(out, "%d report tasks for %d accounts per policy, run by a worker (%d at once) on %s.\n",
		opts.Tasks, accounts, concurrency, where)
	for _, p := range policies {
		st, err := runPolicy(ctx, p, client, opts.Prefix+p.name+":", opts.Tasks, out)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", p.name, err)
		}
		sum.Policies = append(sum.Policies, st)
	}
	printSummary(out, sum)
	if sum.Flow, err = demoFlow(ctx, client, opts.Prefix+"flow:", out); err != nil {
		return sum, fmt.Errorf("periodic and limited: %w", err)
	}
	// The workflows go where `taskware web` is told to look (it shows one
	// prefix), next to the taskware policy's tasks.
	shown := opts.Prefix + policies[0].name + ":"
	sum.WorkflowPrefix = shown
	if sum.Workflows, err = demoWorkflows(ctx, client, shown, out); err != nil {
		return sum, fmt.Errorf("workflows: %w", err)
	}
	if !opts.Keep {
		fmt.Fprintln(out, "           (demo --keep --redis URL keeps them for `taskware workflows` and `taskware web`.)")
	}
	if opts.Keep {
		if err := leaveBehind(ctx, client, shown); err != nil {
			return sum, fmt.Errorf("keep: %w", err)
		}
		args := fmt.Sprintf("--redis %s --prefix %s", redactURL(opts.RedisURL), shown)
		fmt.Fprintf(out, "\nThe keys stay under %q; see them with\n  taskware web %s\n", opts.Prefix, args)
		printWorkflowCommands(out, args, sum.Workflows)
	}
	return sum, nil
}

// leaveBehind gives the taskware policy's keys, drained by its worker,
// something waiting to show: reports ready and delayed that no worker
// takes, and an account's lock held for an hour.
func leaveBehind(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	backend := redisbackend.New(rdb, redisbackend.Prefix(prefix), redisbackend.Holder("taskware-demo"))
	client := worker.NewClient(backend.Queue(), backend.Store())
	reportTask := newReportTask()
	for n := range 3 {
		if _, err := worker.Enqueue(ctx, client, reportTask, reportArgs{Account: "acct-1", N: n}); err != nil {
			return err
		}
		if _, err := worker.Enqueue(ctx, client, reportTask, reportArgs{Account: "acct-2", N: n}, worker.Delay(time.Hour)); err != nil {
			return err
		}
	}
	_, err := backend.Locker().TryAcquire(ctx, "report:acct-0", time.Hour)
	return err
}

// runPolicy runs the workload under p through a worker, counts the outcomes
// through the tasks' handles, and reads back what the store and the locker
// hold.
func runPolicy(ctx context.Context, p policy, rdb redis.UniversalClient, prefix string, tasks int, out io.Writer) (policyStats, error) {
	// One backend: a run's lock release, result write and acknowledgement
	// go in one round trip.
	backend := redisbackend.New(rdb, redisbackend.Prefix(prefix))
	queueName, locker, results := backend.Queue(), backend.Locker(), backend.Store()

	var (
		mu        sync.Mutex // guards st and workerErr
		st        = policyStats{Name: p.name}
		workerErr error
		retries   atomic.Int64
	)
	reportTask := newReportTask(append([]task.Middleware{countRetries(&retries)}, p.chain(locker, results)...)...)

	w := worker.New(queueName, worker.Concurrency(concurrency), worker.OnEvent(countEvents(&mu, &st)),
		worker.PollWait(50*time.Millisecond), worker.PromoteEvery(5*time.Millisecond),
		worker.OnError(func(err error) {
			mu.Lock()
			workerErr = cmp.Or(workerErr, err) // the first
			mu.Unlock()
		}))
	worker.Register(w, reportTask)
	wctx, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(wctx) }()
	stopWorker := sync.OnceValue(func() error { cancel(); return <-stopped })
	defer stopWorker()

	stopProgress := sync.OnceFunc(showProgress(out, tasks, func() policyStats {
		mu.Lock()
		defer mu.Unlock()
		s := st
		s.Retries = int(retries.Load())
		return s
	}))
	defer stopProgress()

	client := worker.NewClient(queueName, results)
	gctx, gcancel := context.WithTimeout(ctx, waitLimit)
	defer gcancel()
	var wg sync.WaitGroup
	var getErr error
	for n := range tasks {
		args, opts := plan(n)
		h, err := worker.Enqueue(ctx, client, reportTask, args, opts...)
		if err != nil {
			gcancel() // and stop waiting for the others
			mu.Lock()
			getErr = err
			mu.Unlock()
			break
		}
		wg.Go(func() {
			counter, err := outcome(gctx, h, &st)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				getErr = cmp.Or(getErr, fmt.Errorf("task %d: %w", n, err))
				return
			}
			*counter++
		})
	}
	wg.Wait()
	stopProgress()
	err := errors.Join(getErr, stopWorker())
	if workerErr != nil {
		err = errors.Join(err, fmt.Errorf("worker: %w", workerErr))
	}
	if err != nil {
		return st, err
	}
	st.Retries = int(retries.Load())

	recs, err := results.List(ctx)
	if err != nil {
		return st, err
	}
	for _, r := range recs {
		switch r.Status {
		case store.Succeeded:
			st.StoredOK++
		case store.Failed:
			st.StoredFailed++
			if errors.Is(r.Err(), lock.ErrLocked) { // the stored kind is "lock.locked"
				st.StoredLocked++
			}
		}
	}
	st.Held, err = locker.Held(ctx)
	return st, err
}

// outcome waits for the outcome of the task of h, and returns the counter of
// st it belongs in.
func outcome(ctx context.Context, h *worker.Handle[report], st *policyStats) (*int, error) {
	_, err := h.Get(ctx)
	switch {
	case err == nil:
		return &st.Ran, nil
	case task.IsSkipped(err) && errors.Is(err, lock.ErrLocked):
		return &st.SkippedLocked, nil
	case task.IsSkipped(err) && errors.Is(err, middleware.ErrExpired):
		return &st.Expired, nil
	case errors.Is(err, lock.ErrLocked):
		return &st.FailedLocked, nil
	case errors.Is(err, queue.ErrDeadLettered):
		return &st.Dead, nil
	case ctx.Err() != nil:
		return nil, err
	}
	return &st.Failed, nil
}

// showProgress shows the progress of a policy on out until the function it
// returns is called, which shows it a last time: on a terminal, a line
// redrawn in place; otherwise a line a second.
func showProgress(out io.Writer, tasks int, snapshot func() policyStats) (stop func()) {
	term := isTerminal(out)
	every, format := time.Second, "%s\n"
	if term {
		every, format = 100*time.Millisecond, "\r%s\033[K"
	}
	start := time.Now()
	show := func() {
		st := snapshot()
		fmt.Fprintf(out, format, fmt.Sprintf("%-9s %d/%d done in %v: %d ran, %d locked, %d expired, %d failed; %d retries",
			st.Name, st.done(), tasks, time.Since(start).Round(10*time.Millisecond),
			st.Ran, st.SkippedLocked+st.FailedLocked, st.Expired, st.Dead+st.Failed, st.Retries))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				show()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		show()
		if term {
			fmt.Fprintln(out)
		}
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printSummary prints the table of outcomes and what it means.
func printSummary(out io.Writer, sum summary) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "policy\ttasks\tran\tskipped (locked+expired)\tfailed (locked+dead)\tretries\tstored ok / failed (locked)")
	for _, st := range sum.Policies {
		failed := fmt.Sprintf("%d (%d+%d)", st.failed(), st.FailedLocked, st.Dead)
		if st.Failed > 0 {
			failed = fmt.Sprintf("%d (%d+%d+%d other)", st.failed(), st.FailedLocked, st.Dead, st.Failed)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d (%d+%d)\t%s\t%d\t%d / %d (%d)\n", st.Name, sum.Tasks, st.Ran,
			st.skipped(), st.SkippedLocked, st.Expired, failed, st.Retries, st.StoredOK, st.StoredFailed, st.StoredLocked)
	}
	tw.Flush()

	fmt.Fprintln(out)
	for _, st := range sum.Policies {
		if st.StoredLocked == 0 {
			fmt.Fprintf(out, "%-10s %d runs found their account's report already running and were skipped: no failure,\n"+
				"           no retry, nothing stored. Its store keeps %s and %s.\n",
				st.Name+":", st.SkippedLocked, count(st.StoredOK, "report"), count(st.StoredFailed, "real failure"))
		} else {
			fmt.Fprintf(out, "%-10s the same contention is stored: %d of its %d stored failures are \"locked\", normal\n"+
				"           operation that grows the store with the load and looks like an outage to its monitoring.\n",
				st.Name+":", st.StoredLocked, st.StoredFailed)
		}
	}
	held := 0
	for _, st := range sum.Policies {
		held += len(st.Held)
	}
	locks := "no lock is held afterwards"
	if held > 0 {
		locks = fmt.Sprintf("%d locks are still held", held)
	}
	fmt.Fprintf(out, "Both:      %s expired unrun; dead letters: the %s for closed accounts, after %d attempts\n"+
		"           each; %s.\n", count(sum.Expiring, "task"), count(sum.Closed, "task"), maxAttempts, locks)
	printMetrics(out, sum)
}

// printMetrics prints the worker's events as a metrics subscriber counts
// them: where the contention went, and what the store kept of it.
func printMetrics(out io.Writer, sum summary) {
	fmt.Fprintln(out, "\nMetrics: the worker's events, as contrib/prometheus counts them (taskware_events_total):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "policy\tstarted\tsucceeded\tretrying\trescheduled\tskipped (locked)\tfailed (locked)\tdead_lettered\tlocked stored")
	for _, st := range sum.Policies {
		m := st.Metrics
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d (%d)\t%d (%d)\t%d\t%d\n", st.Name, m[worker.EventStarted], m[worker.EventSucceeded],
			m[worker.EventRetrying], m[worker.EventRescheduled], m[worker.EventSkipped], st.SkipsLocked, m[worker.EventFailed], st.FailuresLocked,
			m[worker.EventDeadLettered], st.StoredLocked)
	}
	tw.Flush()
	for _, st := range sum.Policies {
		if st.StoredLocked == 0 {
			fmt.Fprintf(out, "%-10s contention is a metric: %d skips of kind lock.locked counted, none stored.\n", st.Name+":", st.SkipsLocked)
		}
	}
}

// count returns "1 noun" or "n nouns".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
