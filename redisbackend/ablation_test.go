package redisbackend_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// TestAblation weighs what each write of a task's drain costs Redis
// (issue 21): it drains TASKWARE_ABLATION no-op tasks (bare, and
// lock+store: a lock of their own and a stored result), 32 at once, with
// every write on and then with each switched off in turn (redisbackend's
// Ablations), and prints Redis's CPU per task (INFO cpu, system and user),
// the median of TASKWARE_ABLATION_RUNS rounds (5 unless set), the ways
// rotated within each round. Then one more drain of each way, with SLOWLOG
// logging every command, gives the µs of each script by SHA, and
// commandstats the µs of each command. Skipped unless TASKWARE_ABLATION is
// set. Run it on a Redis of its own: INFO counts the whole server's work.
//
//	redis-server --port 6431 --save '' --appendonly no --daemonize yes --pidfile /tmp/redis-6431.pid
//	TASKWARE_REDIS_URL=redis://127.0.0.1:6431/0 TASKWARE_ABLATION=20000 \
//	  go test -run TestAblation -v -timeout 60m ./redisbackend/
func TestAblation(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TASKWARE_ABLATION"))
	if n <= 0 {
		t.Skip("set TASKWARE_ABLATION=<tasks per drain> to run the ablation")
	}
	rounds, _ := strconv.Atoi(os.Getenv("TASKWARE_ABLATION_RUNS"))
	if rounds <= 0 {
		rounds = 5
	}
	kit, _ := taskwaretest.Redis(t)
	opt := *kit.Options()
	opt.ReadTimeout = time.Minute // a SLOWLOG of a whole drain is long to read
	c := redis.NewClient(&opt)
	defer c.Close()
	ways := []string{"bare", "lock+store"}
	abl := redisbackend.Ablations
	if only := os.Getenv("TASKWARE_ABLATION_ONLY"); only != "" {
		abl = slices.DeleteFunc(slices.Clone(abl), func(a redisbackend.Ablation) bool {
			return a.Name != "all on" && !strings.Contains(a.Name, only)
		})
	}
	type cell struct{ way, abl string }
	cpu := map[cell][]float64{}
	var order []cell
	for _, a := range abl {
		for _, w := range ways {
			order = append(order, cell{w, a.Name})
		}
	}
	byName := map[string]redisbackend.Ablation{}
	for _, a := range abl {
		byName[a.Name] = a
	}
	for r := range rounds {
		for i := range order {
			k := order[(i+r)%len(order)]
			st := ablationDrain(t, c, byName[k.abl], k.way, n, false)
			v := st.cpuPerTask
			if st.irPerTask > 0 {
				v = st.irPerTask / 1000
			}
			cpu[k] = append(cpu[k], v)
		}
	}
	med := func(k cell) (m, lo, hi float64) {
		v := slices.Clone(cpu[k])
		slices.Sort(v)
		return v[len(v)/2], v[0], v[len(v)-1]
	}
	var b strings.Builder
	unit := "µs"
	if os.Getenv("TASKWARE_CALLGRIND") != "" {
		unit = "kIr" // thousands of instructions, by callgrind
	}
	fmt.Fprintf(&b, "\nRedis CPU (%s) per task, %d tasks a drain, median (min–max) of %d; saved: what switching the write off saves, %% of all on\n\n", unit, n, rounds)
	fmt.Fprintf(&b, "| write switched off | lock+store %[1]s/task | saved | bare %[1]s/task | saved |\n|---|---:|---:|---:|---:|\n", unit)
	for _, a := range abl {
		fmt.Fprintf(&b, "| %s |", a.Name)
		for _, w := range []string{"lock+store", "bare"} {
			m, lo, hi := med(cell{w, a.Name})
			base, _, _ := med(cell{w, "all on"})
			fmt.Fprintf(&b, " %.1f (%.1f–%.1f) | %.1f (%.0f%%) |", m, lo, hi, base-m, 100*(base-m)/base)
		}
		b.WriteString("\n")
	}
	for _, w := range []string{"lock+store", "bare"} {
		st := ablationDrain(t, c, abl[0], w, n, true)
		fmt.Fprintf(&b, "\n%s, all on, one drain: %.1f µs/task of Redis CPU (%.0f Ir/task); by command (commandstats; a script's µs include its commands'):\n\n", w, st.cpuPerTask, st.irPerTask)
		b.WriteString("| command | calls/task | µs/task |\n|---|---:|---:|\n")
		for _, s := range st.cmds {
			fmt.Fprintf(&b, "| %s | %.3f | %.2f |\n", s.name, s.calls/float64(n), s.usec/float64(n))
		}
		b.WriteString("\nby script (SLOWLOG, whole µs per call):\n\n| script | calls/task | µs/task | µs/call |\n|---|---:|---:|---:|\n")
		for _, s := range st.scripts {
			fmt.Fprintf(&b, "| %s | %.3f | %.2f | %.2f |\n", s.name, s.calls/float64(n), s.usec/float64(n), s.usec/s.calls)
		}
	}
	t.Log(b.String())
}

