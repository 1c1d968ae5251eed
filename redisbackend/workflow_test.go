package redisbackend_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// wfSpec builds workflow id of queue home: each node is "name" or
// "name<-parent,parent", parents first; the last is the output. Steps of
// nodes named with a "@queue" suffix are on that queue. A step whose
// children all take outcomes would be absorbed: none here do.
func wfSpec(id, home string, nodes ...string) *queue.WorkflowSpec {
	spec := &queue.WorkflowSpec{ID: id, Name: "test " + id, Queue: home, Digest: "d-" + id}
	byName := map[string]*queue.Message{}
	for i, n := range nodes {
		name, parents, _ := strings.Cut(n, "<-")
		q := home
		if nm, at, ok := strings.Cut(name, "@"); ok {
			name, q = nm, at
		}
		s := &queue.Step{Workflow: id, Home: home, Name: name, Output: i == len(nodes)-1}
		m := &queue.Message{ID: queue.StepID(id, name), Task: "t." + name, Queue: q, Payload: []byte("args of " + name), Step: s}
		if parents != "" {
			for _, p := range strings.Split(parents, ",") {
				pm := byName[p]
				s.Parents = append(s.Parents, queue.StepRef{Queue: pm.Queue, Name: p})
				pm.Step.Children = append(pm.Step.Children, queue.StepRef{Queue: q, Name: name})
			}
			s.Bind = task.BindAll
		}
		byName[name] = m
		spec.Steps = append(spec.Steps, m)
	}
	return spec
}

func wfEnqueue(t *testing.T, q queue.Queue, spec *queue.WorkflowSpec) {
	t.Helper()
	if err := q.EnqueueWorkflow(t.Context(), spec, time.Time{}); err != nil {
		t.Fatalf("EnqueueWorkflow(%s): %v", spec.ID, err)
	}
}

// wfTake takes every ready step of queue name, and fails t unless they
// are steps want of workflow wf, by name.
func wfTake(t *testing.T, q queue.Queue, name, wf string, want ...string) map[string]*queue.Delivery {
	t.Helper()
	ds, err := q.Take(t.Context(), name, "c1", 1000, 0)
	if err != nil {
		t.Fatalf("Take(%s): %v", name, err)
	}
	got := map[string]*queue.Delivery{}
	var names []string
	for _, d := range ds {
		s, _ := strings.CutPrefix(d.ID, wf+":")
		got[s] = d
		names = append(names, s)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("Take(%s) = steps %q; want %q", name, names, want)
	}
	return got
}

func wfWant(t *testing.T, q queue.Queue, home, id string, status queue.Status) *queue.WorkflowState {
	t.Helper()
	w, err := q.Workflow(t.Context(), home, id)
	if err != nil || w.Status != status {
		t.Fatalf("Workflow(%s) = %+v, %v; want it %s", id, w, err, status)
	}
	return w
}

var wfOK = queue.Outcome{Status: queue.Succeeded, Attempt: 1}

// The finishes of many steps, each sent twice at once, share pipelines
// (the batcher): a fan-in of 100 parents is released once, with every
// parent's input, in the order of its parents.
func TestWorkflowFinishesBatched(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q := taskwaretest.New(t, name).Queue
		const n = 100
		nodes := make([]string, 0, n+1)
		var parents []string
		for i := range n {
			nodes = append(nodes, fmt.Sprintf("p%03d", i))
			parents = append(parents, fmt.Sprintf("p%03d", n-1-i))
		}
		spec := wfSpec("fan", "wf", append(nodes, "join<-"+strings.Join(parents, ","))...)
		wfEnqueue(t, q, spec)
		ds := wfTake(t, q, "wf", "fan", nodes...)
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for name, d := range ds {
			for range 2 {
				wg.Go(func() {
					if err := q.Finish(t.Context(), d, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("r" + name)}); err != nil {
						errs <- err
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		join := wfTake(t, q, "wf", "fan", "join")["join"]
		if len(join.Inputs) != n {
			t.Fatalf("join has %d inputs, want %d", len(join.Inputs), n)
		}
		for i, in := range join.Inputs {
			if in.Step != parents[i] || string(in.Value) != "r"+parents[i] || in.Status != "succeeded" {
				t.Fatalf("join's input %d = %+v; want %s's result", i, in, parents[i])
			}
		}
		rqFinish(t, q, join, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte("sum")})
		if w := wfWant(t, q, "wf", "fan", queue.Succeeded); w.Ended != n+1 || string(w.Result) != "sum" {
			t.Fatalf("Workflow = %+v; want %d ended, result sum", w, n+1)
		}
		wfTake(t, q, "wf", "fan")
	})
}

// A step's message comes back as it was enqueued, without headers too, and
// Message reads it while it waits.
func TestWorkflowStepMessage(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		q := taskwaretest.New(t, name).Queue
		spec := wfSpec("m", "wf", "a", "b<-a")
		s := spec.Steps[1].Step
		s.Bind, s.Fields, s.IfSkipped, s.Outcomes = task.BindFields, []string{"X", ""}, queue.RunWithout, true
		spec.Steps[0].Step.Absorbed = true
		wfEnqueue(t, q, spec)
		m, err := q.Message(t.Context(), "wf", spec.Steps[1].ID)
		if err != nil || m.Headers != nil || m.Step == nil || m.Step.Bind != task.BindFields || !slices.Equal(m.Step.Fields, s.Fields) ||
			m.Step.IfSkipped != queue.RunWithout || !m.Step.Outcomes || !m.Step.Output || !slices.Equal(m.Step.Parents, s.Parents) {
			t.Fatalf("Message of a waiting step = %+v (step %+v), %v; want it as enqueued, %+v", m, m.Step, err, s)
		}
		a := wfTake(t, q, "wf", "m", "a")["a"]
		if a.Headers != nil || a.Step == nil || !a.Step.Absorbed || !slices.Equal(a.Step.Children, spec.Steps[0].Step.Children) || a.Inputs != nil {
			t.Fatalf("root delivered as %+v, step %+v; want no headers, its step, no inputs", a, a.Step)
		}
		rqFinish(t, q, a, queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k", Error: "e"})
		b := wfTake(t, q, "wf", "m", "b")["b"]
		if in := b.Inputs; len(in) != 1 || in[0].Step != "a" || in[0].Status != "failed" || in[0].Kind != "k" || in[0].Error != "e" || in[0].Value != nil {
			t.Fatalf("b's inputs = %+v; want a's failure", b.Inputs)
		}
	})
}

