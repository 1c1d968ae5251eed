// Command depthbench measures how taskware's drain changes with the depth
// of the queue (issue 21): for each depth of -depths and each contender of
// -run, it enqueues that many no-op tasks (timed apart, not part of the
// drain), then times the drain of them all, with -concurrency tasks at
// once. A markdown table shows, for each depth and contender, the median
// over -rounds rounds of its tasks per second and of the Redis server's CPU
// time per task (INFO cpu), each also as a ratio to the first depth's, and
// the commands whose server time per task (INFO commandstats, in which
// the commands a script calls count apart from the script, as "evalsha")
// grew the most from the first depth. Keys are deleted after each drain.
//
// Give it a Redis of its own, with no memory limit (1M lock+store tasks
// keep about 1 GiB of states and results), e.g.
//
//	redis-server --port 6451 --save '' --appendonly no --maxmemory 0
//	depthbench -redis redis://127.0.0.1:6451/0
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskware/taskware/bench"
)

var verbose bool

func main() {
	redisURL := flag.String("redis", bench.RedisURL(), "Redis URL; $TASKWARE_REDIS_URL if set")
	depths := flag.String("depths", "20000,200000,1000000", "queue depths, comma-separated; the first is the baseline")
	conc := flag.Int("concurrency", 32, "tasks a worker runs at once")
	rounds := flag.Int("rounds", 3, "rounds at each depth")
	only := flag.String("run", `^taskware (lock\+store|bare)$`, "run only the contenders whose name matches this regexp")
	top := flag.Int("top", 3, "commands to show per row, those whose µs per task grew the most")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up on a drain after this long")
	flag.BoolVar(&verbose, "v", false, "log each drain's commands: calls, µs per task and per call")
	flag.Parse()
	ds, err := parseDepths(*depths)
	if err != nil || *conc < 1 || *rounds < 1 {
		log.Fatalf("depthbench: -depths %q (%v), -concurrency and -rounds must be positive", *depths, err)
	}
	filter, err := regexp.Compile(*only)
	if err != nil {
		log.Fatal("depthbench: -run: ", err)
	}
	if err := run(*redisURL, ds, *conc, *rounds, filter, *top, *timeout); err != nil {
		log.Fatal("depthbench: ", err)
	}
}

func parseDepths(s string) ([]int, error) {
	var ds []int
	for f := range strings.SplitSeq(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d < 1 {
			return nil, fmt.Errorf("bad depth %q", f)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// drain is one round's measure of one contender at one depth.
type drain struct {
	res     bench.DrainResult
	enqueue time.Duration
	cmds    map[string]bench.CommandStat
	// expired is the keys that expired during the drain, and expireMs
	// the server's CPU ms in its active expiry cycle (INFO stats).
	expired, expireMs int64
}

// expiry reads INFO stats' expired_keys and expire_cycle_cpu_milliseconds.
func expiry(ctx context.Context, clients *bench.Clients) (keys, ms int64, err error) {
	s, err := clients.Taskware.Info(ctx, "stats").Result()
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(s) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "expired_keys":
			keys, err = strconv.ParseInt(v, 10, 64)
		case "expire_cycle_cpu_milliseconds":
			ms, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("INFO stats %s: %w", k, err)
		}
	}
	return keys, ms, nil
}

func run(url string, depths []int, conc, rounds int, filter *regexp.Regexp, top int, timeout time.Duration) (err error) {
	ctx := context.Background()
	trips := new(bench.Trips)
	clients, err := bench.OpenClients(ctx, url, 9, "depthbench", trips.Count)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, clients.Close()) }()
	var libs []bench.QueueLib
	for _, lib := range bench.QueueLibs {
		if filter.MatchString(lib.Name) && !lib.Peer {
			libs = append(libs, lib)
		}
	}
	if len(libs) == 0 {
		return errors.New("-run matches no taskware contender")
	}
	// got[d][l] are the rounds of depth d, contender l.
	got := make([][][]drain, len(depths))
	for d, depth := range depths {
		got[d] = make([][]drain, len(libs))
		for round := range rounds {
			for _, l := range bench.RoundOrder(round, len(libs)) {
				r, err := measure(ctx, clients, libs[l], conc, depth, trips, timeout)
				if err != nil {
					return fmt.Errorf("%s, depth %d: %w", libs[l].Name, depth, err)
				}
				log.Printf("depth %d %s: enqueue %v, %.0f tasks/s, %.1f µs Redis CPU/task, %d keys expired in %d ms of expiry cycles",
					depth, libs[l].Name, r.enqueue.Round(time.Millisecond), r.res.PerSec(), r.res.RedisMicrosPerTask(), r.expired, r.expireMs)
				if verbose {
					logCommands(r)
				}
				got[d][l] = append(got[d][l], r)
			}
		}
	}
	fmt.Printf("%d rounds per depth of no-op tasks, %d at once; medians over the rounds, ratios to depth %d\n\n", rounds, conc, depths[0])
	fmt.Println("| depth | contender | tasks/s | ratio | Redis CPU µs/task | ratio | expired keys/task | expiry cycle µs/task | enqueue s | commands whose µs/task grew most (first depth → this) |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
	for d, depth := range depths {
		for l, lib := range libs {
			rate, cpu := median(got[d][l], rateOf), median(got[d][l], cpuOf)
			rate0, cpu0 := median(got[0][l], rateOf), median(got[0][l], cpuOf)
			enq := median(got[d][l], func(r drain) float64 { return r.enqueue.Seconds() })
			expired := median(got[d][l], func(r drain) float64 { return float64(r.expired) / float64(r.res.Tasks) })
			expireUs := median(got[d][l], func(r drain) float64 { return float64(r.expireMs) * 1000 / float64(r.res.Tasks) })
			fmt.Printf("| %d | %s | %.0f | %.2f | %.1f | %.2f | %.2f | %.2f | %.1f | %s |\n", depth, lib.Name, rate, rate/rate0,
				cpu, cpu/cpu0, expired, expireUs, enq, grown(got[0][l], got[d][l], top))
		}
	}
	return nil
}

