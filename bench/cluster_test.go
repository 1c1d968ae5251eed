package bench

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/taskwaretest"
)

// An INFO cpu reply as Redis 7 writes it, with its header and CRLFs.
const infoCPU = "# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:2.500500\r\nused_cpu_sys_children:0.000000\r\n" +
	"used_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:1.240000\r\n"

func TestParseInfoCPU(t *testing.T) {
	f := parseInfo(infoCPU)
	if f["used_cpu_sys"] != "1.250000" || f["used_cpu_user"] != "2.500500" {
		t.Fatalf("parseInfo: %q", f)
	}
	if _, ok := f["# CPU"]; ok {
		t.Error("parseInfo kept the section header")
	}
	cpu, err := cpuOf(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3750500 * time.Microsecond; cpu != want {
		t.Errorf("cpuOf = %v, want %v", cpu, want)
	}
	if _, err := cpuOf(parseInfo("# CPU\r\nused_cpu_sys:1.0\r\n")); err == nil {
		t.Error("cpuOf without used_cpu_user: no error")
	}
}

func TestParseServerStats(t *testing.T) {
	info := infoCPU + "\r\n# Stats\r\ntotal_connections_received:7\r\ntotal_commands_processed:1234\r\n" +
		"instantaneous_ops_per_sec:0\r\ntotal_reads_processed:567\r\n"
	st, err := parseServerStats(info)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ServerStats{CPU: 3750500 * time.Microsecond, Reads: 567, Commands: 1234}); st != want {
		t.Errorf("parseServerStats = %+v, want %+v", st, want)
	}
	if _, err := parseServerStats(infoCPU); err == nil {
		t.Error("parseServerStats without INFO stats: no error")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSpread(t *testing.T) {
	ms := time.Millisecond
	// 1000 tasks over three servers: 40, 30 and 10 ms of CPU.
	s := Spread{Tasks: 1000, CPU: []time.Duration{40 * ms, 30 * ms, 10 * ms}}
	us := s.MicrosPerTask()
	if !near(us[0], 40) || !near(us[1], 30) || !near(us[2], 10) {
		t.Errorf("MicrosPerTask = %v, want [40 30 10]", us)
	}
	if got := s.TotalMicrosPerTask(); !near(got, 80) {
		t.Errorf("TotalMicrosPerTask = %v, want 80", got)
	}
	sh := s.Shares()
	if !near(sh[0], 0.5) || !near(sh[1], 0.375) || !near(sh[2], 0.125) {
		t.Errorf("Shares = %v, want [0.5 0.375 0.125]", sh)
	}
	if got := s.BusiestShare(); !near(got, 0.5) {
		t.Errorf("BusiestShare = %v, want 0.5", got)
	}
	// The busiest server spends 40 µs a task: one core carries 25,000/s.
	if got := s.Capacity(); !near(got, 25000) {
		t.Errorf("Capacity = %v, want 25000", got)
	}

	one := Spread{Tasks: 1000, CPU: []time.Duration{80 * ms}}
	if got := one.BusiestShare(); !near(got, 1) {
		t.Errorf("one server: BusiestShare = %v, want 1", got)
	}
	if got := one.Capacity(); !near(got, 12500) {
		t.Errorf("one server: Capacity = %v, want 12500", got)
	}

	for name, s := range map[string]Spread{
		"no CPU":     {Tasks: 10, CPU: []time.Duration{0, 0}},
		"no servers": {Tasks: 10},
		"no tasks":   {CPU: []time.Duration{ms}},
	} {
		if got := s.Capacity(); !math.IsNaN(got) {
			t.Errorf("%s: Capacity = %v, want NaN", name, got)
		}
	}
	if got := (Spread{Tasks: 10, CPU: []time.Duration{0, 0}}).BusiestShare(); !math.IsNaN(got) {
		t.Errorf("no CPU: BusiestShare = %v, want NaN", got)
	}
}

func TestCapacityTable(t *testing.T) {
	ms := time.Millisecond
	res := DrainResult{Tasks: 1000, Elapsed: time.Second}
	rows := []CapacityRow{
		{Name: "bare, one node", Base: "bare, one node", Results: []DrainResult{res, res},
			Spreads: []Spread{
				{Tasks: 1000, CPU: []time.Duration{60 * ms}, Reads: []int64{500}, Commands: []int64{3000}},
				{Tasks: 1000, CPU: []time.Duration{40 * ms}, Reads: []int64{700}, Commands: []int64{3000}},
			}},
		{Name: "bare, cluster", Base: "bare, one node", Results: []DrainResult{res, res},
			Spreads: []Spread{
				// 3× the capacity of 60 µs
				{Tasks: 1000, CPU: []time.Duration{20 * ms, 20 * ms, 20 * ms}, Reads: []int64{400, 400, 400}, Commands: []int64{1500, 1500, 1500}},
				// 2× that of 40 µs
				{Tasks: 1000, CPU: []time.Duration{20 * ms, 10 * ms, 10 * ms}, Reads: []int64{300, 300, 400}, Commands: []int64{1500, 1500, 1500}},
			}},
	}
	ratios := CapacityRatios(rows[1], rows)
	if len(ratios) != 2 || !near(ratios[0], 3) || !near(ratios[1], 2) {
		t.Errorf("CapacityRatios = %v, want [3 2], round by round", ratios)
	}
	if CapacityRatios(CapacityRow{Name: "x", Base: "missing"}, rows) != nil {
		t.Error("CapacityRatios against a missing row is not nil")
	}
	table := CapacityTable(rows)
	for _, want := range []string{
		"| bare, one node | 1000 | 50.0 (40.0–60.0) | 50.0 (100%) | 100% (100%–100%) | 20833 (16667–25000) | — | 0.60 | 3.00 |",
		"| bare, cluster | 1000 | 50.0 (40.0–60.0) | 20.0 (42%) · 15.0 (29%) · 15.0 (29%) | 42% (33%–50%) | 50000 (50000–50000) | 2.50× (2.00×–3.00×) | 1.10 | 4.50 |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks\n%s\nin\n%s", want, table)
		}
	}
}

