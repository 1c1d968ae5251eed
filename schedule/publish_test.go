package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// A scheduler that publishes shows each entry's schedule, task, queue,
// next and last tick and missed ticks on the backend, and withdraws them
// when it stops.
func TestPublish(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		at := func(min, sec int) time.Time { return time.Date(2026, 11, 25, 10, min, sec, 0, time.UTC) }
		c := &clock{t: at(0, 30)}
		rec := newTicks()
		noop := task.New("noop", func(ctx context.Context, _ int) (int, error) { return 0, nil })
		s := schedule.New(worker.NewClient(b.Queue, nil), schedule.Clock(c.Now), schedule.OnTick(rec.record),
			schedule.Publish(b.Queue, "host-1"))
		schedule.Add(s, "noop", schedule.Every(time.Minute), noop, 0, schedule.MissedTicks(schedule.Skip),
			schedule.EnqueueOptions(worker.OnQueue("chores")))
		stop := start(t, s)
		// It publishes as it starts: then move the clock.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if es, err := b.Queue.Schedules(t.Context()); err == nil && len(es) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the scheduler did not publish as it started")
			}
		}
		c.Set(at(5, 30))
		rec.waitN(t, 1) // missed 10:05
		c.Set(at(6, 0).Add(10 * time.Millisecond))
		rec.waitN(t, 2) // enqueued 10:06

		var got queue.ScheduleEntry
		deadline := time.Now().Add(10 * time.Second)
		for got.Last != at(6, 0) {
			if time.Now().After(deadline) {
				t.Fatalf("published %+v; want the tick of 10:06", got)
			}
			es, err := b.Queue.Schedules(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 1 {
				got = es[0]
				got.Last = got.Last.UTC()
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got.Name != "noop" || got.Spec != "every 1m0s" || got.Task != "noop" || got.Queue != "chores" ||
			got.Scheduler != "host-1" || got.LastStatus != "enqueued" || got.Missed != 1 || !got.Next.Equal(at(7, 0)) {
			t.Errorf("published %+v; want noop every minute on chores, enqueued at 10:06 after one missed, next at 10:07", got)
		}
		stop()
		if es, err := b.Queue.Schedules(t.Context()); err != nil || len(es) != 0 {
			t.Errorf("after Run returned: %+v, %v; want the entries withdrawn", es, err)
		}
	})
}
