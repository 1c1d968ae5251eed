package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/task"
)

func TestParseCommandStats(t *testing.T) {
	got, err := parseCommandStats(map[string]string{
		"cmdstat_evalsha":        "calls=12,usec=340,usec_per_call=28.33,rejected_calls=0,failed_calls=0",
		"cmdstat_client|setinfo": "calls=2,usec=3,usec_per_call=1.50,rejected_calls=0,failed_calls=0",
		"used_cpu_sys":           "1.5",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]CommandStat{"evalsha": {12, 340}, "client|setinfo": {2, 3}}
	if len(got) != len(want) || got["evalsha"] != want["evalsha"] || got["client|setinfo"] != want["client|setinfo"] {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := parseCommandStats(map[string]string{"cmdstat_x": "calls=a,usec=1"}); err == nil {
		t.Fatal("a bad count was read")
	}
}

func TestCommandDelta(t *testing.T) {
	d := commandDelta(map[string]CommandStat{"evalsha": {10, 100}, "get": {5, 5}, "info": {1, 9}},
		map[string]CommandStat{"evalsha": {14, 180}, "get": {5, 5}, "info": {2, 20}, "xadd": {3, 6}})
	if len(d) != 2 || d["evalsha"] != (CommandStat{4, 80}) || d["xadd"] != (CommandStat{3, 6}) {
		t.Fatalf("delta %v: want evalsha and xadd only, info and the unchanged left out", d)
	}
}

// Every way runs each unit exactly once, and the server's commands are
// counted, on the real Redis.
func TestLifecycle(t *testing.T) {
	c, prefix := testRedis(t)
	for _, way := range FlowWays {
		t.Run(way.Name, func(t *testing.T) {
			q, err := way.Open(Env{Client: c, Prefix: prefix + way.Name + ":", Concurrency: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			trips := new(Trips)
			res, err := Lifecycle(ctx, q, 5*ChainLength, Meter{Trips: trips, Server: c}, c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Tasks != 5*ChainLength || res.Commands["evalsha"].Calls < int64(res.Tasks) {
				t.Fatalf("%d units, commands %v: want %d units, each ended by a script at least", res.Tasks, res.Commands, 5*ChainLength)
			}
		})
	}
}

func TestLifecycleRefusesBrokenChains(t *testing.T) {
	c, prefix := testRedis(t)
	q, err := FlowWays[1].Open(Env{Client: c, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Enqueue(context.Background(), ChainLength+1); err == nil {
		t.Fatal("a chain cut short was enqueued")
	}
}

func TestEnqueueWorkflowTimeOnMemory(t *testing.T) {
	step := task.New("step", func(_ context.Context, i int) (int, error) { return i + 1, nil })
	sum := task.New("sum", func(_ context.Context, xs []int) (int, error) { return len(xs), nil })
	chain, err := ChainDef(step, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	fanIn, err := FanInDef(step, sum, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, def := range []interface{ Steps() []string }{chain, fanIn} {
		if n := len(def.Steps()); n != 100 {
			t.Fatalf("%d steps, want 100", n)
		}
	}
	res, err := EnqueueWorkflowTime(context.Background(), MemoryWorkflows(), fanIn, Meter{})
	if err != nil || res.Tasks != 100 || res.Elapsed <= 0 {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestFlowTables(t *testing.T) {
	round := func(units int, cpu time.Duration, evalsha int64) FlowResult {
		return FlowResult{DrainResult: DrainResult{Tasks: units, Elapsed: time.Second, RedisCPU: cpu, Mallocs: 10 * uint64(units)},
			Commands: map[string]CommandStat{"evalsha": {int64(units), evalsha}, "xadd": {int64(units), int64(units)}}}
	}
	rows := []FlowRow{
		{Name: "plain", Rounds: []FlowResult{round(100, 4*time.Millisecond, 3000), round(100, 6*time.Millisecond, 3000)}},
		{Name: "step", Rounds: []FlowResult{round(100, 8*time.Millisecond, 9000), round(100, 9*time.Millisecond, 6000)}},
	}
	table := FlowTable(rows)
	for _, want := range []string{
		"| plain | 100 (100–100) | 0.000 (0.000–0.000) | 50.0 (40.0–60.0) | 1.00 (1.00–1.00) | 30.0 (30.0–30.0) | 1.00 (1.00–1.00) |",
		"| step | 100 (100–100) | 0.000 (0.000–0.000) | 85.0 (80.0–90.0) | 1.75 (1.50–2.00) | 75.0 (60.0–90.0) | 2.50 (2.00–3.00) |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("FlowTable lacks %q:\n%s", want, table)
		}
	}
	cmds := CommandTable(rows, 1)
	if !strings.Contains(cmds, "| evalsha | 1.00 | 30.00 | 1.00 | 75.00 |") || strings.Contains(cmds, "xadd") {
		t.Errorf("CommandTable, top 1:\n%s", cmds)
	}
}
