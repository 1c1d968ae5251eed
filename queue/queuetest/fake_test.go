package queuetest_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/queue/queuetest"
	"github.com/taskware/taskware/task"
)

// thirdParty is a backend of someone else's: the memory queue behind a
// wrapper. Broken, it drops a run's result writes when the run goes back
// to wait (a Scheduled outcome): the bug of a backend that stores only
// the outcomes that end a task.
type thirdParty struct {
	queue.Queue
	broken bool
}

func (q *thirdParty) Finish(ctx context.Context, d *queue.Delivery, o queue.Outcome) error {
	if q.broken && o.Status == queue.Scheduled && o.Final != nil {
		o.Final = &task.FinalWrites{Releases: o.Final.Releases}
	}
	return q.Queue.Finish(ctx, d, o)
}

func newThirdParty(broken bool) func(t *testing.T) queuetest.Backend {
	return func(t *testing.T) queuetest.Backend {
		b := newMemory(t)
		b.Queue = &thirdParty{Queue: b.Queue, broken: broken}
		return b
	}
}

// The honest wrapper passes: the suite asks nothing of a backend that the
// memory backend does not do.
func TestThirdPartyPasses(t *testing.T) {
	queuetest.Run(t, newThirdParty(false))
}

// brokenEnv runs the suite on the broken wrapper, in the process that
// TestThirdPartyFailsAtNamedPoints starts.
const brokenEnv = "QUEUETEST_RUN_BROKEN"

// TestBrokenThirdParty is the suite on the broken wrapper. It runs only
// in a process of its own, started by TestThirdPartyFailsAtNamedPoints,
// since it is meant to fail.
func TestBrokenThirdParty(t *testing.T) {
	if os.Getenv(brokenEnv) != "1" {
		t.Skip("runs in a process of its own: see TestThirdPartyFailsAtNamedPoints")
	}
	queuetest.Run(t, newThirdParty(true))
}

// The broken wrapper fails the suite, at the promises it breaks and no
// others, each named.
func TestThirdPartyFailsAtNamedPoints(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenThirdParty$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), brokenEnv+"=1")
	out, err := cmd.CombinedOutput()
	if _, failed := err.(*exec.ExitError); !failed {
		t.Fatalf("the suite on a broken backend: %v; want it to fail\n%s", err, out)
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^\s*--- FAIL: TestBrokenThirdParty/(\S+)`).FindAllSubmatch(out, -1) {
		got = append(got, string(m[1]))
	}
	want := []string{ // the promises it breaks, and the groups they are in
		"Finish",
		"Finish/FinalWrites",
		"Finish/FinalWrites/Reschedule",
		"Finish/FinalWrites/Retry",
		"Finish/RetryKeepsFailureRecord",
	}
	if slices.Sort(got); !slices.Equal(got, want) {
		t.Fatalf("the suite failed at %q, want %q\n%s", got, want, out)
	}
	for _, line := range []string{
		`record rk/job: store: no record of "job" on queue "rk"`,
		`record fw/own-scheduled: store: no record of "own-scheduled" on queue "fw"`,
	} {
		if !bytes.Contains(out, []byte(line)) {
			t.Errorf("the failure does not say %q\n%s", line, out)
		}
	}
}