// usage is the calls and µs of a command or script.
type usage struct {
	name        string
	calls, usec float64
}

type ablationStats struct {
	cpuPerTask float64
	irPerTask  float64 // Redis's instructions per task, under callgrind; 0 if not
	cmds       []usage // by commandstats, most µs first
	scripts    []usage // by SLOWLOG, most µs first
}

// ablationDrain enqueues n tasks (not measured), then drains them with a
// switched off, and returns what Redis spent meanwhile; with slowlog, by
// script too. It deletes its keys after.
func ablationDrain(t *testing.T, c *redis.Client, a redisbackend.Ablation, way string, n int, slowlog bool) ablationStats {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prefix := "taskware-ablation:" + randid.New()[:8] + ":"
	defer taskwaretest.DeletePrefix(t, c, prefix)
	rb := redisbackend.New(c, redisbackend.Prefix(prefix))
	var ran atomic.Int64
	all := make(chan struct{})
	var mw []task.Middleware
	if way == "lock+store" {
		mw = []task.Middleware{middleware.StoreResult(rb.Store()), middleware.WithLockFunc(rb.Locker(), middleware.KeyFromArgs(strconv.Itoa))}
	}
	tk := task.New("noop", func(ctx context.Context, i int) (int, error) {
		if ran.Add(1) == int64(n) {
			close(all)
		}
		return i, nil
	}, mw...)
	args := make([]int, n)
	for i := range args {
		args[i] = i
	}
	if _, err := worker.EnqueueMany(ctx, worker.NewClient(rb.Queue(), rb.Store()), tk, args); err != nil {
		t.Fatal(err)
	}
	restore, err := redisbackend.Ablate(a)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	w := worker.New(rb.Queue(), worker.Concurrency(32), worker.PollWait(50*time.Millisecond))
	worker.Register(w, tk)
	if slowlog {
		must(t, c.ConfigSet(ctx, "slowlog-max-len", strconv.Itoa(20*n)).Err())
		must(t, c.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err())
		must(t, c.SlowLogReset(ctx).Err())
		defer func() {
			bg := context.Background()
			must(t, c.ConfigSet(bg, "slowlog-log-slower-than", "10000").Err())
			must(t, c.ConfigSet(bg, "slowlog-max-len", "128").Err())
			must(t, c.SlowLogReset(bg).Err())
		}()
	}
	cg := callgrindCounts(t)
	cpu0, stats0 := serverUsage(t, c)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%s %s: %d of %d tasks ran in 5 minutes", way, a.Name, ran.Load(), n)
	}
	// The last finishes are in flight when the last task returns: wait
	// for the queue to say every task ended.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		st, err := rb.Queue().Stats(ctx, tk.Name())
		must(t, err)
		if st.Ready+st.Running == 0 || time.Now().After(deadline) {
			break
		}
	}
	cpu1, stats1 := serverUsage(t, c)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := ablationStats{cpuPerTask: (cpu1 - cpu0) / float64(n), irPerTask: cg() / float64(n)}
	for name, u := range stats1 {
		d := usage{name: name, calls: u.calls - stats0[name].calls, usec: u.usec - stats0[name].usec}
		if d.calls > 0 && name != "info" && name != "slowlog" && name != "config" {
			out.cmds = append(out.cmds, d)
		}
	}
	sort.Slice(out.cmds, func(i, j int) bool { return out.cmds[i].usec > out.cmds[j].usec })
	if slowlog {
		logs, err := c.SlowLogGet(context.Background(), -1).Result()
		must(t, err)
		by := map[string]*usage{}
		for _, l := range logs {
			if len(l.Args) < 2 || !strings.EqualFold(l.Args[0], "evalsha") {
				continue
			}
			name := redisbackend.ScriptName(l.Args[1])
			if name == "" {
				name = "evalsha " + l.Args[1][:8]
			}
			if by[name] == nil {
				by[name] = &usage{name: name}
			}
			by[name].calls++
			by[name].usec += float64(l.Duration.Microseconds())
		}
		for _, u := range by {
			out.scripts = append(out.scripts, *u)
		}
		sort.Slice(out.scripts, func(i, j int) bool { return out.scripts[i].usec > out.scripts[j].usec })
	}
	return out
}

