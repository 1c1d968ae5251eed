package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/internal/rkeys"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

const (
	defaultRuns = 50
	// work is how long one run holds the lock.
	work = 30 * time.Millisecond
	// lockKey is the one lock every run contends for.
	lockKey = "report:daily"
)

// demoOptions configure the demo.
type demoOptions struct {
	// RedisURL is the Redis to run on; "" means an embedded miniredis.
	RedisURL string
	// Prefix starts every key the demo writes; "" means
	// "taskware-demo:<random>:". The demo deletes its keys when it ends.
	Prefix string
	// Runs is how many runs per policy contend for the lock (defaultRuns if
	// not positive).
	Runs int
}

// summary is what the demo observed, policy by policy.
type summary struct {
	Policies []policyStats
}

// policyStats is what one policy's callers saw, and what it left behind.
type policyStats struct {
	Name string
	// What the callers saw: Ran succeeded, Skipped got task.ErrSkipped,
	// Failed got lock.ErrLocked as a failure.
	Runs, Ran, Skipped, Failed int
	// SkipHook counts the skips that SkipLocked's hook saw.
	SkipHook int
	// What the store holds after the runs: successes and failures, and of
	// those failures the ones of kind "locked".
	StoredOK, StoredFailed, StoredLocked int
	// The longest remaining TTL of the stored successes and failures, read
	// back from the store; 0 if none is stored.
	OKTTL, FailedTTL time.Duration
	// Held lists the locks still held after the runs.
	Held []lock.Info
}

// reportArgs and report are the demo task's argument and result.
type (
	reportArgs struct{ Day string }
	report     struct {
		Day   string
		Rows  int
		Fence int64 // the fencing token of the lease the report was built under
	}
)

// buildReport is the task: it holds the lock for a while and returns a report.
func buildReport(ctx context.Context, args reportArgs) (report, error) {
	select {
	case <-time.After(work):
	case <-ctx.Done():
		return report{}, context.Cause(ctx)
	}
	fence, _ := lock.Fence(ctx)
	return report{Day: args.Day, Rows: 42, Fence: fence}, nil
}

// policy is one way to wrap the same task and the same lock.
type policy struct {
	name  string
	chain func(l lock.Locker, s store.Store, onSkip middleware.SkipHook) []task.Middleware
	// explain says, in plain words, what the policy did to the runs that
	// found the lock taken.
	explain func(st policyStats) string
}

var policies = []policy{
	{
		name: "huey default",
		chain: func(l lock.Locker, s store.Store, _ middleware.SkipHook) []task.Middleware {
			return []task.Middleware{
				middleware.StoreResult(s), // successes and failures alike, 24h
				middleware.WithLock(l, lockKey),
			}
		},
		explain: func(st policyStats) string {
			return fmt.Sprintf("%d of %d stored records are \"locked\" failures: normal contention fills the store and looks like an outage (Huey keeps them forever; here they expire).",
				st.StoredLocked, st.StoredOK+st.StoredFailed)
		},
	},
	{
		name: "skip locked",
		chain: func(l lock.Locker, s store.Store, onSkip middleware.SkipHook) []task.Middleware {
			return []task.Middleware{
				middleware.StoreResult(s, middleware.ResultTTL(24*time.Hour), middleware.ErrorTTL(time.Hour)),
				middleware.SkipLocked(onSkip),
				middleware.WithLock(l, lockKey),
			}
		},
		explain: func(st policyStats) string {
			return fmt.Sprintf("contention is a skip, not a failure: nothing is stored for it, and the hook counted %d skips for a metric.",
				st.SkipHook)
		},
	},
	{
		name: "filtered store",
		chain: func(l lock.Locker, s store.Store, _ middleware.SkipHook) []task.Middleware {
			return []task.Middleware{
				middleware.StoreResult(s, middleware.ResultTTL(24*time.Hour), middleware.ErrorTTL(time.Hour),
					middleware.IgnoreErrors(lock.ErrLocked)),
				middleware.WithLock(l, lockKey),
			}
		},
		explain: func(st policyStats) string {
			return fmt.Sprintf("callers still get lock.ErrLocked (%d of them, to retry or alert on), but only successes are stored.",
				st.Failed)
		},
	},
}

// demo runs opts.Runs concurrent runs of one task under each policy, each
// policy with its own locker and store, prints a table of what happened to
// out, and returns it.
func demo(ctx context.Context, opts demoOptions, out io.Writer) (sum summary, err error) {
	if opts.Runs <= 0 {
		opts.Runs = defaultRuns
	}
	if opts.Prefix == "" {
		opts.Prefix = "taskware-demo:" + randid.New()[:8] + ":"
	}
	client, where, closeAll, err := connect(ctx, opts.RedisURL)
	if err != nil {
		return summary{}, err
	}
	defer closeAll()
	defer func() { err = errors.Join(err, deletePrefix(context.WithoutCancel(ctx), client, opts.Prefix)) }()

	for _, p := range policies {
		prefix := opts.Prefix + strings.ReplaceAll(p.name, " ", "-") + ":"
		st, err := runPolicy(ctx, p, lock.NewRedis(client, lock.WithPrefix(prefix)), store.NewRedis(client, store.WithPrefix(prefix)), opts.Runs)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", p.name, err)
		}
		sum.Policies = append(sum.Policies, st)
	}
	printSummary(out, sum, opts.Runs, where)
	return sum, nil
}

