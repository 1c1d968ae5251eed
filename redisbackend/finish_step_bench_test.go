package redisbackend_test

import (
	"fmt"
	"os"
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

// BenchmarkFinishStepCPU measures what a Finish's script costs Redis, in
// µs of the server's own account (INFO commandstats, EVALSHA's usec per
// call: the script and the commands it calls, not the network): "task",
// a plain task's finish, against a workflow step's: "edge", the first of
// a chain of two, which releases its child; "last", the last step of a
// chain of two, which ends the workflow; "fan-in", one of 8 parents of a
// step, which records its input, and for the last of the 8 releases the
// child with all 8.
//
// µs swing with the machine's load; instructions do not. Run Redis under
// valgrind --tool=callgrind --callgrind-out-file=F, and set
// TASKWARE_CALLGRIND="<its pid> F": each run then also reports Ir/op, the
// instructions Redis ran per op (callgrind_control zeroes its counts
// before the loop, and dumps them after). Read it on a Redis of its own
// (TASKWARE_REDIS_URL): another client's scripts would count too.
func BenchmarkFinishStepCPU(b *testing.B) {
	for _, shape := range []string{"task", "edge", "last", "fan-in"} {
		b.Run(shape, func(b *testing.B) {
			c, prefix := taskwaretest.Redis(b)
			q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
			ctx := b.Context()
			o := queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte(`"sent"`)}
			flows := b.N
			if shape == "fan-in" { // each finish one of 8 parents: every 8th releases their child
				flows = (b.N + 7) / 8
			}
			for i := range flows {
				if shape == "task" {
					m := &queue.Message{ID: fmt.Sprint("t", i), Task: "email", Queue: "bench", Payload: []byte(`"a@example.com"`)}
					if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
						b.Fatal(err)
					}
					continue
				}
				if err := q.EnqueueWorkflow(ctx, benchFlow(fmt.Sprint("w", i), shape), time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
			ds := takeAll(b, q, b.N)
			if shape == "last" { // finish the first steps, then take the last ones
				for _, d := range ds {
					if err := q.Finish(ctx, d, o); err != nil {
						b.Fatal(err)
					}
				}
				ds = takeAll(b, q, b.N)
			}
			b.ReportAllocs()
			cpu := redisCPU(b, c)
			calls, usec := evalStats(b, c)
			ir := callgrind(b)
			b.ResetTimer()
			for _, d := range ds {
				if err := q.Finish(ctx, d, o); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			ir(b.N)
			calls2, usec2 := evalStats(b, c)
			cpu(b.N)
			if calls2 > calls {
				b.ReportMetric(float64(usec2-usec)/float64(calls2-calls), "evalsha-µs/call")
			}
			if shape == "last" {
				if w, err := q.Workflow(ctx, "bench", "w0"); err != nil || w.Status != queue.Succeeded {
					b.Fatalf("workflow w0: %+v, %v; want it succeeded", w, err)
				}
			}
		})
	}
}

// benchFlow is workflow id: a chain of two steps, a and b; for "fan-in",
// eight roots and their one child.
func benchFlow(id, shape string) *queue.WorkflowSpec {
	spec := &queue.WorkflowSpec{ID: id, Name: shape, Queue: "bench", Digest: "d"}
	roots := []string{"a"}
	if shape == "fan-in" {
		roots = []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	}
	child := &queue.Step{Workflow: id, Home: "bench", Name: "z", Output: true, Bind: task.BindOne}
	if shape == "fan-in" {
		child.Bind = task.BindAll
	}
	for _, r := range roots {
		s := &queue.Step{Workflow: id, Home: "bench", Name: r, Children: []queue.StepRef{{Queue: "bench", Name: "z"}}}
		child.Parents = append(child.Parents, queue.StepRef{Queue: "bench", Name: r})
		spec.Steps = append(spec.Steps, &queue.Message{ID: queue.StepID(id, r), Task: "email", Queue: "bench",
			Payload: []byte(`"a@example.com"`), Step: s})
	}
	spec.Steps = append(spec.Steps, &queue.Message{ID: queue.StepID(id, "z"), Task: "email", Queue: "bench", Step: child})
	return spec
}

// evalStats is EVALSHA's calls and µs so far (INFO commandstats).
func evalStats(b *testing.B, c *redis.Client) (calls, usec int64) {
	info, err := c.Info(b.Context(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(info) {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:")
		if !ok {
			continue
		}
		for _, f := range strings.Split(v, ",") {
			k, n, _ := strings.Cut(f, "=")
			switch k {
			case "calls":
				calls, _ = strconv.ParseInt(n, 10, 64)
			case "usec":
				usec, _ = strconv.ParseInt(n, 10, 64)
			}
		}
	}
	return calls, usec
}

// BenchmarkStepLifeCPU measures what a whole life costs Redis, as
// BenchmarkFinishStepCPU does, per op: "task", a plain task's Enqueue,
// Take and Finish; "chain10", one step of chains of 10 steps, its share of
// the workflow's enqueue, its Take, and its Finish, which releases the
// next step (the work a plain task's Enqueue does for it). Besides
// EVALSHA's µs, redis-cpu-µs/op is the server's CPU time (INFO cpu),
// which a busy machine's preemptions do not inflate as they do µs.
func BenchmarkStepLifeCPU(b *testing.B) {
	const steps = 10
	for _, shape := range []string{"task", "chain10"} {
		b.Run(shape, func(b *testing.B) {
			c, prefix := taskwaretest.Redis(b)
			q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
			ctx := b.Context()
			o := queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte(`"sent"`)}
			n := b.N
			if shape == "chain10" {
				n = (b.N + steps - 1) / steps * steps
			}
			b.ReportAllocs()
			cpu := redisCPU(b, c)
			calls, usec := evalStats(b, c)
			b.ResetTimer()
			if shape == "task" {
				for i := range n {
					m := &queue.Message{ID: fmt.Sprint("t", i), Task: "email", Queue: "bench", Payload: []byte(`"a@example.com"`)}
					if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				for i := range n / steps {
					if err := q.EnqueueWorkflow(ctx, chainSpec(fmt.Sprint("w", i), steps), time.Time{}); err != nil {
						b.Fatal(err)
					}
				}
			}
			for done := 0; done < n; {
				ds, err := q.Take(ctx, "bench", "c", 500, 0)
				if err != nil || len(ds) == 0 {
					b.Fatalf("Take after %d of %d: %d, %v", done, n, len(ds), err)
				}
				for _, d := range ds {
					if err := q.Finish(ctx, d, o); err != nil {
						b.Fatal(err)
					}
				}
				done += len(ds)
			}
			b.StopTimer()
			calls2, usec2 := evalStats(b, c)
			cpu(n)
			b.ReportMetric(float64(usec2-usec)/float64(n), "evalsha-µs/op")
			b.ReportMetric(float64(calls2-calls)/float64(n), "evalsha/op")
		})
	}
}

// chainSpec is workflow id, a chain of n steps.
func chainSpec(id string, n int) *queue.WorkflowSpec {
	spec := &queue.WorkflowSpec{ID: id, Name: "chain", Queue: "bench", Digest: "d"}
	for j := range n {
		s := &queue.Step{Workflow: id, Home: "bench", Name: fmt.Sprint("s", j), Output: j == n-1}
		if j > 0 {
			s.Parents, s.Bind = []queue.StepRef{{Queue: "bench", Name: fmt.Sprint("s", j-1)}}, task.BindOne
		}
		if j < n-1 {
			s.Children = []queue.StepRef{{Queue: "bench", Name: fmt.Sprint("s", j+1)}}
		}
		spec.Steps = append(spec.Steps, &queue.Message{ID: queue.StepID(id, s.Name), Task: "email", Queue: "bench",
			Payload: []byte(`"a@example.com"`), Step: s})
	}
	return spec
}

// callgrind zeroes the instruction counts of a Redis run under callgrind
// (TASKWARE_CALLGRIND: its pid and its --callgrind-out-file), and returns
// what dumps them and reports them per op, as Ir/op; if unset, it does
// nothing (see callgrindCounts).
func callgrind(b *testing.B) func(n int) {
	if os.Getenv("TASKWARE_CALLGRIND") == "" {
		return func(int) {}
	}
	since := callgrindCounts(b)
	return func(n int) { b.ReportMetric(since()/float64(n), "Ir/op") }
}
