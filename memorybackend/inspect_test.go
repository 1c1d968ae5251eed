package memorybackend_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/taskwaretest"
)

// The memory queue's inspection agrees with the Redis queue's, on the same
// history: one ready task, one running, one delayed, one dead letter and
// one finished.
func TestInspectAgreesWithRedis(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		q := b.Queue
		in := q
		enqueue := func(name, id string, at time.Time) {
			t.Helper()
			m := &queue.Message{ID: id, Task: "email", Queue: name, Payload: []byte(id), EnqueuedAt: time.Now()}
			if err := q.Enqueue(ctx, m, at); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"a", "b", "c", "d"} {
			enqueue("q", id, time.Time{})
		}
		enqueue("q", "e", time.Now().Add(time.Hour))
		enqueue("other", "x", time.Time{})
		ds, err := q.Take(ctx, "q", "w1", 3, 0)
		if err != nil || len(ds) != 3 {
			t.Fatalf("Take = %d, %v", len(ds), err)
		}
		for i, o := range map[int]queue.Outcome{
			0: {Status: queue.Dead, Attempt: 1, Kind: "worker.unknown_task", Error: "no such task"},
			2: {Status: queue.Succeeded, Attempt: 1},
		} {
			if err := q.Finish(ctx, ds[i], o); err != nil {
				t.Fatal(err)
			}
		}

		if qs, err := in.Queues(ctx); err != nil || !slices.Equal(qs, []string{"other", "q"}) {
			t.Errorf("Queues = %q, %v", qs, err)
		}
		st, err := in.Stats(ctx, "q")
		if err != nil {
			t.Fatal(err)
		}
		if st.OldestReady <= 0 || st.OldestReady > time.Minute {
			t.Errorf("OldestReady = %v", st.OldestReady)
		}
		st.OldestReady = 0
		if want := (queue.Stats{Queue: "q", Ready: 1, Running: 1, Delayed: 1, Dead: 1, Workers: 1}); *st != want {
			t.Errorf("Stats = %+v, want %+v", *st, want)
		}
		if st, err := in.Stats(ctx, "none"); err != nil || *st != (queue.Stats{Queue: "none"}) {
			t.Errorf("Stats(none) = %+v, %v", st, err)
		}
		ws, err := in.Workers(ctx, "q")
		if err != nil || len(ws) != 1 || ws[0].Name != "w1" || ws[0].Pending != 1 || ws[0].Queue != "q" {
			t.Errorf("Workers = %+v, %v", ws, err)
		}
		for set, want := range map[queue.TaskSet]string{
			queue.ReadyTasks: "d queued", queue.RunningTasks: "b running", queue.DelayedTasks: "e scheduled",
			queue.DeadTasks: "a dead", queue.FinishedTasks: "a dead,c succeeded",
		} {
			ts, err := in.Tasks(ctx, "q", set, 10)
			if err != nil {
				t.Fatalf("Tasks(%s): %v", set, err)
			}
			var got []string
			for _, ti := range ts {
				if ti.Task != "email" || ti.Queue != "q" || ti.Attempt != 1 {
					t.Errorf("Tasks(%s): %+v", set, ti)
				}
				got = append(got, ti.ID+" "+string(ti.Status))
			}
			slices.Sort(got)
			if g := strings.Join(got, ","); g != want {
				t.Errorf("Tasks(%s) = %s, want %s", set, g, want)
			}
		}
		if ts, err := in.Tasks(ctx, "q", queue.RunningTasks, 10); err == nil && (ts[0].Worker != "w1" || ts[0].Idle > time.Minute) {
			t.Errorf("running: %+v", ts[0])
		}
		if ts, err := in.Tasks(ctx, "q", queue.DelayedTasks, 10); err == nil && time.Until(ts[0].RunAt) < 59*time.Minute {
			t.Errorf("delayed: %+v", ts[0])
		}
		if ts, err := in.Tasks(ctx, "q", queue.FinishedTasks, 1); err != nil || len(ts) != 1 {
			t.Errorf("Tasks(finished, 1) = %+v, %v", ts, err)
		}
		if _, err := in.Tasks(ctx, "q", "bogus", 1); err == nil {
			t.Error("Tasks(bogus) gave no error")
		}
	})
}
