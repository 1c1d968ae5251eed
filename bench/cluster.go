package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
)

// Spread is how the Redis CPU time of one drain fell over the servers it
// ran on: one Redis, or the masters of a Cluster.
type Spread struct {
	Tasks int
	// CPU is each server's CPU time, system and user (INFO cpu), over the
	// drain, in the order the servers were given.
	CPU []time.Duration
	// Reads and Commands are each server's reads from its clients and
	// commands run, those that scripts call included (INFO stats'
	// total_reads_processed and total_commands_processed), over the
	// drain: what its CPU time was spent on.
	Reads, Commands []int64
}

// PerTask returns the sum of xs (one figure per server) per task.
func (s Spread) PerTask(xs []int64) float64 {
	var sum int64
	for _, x := range xs {
		sum += x
	}
	return float64(sum) / float64(s.Tasks)
}

// MicrosPerTask returns each server's CPU time per task, in µs.
func (s Spread) MicrosPerTask() []float64 {
	out := make([]float64, len(s.CPU))
	for i, d := range s.CPU {
		out[i] = float64(d) / float64(time.Microsecond) / float64(s.Tasks)
	}
	return out
}

// TotalMicrosPerTask returns the CPU time per task of all the servers
// together, in µs.
func (s Spread) TotalMicrosPerTask() float64 {
	var sum float64
	for _, us := range s.MicrosPerTask() {
		sum += us
	}
	return sum
}

