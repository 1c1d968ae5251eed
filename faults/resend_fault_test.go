package faults_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/worker"
)

// Each kind of call runs a thousand times with its reply dropped: Redis
// runs it, the connection breaks before the reply arrives, and go-redis
// sends it again. Every call must still answer as if it ran once: no
// duplicate for a fresh ID, no "locked" for the caller's own lock, no "not
// held" for its own release, no message lost to a Take, no dead letter
// written twice, no "too late" for the task the Cancel itself ended (and
// its EventCanceled published), no "0 requeued" or "0 deleted" for the
// dead letters the call itself requeued or deleted.
func TestFaultResentCalls(t *testing.T) {
	const n = 1000
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix))
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix))
	ctx := context.Background()
	var canceledEvents atomic.Int64
	canceler := worker.NewClient(faulty.Queue(), nil, worker.OnEvent(func(e worker.Event) {
		if e.Kind == worker.EventCanceled {
			canceledEvents.Add(1)
		}
	}))
	// dead makes task id of queue name a dead letter.
	dead := func(name, id string) error {
		if err := clean.Queue().Enqueue(ctx, &queue.Message{ID: id, Task: "t", Queue: name, Attempt: 1}, time.Time{}); err != nil {
			return fmt.Errorf("setting up: %w", err)
		}
		ds, err := clean.Queue().Take(ctx, name, "c", 1, 0)
		if err != nil || len(ds) != 1 {
			return fmt.Errorf("setting up: %d, %v", len(ds), err)
		}
		if err := clean.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"}); err != nil {
			return fmt.Errorf("setting up: %w", err)
		}
		return nil
	}
	// Every call here is a script but a Take, a plain XREADGROUP and a script.
	scripts := func(cmd []string) bool { return cmd[0] == "evalsha" || cmd[0] == "eval" || cmd[0] == "xreadgroup" }

	kinds := []resentCall{
		{"enqueue", "ErrDuplicate", func(i int) error {
			return faulty.Queue().Enqueue(ctx, &queue.Message{ID: fmt.Sprint("e", i), Task: "t", Queue: "enq", Attempt: 1}, time.Time{})
		}, nil},
		{"unique enqueue", "ErrDuplicate", func(i int) error {
			return faulty.Queue().Enqueue(ctx, &queue.Message{ID: fmt.Sprint("u", i), Task: "t", Queue: "enq", Attempt: 1,
				Unique: fmt.Sprint("key", i), UniqueFor: time.Minute}, time.Time{})
		}, nil},
		{"enqueue many", "ErrDuplicate", func(i int) error {
			ms := []*queue.Message{
				{ID: fmt.Sprint("m", i, "a"), Task: "t", Queue: "enq", Attempt: 1},
				{ID: fmt.Sprint("m", i, "b"), Task: "t", Queue: "enq", Attempt: 1},
			}
			errs, err := faulty.Queue().EnqueueMany(ctx, ms, time.Time{})
			if err != nil {
				return err
			}
			return errors.Join(errs...)
		}, nil},
		{"acquire", "ErrLocked", func(i int) error {
			_, err := faulty.Locker().TryAcquire(ctx, fmt.Sprint("a", i), time.Minute)
			return err
		}, nil},
		{"release", "ErrNotHeld", func(i int) error {
			lease, err := clean.Locker().TryAcquire(ctx, fmt.Sprint("r", i), time.Minute)
			if err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			return faulty.Locker().Release(ctx, lease)
		}, func() error {
			if held, err := clean.Locker().Held(ctx); err != nil || len(held) > n { // the acquire test's are held
				return fmt.Errorf("%d locks held, %v", len(held), err)
			}
			return nil
		}},
		{"take", "message lost", func(i int) error {
			id := fmt.Sprint("t", i)
			if err := clean.Queue().Enqueue(ctx, &queue.Message{ID: id, Task: "t", Queue: "take", Attempt: 1}, time.Time{}); err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			ds, err := faulty.Queue().Take(ctx, "take", "c", 10, 0)
			if err != nil {
				return err
			}
			if len(ds) != 1 || ds[0].ID != id {
				return fmt.Errorf("Take handed out %d messages, want %s", len(ds), id)
			}
			return clean.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		}, nil},
		{"finish", "ErrSuperseded", func(i int) error {
			d, err := takeFresh(ctx, clean, "fin", fmt.Sprint("f", i))
			if err != nil {
				return err
			}
			return faulty.Queue().Finish(ctx, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		}, nil},
		{"retry", "ErrSuperseded", func(i int) error {
			d, err := takeFresh(ctx, clean, "retry", fmt.Sprint("r", i))
			if err != nil {
				return err
			}
			return faulty.Queue().Finish(ctx, d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, Retry: true,
				RunAt: time.Now().Add(time.Hour), Kind: "k", Error: "e"})
		}, nil},
		{"finish taken over", "success of a finish superseded", func(i int) error {
			slow, err := takeFresh(ctx, clean, "over", fmt.Sprint("o", i))
			if err != nil {
				return err
			}
			if n, err := clean.Queue().Recover(ctx, "over", 0, 10); err != nil || n != 1 {
				return fmt.Errorf("setting up: recovered %d, %v", n, err)
			}
			ds, err := clean.Queue().Take(ctx, "over", "fast", 1, 0)
			if err != nil || len(ds) != 1 {
				return fmt.Errorf("setting up: %d, %v", len(ds), err)
			}
			if i%2 == 0 { // the new delivery's finish first, or last
				if err := clean.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1}); err != nil {
					return fmt.Errorf("setting up: %w", err)
				}
			}
			err = faulty.Queue().Finish(ctx, slow, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
			if !errors.Is(err, queue.ErrSuperseded) {
				return fmt.Errorf("Finish of a delivery taken over = %v, want ErrSuperseded", err)
			}
			if i%2 == 1 {
				return clean.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
			}
			return nil
		}, nil},
		{"dead letter", "dead letter written twice", func(i int) error {
			id := fmt.Sprint("d", i)
			if err := clean.Queue().Enqueue(ctx, &queue.Message{ID: id, Task: "t", Queue: "dead", Attempt: 1}, time.Time{}); err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			ds, err := clean.Queue().Take(ctx, "dead", "c", 1, 0)
			if err != nil || len(ds) != 1 {
				return fmt.Errorf("setting up: %d, %v", len(ds), err)
			}
			return faulty.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
		}, func() error {
			dls, err := clean.Queue().DeadLetters(ctx, "dead", 2*n)
			if err != nil || len(dls) != n {
				return fmt.Errorf("%d dead letters for %d tasks, %v", len(dls), n, err)
			}
			return nil
		}},
		{"cancel", "too late", func(i int) error {
			id := fmt.Sprint("c", i)
			if err := clean.Queue().Enqueue(ctx, &queue.Message{ID: id, Task: "t", Queue: "cancel", Attempt: 1}, time.Time{}); err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			out, err := canceler.Cancel(ctx, "cancel", id)
			if err == nil && out != queue.CancelDone {
				err = fmt.Errorf("Cancel = %q, want %q", out, queue.CancelDone)
			}
			return err
		}, func() error {
			// Events reach subscribers in the background: a deadline.
			for deadline := time.Now().Add(5 * time.Second); canceledEvents.Load() < n && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			st, err := clean.Queue().Stats(ctx, "cancel")
			if got := canceledEvents.Load(); got != n || err != nil || st.Ready != 0 {
				return fmt.Errorf("%d EventCanceled for %d cancels, %v ready left, %v", got, n, st, err)
			}
			return nil
		}},
		{"requeue dead", `"0 requeued"`, func(i int) error {
			id := fmt.Sprint("q", i)
			if err := dead("requeue", id); err != nil {
				return err
			}
			done, kept, err := faulty.Queue().RequeueDead(ctx, "requeue", id)
			if err != nil {
				return err
			}
			if !slices.Equal(done, []string{id}) || len(kept) != 0 {
				return fmt.Errorf("RequeueDead(%s) = %q, %q; want it requeued", id, done, kept)
			}
			// Requeued once: one ready task, run to its end.
			ds, err := clean.Queue().Take(ctx, "requeue", "c", 10, 0)
			if err != nil || len(ds) != 1 || ds[0].ID != id {
				return fmt.Errorf("after RequeueDead(%s), Take = %d tasks, %v; want it alone", id, len(ds), err)
			}
			return clean.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		}, func() error {
			st, err := clean.Queue().Stats(ctx, "requeue")
			if err != nil || st.Ready != 0 || st.Dead != 0 {
				return fmt.Errorf("after %d requeues: %+v, %v; want nothing ready, no dead letter", n, st, err)
			}
			return nil
		}},
		{"purge dead", `"0 deleted"`, func(i int) error {
			id := fmt.Sprint("p", i)
			if err := dead("purge", id); err != nil {
				return err
			}
			deleted, err := faulty.Queue().PurgeDead(ctx, "purge", id)
			if err == nil && deleted != 1 {
				err = fmt.Errorf("PurgeDead(%s) = %d, want 1", id, deleted)
			}
			return err
		}, func() error {
			if st, err := clean.Queue().Stats(ctx, "purge"); err != nil || st.Dead != 0 {
				return fmt.Errorf("after %d purges: %+v, %v; want no dead letter", n, st, err)
			}
			return nil
		}},
	}
	resend(t, p, scripts, n, "", kinds)
}

// takeFresh enqueues a message id on queue name and takes it, as consumer
// "slow".
func takeFresh(ctx context.Context, b *redisbackend.Backend, name, id string) (*queue.Delivery, error) {
	if err := b.Queue().Enqueue(ctx, &queue.Message{ID: id, Task: "t", Queue: name, Attempt: 1}, time.Time{}); err != nil {
		return nil, fmt.Errorf("setting up: %w", err)
	}
	ds, err := b.Queue().Take(ctx, name, "slow", 1, 0)
	if err != nil || len(ds) != 1 {
		return nil, fmt.Errorf("setting up: %d, %v", len(ds), err)
	}
	return ds[0], nil
}
