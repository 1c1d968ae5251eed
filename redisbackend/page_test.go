package redisbackend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/taskwaretest"
)

// A search reads at most queue.ScanBudget entries a page: past it, the
// page ends short (here empty) with a cursor, and the next page goes on
// where it stopped and finds the task; a search of the ready tasks and a
// task filter are done in ready.lua, and checked again (a needle found in
// another field, here the task name in a payload, is no match).
func TestListTasksScanBudget(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		n := queue.ScanBudget + 500
		const batch = 1000
		for i := 0; i < n; i += batch {
			var ms []*queue.Message
			for j := i; j < min(n, i+batch); j++ {
				m := &queue.Message{ID: fmt.Sprintf("t%06d", j), Task: "email", Queue: "big",
					Payload: fmt.Appendf(nil, `["sms to %d"]`, j), EnqueuedAt: time.Now()}
				if j == n-1 {
					m.Task = "sms"
				}
				ms = append(ms, m)
			}
			if _, err := b.Queue.EnqueueMany(ctx, ms, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		last := fmt.Sprintf("t%06d", n-1)
		for _, tq := range []queue.TaskQuery{
			{Set: queue.ReadyTasks, Search: last},
			{Set: queue.ReadyTasks, Task: "sms"},
		} {
			p, err := b.Queue.ListTasks(ctx, "big", tq)
			if err != nil || len(p.Tasks) != 0 || p.Next == "" {
				t.Fatalf("ListTasks(%+v), first page: %d tasks, next %q, %v; want none and a cursor", tq, len(p.Tasks), p.Next, err)
			}
			tq.After = p.Next
			p, err = b.Queue.ListTasks(ctx, "big", tq)
			if err != nil || len(p.Tasks) != 1 || p.Tasks[0].ID != last || p.Next != "" {
				t.Fatalf("ListTasks(%+v), second page: %+v, %v; want %s alone, the last page", tq, p, err, last)
			}
		}
	})
}