// callgrindCounts zeroes the instruction counts of a Redis run under
// callgrind (TASKWARE_CALLGRIND: its pid and its --callgrind-out-file),
// and returns what dumps them and returns the instructions since; if
// unset, that returns 0.
func callgrindCounts(t testing.TB) func() float64 {
	pid, out, ok := strings.Cut(os.Getenv("TASKWARE_CALLGRIND"), " ")
	if !ok {
		return func() float64 { return 0 }
	}
	control := func(arg string) {
		if msg, err := exec.Command("callgrind_control", arg, pid).CombinedOutput(); err != nil {
			t.Fatalf("callgrind_control %s %s: %v %s", arg, pid, err, msg)
		}
	}
	before, _ := filepath.Glob(out + ".*")
	control("-z")
	return func() float64 {
		control("-d")
		var dump string
		for end := time.Now().Add(10 * time.Second); dump == "" && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			after, _ := filepath.Glob(out + ".*")
			for _, f := range after {
				if !slices.Contains(before, f) {
					dump = f
				}
			}
		}
		text, err := os.ReadFile(dump)
		if err != nil {
			t.Fatalf("callgrind dump: %v", err)
		}
		if os.Getenv("TASKWARE_CALLGRIND_KEEP") == "" {
			defer os.Remove(dump) // else kept, for callgrind_annotate
		}
		for line := range strings.Lines(string(text)) {
			if v, ok := strings.CutPrefix(line, "summary: "); ok {
				ir, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return ir
			}
		}
		t.Fatalf("callgrind dump %s: no summary", dump)
		return 0
	}
}

