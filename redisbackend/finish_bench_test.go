package redisbackend_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
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
			for i := range b.N {
				m := &queue.Message{ID: fmt.Sprint("t", i), Task: "email", Queue: "bench", Payload: []byte(`"a@example.com"`)}
				if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
			ds := takeAll(b, q, b.N)
			b.ReportAllocs()
			cpu := redisCPU(b, c)
			b.ResetTimer()
			for _, d := range ds {
				if err := q.Finish(ctx, d, o); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu(b.N)
		})
	}
}

// BenchmarkFinishStep measures the Finish of a workflow step on a real
// Redis, beside BenchmarkFinish: "edge", the end of the first step of a
// chain of two, whose script also records the step's end in its workflow,
// its result as its child's input, and releases the child, queued; and,
// for comparison, "by-hand", what chaining by hand costs a plain task: its
// Finish, then the Enqueue of the next, in a second round trip.
func BenchmarkFinishStep(b *testing.B) {
	b.Run("edge", func(b *testing.B) {
		c, prefix := taskwaretest.Redis(b)
		q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
		ctx := b.Context()
		for i := range b.N {
			wf := fmt.Sprint("w", i)
			spec := &queue.WorkflowSpec{ID: wf, Name: "chain", Queue: "bench", Digest: "d"}
			for j, name := range []string{"a", "b"} {
				s := &queue.Step{Workflow: wf, Home: "bench", Name: name, Output: j == 1}
				if j == 0 {
					s.Children = []queue.StepRef{{Queue: "bench", Name: "b"}}
				} else {
					s.Parents, s.Bind = []queue.StepRef{{Queue: "bench", Name: "a"}}, task.BindOne
				}
				spec.Steps = append(spec.Steps, &queue.Message{ID: queue.StepID(wf, name), Task: "email", Queue: "bench",
					Payload: []byte(`"a@example.com"`), Step: s})
			}
			if err := q.EnqueueWorkflow(ctx, spec, time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
		ds := takeAll(b, q, b.N)
		o := queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte(`"sent"`)}
		b.ReportAllocs()
		cpu := redisCPU(b, c)
		b.ResetTimer()
		for _, d := range ds {
			if err := q.Finish(ctx, d, o); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cpu(b.N)
		if st, err := q.Stats(ctx, "bench"); err != nil || st.Ready != int64(b.N) {
			b.Fatalf("%+v, %v after %d finishes; want as many children ready", st, err, b.N)
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		c, prefix := taskwaretest.Redis(b)
		q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
		ctx := b.Context()
		msg := func(id string) *queue.Message {
			return &queue.Message{ID: id, Task: "email", Queue: "bench", Payload: []byte(`"a@example.com"`)}
		}
		for i := range b.N {
			if err := q.Enqueue(ctx, msg(fmt.Sprint("a", i)), time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
		ds := takeAll(b, q, b.N)
		o := queue.Outcome{Status: queue.Succeeded, Attempt: 1}
		b.ReportAllocs()
		cpu := redisCPU(b, c)
		b.ResetTimer()
		for i, d := range ds {
			if err := q.Finish(ctx, d, o); err != nil {
				b.Fatal(err)
			}
			if err := q.Enqueue(ctx, msg(fmt.Sprint("b", i)), time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cpu(b.N)
	})
}

// takeAll takes n deliveries of queue bench.
func takeAll(b *testing.B, q *redisbackend.Queue, n int) []*queue.Delivery {
	ds := make([]*queue.Delivery, 0, n)
	for len(ds) < n {
		got, err := q.Take(b.Context(), "bench", "c", 500, 0)
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, got...)
	}
	return ds
}

// redisCPU starts counting the Redis server's CPU time and commands, and
// returns what reports them, per op, as redis-cpu-µs/op and
// redis-cmds/op (the commands a script calls included): the whole
// server's, whoever the work was for.
func redisCPU(b *testing.B, c *redis.Client) func(n int) {
	cpu, cmds := serverLoad(b.Context(), b, c)
	return func(n int) {
		cpu2, cmds2 := serverLoad(b.Context(), b, c)
		b.ReportMetric(float64((cpu2-cpu).Microseconds())/float64(n), "redis-cpu-µs/op")
		b.ReportMetric(float64(cmds2-cmds-1)/float64(n), "redis-cmds/op") // less the first INFO
	}
}

// serverLoad is the CPU time, system and user, the Redis server has used
// since it started (INFO cpu), and the commands it ran (INFO
// commandstats).
func serverLoad(ctx context.Context, b *testing.B, c *redis.Client) (time.Duration, int64) {
	info, err := c.Info(ctx, "cpu", "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	var cmds int64
	for line := range strings.Lines(info) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch {
		case k == "used_cpu_sys" || k == "used_cpu_user":
			secs, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("INFO cpu %s: %v", k, err)
			}
			cpu += time.Duration(secs * float64(time.Second))
		case strings.HasPrefix(k, "cmdstat_"):
			calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
			n, err := strconv.ParseInt(calls, 10, 64)
			if err != nil {
				b.Fatalf("INFO commandstats %s: %v", k, err)
			}
			cmds += n
		}
	}
	return cpu, cmds
}

// BenchmarkEnqueueWorkflow measures the enqueue of a workflow of 10,000
// steps on a real Redis, one call, one round trip (40 scripts in one
// pipeline): a chain, and a fan-in of 9,999 roots into one step. Each op
// is one workflow; redis-cmds/op counts the commands its scripts call.
func BenchmarkEnqueueWorkflow(b *testing.B) {
	const n = 10_000
	for _, shape := range []string{"chain", "fan-in"} {
		b.Run(shape, func(b *testing.B) {
			c, prefix := taskwaretest.Redis(b)
			q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
			specs := make([]*queue.WorkflowSpec, b.N)
			for i := range specs {
				wf := fmt.Sprint("w", i)
				spec := &queue.WorkflowSpec{ID: wf, Name: shape, Queue: "bench", Digest: "d"}
				for j := range n {
					s := &queue.Step{Workflow: wf, Home: "bench", Name: fmt.Sprint("s", j), Output: j == n-1}
					switch {
					case shape == "chain" && j > 0:
						s.Parents, s.Bind = []queue.StepRef{{Queue: "bench", Name: fmt.Sprint("s", j-1)}}, task.BindOne
					case shape == "fan-in" && j == n-1:
						s.Bind = task.BindAll
						for p := range n - 1 {
							s.Parents = append(s.Parents, queue.StepRef{Queue: "bench", Name: fmt.Sprint("s", p)})
						}
					}
					spec.Steps = append(spec.Steps, &queue.Message{ID: queue.StepID(wf, s.Name), Task: "email", Queue: "bench",
						Payload: []byte(`"a@example.com"`), Step: s})
				}
				specs[i] = spec
			}
			b.ReportAllocs()
			cpu := redisCPU(b, c)
			b.ResetTimer()
			for _, spec := range specs {
				if err := q.EnqueueWorkflow(b.Context(), spec, time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu(b.N)
		})
	}
}
