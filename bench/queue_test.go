package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// TestQueueLibs drains 200 tasks through each contender on the real Redis,
// then 200 more enqueued by EnqueueSerial: every task runs exactly once
// (Drain checks it), the contenders that keep results kept one per task,
// the bare ones none, and none leaves a key behind once closed.
func TestQueueLibs(t *testing.T) {
	const n = 200
	trips := new(Trips)
	client, base := testRedis(t, trips.Count)
	asynqClient := testConnect(t, trips.Count, testAsynqDB(t))
	for i, lib := range QueueLibs {
		t.Run(lib.Name, func(t *testing.T) {
			prefix := fmt.Sprintf("%s%d:", base, i)
			q, err := lib.Open(Env{Client: client, AsynqClient: asynqClient, Prefix: prefix, Concurrency: 32})
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					q.Close()
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := q.Enqueue(ctx, n); err != nil {
				t.Fatal(err)
			}
			res, err := Drain(ctx, q, n, Meter{Trips: trips, Server: client})
			if err != nil {
				t.Fatal(err)
			}
			if res.Tasks != n || res.Elapsed <= 0 || res.Trips <= 0 || res.Mallocs < n || res.RedisCPU <= 0 {
				t.Errorf("Drain = %+v", res)
			}

			want := 0
			if !strings.Contains(lib.Name, "bare") {
				want = n
			}
			if got := kept(t, q); got != want {
				t.Errorf("%d results kept, want %d", got, want)
			}

			// Again, enqueued from one goroutine in batches of 7 where
			// the library can batch: every argument once, none lost at
			// the batches' edges.
			if err := q.EnqueueSerial(ctx, 0, n, 7); err != nil {
				t.Fatal(err)
			}
			if _, err := Drain(ctx, q, n, Meter{}); err != nil {
				t.Fatalf("after EnqueueSerial: %v", err)
			}

			closed = true
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			if k := countKeys(t, client, prefix); k != 0 {
				t.Errorf("%d keys left under %s", k, prefix)
			}
			if k := countKeys(t, asynqClient, "asynq:"); k != 0 {
				t.Errorf("%d asynq keys left in DB %d", k, asynqClient.Options().DB)
			}
		})
	}
}

// TestQueueLibsPairs checks that every contender is paired with a peer of
// QueueLibs doing the same work: a bare one with a bare peer, one that
// keeps results with one that keeps them.
func TestQueueLibsPairs(t *testing.T) {
	for _, lib := range QueueLibs {
		pair, ok := QueueLibNamed(lib.Pair)
		if !ok || !pair.Peer {
			t.Errorf("%s: pair %q is not a peer of QueueLibs", lib.Name, lib.Pair)
			continue
		}
		if lib.Peer && pair.Name != lib.Name {
			t.Errorf("%s: a peer paired with %s, want itself", lib.Name, pair.Name)
		}
		if bare := strings.Contains(lib.Name, "bare"); bare != strings.Contains(pair.Name, "bare") {
			t.Errorf("%s paired with %s: not the same work", lib.Name, pair.Name)
		}
	}
}

// kept returns how many results q keeps.
func kept(t *testing.T, q TaskQueue) int {
	t.Helper()
	switch q := q.(type) {
	case *taskwareQueue:
		c, ok := q.keys.(*redis.Client)
		if !ok {
			t.Fatalf("kept counts on one Redis, not on a %T", q.keys)
		}
		return countKeys(t, c, q.prefix+"result:")
	case *asynqQueue:
		info, err := asynq.NewInspectorFromRedisClient(q.rdb).GetQueueInfo(q.queue)
		if err != nil {
			t.Fatal(err)
		}
		return info.Completed
	}
	t.Fatalf("unknown TaskQueue %T", q)
	return 0
}