// Shares returns each server's part of the total CPU time, from 0 to 1;
// NaN each if none was used.
func (s Spread) Shares() []float64 {
	total := s.TotalMicrosPerTask()
	out := s.MicrosPerTask()
	for i := range out {
		if total > 0 {
			out[i] /= total
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

// BusiestShare returns the greatest of Shares: the part of the work that
// the busiest server carried (1 on one server).
func (s Spread) BusiestShare() float64 {
	shares := s.Shares()
	if len(shares) == 0 {
		return math.NaN()
	}
	return slices.Max(shares)
}

// Capacity returns the tasks per second that the servers could carry with
// one core each: one second over the busiest server's CPU time per task,
// as it is the first to run out of core. It is NaN if no server used any
// CPU, or there were no tasks.
func (s Spread) Capacity() float64 {
	us := s.MicrosPerTask()
	if len(us) == 0 || s.Tasks < 1 {
		return math.NaN()
	}
	busiest := slices.Max(us)
	if busiest <= 0 {
		return math.NaN()
	}
	return 1e6 / busiest
}

// ServerStats is what a Redis server did since it started.
type ServerStats struct {
	CPU             time.Duration // system and user (RedisCPU)
	Reads, Commands int64         // INFO stats' total_reads_processed, total_commands_processed
}

// parseServerStats reads ServerStats from the text of INFO cpu and stats.
func parseServerStats(info string) (ServerStats, error) {
	f := parseInfo(info)
	cpu, err := cpuOf(f)
	if err != nil {
		return ServerStats{}, err
	}
	st := ServerStats{CPU: cpu}
	for k, v := range map[string]*int64{"total_reads_processed": &st.Reads, "total_commands_processed": &st.Commands} {
		if *v, err = strconv.ParseInt(f[k], 10, 64); err != nil {
			return ServerStats{}, fmt.Errorf("bench: INFO stats %s: %w", k, err)
		}
	}
	return st, nil
}

// ReadServerStats returns the ServerStats of each of servers, in their
// order.
func ReadServerStats(ctx context.Context, servers []*redis.Client) ([]ServerStats, error) {
	out := make([]ServerStats, len(servers))
	for i, c := range servers {
		info, err := c.Info(ctx, "cpu", "stats").Result()
		if err == nil {
			out[i], err = parseServerStats(info)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: INFO: %w", c.Options().Addr, err)
		}
	}
	return out, nil
}

// DrainSpread drains the n tasks queued on q (Drain), and returns with what
// Drain saw how the work of servers (one Redis, or each master of a
// Cluster) fell over them, read before the worker starts and after it
// stopped: so a little of each server's idle work, and the worker's start
// and stop, count too.
func DrainSpread(ctx context.Context, q TaskQueue, n int, servers []*redis.Client) (DrainResult, Spread, error) {
	before, err := ReadServerStats(ctx, servers)
	if err != nil {
		return DrainResult{}, Spread{}, err
	}
	res, err := Drain(ctx, q, n, Meter{})
	if err != nil {
		return res, Spread{}, err
	}
	after, err := ReadServerStats(ctx, servers)
	if err != nil {
		return res, Spread{}, err
	}
	s := Spread{Tasks: n, CPU: make([]time.Duration, len(servers)),
		Reads: make([]int64, len(servers)), Commands: make([]int64, len(servers))}
	for i := range servers {
		s.CPU[i] = after[i].CPU - before[i].CPU
		s.Reads[i] = after[i].Reads - before[i].Reads
		s.Commands[i] = after[i].Commands - before[i].Commands
	}
	for _, d := range s.CPU {
		res.RedisCPU += d
	}
	return res, s, nil
}

// PartitionedOptions says how OpenPartitioned sets taskware up.
type PartitionedOptions struct {
	// Prefix is the key prefix: Close deletes every key under it.
	Prefix string
	// Queue is the queue's name, and Partitions how many partitions it
	// has (redisbackend Queue.SetPartitions).
	Queue      string
	Partitions int
	// Concurrency is the worker's (worker.DefaultConcurrency if 0).
	Concurrency int
	// LockStore runs each task under a lock by its ID and keeps its result
	// ("taskware lock+store"); else the task is bare.
	LockStore bool
}

// OpenPartitioned sets taskware up on c, one Redis or a Cluster, with its
// no-op task on queue o.Queue split into o.Partitions partitions.
func OpenPartitioned(ctx context.Context, c redis.UniversalClient, o PartitionedOptions) (TaskQueue, error) {
	if err := queue.ValidateName(o.Queue); err != nil {
		return nil, err
	}
	t := newTaskwareQueue(c, c, o.Prefix, o.Concurrency, o.LockStore)
	t.name = o.Queue
	if err := t.queue.SetPartitions(ctx, o.Queue, o.Partitions); err != nil {
		return nil, err
	}
	return t, nil
}

// PartitionHomes returns the address of the master of c that holds each
// of the n partitions of queue name, as SetPartitions places them (their
// keys share the hash tag "{<physical name>}"): it sets the count under a
// prefix of its own, reads the names, and deletes what it wrote.
func PartitionHomes(ctx context.Context, c *redis.ClusterClient, name string, n int) ([]string, error) {
	const prefix = "clusterbench-homes:"
	rb := redisbackend.New(c, redisbackend.Prefix(prefix))
	defer c.Del(context.WithoutCancel(ctx), prefix+"partitions")
	if err := rb.Queue().SetPartitions(ctx, name, n); err != nil {
		return nil, err
	}
	names, err := rb.Queue().PartitionNames(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(names))
	for i, p := range names {
		node, err := c.MasterForKey(ctx, "{"+p+"}")
		if err != nil {
			return nil, err
		}
		out[i] = node.Options().Addr
	}
	return out, nil
}

// CapacityRow is one configuration's line in the capacity table: what
// DrainSpread saw of it in each round.
type CapacityRow struct {
	Name string
	// Base names the row whose capacity this row's ratio is computed
	// against, round by round (one Redis, for the same work); "" for none.
	Base    string
	Results []DrainResult
	Spreads []Spread
}

// CapacityRatios returns, for each round, r's capacity over that of its
// base row (the row named r.Base) in the same round; nil if there is no
// such row.
func CapacityRatios(r CapacityRow, rows []CapacityRow) []float64 {
	for _, b := range rows {
		if r.Base != "" && b.Name == r.Base {
			n := min(len(r.Spreads), len(b.Spreads))
			out := make([]float64, n)
			for i := range n {
				out[i] = r.Spreads[i].Capacity() / b.Spreads[i].Capacity()
			}
			return out
		}
	}
	return nil
}

// CapacityTable prints rows as a markdown table: for each, the median of
// its rounds' tasks per second (for information: the machine is shared),
// the Redis CPU µs per task of all servers and of each (with its share),
// the busiest server's share, the projected capacity (Spread.Capacity)
// and its ratio to the base row's, per round, and the reads and commands
// per task of all servers; each as "median (min–max)" where it matters.
func CapacityTable(rows []CapacityRow) string {
	var b strings.Builder
	b.WriteString("| config | tasks/s | Redis CPU µs/task, all | per server: µs/task (share) | busiest share | projected capacity, tasks/s | ratio to one node, per round | reads/task, all | commands/task, all |\n")
	b.WriteString("|---|---:|---:|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		rates := make([]float64, len(r.Results))
		for i, res := range r.Results {
			rates[i] = res.PerSec()
		}
		each := func(f func(Spread) float64) Summary {
			xs := make([]float64, len(r.Spreads))
			for i, s := range r.Spreads {
				xs[i] = f(s)
			}
			return Summarize(xs)
		}
		servers := 0
		for _, s := range r.Spreads {
			servers = max(servers, len(s.CPU))
		}
		var parts []string
		for j := range servers {
			us := each(func(s Spread) float64 { return at(s.MicrosPerTask(), j) })
			share := each(func(s Spread) float64 { return at(s.Shares(), j) })
			parts = append(parts, fmt.Sprintf("%.1f (%.0f%%)", us.Median, 100*share.Median))
		}
		ratio := "—"
		if r.Base != "" && r.Base != r.Name {
			ratio = Summarize(CapacityRatios(r, rows)).Text("%.2f×")
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %s | %s | %.2f | %.2f |\n", r.Name, Summarize(rates).Median,
			each(Spread.TotalMicrosPerTask).Text("%.1f"), strings.Join(parts, " · "),
			each(func(s Spread) float64 { return 100 * s.BusiestShare() }).Text("%.0f%%"),
			each(Spread.Capacity).Text("%.0f"), ratio,
			each(func(s Spread) float64 { return s.PerTask(s.Reads) }).Median,
			each(func(s Spread) float64 { return s.PerTask(s.Commands) }).Median)
	}
	return b.String()
}

// at returns xs[i], or NaN past its end.
func at(xs []float64, i int) float64 {
	if i < len(xs) {
		return xs[i]
	}
	return math.NaN()
}
