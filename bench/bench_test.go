package bench

import (
	"context"
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