// serverUsage returns Redis's CPU time so far, µs, and its commandstats.
func serverUsage(t *testing.T, c *redis.Client) (float64, map[string]usage) {
	t.Helper()
	info, err := c.Info(context.Background(), "cpu", "commandstats").Result()
	must(t, err)
	var cpu float64
	stats := map[string]usage{}
	for _, line := range strings.Split(info, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch {
		case k == "used_cpu_sys" || k == "used_cpu_user":
			f, err := strconv.ParseFloat(v, 64)
			must(t, err)
			cpu += f * 1e6
		case strings.HasPrefix(k, "cmdstat_"):
			u := usage{name: strings.TrimPrefix(k, "cmdstat_")}
			for _, kv := range strings.Split(v, ",") {
				f, x, _ := strings.Cut(kv, "=")
				switch f {
				case "calls":
					u.calls, _ = strconv.ParseFloat(x, 64)
				case "usec":
					u.usec, _ = strconv.ParseFloat(x, 64)
				}
			}
			stats[u.name] = u
		}
	}
	return cpu, stats
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAblationAlone is TestAblation's ablation, one script at a time and
// with no worker, so that its figures are exact when Redis runs under
// callgrind (TASKWARE_CALLGRIND): a drain's figures move with its timing
// (the size of its pipelines and takes, the maintenance that runs meanwhile),
// a call's do not. For each ablation it finishes TASKWARE_ABLATION tasks
// one after another (taken first, not counted; no lock, no record) and
// reports Redis's instructions per finish; then it marks that many tasks
// started all at once (Queue.Started, as a worker's runs start when a
// take brings many) and reports the instructions per mark. Skipped unless
// both are set.
//
//	valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out redis-server --port 6432 --save '' --appendonly no &
//	TASKWARE_CALLGRIND="<its pid> /tmp/cg.out" TASKWARE_REDIS_URL=redis://127.0.0.1:6432/0 TASKWARE_ABLATION=1000 \
//	  go test -run TestAblationAlone -v ./redisbackend/
func TestAblationAlone(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TASKWARE_ABLATION"))
	if n <= 0 || os.Getenv("TASKWARE_CALLGRIND") == "" {
		t.Skip("set TASKWARE_ABLATION=<tasks> and TASKWARE_CALLGRIND to run the ablation one call at a time")
	}
	c, _ := taskwaretest.Redis(t)
	var b strings.Builder
	fmt.Fprintf(&b, "\nRedis instructions (callgrind) per finish, %d tasks finished one at a time, no lock, no record\n\n| write switched off | kIr/finish | saved |\n|---|---:|---:|\n", n)
	var base float64
	for _, a := range redisbackend.Ablations {
		if a.Name == "running mark (start.lua)" || strings.Contains(a.Name, "lock") || strings.Contains(a.Name, "record") {
			continue // not in this finish
		}
		ir := aloneRun(t, c, n, func(ctx context.Context, q *redisbackend.Queue, ds []*queue.Delivery) {
			restore, err := redisbackend.Ablate(a)
			must(t, err)
			defer restore()
			o := queue.Outcome{Status: queue.Succeeded, Attempt: 1, Result: []byte(`"ok"`)}
			for _, d := range ds {
				must(t, q.Finish(ctx, d, o))
			}
		})
		if base == 0 {
			base = ir
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.1f (%.0f%%) |\n", a.Name, ir/1000, (base-ir)/1000, 100*(base-ir)/base)
	}
	ir := aloneRun(t, c, n, func(ctx context.Context, q *redisbackend.Queue, ds []*queue.Delivery) {
		now := time.Now()
		for _, d := range ds {
			q.Started(ctx, d, "w", now)
		}
		time.Sleep(3 * time.Second) // no polling: it would count
	})
	fmt.Fprintf(&b, "\nrunning marks, %d made at once: %.1f kIr/mark (an idle server's 3 s included)\n", n, ir/1000)
	t.Log(b.String())
}

// aloneRun enqueues and takes n tasks on a queue of its own, then
// returns the instructions Redis ran in run.
func aloneRun(t *testing.T, c *redis.Client, n int, run func(context.Context, *redisbackend.Queue, []*queue.Delivery)) float64 {
	ctx := t.Context()
	prefix := "taskware-ablation:" + randid.New()[:8] + ":"
	defer taskwaretest.DeletePrefix(t, c, prefix)
	q := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
	ms := make([]*queue.Message, n)
	for i := range ms {
		ms[i] = &queue.Message{ID: fmt.Sprint("t", i), Task: "noop", Queue: "ab", Payload: []byte(`1`)}
	}
	for i := 0; i < n; i += 500 {
		_, err := q.EnqueueMany(ctx, ms[i:min(i+500, n)], time.Time{})
		must(t, err)
	}
	var ds []*queue.Delivery
	for len(ds) < n {
		got, err := q.Take(ctx, "ab", "c", 500, 0)
		must(t, err)
		ds = append(ds, got...)
	}
	cg := callgrindCounts(t)
	run(ctx, q, ds)
	return cg() / float64(n)
}
