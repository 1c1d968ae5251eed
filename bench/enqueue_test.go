package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestEnqueueRate enqueues 200 tasks each way from one goroutine on the
// real Redis: one call per task costs a round trip per task, a batch of
// 1,000 a few for all of them, and no key is left behind.
func TestEnqueueRate(t *testing.T) {
	const n = 200
	trips := new(Trips)
	client, base := testRedis(t, trips.Count)
	asynqClient := testConnect(t, trips.Count, testAsynqDB(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, way := range EnqueueWays {
		t.Run(way.Name, func(t *testing.T) {
			prefix := fmt.Sprintf("%s%d:", base, i)
			env := Env{Client: client, AsynqClient: asynqClient, Prefix: prefix}
			// One task first, not measured, so that the scripts are in
			// Redis's cache: on a fresh Redis the first EVALSHA fails
			// with NOSCRIPT and go-redis sends an EVAL after it.
			if _, err := EnqueueRate(ctx, way, env, 1, Meter{}); err != nil {
				t.Fatal(err)
			}
			res, err := EnqueueRate(ctx, way, env, n, Meter{Trips: trips, Server: client})
			if err != nil {
				t.Fatal(err)
			}
			if res.Tasks != n || res.Elapsed <= 0 || res.Mallocs < n || res.RedisCPU <= 0 {
				t.Errorf("EnqueueRate = %+v", res)
			}
			if way.Batch == 1 && res.Trips < n {
				t.Errorf("%d round trips for %d tasks one by one", res.Trips, n)
			}
			// A batch is a round trip, or a few: a connection's
			// handshake counts too.
			if way.Batch >= n && res.Trips > 5 {
				t.Errorf("%d round trips for %d tasks in one batch", res.Trips, n)
			}
			if k := countKeys(t, client, prefix); k != 0 {
				t.Errorf("%d keys left under %s", k, prefix)
			}
			if k := countKeys(t, asynqClient, ""); k != 0 {
				t.Errorf("%d keys left in the asynq DB %d", k, asynqClient.Options().DB)
			}
		})
	}
	if _, err := EnqueueRate(ctx, EnqueueWay{Name: "x", Lib: "no such"}, Env{Client: client}, n, Meter{}); err == nil {
		t.Error("EnqueueRate of an unknown contender: no error")
	}
}
