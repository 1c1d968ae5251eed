package redisbackend_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// Where the Redis backend once did otherwise than the memory backend: each
// test runs over both.

// The record a run's StoreResult writes is written whatever the run's
// outcome, a retry too: the failure of a run that Retry schedules again is
// in the store until the next run replaces it.
func TestStoredFailureOfARetriedRun(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		tk := task.New("flaky", func(ctx context.Context, _ int) (int, error) { return 0, errors.New("boom") },
			middleware.Retry(2, middleware.RetryBackoff(time.Hour, time.Hour)), middleware.StoreResult(b.Store))
		c := worker.NewClient(b.Queue, b.Store)
		h, err := worker.Enqueue(ctx, c, tk, 1)
		if err != nil {
			t.Fatal(err)
		}
		finWorker(t, b, tk)
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, err := h.State(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status == queue.Scheduled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the run was not scheduled again within 5s: %+v", st)
			}
			time.Sleep(10 * time.Millisecond)
		}
		rec, err := b.Store.Get(ctx, h.Queue, h.ID)
		if err != nil {
			t.Fatalf("the failure of the retried run: %v", err)
		}
		if rec.Status != store.Failed || rec.Attempt != 1 || rec.Error != "boom" {
			t.Fatalf("the record of the retried run: %+v, want its failure, attempt 1", rec)
		}
	})
}

// A unique key without a window of its own holds for the backend's state
// TTL, not the default one.
func TestUniqueKeyWindowIsTheStateTTL(t *testing.T) {
	const ttl = time.Hour
	for _, name := range taskwaretest.Names {
		t.Run(name, func(t *testing.T) {
			var q queue.Queue
			var after func() // moves past the state TTL, or checks the key's TTL
			switch name {
			case "memory":
				var offset time.Duration
				m := memorybackend.New(memorybackend.WithStateTTL(ttl),
					memorybackend.WithClock(func() time.Time { return time.Now().Add(offset) }))
				q, after = m.Queue(), func() { offset = ttl + time.Minute }
			case "miniredis":
				mr := taskwaretest.Miniredis(t)
				c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
				t.Cleanup(func() { c.Close() })
				q, after = redisbackend.New(c, redisbackend.WithStateTTL(ttl)).Queue(), func() { mr.FastForward(ttl + time.Minute) }
			case "redis":
				c, prefix := taskwaretest.Redis(t)
				q = redisbackend.New(c, redisbackend.WithPrefix(prefix), redisbackend.WithStateTTL(ttl)).Queue()
				after = func() {
					// A real Redis's clock cannot move: the key must expire
					// within the state TTL.
					left := c.PTTL(t.Context(), prefix+"queue:{u}:unique:k").Val()
					if left <= 0 || left > ttl {
						t.Fatalf("the unique key expires in %v, want within the state TTL %v", left, ttl)
					}
					c.Del(t.Context(), prefix+"queue:{u}:unique:k")
				}
			}
			msg := func(id string) *queue.Message {
				return &queue.Message{ID: id, Task: "t", Queue: "u", Attempt: 1, Unique: "k"}
			}
			if err := q.Enqueue(t.Context(), msg("a"), time.Time{}); err != nil {
				t.Fatal(err)
			}
			if err := q.Enqueue(t.Context(), msg("b"), time.Time{}); !errors.Is(err, queue.ErrDuplicate) {
				t.Fatalf("a second task with the key, at once: %v, want ErrDuplicate", err)
			}
			after()
			if err := q.Enqueue(t.Context(), msg("c"), time.Time{}); err != nil {
				t.Fatalf("a task with the key past the state TTL: %v", err)
			}
		})
	}
}