// Once a workflow ended, however it ended, every key it wrote expires
// within the state TTL (but the streams, the set of queues and the minute
// counts, which live as they do for tasks); a running workflow's keys
// stay.
func TestWorkflowKeysExpire(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		kb := taskwaretest.New(t, name)
		ttl := time.Hour
		if kb.Real {
			ttl = 2 * time.Second
		}
		b := redisbackend.New(kb.Client, redisbackend.Prefix(kb.Prefix()), redisbackend.StateTTL(ttl))
		q := b.Queue()
		ctx := t.Context()

		// Succeeded, across two queues.
		wfEnqueue(t, q, wfSpec("ok", "wf", "a", "b@wf-b<-a"))
		rqFinish(t, q, wfTake(t, q, "wf", "ok", "a")["a"], wfOK)
		rqFinish(t, q, wfTake(t, q, "wf-b", "ok", "b")["b"], wfOK)
		wfWant(t, q, "wf", "ok", queue.Succeeded)

		// Failed while a sibling ran; the sibling's success then gives its
		// canceled child an input.
		wfEnqueue(t, q, wfSpec("fail", "wf", "a", "s", "c<-s", "z<-a,c"))
		ds := wfTake(t, q, "wf", "fail", "a", "s")
		rqFinish(t, q, ds["a"], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
		rqFinish(t, q, ds["s"], wfOK)
		wfWant(t, q, "wf", "fail", queue.Failed)

		// Failed, retried, and succeeded.
		wfEnqueue(t, q, wfSpec("retry", "wf", "a", "b<-a"))
		rqFinish(t, q, wfTake(t, q, "wf", "retry", "a")["a"], queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k", Error: "e"})
		if err := q.RetryStep(ctx, "wf", "retry", "a"); err != nil {
			t.Fatal(err)
		}
		rqFinish(t, q, wfTake(t, q, "wf", "retry", "a")["a"], wfOK)
		rqFinish(t, q, wfTake(t, q, "wf", "retry", "b")["b"], wfOK)
		wfWant(t, q, "wf", "retry", queue.Succeeded)

		// Canceled while two steps ran: one ends canceled, the other's
		// retry is ended by Promote.
		wfEnqueue(t, q, wfSpec("cancel", "wf", "a", "r", "z<-a,r"))
		ds = wfTake(t, q, "wf", "cancel", "a", "r")
		if _, err := q.CancelWorkflow(ctx, "wf", "cancel"); err != nil {
			t.Fatal(err)
		}
		rqFinish(t, q, ds["a"], queue.Outcome{Status: queue.Canceled, Attempt: 1, Kind: "queue.canceled", Error: "queue: canceled"})
		rqFinish(t, q, ds["r"], queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Retry: true})
		rqPromote(t, q, "wf")
		wfWant(t, q, "wf", "cancel", queue.Canceled)

		// A waiting step canceled; a skip that cascades.
		wfEnqueue(t, q, wfSpec("stop", "wf", "a", "b<-a"))
		if _, err := q.Cancel(ctx, "wf", "stop:b"); err != nil {
			t.Fatal(err)
		}
		wfWant(t, q, "wf", "stop", queue.Failed)
		wfEnqueue(t, q, wfSpec("skip", "wf", "a", "b<-a", "c<-b"))
		rqFinish(t, q, wfTake(t, q, "wf", "skip", "a")["a"], queue.Outcome{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked"})
		wfWant(t, q, "wf", "skip", queue.Succeeded)

		// Still running.
		wfEnqueue(t, q, wfSpec("run", "wf", "a", "b<-a"))

		// Kept as for tasks: the streams (the stream and dead letters), the
		// set of queues, the minute counts (25h); and the running workflow,
		// with the queue's set of waiting steps, which holds its step, and
		// the index of workflows, which lists it.
		kept := func(key string) bool {
			return strings.Contains(key, ":run") || strings.HasSuffix(key, "queues") || strings.Contains(key, ":rate:") ||
				strings.HasSuffix(key, ":workflows") ||
				strings.HasSuffix(key, "}:waiting") && slices.Equal(kb.Client.ZRange(ctx, key, 0, -1).Val(), []string{"run:b"}) ||
				kb.Client.Type(ctx, key).Val() == "stream"
		}
		keys := func() []string {
			ks, err := kb.Client.Keys(ctx, kb.Prefix()+"*").Result()
			if err != nil {
				t.Fatal(err)
			}
			return ks
		}
		var wfKeys int
		for _, k := range keys() {
			pttl := kb.Client.PTTL(ctx, k).Val()
			switch {
			case strings.Contains(k, ":wf:run") || strings.Contains(k, ":task:run:"):
				if pttl >= 0 {
					t.Errorf("%s of the running workflow expires in %v; want it kept", k, pttl)
				}
			case !kept(k) && (pttl <= 0 || pttl > ttl):
				t.Errorf("%s expires in %v; want within the state TTL %v", k, pttl, ttl)
			}
			if strings.Contains(k, ":wf") || strings.Contains(k, ":in:") {
				wfKeys++
			}
		}
		if wfKeys < 20 {
			t.Fatalf("only %d keys of workflows: too few to look at", wfKeys)
		}
		kb.Advance(ttl + time.Second)
		for _, k := range keys() {
			if !kept(k) {
				t.Errorf("%s is left past the state TTL", k)
			}
		}
		// A listing drops the entries of the records gone.
		if p, err := q.ListWorkflows(ctx, "wf", queue.WorkflowQuery{}); err != nil || len(p.Workflows) != 1 || p.Workflows[0].ID != "run" {
			t.Fatalf("ListWorkflows(wf) past the state TTL = %+v, %v; want the running workflow only", p, err)
		}
		if ids := kb.Client.ZRange(ctx, kb.Prefix()+"queue:{wf}:workflows", 0, -1).Val(); !slices.Equal(ids, []string{"run"}) {
			t.Fatalf("the index of workflows holds %q after a listing; want the running workflow only", ids)
		}
	})
}

// A step whose stream entry does not read (its step's part cut short) is
// handed out malformed, without its Step; dead-lettered as a worker
// dead-letters it, it ends in its workflow all the same, which fails and
// cancels the step waiting for it, rather than wait for ever.
func TestMalformedStepFailsWorkflow(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx, q := t.Context(), b.Redis.Queue()
		wfEnqueue(t, q, wfSpec("mw", "wf", "A", "B<-A"))
		stream, state := b.Prefix()+"queue:{wf}", b.Prefix()+"queue:{wf}:task:mw:A"
		es, err := b.Client.XRange(ctx, stream, "-", "+").Result()
		if err != nil || len(es) != 1 {
			t.Fatalf("XRANGE of the queue = %v, %v; want A's entry", es, err)
		}
		m := es[0].Values["m"].(string)
		e, err := b.Client.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: map[string]any{"m": m[:len(m)-1]}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Client.XDel(ctx, stream, es[0].ID).Err(); err != nil {
			t.Fatal(err)
		}
		if err := b.Client.HSet(ctx, state, "e", e).Err(); err != nil {
			t.Fatal(err)
		}
		a := wfTake(t, q, "wf", "mw", "A")["A"]
		if a.Malformed == nil || a.Step != nil || a.ID != "mw:A" {
			t.Fatalf("A taken: ID %q, Step %+v, Malformed %v; want mw:A, unreadable, without its Step", a.ID, a.Step, a.Malformed)
		}
		kind := queue.ErrBadMessage.ErrorKind()
		rqFinish(t, q, a, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: kind, Error: a.Malformed.Error()})
		w := wfWant(t, q, "wf", "mw", queue.Failed)
		if w.FailedStep != "A" || w.Kind != kind || w.Ended != 2 {
			t.Fatalf("Workflow = %+v; want failed at A, kind %q, 2 steps ended", w, kind)
		}
		if st, err := q.State(ctx, "wf", "mw:B"); err != nil || st.Status != queue.Canceled || st.Kind != queue.KindWorkflowFailed {
			t.Fatalf("B = %+v, %v; want canceled, kind %q", st, err, queue.KindWorkflowFailed)
		}
	})
}
