package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// testTasks is the workload of the tests: small, for speed, but with
// expiring, flaky and closed-account tasks.
const testTasks = 60

func TestDemo(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		var out bytes.Buffer
		sum, err := demo(t.Context(), demoOptions{Tasks: testTasks}, &out)
		if err != nil {
			t.Fatal(err)
		}
		checkSummary(t, sum, out.String())
	})
	t.Run("redis", func(t *testing.T) {
		client, prefix := taskwaretest.Redis(t)
		var out bytes.Buffer
		sum, err := demo(t.Context(), demoOptions{RedisURL: taskwaretest.RedisURL(), Prefix: prefix, Tasks: testTasks}, &out)
		if err != nil {
			t.Fatal(err)
		}
		checkSummary(t, sum, out.String())
		if keys, err := client.Keys(context.Background(), prefix+"*").Result(); err != nil || len(keys) > 0 {
			t.Errorf("the demo left keys behind: %q (err %v)", keys, err)
		}
	})
}

// TestRunDemo runs the demo through the command line.
func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"demo", "--tasks", "20"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "20 report tasks") || strings.Count(out.String(), "20/20 done") != 2 {
		t.Errorf("output does not reflect --tasks 20:\n%s", out.String())
	}
}

func checkSummary(t *testing.T, sum summary, out string) {
	t.Helper()
	t.Logf("output:\n%s", out)
	if len(sum.Policies) != 2 {
		t.Fatalf("got %d policies, want 2", len(sum.Policies))
	}
	if sum.Tasks != testTasks || sum.Expiring < 1 || sum.Closed < 1 {
		t.Fatalf("workload of %d tasks, %d expiring, %d closed; want %d, and some of each", sum.Tasks, sum.Expiring, sum.Closed, testTasks)
	}
	// Periodic: every tick enqueued by one scheduler, refused to the
	// others, and run or skipped once; limited: every email sent, no
	// attempt used by the limit.
	f := sum.Flow
	if f.Ticks < 3 || f.Copies > (schedulers-1)*f.Ticks || f.Runs+f.Skips != f.Ticks || f.Runs < 1 {
		t.Errorf("periodic: %d ticks, %d copies, %d runs, %d skips; want each tick enqueued once, and run or skipped once",
			f.Ticks, f.Copies, f.Runs, f.Skips)
	}
	if f.Emails != emails || f.MaxAttempt != 1 || f.Limited < 1 {
		t.Errorf("limited: %d emails, highest attempt %d, %d sent back; want %d, 1, some", f.Emails, f.MaxAttempt, f.Limited, emails)
	}
	for _, st := range sum.Policies {
		if got := st.Ran + st.skipped() + st.failed(); got != sum.Tasks || st.done() != sum.Tasks {
			t.Errorf("%s: ran %d + skipped %d + failed %d = %d, want every one of the %d tasks counted once",
				st.Name, st.Ran, st.skipped(), st.failed(), got, sum.Tasks)
		}
		if st.Ran < 1 || st.Retries < 1 {
			t.Errorf("%s: ran %d, %d retries; want some of each", st.Name, st.Ran, st.Retries)
		}
		if st.Expired != sum.Expiring {
			t.Errorf("%s: %d expired, want the %d tasks due after their deadline", st.Name, st.Expired, sum.Expiring)
		}
		if st.Dead != sum.Closed || st.Failed != 0 {
			t.Errorf("%s: %d dead-lettered and %d other failures, want the %d closed-account tasks and none",
				st.Name, st.Dead, st.Failed, sum.Closed)
		}
		if st.StoredOK != st.Ran {
			t.Errorf("%s: %d successes stored, want one per task that ran (%d)", st.Name, st.StoredOK, st.Ran)
		}
		if len(st.Held) > 0 {
			t.Errorf("%s: locks still held afterwards: %+v", st.Name, st.Held)
		}
		if !strings.Contains(out, st.Name) {
			t.Errorf("output does not name %q", st.Name)
		}
	}
	tw, huey := sum.Policies[0], sum.Policies[1]

	// taskware: contention is a skip, and never stored.
	if tw.SkippedLocked < 1 || tw.FailedLocked != 0 || tw.StoredLocked != 0 || tw.StoredFailed != tw.Dead {
		t.Errorf("taskware: %d skipped and %d failed as locked, stored %d failures (%d locked); want some skips, "+
			"no locked failure, and only the %d dead letters stored",
			tw.SkippedLocked, tw.FailedLocked, tw.StoredFailed, tw.StoredLocked, tw.Dead)
	}
	// huey-like: contention is a failure, and each one is stored.
	// The metrics count contention where the handles saw it, and the
	// store keeps none of it under taskware.
	if tw.SkipsLocked != tw.SkippedLocked || tw.Metrics[worker.EventSkipped] != tw.skipped() || tw.FailuresLocked != 0 ||
		tw.Metrics[worker.EventSucceeded] != tw.Ran || tw.Metrics[worker.EventDeadLettered] != tw.Dead {
		t.Errorf("taskware's metrics %v (%d locked skips, %d locked failures) disagree with its outcomes %+v",
			tw.Metrics, tw.SkipsLocked, tw.FailuresLocked, tw)
	}
	if huey.FailuresLocked != huey.FailedLocked || huey.SkipsLocked != 0 {
		t.Errorf("huey-like's metrics: %d locked failures, %d locked skips; want %d and 0",
			huey.FailuresLocked, huey.SkipsLocked, huey.FailedLocked)
	}
	if huey.FailedLocked < 1 || huey.SkippedLocked != 0 || huey.StoredLocked != huey.FailedLocked || huey.StoredFailed != huey.failed() {
		t.Errorf("huey-like: %d failed and %d skipped as locked, stored %d failures (%d locked); want some locked "+
			"failures, no skip, and every failure stored, one per locked outcome", huey.FailedLocked, huey.SkippedLocked,
			huey.StoredFailed, huey.StoredLocked)
	}
	if !strings.Contains(out, "no lock is held afterwards") {
		t.Errorf("output does not report the held locks")
	}
	checkWorkflows(t, sum.Workflows, out)
}

