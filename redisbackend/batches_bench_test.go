package redisbackend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// BenchmarkBatch100 measures a batch of 100 grouped tasks on a real Redis:
// "enqueue", their EnqueueMany into their group; "run", once they wait
// there, its FlushGroups (shared with the other batches flushed in the
// same call), Take, StartBatch and FinishBatch (each member succeeded).
// redis-cmds/op counts the commands the scripts call, per batch; the
// round trips are one per call (TestBatchesBySizeThenDelay).
func BenchmarkBatch100(b *testing.B) {
	b.Run("enqueue", func(b *testing.B) {
		c, prefix := taskwaretest.Redis(b)
		q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
		b.ReportAllocs()
		cpu := redisCPU(b, c)
		for i := range b.N {
			enqueueBatch100(b, q, i)
		}
		b.StopTimer()
		cpu(b.N)
	})
	b.Run("run", benchmarkBatchRun)
}

// enqueueBatch100 enqueues 100 grouped tasks, of group i.
func enqueueBatch100(b *testing.B, q *redisbackend.Queue, i int) {
	ms := make([]*queue.Message, 0, 100)
	for j := range 100 {
		ms = append(ms, &queue.Message{ID: fmt.Sprint("t", i, "-", j), Task: "sum", Queue: "bench",
			Payload: []byte(`"a@example.com"`), Group: fmt.Sprint("k", i)})
	}
	if _, err := q.EnqueueMany(b.Context(), ms, time.Time{}); err != nil {
		b.Fatal(err)
	}
}

func benchmarkBatchRun(b *testing.B) {
	const size = 100
	c, prefix := taskwaretest.Redis(b)
	q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
	ctx := b.Context()
	for i := range b.N {
		enqueueBatch100(b, q, i)
	}
	policy := []queue.GroupPolicy{{Task: "sum", Size: size, Delay: time.Hour}}
	done := make([]queue.Outcome, size)
	for i := range done {
		done[i] = queue.Outcome{Status: queue.Succeeded, Attempt: 1}
	}
	b.ReportAllocs()
	cpu := redisCPU(b, c)
	b.ResetTimer()
	for made := 0; made < b.N; {
		n, err := q.FlushGroups(ctx, "bench", policy, time.Now())
		if err != nil || n == 0 {
			b.Fatalf("FlushGroups = %d, %v", n, err)
		}
		made += n
		ds := takeAll(b, q, n)
		for _, d := range ds {
			members, err := q.StartBatch(ctx, d, "w", time.Now())
			if err != nil || len(members) != size {
				b.Fatalf("StartBatch = %d, %v", len(members), err)
			}
			if err := q.FinishBatch(ctx, d, members, done); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	cpu(b.N)
}