// runPolicy starts runs runs of the task under p at once, and counts what
// their callers saw and what the store and the locker hold afterwards.
func runPolicy(ctx context.Context, p policy, locker lock.Locker, results store.Store, runs int) (policyStats, error) {
	st := policyStats{Name: p.name, Runs: runs}
	var hooked atomic.Int64
	onSkip := func(context.Context, *task.Invocation, error) { hooked.Add(1) }
	t := task.New("build-report", buildReport, p.chain(locker, results, onSkip)...)

	errs := make([]error, runs)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			inv := &task.Invocation{ID: fmt.Sprintf("run-%03d", i), EnqueuedAt: time.Now(), Attempt: 1,
				Args: reportArgs{Day: "2025-06-01"}}
			<-start // all at once, so that they contend
			_, errs[i] = t.Invoke(ctx, inv)
		})
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		switch {
		case err == nil:
			st.Ran++
		case task.IsSkipped(err):
			st.Skipped++
		case errors.Is(err, lock.ErrLocked) && !errors.Is(err, middleware.ErrNotStored):
			st.Failed++
		default:
			return st, fmt.Errorf("run-%03d: %w", i, err)
		}
	}
	st.SkipHook = int(hooked.Load())

	recs, err := results.List(ctx)
	if err != nil {
		return st, err
	}
	for _, r := range recs {
		ttl := time.Until(r.ExpiresAt)
		switch r.Status {
		case store.Succeeded:
			st.StoredOK++
			st.OKTTL = max(st.OKTTL, ttl)
		case store.Failed:
			st.StoredFailed++
			st.FailedTTL = max(st.FailedTTL, ttl)
			if errors.Is(r.Err(), lock.ErrLocked) { // the stored kind is "locked"
				st.StoredLocked++
			}
		}
	}
	st.Held, err = locker.Held(ctx)
	return st, err
}

// printSummary prints the table, what it means, and the locks left held.
func printSummary(out io.Writer, sum summary, runs int, where string) {
	fmt.Fprintf(out, "%d concurrent runs of one task per policy, all contending for the lock %q, on %s.\n\n", runs, lockKey, where)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "policy\truns\tran\tskipped\tfailed (locked)\tstored ok / failed\tTTL ok / failed")
	for _, st := range sum.Policies {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d / %d\t%s / %s\n", st.Name, st.Runs, st.Ran, st.Skipped, st.Failed,
			st.StoredOK, st.StoredFailed, fmtTTL(st.OKTTL), fmtTTL(st.FailedTTL))
	}
	tw.Flush()

	fmt.Fprintln(out)
	for i, st := range sum.Policies {
		fmt.Fprintf(out, "%-15s %s\n", st.Name+":", policies[i].explain(st))
	}

	var held []lock.Info
	for _, st := range sum.Policies {
		held = append(held, st.Held...)
	}
	if len(held) == 0 {
		fmt.Fprintln(out, "\nlocks held after the runs: none (every lease was released, whatever the outcome)")
		return
	}
	fmt.Fprintln(out, "\nlocks held after the runs:")
	for _, h := range held {
		fmt.Fprintf(out, "  %s by %s, fence %d, expires in %v\n", h.Key, h.Holder, h.Fence, h.Remaining.Round(time.Millisecond))
	}
}

// fmtTTL prints a remaining TTL to the minute, "-" if nothing is stored.
func fmtTTL(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	s := d.Round(time.Minute).String() // "24h0m0s"
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// connect returns a client of the Redis at url, or of a new embedded
// miniredis if url is "", a description of where it is, and a function that
// closes both.
func connect(ctx context.Context, url string) (*redis.Client, string, func(), error) {
	if url == "" {
		m, err := miniredis.Run()
		if err != nil {
			return nil, "", nil, fmt.Errorf("start miniredis: %w", err)
		}
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		return c, "an embedded miniredis", func() { c.Close(); m.Close() }, nil
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, "", nil, usageError{fmt.Errorf("--redis: %w", err)}
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, "", nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}
	return c, "the Redis at " + opt.Addr, func() { c.Close() }, nil
}

// deletePrefix deletes every key under prefix: the demo's locks, fence
// counters and records.
func deletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	var keys []string
	iter := c.Scan(ctx, 0, rkeys.EscapeGlob(prefix)+"*", 500).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil || len(keys) == 0 {
		return err
	}
	if err := c.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("delete the demo's keys: %w", err)
	}
	return nil
}
