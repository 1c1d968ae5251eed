package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkLockPair measures one acquire+release pair per op, for each
// library, on 1 goroutine (seq) and on 32 (par32), each goroutine on a key
// of its own. allocs/op is allocations per pair.
func BenchmarkLockPair(b *testing.B) {
	client, base := testRedis(b)
	ctx := context.Background()
	for _, lib := range Libs {
		b.Run(lib.Name, func(b *testing.B) {
			for _, g := range []struct {
				name string
				n    int
			}{{"seq", 1}, {"par32", 32}} {
				b.Run(g.name, func(b *testing.B) {
					prefix := base + lib.Name + ":"
					c, err := lib.Open(client, prefix, 10*time.Second)
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					keys := Keys(prefix, g.n)
					if _, err := Drive(ctx, c, keys, Budget(int64(len(keys)))); err != nil { // warm up
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					if _, err := Drive(ctx, c, keys, Budget(int64(b.N))); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
				})
			}
		})
	}
}

// BenchmarkDrain runs b.N no-op tasks through each task queue, 32 at once,
// enqueued first (not timed): ns/op is the drain's time per task,
// trips/task its round trips to Redis per task, allocs/task this process's
// allocations per task while they ran, and redis-us/task the Redis
// server's CPU time per task (all of it: a shared server's other work
// counts). Run it with a fixed count, -benchtime=20000x say.
func BenchmarkDrain(b *testing.B) {
	trips := new(Trips)
	client, base := testRedis(b, trips.Count)
	asynqClient := testConnect(b, trips.Count, testAsynqDB(b))
	ctx := context.Background()
	for i, lib := range QueueLibs {
		b.Run(lib.Name, func(b *testing.B) {
			b.StopTimer()
			q, err := lib.Open(Env{Client: client, AsynqClient: asynqClient, Prefix: fmt.Sprintf("%s%d:", base, i), Concurrency: 32})
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			if err := q.Enqueue(ctx, b.N); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := Drain(ctx, q, b.N, Meter{Trips: trips, Server: client})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(res.Elapsed.Nanoseconds())/float64(b.N), "ns/op")
			b.ReportMetric(res.PerSec(), "tasks/s")
			b.ReportMetric(res.TripsPerTask(), "trips/task")
			b.ReportMetric(res.AllocsPerTask(), "allocs/task")
			b.ReportMetric(res.RedisMicrosPerTask(), "redis-us/task")
		})
	}
}
