package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/testkit"
)

func TestDemo(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		var out bytes.Buffer
		sum, err := demo(t.Context(), demoOptions{}, &out)
		if err != nil {
			t.Fatal(err)
		}
		checkSummary(t, sum, out.String())
	})
	t.Run("redis", func(t *testing.T) {
		client, prefix := testkit.Redis(t)
		var out bytes.Buffer
		sum, err := demo(t.Context(), demoOptions{RedisURL: testkit.RedisURL(), Prefix: prefix}, &out)
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
	if err := run(t.Context(), []string{"demo", "--runs", "5"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "5 concurrent runs") {
		t.Errorf("output does not reflect --runs 5:\n%s", out.String())
	}
}

func checkSummary(t *testing.T, sum summary, out string) {
	t.Helper()
	if len(sum.Policies) != 3 {
		t.Fatalf("got %d policies, want 3", len(sum.Policies))
	}
	const runs = defaultRuns
	for _, st := range sum.Policies {
		if st.Runs != runs || st.Ran+st.Skipped+st.Failed != runs || st.Ran < 1 {
			t.Errorf("%s: runs %d, ran %d + skipped %d + failed %d; want %d runs, all accounted for, at least one ran",
				st.Name, st.Runs, st.Ran, st.Skipped, st.Failed, runs)
		}
		if st.StoredOK != st.Ran {
			t.Errorf("%s: %d successes stored, want one per run that ran (%d)", st.Name, st.StoredOK, st.Ran)
		}
		if st.OKTTL <= 23*time.Hour || st.OKTTL > 24*time.Hour {
			t.Errorf("%s: stored successes expire in %v, want 24h", st.Name, st.OKTTL)
		}
		if len(st.Held) > 0 {
			t.Errorf("%s: locks still held after the runs: %+v", st.Name, st.Held)
		}
		if !strings.Contains(out, st.Name) {
			t.Errorf("output does not name %q:\n%s", st.Name, out)
		}
	}
	huey, skip, filtered := sum.Policies[0], sum.Policies[1], sum.Policies[2]

	// Huey's default: every locked run fails, and each failure is stored.
	if huey.Skipped != 0 || huey.StoredFailed != runs-huey.Ran || huey.StoredLocked != huey.StoredFailed {
		t.Errorf("huey default: skipped %d, stored %d failures (%d locked); want 0 skips and %d locked failures",
			huey.Skipped, huey.StoredFailed, huey.StoredLocked, runs-huey.Ran)
	}
	if huey.FailedTTL <= 23*time.Hour || huey.FailedTTL > 24*time.Hour {
		t.Errorf("huey default: stored failures expire in %v, want 24h", huey.FailedTTL)
	}
	// SkipLocked: every locked run is a skip, seen by the hook, never stored.
	if skip.Failed != 0 || skip.StoredFailed != 0 || skip.SkipHook != skip.Skipped {
		t.Errorf("skip locked: failed %d, stored %d failures, hook saw %d of %d skips; want 0, 0 and all",
			skip.Failed, skip.StoredFailed, skip.SkipHook, skip.Skipped)
	}
	// A filtered store: callers still see the locked failures; the store does not.
	if filtered.Skipped != 0 || filtered.Failed != runs-filtered.Ran || filtered.StoredFailed != 0 {
		t.Errorf("filtered store: skipped %d, failed %d, stored %d failures; want 0, %d, 0",
			filtered.Skipped, filtered.Failed, filtered.StoredFailed, runs-filtered.Ran)
	}
	if huey.SkipHook != 0 || filtered.SkipHook != 0 {
		t.Errorf("skip hook ran outside the skip locked policy: %d, %d", huey.SkipHook, filtered.SkipHook)
	}
	if !strings.Contains(out, "locks held after the runs: none") {
		t.Errorf("output does not report the held locks:\n%s", out)
	}
}
