package redisbackend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

var errInjected = errors.New("injected reply error")

// failOne is a go-redis hook that turns the reply of the one script whose
// arguments name victim into an error, after Redis ran it, and records the
// largest number of finishes seen in one pipeline.
type failOne struct {
	victim  string
	largest atomic.Int64
	// slow is how many finishes, the first ones, are held up 100 ms: so
	// that the pipelines in flight are busy, and the rest wait together.
	slow atomic.Int64
}

// hold holds up the first finishes, if cmds hold one.
func (h *failOne) hold(cmds []redis.Cmder) {
	for _, c := range cmds {
		if (c.Name() == "evalsha" || c.Name() == "eval") && strings.Contains(argsText(c.Args()), "succeeded") {
			if h.slow.Add(-1) >= 0 {
				time.Sleep(100 * time.Millisecond)
			}
			return
		}
	}
}

func (h *failOne) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *failOne) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.hold([]redis.Cmder{cmd})
		err := next(ctx, cmd)
		h.mark([]redis.Cmder{cmd})
		if err == nil { // go-redis sets a command's error to what its hook returns
			err = cmd.Err()
		}
		return err
	}
}
func (h *failOne) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.hold(cmds)
		err := next(ctx, cmds)
		h.mark(cmds)
		return err
	}
}

func (h *failOne) mark(cmds []redis.Cmder) {
	finishes := int64(0)
	for _, c := range cmds {
		args := argsText(c.Args())
		if (c.Name() != "evalsha" && c.Name() != "eval") || !strings.Contains(args, "succeeded") {
			continue
		}
		finishes++
		if strings.Contains(args, h.victim) {
			c.SetErr(errInjected)
		}
	}
	for {
		old := h.largest.Load()
		if finishes <= old || h.largest.CompareAndSwap(old, finishes) {
			return
		}
	}
}

// argsText prints a command's arguments, those passed by pointer too.
func argsText(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case *string:
			parts[i] = *v
		case *int64:
			parts[i] = fmt.Sprint(*v)
		case *int:
			parts[i] = fmt.Sprint(*v)
		default:
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, " ")
}

// Finishes that end together share a pipeline, and each reads its own
// reply: a failed reply fails its own finish and no other.
func TestBatchedFinishesReportEachOwnOutcome(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Redis.Queue()
		const n = 64
		for i := range n {
			rqEnqueue(t, q, rqMsg("batch", fmt.Sprintf("t%02d", i)), time.Time{})
		}
		ds := rqTake(t, q, "batch", n)
		if len(ds) != n {
			t.Fatalf("took %d, want %d", len(ds), n)
		}
		victim := ds[n/2]
		finals := make([]*task.FinalWrites, n)
		for i, d := range ds {
			finals[i] = rqFinal(t, b, d, "lock-"+d.ID)
		}
		hook := &failOne{victim: victim.ID}
		hook.slow.Store(2) // both pipelines in flight
		b.Client.AddHook(hook)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, d := range ds {
			wg.Go(func() {
				<-start
				errs[i] = q.Finish(t.Context(), d, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: finals[i]})
			})
		}
		close(start)
		wg.Wait()
		for i, d := range ds {
			if d == victim {
				if !errors.Is(errs[i], errInjected) {
					t.Errorf("the victim's finish: %v, want its injected error", errs[i])
				}
				continue
			}
			if errs[i] != nil {
				t.Errorf("finish of %s: %v, want nil: another's failure marked it", d.ID, errs[i])
			}
		}
		if got := hook.largest.Load(); got < 2 {
			t.Errorf("at most %d finishes shared a pipeline, want several: the case was not exercised", got)
		}
		t.Logf("up to %d finishes shared one pipeline", hook.largest.Load())
		b.RequireNoLocks(t)
	})
}

// Finished entries are acknowledged, not deleted: Recover trims them, so
// the stream is empty again soon after a drain.
func TestStreamIsTrimmedAfterADrain(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Redis.Queue()
		const n = 500
		for i := range n {
			rqEnqueue(t, q, rqMsg("trim", fmt.Sprintf("t%03d", i)), time.Time{})
		}
		for done := 0; done < n; {
			ds := rqTake(t, q, "trim", 100)
			if len(ds) == 0 {
				t.Fatalf("took none after %d of %d", done, n)
			}
			for _, d := range ds {
				rqFinish(t, q, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
			}
			done += len(ds)
		}
		stream := b.Prefix() + "queue:{trim}"
		if l := b.Client.XLen(t.Context(), stream).Val(); l != n {
			t.Fatalf("before a Recover the stream holds %d entries, want the %d finished", l, n)
		}
		if _, err := q.Recover(t.Context(), "trim", time.Minute, 100); err != nil {
			t.Fatal(err)
		}
		if l := b.Client.XLen(t.Context(), stream).Val(); l != 0 {
			t.Fatalf("after a drain and a Recover the stream holds %d entries, want 0", l)
		}
		// One pending entry keeps itself and what follows.
		rqEnqueue(t, q, rqMsg("trim", "pending"), time.Time{})
		rqEnqueue(t, q, rqMsg("trim", "ready"), time.Time{})
		if ds := rqTake(t, q, "trim", 1); len(ds) != 1 || ds[0].ID != "pending" {
			t.Fatalf("took %v", ds)
		}
		if _, err := q.Recover(t.Context(), "trim", time.Minute, 100); err != nil {
			t.Fatal(err)
		}
		if l := b.Client.XLen(t.Context(), stream).Val(); l != 2 {
			t.Fatalf("with one pending and one ready, the stream holds %d entries after a Recover, want 2", l)
		}
	})
}
