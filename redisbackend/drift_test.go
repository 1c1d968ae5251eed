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
				m := memorybackend.New(memorybackend.StateTTL(ttl),
					memorybackend.Clock(func() time.Time { return time.Now().Add(offset) }))
				q, after = m.Queue(), func() { offset = ttl + time.Minute }
			case "miniredis":
				mr := taskwaretest.Miniredis(t)
				c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
				t.Cleanup(func() { c.Close() })
				q, after = redisbackend.New(c, redisbackend.StateTTL(ttl)).Queue(), func() { mr.FastForward(ttl + time.Minute) }
			case "redis":
				c, prefix := taskwaretest.Redis(t)
				q = redisbackend.New(c, redisbackend.Prefix(prefix), redisbackend.StateTTL(ttl)).Queue()
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

// Any time is stored and read back as it was, to the microsecond: before
// 1970 too, and the zero time, which means none.
func TestMessageTimesRoundTrip(t *testing.T) {
	times := []time.Time{
		{},
		time.Unix(0, 0),
		time.UnixMicro(-1),
		time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(2026, 11, 26, 12, 0, 0, 999999000, time.UTC),
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		for i, at := range times {
			m := &queue.Message{ID: string(rune('a' + i)), Task: "t", Queue: "times", Attempt: 1, EnqueuedAt: at, ExpiresAt: at}
			if err := b.Queue.Enqueue(ctx, m, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := b.Queue.Take(ctx, "times", "c", len(times), 0)
		if err != nil || len(ds) != len(times) {
			t.Fatalf("took %d of %d, %v", len(ds), len(times), err)
		}
		for i, d := range ds {
			want := times[i]
			if d.Malformed != nil || !d.ExpiresAt.Equal(want) || !d.EnqueuedAt.Equal(want) || d.ExpiresAt.IsZero() != want.IsZero() {
				t.Errorf("%v came back as enqueued %v, expiring %v (malformed: %v)", want, d.EnqueuedAt, d.ExpiresAt, d.Malformed)
			}
		}
	})
}

// A deadline before 1970 has passed: the run is skipped as expired.
func TestDeadlineBefore1970(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		tk := task.New("old", func(ctx context.Context, _ int) (int, error) { return 1, nil }, middleware.Expires(time.Hour))
		c := worker.NewClient(b.Queue, b.Store)
		h, err := worker.Enqueue(ctx, c, tk, 1, worker.ExpiresAt(time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)))
		if err != nil {
			t.Fatal(err)
		}
		finWorker(t, b, tk)
		if _, err := finGet(h); !errors.Is(err, middleware.ErrExpired) {
			t.Fatalf("the run of a task past a deadline before 1970: %v, want it skipped as expired", err)
		}
	})
}