// checkWorkflows checks what the demo's workflows did and what it says of
// them: 100+200+300+400 first, then 100+200+300+800 once acct-7's failed
// fetch is retried.
func checkWorkflows(t *testing.T, wf workflowStats, out string) {
	t.Helper()
	if wf.Result != "1000 in total" || wf.Resumed != "1400 in total" {
		t.Errorf("workflow results %q and %q, want %q and %q", wf.Result, wf.Resumed, "1000 in total", "1400 in total")
	}
	if wf.FailedStep != "fetch-4" || wf.Kind != "demo.account_closed" || wf.Canceled != 2 {
		t.Errorf("failure: step %q of kind %q, %d canceled; want fetch-4, demo.account_closed, 2 (total and describe)",
			wf.FailedStep, wf.Kind, wf.Canceled)
	}
	if wf.FetchRuns != 9 {
		t.Errorf("%d fetch runs, want 9: 4 + 4 + the retry, no succeeded step run again", wf.FetchRuns)
	}
	for _, want := range []string{
		wf.IDs[0] + " succeeded", `"1000 in total"`,
		"step fetch-4 failed (kind demo.account_closed", "2 steps not started were canceled",
		"step fetch-4 retried", `succeeded: "1400 in total"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q", want)
		}
	}
}

// demo --keep leaves its keys, with tasks waiting and a lock held, for
// taskware web to show; without --redis it is refused.
func TestDemoKeep(t *testing.T) {
	c, prefix := taskwaretest.Redis(t)
	var out bytes.Buffer
	if _, err := demo(t.Context(), demoOptions{RedisURL: taskwaretest.RedisURL(), Prefix: prefix, Tasks: testTasks, Keep: true}, &out); err != nil {
		t.Fatalf("demo --keep: %v\n%s", err, out.String())
	}
	kept := prefix + policies[0].name + ":"
	if !strings.Contains(out.String(), "--prefix "+kept) {
		t.Errorf("the demo does not say where its keys stay:\n%s", out.String())
	}
	b := redisbackend.New(c, redisbackend.Prefix(kept))
	st, err := b.Queue().Stats(t.Context(), queue.Default)
	if err != nil || st.Ready != 3 || st.Delayed != 3 {
		t.Errorf("kept queue: %+v, %v; want 3 ready, 3 delayed", st, err)
	}
	if held, err := b.Locker().Held(t.Context()); err != nil || len(held) != 1 || held[0].Key != "report:acct-0" {
		t.Errorf("kept locks: %+v, %v", held, err)
	}
	if !strings.Contains(out.String(), "taskware workflows --redis "+taskwaretest.RedisURL()+" --prefix "+kept+" --queue accounts") {
		t.Errorf("the demo does not say how to list its workflows:\n%s", out.String())
	}
	if err := run(t.Context(), []string{"demo", "--keep"}, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "--keep needs --redis") {
		t.Errorf("demo --keep without --redis: %v", err)
	}
}

// demo --keep leaves its workflows where the `taskware web` it prints
// looks: its --prefix lists the two, succeeded, on a queue the web view
// offers.
func TestDemoKeepWorkflows(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	url := "redis://" + m.Addr() + "/0"
	var out bytes.Buffer
	sum, err := demo(t.Context(), demoOptions{RedisURL: url, Tasks: 20, Keep: true}, &out)
	if err != nil {
		t.Fatalf("demo --keep: %v\n%s", err, out.String())
	}
	_, after, ok := strings.Cut(out.String(), "taskware web --redis "+url+" --prefix ")
	prefix, _, _ := strings.Cut(after, "\n")
	if !ok || prefix == "" {
		t.Fatalf("the demo prints no prefix for web:\n%s", out.String())
	}
	wf := sum.Workflows
	if want := "taskware workflow " + wf.IDs[1] + " --redis " + url + " --prefix " + prefix + " --queue accounts"; !strings.Contains(out.String(), want) {
		t.Errorf("the demo does not print %q:\n%s", want, out.String())
	}
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer c.Close()
	q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
	queues, err := q.Queues(t.Context())
	if err != nil || !slices.Contains(queues, workflowQueue) {
		t.Errorf("queues under %q: %q, %v; want %q among them, for web to offer", prefix, queues, err, workflowQueue)
	}
	page, err := q.ListWorkflows(t.Context(), workflowQueue, queue.WorkflowQuery{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]queue.Status{}
	for _, w := range page.Workflows {
		got[w.ID] = w.Status
	}
	want := map[string]queue.Status{wf.IDs[0]: queue.Succeeded, wf.IDs[1]: queue.Succeeded}
	if !maps.Equal(got, want) {
		t.Errorf("workflows under %q: %v, want %v", prefix, got, want)
	}
}
