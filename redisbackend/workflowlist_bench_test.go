package redisbackend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// BenchmarkListWorkflows measures a page of ListWorkflows on a real Redis
// whose queue holds 10,000 running workflows: "page", the first page of
// 50, and "page-deep", a page of 50 from a cursor 5,000 deep; and
// "rare-status", a page of a status none has, which reads its scan
// budget of the index and returns nothing but a Next. Each op is one call,
// one round trip.
func BenchmarkListWorkflows(b *testing.B) {
	const n = 10_000
	c, prefix := taskwaretest.Redis(b)
	q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
	ctx := b.Context()
	for i := range n {
		id := fmt.Sprintf("w%05d", i)
		s := &queue.Step{Workflow: id, Home: "bench", Name: "a", Output: true}
		m := &queue.Message{ID: queue.StepID(id, "a"), Task: "email", Queue: "bench", Payload: []byte(`"a@example.com"`), Step: s}
		if err := q.EnqueueWorkflow(ctx, &queue.WorkflowSpec{ID: id, Name: "bench", Queue: "bench", Digest: "d", Steps: []*queue.Message{m}}, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	deep := ""
	for range n / 2 / queue.MaxWorkflowPage {
		p, err := q.ListWorkflows(ctx, "bench", queue.WorkflowQuery{Limit: queue.MaxWorkflowPage, After: deep})
		if err != nil || len(p.Workflows) != queue.MaxWorkflowPage || p.Next == "" {
			b.Fatalf("ListWorkflows: %d, %v", len(p.Workflows), err)
		}
		deep = p.Next
	}
	for _, tc := range []struct {
		name string
		wq   queue.WorkflowQuery
		want int
	}{
		{"page", queue.WorkflowQuery{Limit: 50}, 50},
		{"page-deep", queue.WorkflowQuery{Limit: 50, After: deep}, 50},
		{"rare-status", queue.WorkflowQuery{Limit: 50, Status: queue.Succeeded}, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := redisCPU(b, c)
			b.ResetTimer()
			for range b.N {
				p, err := q.ListWorkflows(ctx, "bench", tc.wq)
				if err != nil || len(p.Workflows) != tc.want {
					b.Fatalf("ListWorkflows(%+v): %d, %v; want %d", tc.wq, len(p.Workflows), err, tc.want)
				}
			}
			b.StopTimer()
			cpu(b.N)
		})
	}
}