func TestPlotCapacity(t *testing.T) {
	file := filepath.Join(t.TempDir(), "capacity.png")
	bars := []CapacityBar{
		{Name: "one node", Shares: []float64{1}, Capacity: 20000},
		{Name: "cluster\n3 partitions", Shares: []float64{0.34, 0.33, 0.33}, Capacity: 58000, Ratio: 2.9},
	}
	if err := PlotCapacity(bars, "test", 0.4, file); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(file); err != nil || st.Size() == 0 {
		t.Fatalf("no chart written: %v", err)
	}
	if err := PlotCapacity(nil, "test", 0.4, file); err == nil {
		t.Error("a chart of no bars: no error")
	}
	if err := PlotCapacity(bars, "test", 0.4, filepath.Join(t.TempDir(), "capacity.bmp")); err == nil {
		t.Error("a chart in an unknown format: no error")
	}
}

func TestEvenTicks(t *testing.T) {
	ticks := evenTicks(27.5)
	var labels []string
	for _, tk := range ticks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "0 5 10 15 20 25" {
		t.Errorf("evenTicks(27.5) = %s, want 0 5 10 15 20 25", got)
	}
}

// TestDrainSpreadCluster drains a partitioned queue on a Cluster of its
// own, and on one Redis: every task runs once, each master's CPU time is
// read, and Close deletes every key on every master.
func TestDrainSpreadCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cc := taskwaretest.Cluster(t)
	var masters []*redis.Client
	var mu sync.Mutex // ForEachMaster calls on a goroutine per master
	if err := cc.ForEachMaster(ctx, func(_ context.Context, m *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		masters = append(masters, redis.NewClient(&redis.Options{Addr: m.Options().Addr}))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, m := range masters {
		t.Cleanup(func() { m.Close() })
	}
	one, prefix := testRedis(t)
	for _, tc := range []struct {
		name    string
		client  redis.UniversalClient
		servers []*redis.Client
	}{{"cluster", cc, masters}, {"one node", one, []*redis.Client{one}}} {
		for _, lockStore := range []bool{true, false} {
			po := PartitionedOptions{Prefix: prefix + "drain:", Queue: "spread", Partitions: 3, Concurrency: 8, LockStore: lockStore}
			q, err := OpenPartitioned(ctx, tc.client, po)
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Enqueue(ctx, 200); err != nil {
				t.Fatal(err)
			}
			res, s, err := DrainSpread(ctx, q, 200, tc.servers)
			if err := q.Close(); err != nil {
				t.Errorf("%s: Close: %v", tc.name, err)
			}
			if err != nil {
				t.Fatalf("%s, lock+store %v: %v", tc.name, lockStore, err)
			}
			if !(s.PerTask(s.Commands) >= 1) || !(s.PerTask(s.Reads) > 0) {
				t.Errorf("%s: %.2f commands and %.2f reads per task: not read", tc.name, s.PerTask(s.Commands), s.PerTask(s.Reads))
			}
			if res.Tasks != 200 || s.Tasks != 200 || len(s.CPU) != len(tc.servers) {
				t.Errorf("%s: %d tasks, spread of %d tasks over %d servers; want 200, 200, %d",
					tc.name, res.Tasks, s.Tasks, len(s.CPU), len(tc.servers))
			}
			if !(s.Capacity() > 0) || res.RedisCPU <= 0 {
				t.Errorf("%s: capacity %v, Redis CPU %v: nothing measured", tc.name, s.Capacity(), res.RedisCPU)
			}
			for _, m := range tc.servers {
				if keys, err := m.Keys(ctx, globEscaper.Replace(po.Prefix)+"*").Result(); err != nil || len(keys) > 0 {
					t.Errorf("%s: %s keeps %d keys after Close (%v): %q", tc.name, m.Options().Addr, len(keys), err, keys)
				}
			}
		}
	}
	for _, name := range []string{"bench", "jobs"} { // "jobs#1" and "jobs#2" hash to jobs' master: placed elsewhere
		homes, err := PartitionHomes(ctx, cc, name, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(homes) != 3 || homes[0] == homes[1] || homes[1] == homes[2] || homes[0] == homes[2] {
			t.Errorf("PartitionHomes(%s, 3) = %v: want three masters", name, homes)
		}
	}
}
