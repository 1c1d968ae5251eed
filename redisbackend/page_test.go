package redisbackend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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

// The finished listing reads the queue's index of ended tasks: every way
// a task ends lists it (a finish of each status, a cancel), the latest
// first; an entry whose state no longer says ended (requeued from the
// dead letters, or expired) is skipped; Recover trims the entries older
// than the state TTL; and paging goes through tasks that ended in the
// same microsecond one by one, none twice.
func TestFinishedListingReadsTheEndedIndex(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		q := b.Queue
		ended := b.Prefix() + "queue:{idx}:ended"
		for _, id := range []string{"a", "b", "c", "d"} {
			rqEnqueue(t, q, rqMsg("idx", id), time.Time{})
		}
		rqEnqueue(t, q, rqMsg("idx", "later"), time.Now().Add(time.Hour))
		for _, d := range rqTake(t, q, "idx", 4) {
			status := map[string]queue.Status{"a": queue.Succeeded, "b": queue.Failed, "c": queue.Dead, "d": queue.Skipped}[d.ID]
			rqFinish(t, q, d, queue.Outcome{Status: status, Attempt: 1, Kind: "k", Error: "e"})
			time.Sleep(time.Millisecond) // each its own end time
		}
		if _, err := q.Cancel(ctx, "idx", "later"); err != nil {
			t.Fatal(err)
		}
		list := func(tq queue.TaskQuery) (ids []string, next string) {
			t.Helper()
			tq.Set = queue.FinishedTasks
			p, err := q.ListTasks(ctx, "idx", tq)
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range p.Tasks {
				ids = append(ids, ti.ID)
			}
			return ids, p.Next
		}
		if got, _ := list(queue.TaskQuery{}); fmt.Sprint(got) != "[later d c b a]" {
			t.Fatalf("finished: %v, want [later d c b a], the latest first", got)
		}
		for _, c := range []struct {
			tq   queue.TaskQuery
			want string
		}{
			{queue.TaskQuery{Status: queue.Failed}, "[b]"},
			{queue.TaskQuery{Kind: "queue.canceled"}, "[later]"},
			{queue.TaskQuery{Search: "LATER"}, "[later]"},
			{queue.TaskQuery{Task: "email", Status: queue.Dead}, "[c]"},
			{queue.TaskQuery{Task: "sms"}, "[]"},
		} {
			if got, _ := list(c.tq); fmt.Sprint(got) != c.want && !(c.want == "[]" && got == nil) {
				t.Errorf("finished, %+v: %v, want %s", c.tq, got, c.want)
			}
		}

		if _, _, err := q.RequeueDead(ctx, "idx", "c"); err != nil {
			t.Fatal(err)
		}
		if err := b.Client.Del(ctx, b.Prefix()+"queue:{idx}:task:a").Err(); err != nil { // as if expired
			t.Fatal(err)
		}
		if got, _ := list(queue.TaskQuery{}); fmt.Sprint(got) != "[later d b]" {
			t.Fatalf("finished, c requeued and a's state gone: %v, want [later d b]", got)
		}

		old := -time.Now().Add(-queue.DefaultStateTTL - time.Minute).UnixMicro()
		if err := b.Client.ZAdd(ctx, ended, redis.Z{Score: float64(old), Member: "old"}).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Recover(ctx, "idx", time.Minute, 10); err != nil {
			t.Fatal(err)
		}
		if n, err := b.Client.ZScore(ctx, ended, "old").Result(); err != redis.Nil {
			t.Fatalf("an entry older than the state TTL after Recover: score %v, %v; want it trimmed", n, err)
		}
		if n := b.Client.ZCard(ctx, ended).Val(); n != 5 {
			t.Fatalf("entries after Recover: %d, want the 5 within the state TTL kept", n)
		}

		tie := -time.Now().Add(time.Minute).UnixMicro() // the latest of all
		for _, id := range []string{"t3", "t1", "t2"} {
			b.Client.HSet(ctx, b.Prefix()+"queue:{idx}:task:"+id, "task", "email", "status", "succeeded", "fin", -tie)
			b.Client.ZAdd(ctx, ended, redis.Z{Score: float64(tie), Member: id})
		}
		var paged []string
		tq := queue.TaskQuery{Limit: 1}
		for range 10 {
			ids, next := list(tq)
			paged = append(paged, ids...)
			if next == "" {
				break
			}
			tq.After = next
		}
		if fmt.Sprint(paged) != "[t1 t2 t3 later d b]" {
			t.Fatalf("paged one by one: %v, want [t1 t2 t3 later d b]", paged)
		}
	})
}