// logCommands logs each command's calls and µs per task, the largest
// first.
func logCommands(r drain) {
	names := slices.Collect(maps.Keys(r.cmds))
	slices.SortFunc(names, func(x, y string) int { return cmp.Compare(r.cmds[y].Usec, r.cmds[x].Usec) })
	n := float64(r.res.Tasks)
	for _, name := range names {
		c := r.cmds[name]
		log.Printf("  %-16s %6.2f calls/task %7.2f µs/task %6.2f µs/call", name, float64(c.Calls)/n, float64(c.Usec)/n, float64(c.Usec)/max(float64(c.Calls), 1))
	}
}

func rateOf(r drain) float64 { return r.res.PerSec() }
func cpuOf(r drain) float64  { return r.res.RedisMicrosPerTask() }

// measure enqueues depth tasks of a fresh lib's queue, drains them, and
// deletes its keys.
func measure(ctx context.Context, clients *bench.Clients, lib bench.QueueLib, conc, depth int, trips *bench.Trips, timeout time.Duration) (drain, error) {
	env := bench.Env{Client: clients.Taskware, AsynqClient: clients.Asynq, Prefix: clients.Prefix, Concurrency: conc}
	q, err := lib.Open(env)
	if err != nil {
		return drain{}, err
	}
	var r drain
	start := time.Now()
	if err := q.Enqueue(ctx, depth); err != nil {
		return drain{}, errors.Join(fmt.Errorf("enqueue: %w", err), q.Close())
	}
	r.enqueue = time.Since(start)
	before, err := bench.CommandStats(ctx, clients.Taskware)
	if err != nil {
		return drain{}, errors.Join(err, q.Close())
	}
	keys0, ms0, err := expiry(ctx, clients)
	if err != nil {
		return drain{}, errors.Join(err, q.Close())
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	r.res, err = bench.Drain(dctx, q, depth, bench.Meter{Trips: trips, Server: clients.Taskware})
	cancel()
	if err != nil {
		return drain{}, errors.Join(err, q.Close())
	}
	after, err := bench.CommandStats(ctx, clients.Taskware)
	if err != nil {
		return drain{}, errors.Join(err, q.Close())
	}
	keys1, ms1, err := expiry(ctx, clients)
	if err != nil {
		return drain{}, errors.Join(err, q.Close())
	}
	r.expired, r.expireMs = keys1-keys0, ms1-ms0
	r.cmds = make(map[string]bench.CommandStat)
	for name, a := range after {
		if b := before[name]; name != "info" && a != b {
			r.cmds[name] = bench.CommandStat{Calls: a.Calls - b.Calls, Usec: a.Usec - b.Usec}
		}
	}
	return r, q.Close()
}

func median(rs []drain, f func(drain) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// perTask returns each command's median µs per task over rs.
func perTask(rs []drain) map[string]float64 {
	names := map[string]bool{}
	for _, r := range rs {
		for n := range r.cmds {
			names[n] = true
		}
	}
	m := make(map[string]float64)
	for n := range names {
		m[n] = median(rs, func(r drain) float64 { return float64(r.cmds[n].Usec) / float64(r.res.Tasks) })
	}
	return m
}

// grown names the top commands whose µs per task grew the most from base
// to rs, with both figures; at the baseline itself, the largest.
func grown(base, rs []drain, top int) string {
	b, g := perTask(base), perTask(rs)
	names := slices.Collect(maps.Keys(g))
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Or(cmp.Compare(g[y]-b[y], g[x]-b[x]), cmp.Compare(g[y], g[x])) // at the baseline, the largest
	})
	var parts []string
	for _, n := range names[:min(top, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.2f→%.2f", n, b[n], g[n]))
	}
	return strings.Join(parts, ", ")
}
