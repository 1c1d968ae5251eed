package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

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
	if err := run(t.Context(), []string{"demo", "--keep"}, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "--keep needs --redis") {
		t.Errorf("demo --keep without --redis: %v", err)
	}
}
