package redisbackend_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// A progress write whose reply is lost, and so may be sent again, answers
// as if sent once: the report stands while the task runs, and a late one
// after the finish, dropped and resent, resurrects nothing.
func TestProgressResent(t *testing.T) {
	for _, name := range redisNames {
		t.Run(name, func(t *testing.T) {
			addr, prefix := "", "taskware-test:"+strings.ReplaceAll(t.Name(), "/", "_")+":"
			if name == "miniredis" {
				addr = taskwaretest.Miniredis(t).Addr()
			} else {
				c, p := taskwaretest.Redis(t)
				addr, prefix = c.Options().Addr, p
			}
			p := taskwaretest.NewProxy(t, addr)
			c := redis.NewClient(&redis.Options{Addr: p.Addr(), MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond})
			t.Cleanup(func() { c.Close() })
			b := redisbackend.New(c, redisbackend.Prefix(prefix))
			t.Cleanup(func() { taskwaretest.DeletePrefix(t, c, prefix) })
			ctx := context.Background()
			q := b.Queue()
			if err := q.Enqueue(ctx, &queue.Message{ID: "r-1", Task: "index", Queue: "pg"}, time.Time{}); err != nil {
				t.Fatal(err)
			}
			ds, err := q.Take(ctx, "pg", "w1", 1, 0)
			if err != nil || len(ds) != 1 {
				t.Fatalf("Take = %v, %v", ds, err)
			}
			d := ds[0]
			q.Started(ctx, d, "w1", time.Now())
			marked := func(msg string) func(cmd []string) bool {
				return func(cmd []string) bool { return slices.Contains(cmd, msg) }
			}
			progress := func() *queue.Progress {
				st, err := q.State(ctx, "pg", "r-1")
				if err != nil {
					t.Fatal(err)
				}
				return st.Progress
			}

			p.DropReplies(1, marked("while running"))
			if err := q.Progress(ctx, d, queue.Progress{Done: 4, Total: 10, Message: "while running"}); err != nil {
				t.Fatal(err)
			}
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if pg := progress(); pg != nil && pg.Done == 4 && pg.Message == "while running" {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("progress %+v, want 4/10 while running", progress())
				}
			}
			if err := q.Finish(ctx, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1}); err != nil {
				t.Fatal(err)
			}
			p.DropReplies(1, marked("after the end"))
			if err := q.Progress(ctx, d, queue.Progress{Done: 9, Total: 10, Message: "after the end"}); err != nil {
				t.Fatal(err)
			}
			for end := time.Now().Add(5 * time.Second); p.Dropped() < 2 && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
			if p.Dropped() != 2 {
				t.Fatalf("%d replies dropped, want 2: the test dropped none of a progress write", p.Dropped())
			}
			time.Sleep(100 * time.Millisecond) // past a resend
			st, err := q.State(ctx, "pg", "r-1")
			if err != nil || st.Status != queue.Succeeded || st.Progress != nil {
				t.Fatalf("state %+v, %v after a late report resent; want succeeded, no progress", st, err)
			}
		})
	}
}
