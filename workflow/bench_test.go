package workflow_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// chainOf builds a chain of n steps.
func chainOf(tb testing.TB, n int) *workflow.Def[int] {
	step := task.New("step", func(ctx context.Context, i int) (int, error) { return i + 1, nil })
	w := workflow.New("chain")
	s := workflow.Start(w, step, 0)
	for range n - 1 {
		s = workflow.Then(w, s, step)
	}
	def, err := workflow.Build(w, s)
	if err != nil {
		tb.Fatal(err)
	}
	return def
}

// BenchmarkBuildChain10k builds a chain of 10,000 steps: what a Def
// costs, made once.
func BenchmarkBuildChain10k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		chainOf(b, 10_000)
	}
}

// BenchmarkEnqueueChain10k enqueues a built chain of 10,000 steps on the
// memory backend: the messages made for the ID, and the queue's storing
// of them.
func BenchmarkEnqueueChain10k(b *testing.B) {
	def := chainOf(b, 10_000)
	m := memorybackend.New()
	c := worker.NewClient(m.Queue(), nil, worker.WithWorkflows(m.Queue()))
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := workflow.Enqueue(ctx, c, def, workflow.ID("wf-"+strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
}

// fanInOf builds a fan-in of n steps: n-1 roots joined by one step.
func fanInOf(tb testing.TB, n int) *workflow.Def[int] {
	step := task.New("step", func(ctx context.Context, i int) (int, error) { return i + 1, nil })
	sum := task.New("sum", func(ctx context.Context, xs []int) (int, error) { return len(xs), nil })
	w := workflow.New("fan-in")
	args := make([]int, n-1)
	def, err := workflow.Build(w, workflow.Join(w, workflow.Group(w, step, args), sum))
	if err != nil {
		tb.Fatal(err)
	}
	return def
}

// BenchmarkEnqueue10k enqueues a built workflow of 10,000 steps through
// workflow.Enqueue, a chain and a fan-in (9,999 roots into one step), on
// the memory backend and on a real Redis (one call: one pipeline of
// scripts). Each op is one workflow, under an ID of its own.
func BenchmarkEnqueue10k(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		for _, shape := range []string{"chain", "fan-in"} {
			b.Run(backend+"/"+shape, func(b *testing.B) {
				def := chainOf(b, 10_000)
				if shape == "fan-in" {
					def = fanInOf(b, 10_000)
				}
				be := taskwaretest.New(b, backend)
				c := worker.NewClient(be.Queue, nil, worker.WithWorkflows(be.Queue))
				ctx := context.Background()
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					if _, err := workflow.Enqueue(ctx, c, def, workflow.ID("wf-"+strconv.Itoa(i))); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
