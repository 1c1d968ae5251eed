package redisbackend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// BenchmarkFinish measures a Finish on a real Redis: a success, and a
// failure retried (which also records the run's attempt, and for the
// retry moves the message to the state).
func BenchmarkFinish(b *testing.B) {
	for _, o := range []queue.Outcome{
		{Status: queue.Succeeded, Attempt: 1},
		{Status: queue.Failed, Attempt: 1, Kind: "boom", Error: "it broke"},
	} {
		b.Run(string(o.Status), func(b *testing.B) {
			c, prefix := taskwaretest.Redis(b)
			q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
			ctx := b.Context()
			ds := make([]*queue.Delivery, 0, b.N)
			for i := range b.N {
				m := &queue.Message{ID: fmt.Sprint("t", i), Task: "email", Queue: "bench", Payload: []byte(`"a@example.com"`)}
				if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
			for len(ds) < b.N {
				got, err := q.Take(ctx, "bench", "c", 500, 0)
				if err != nil {
					b.Fatal(err)
				}
				ds = append(ds, got...)
			}
			b.ResetTimer()
			for _, d := range ds {
				if err := q.Finish(ctx, d, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
