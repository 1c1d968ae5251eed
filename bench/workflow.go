package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// CommandStat is one command's line of INFO commandstats: its calls and
// the server's µs in them. A script's (evalsha's) µs include those of the
// commands it calls, which have lines of their own too.
type CommandStat struct{ Calls, Usec int64 }

// CommandStats returns the Redis server's INFO commandstats, by command
// name in lower case ("evalsha", "xadd", "client|setinfo"...).
func CommandStats(ctx context.Context, c *redis.Client) (map[string]CommandStat, error) {
	f, err := infoFields(ctx, c, "commandstats")
	if err != nil {
		return nil, err
	}
	return parseCommandStats(f)
}

// parseCommandStats reads commandstats' fields, "cmdstat_<name>" to
// "calls=N,usec=N,...".
func parseCommandStats(f map[string]string) (map[string]CommandStat, error) {
	stats := make(map[string]CommandStat)
	for k, v := range f {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		if !ok {
			continue
		}
		var s CommandStat
		for kv := range strings.SplitSeq(v, ",") {
			key, val, _ := strings.Cut(kv, "=")
			var err error
			switch key {
			case "calls":
				s.Calls, err = strconv.ParseInt(val, 10, 64)
			case "usec":
				s.Usec, err = strconv.ParseInt(val, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("bench: INFO commandstats %s: %w", k, err)
			}
		}
		stats[name] = s
	}
	return stats, nil
}

// commandDelta is after less before, command by command, without the INFO
// calls that read them.
func commandDelta(before, after map[string]CommandStat) map[string]CommandStat {
	d := make(map[string]CommandStat)
	for name, a := range after {
		b := before[name]
		if name == "info" || a == b {
			continue
		}
		d[name] = CommandStat{Calls: a.Calls - b.Calls, Usec: a.Usec - b.Usec}
	}
	return d
}

// ChainLength is the number of steps of the chains that FlowWays run.
const ChainLength = 5

// FlowWay is one way to run units of no-op work on taskware: plain tasks,
// workflow steps in chains, or tasks chained by hand. Open opens it as a
// TaskQueue whose argument i is the unit's number, 0..n-1; n must be a
// multiple of ChainLength.
type FlowWay struct {
	Name string
	Open func(env Env) (TaskQueue, error)
}

// FlowWays lists the ways wfbench compares, the plain task first, which
// the others are measured against.
var FlowWays = []FlowWay{
	{Name: "plain task", Open: openTaskwareQueue(false, false)},
	{Name: fmt.Sprintf("workflow step (chains of %d)", ChainLength), Open: openChains(false)},
	{Name: fmt.Sprintf("hand-chained task (chains of %d)", ChainLength), Open: openChains(true)},
}

// chainQueue is a FlowWay of chains: as workflows of ChainLength steps,
// each step's result its child's argument (unit c*ChainLength+j is step j
// of chain c), or, by hand, as tasks of which each but the last of its
// chain enqueues the next at its end, as a user of a queue without
// workflows does.
type chainQueue struct {
	hand   bool
	queue  *redisbackend.Queue
	client *worker.Client
	step   *task.Task[int, int]
	conc   int
	ran    func(int)
	keys   *redis.Client
	prefix string
}

func openChains(hand bool) func(Env) (TaskQueue, error) {
	return func(env Env) (TaskQueue, error) {
		b := redisbackend.New(env.Client, redisbackend.Prefix(env.Prefix))
		q := &chainQueue{hand: hand, queue: b.Queue(), conc: env.Concurrency, keys: env.Client, prefix: env.Prefix}
		q.client = worker.NewClient(q.queue, nil, worker.WithWorkflows(q.queue))
		if hand {
			q.step = task.New("bench:hand", func(ctx context.Context, i int) (int, error) {
				q.ran(i)
				if (i+1)%ChainLength != 0 {
					if _, err := worker.Enqueue(ctx, q.client, q.step, i+1); err != nil {
						return 0, err
					}
				}
				return i, nil
			})
		} else {
			q.step = task.New("bench:step", func(_ context.Context, i int) (int, error) {
				q.ran(i)
				return i + 1, nil
			})
		}
		return q, nil
	}
}

// Enqueue enqueues n/ChainLength chains, on 32 goroutines: one
// workflow.Enqueue each (the Def built for it counted), or, by hand,
// their first tasks in EnqueueMany batches.
func (q *chainQueue) Enqueue(ctx context.Context, n int) error {
	if n%ChainLength != 0 {
		return fmt.Errorf("bench: %d units are not chains of %d", n, ChainLength)
	}
	chains := n / ChainLength
	if q.hand {
		batches := (chains + setupBatch - 1) / setupBatch
		return enqueueAll(ctx, batches, func(ctx context.Context, b int) error {
			from := b * setupBatch
			return q.EnqueueSerial(ctx, from*ChainLength, min(from+setupBatch, chains)*ChainLength, setupBatch)
		})
	}
	return enqueueAll(ctx, chains, func(ctx context.Context, c int) error {
		return q.EnqueueSerial(ctx, c*ChainLength, (c+1)*ChainLength, 1)
	})
}

// EnqueueSerial enqueues the chains of units from..to-1 (whole chains).
func (q *chainQueue) EnqueueSerial(ctx context.Context, from, to, batch int) error {
	if from%ChainLength != 0 || to%ChainLength != 0 {
		return fmt.Errorf("bench: units %d..%d are not whole chains of %d", from, to, ChainLength)
	}
	if q.hand {
		var firsts []int
		for i := from; i < to; i += ChainLength {
			firsts = append(firsts, i)
		}
		for len(firsts) > 0 {
			k := min(len(firsts), max(batch, 1))
			if _, err := worker.EnqueueMany(ctx, q.client, q.step, firsts[:k]); err != nil {
				return err
			}
			firsts = firsts[k:]
		}
		return nil
	}
	for c := from; c < to; c += ChainLength {
		def, err := ChainDef(q.step, c, ChainLength)
		if err != nil {
			return err
		}
		if _, err := workflow.Enqueue(ctx, q.client, def); err != nil {
			return err
		}
	}
	return nil
}

func (q *chainQueue) Start(ran func(int)) (func() error, error) {
	q.ran = ran
	return runWorker(q.queue, q.conc, func(w *worker.Worker) { worker.Register(w, q.step) }), nil
}

func (q *chainQueue) Close() error {
	_, err := DeletePrefix(context.Background(), q.keys, q.prefix)
	return err
}

// ChainDef builds a chain of n steps of step, the first run with first.
func ChainDef(step *task.Task[int, int], first, n int) (*workflow.Def[int], error) {
	w := workflow.New("chain")
	s := workflow.Start(w, step, first)
	for range n - 1 {
		s = workflow.Then(w, s, step)
	}
	return workflow.Build(w, s)
}

// FanInDef builds a fan-in of n steps: n-1 roots of step joined by sum.
func FanInDef(step *task.Task[int, int], sum *task.Task[[]int, int], n int) (*workflow.Def[int], error) {
	w := workflow.New("fan-in")
	return workflow.Build(w, workflow.Join(w, workflow.Group(w, step, make([]int, n-1)), sum))
}

// FlowResult is what Lifecycle saw: the DrainResult of the whole
// lifecycle of the units, and the commands the Redis server ran meanwhile.
type FlowResult struct {
	DrainResult
	Commands map[string]CommandStat
}

// Lifecycle starts q's worker, enqueues n units on q, and waits until
// each ran, measuring the whole (the enqueues, the runs and the finishes
// of all but the last runs, as m measures, and INFO commandstats of
// stats); it fails if a unit did not run exactly once, or if ctx ends
// first. Units are compared whole because a workflow step is stored when
// its workflow is enqueued and queued by its parent's finish, where a
// plain task is enqueued on its own.
func Lifecycle(ctx context.Context, q TaskQueue, n int, m Meter, stats *redis.Client) (FlowResult, error) {
	if n < 1 {
		return FlowResult{}, fmt.Errorf("bench: Lifecycle of %d units", n)
	}
	t := newTally(n)
	before, err := CommandStats(ctx, stats)
	if err != nil {
		return FlowResult{}, err
	}
	r, err := m.begin(ctx)
	if err != nil {
		return FlowResult{}, err
	}
	stop, err := q.Start(t.ran)
	if err != nil {
		return FlowResult{}, err
	}
	var res FlowResult
	if err = q.Enqueue(ctx, n); err == nil {
		select {
		case <-t.done:
			res.DrainResult, err = r.end(ctx, n)
		case <-ctx.Done():
			err = fmt.Errorf("%d of %d units ran: %w", t.ranSoFar(), n, context.Cause(ctx))
		}
	}
	if err == nil {
		var after map[string]CommandStat
		if after, err = CommandStats(ctx, stats); err == nil {
			res.Commands = commandDelta(before, after)
		}
	}
	if serr := stop(); err == nil && serr != nil {
		err = fmt.Errorf("stop: %w", serr)
	}
	if err != nil {
		return res, err
	}
	return res, t.check("unit")
}

// EnqueueWorkflowTime enqueues def once through workflow.Enqueue on q,
// timed and measured by m; its Tasks are def's steps.
func EnqueueWorkflowTime[R any](ctx context.Context, q queue.Queue, def *workflow.Def[R], m Meter) (DrainResult, error) {
	c := worker.NewClient(q, nil, worker.WithWorkflows(q))
	r, err := m.begin(ctx)
	if err != nil {
		return DrainResult{}, err
	}
	if _, err := workflow.Enqueue(ctx, c, def); err != nil {
		return DrainResult{}, err
	}
	return r.end(ctx, len(def.Steps()))
}

// MemoryWorkflows returns a fresh memory backend's queue, for
// EnqueueWorkflowTime.
func MemoryWorkflows() queue.Queue { return memorybackend.New().Queue() }

// FlowRow is one FlowWay's results, one per round.
type FlowRow struct {
	Name   string
	Rounds []FlowResult
}

// perRound returns f of each round.
func (r FlowRow) perRound(f func(FlowResult) float64) []float64 {
	xs := make([]float64, len(r.Rounds))
	for i, res := range r.Rounds {
		xs[i] = f(res)
	}
	return xs
}

// scriptMicros is the µs per unit of the server's scripts (evalsha,
// eval), which include the commands they call.
func scriptMicros(r FlowResult) float64 {
	return float64(r.Commands["evalsha"].Usec+r.Commands["eval"].Usec) / float64(r.Tasks)
}

// ratios returns f of r over f of base, round by round.
func ratios(r, base FlowRow, f func(FlowResult) float64) []float64 {
	n := min(len(r.Rounds), len(base.Rounds))
	xs := make([]float64, n)
	for i := range n {
		xs[i] = f(r.Rounds[i]) / f(base.Rounds[i])
	}
	return xs
}

// FlowTable prints rows as a markdown table, the first row the base:
// per unit, the median (min–max) over the rounds of the round trips, the
// Redis CPU time (INFO cpu) and the µs in scripts (commandstats), each
// with its ratio to the base's computed within each round, and the
// allocations; and the units per second.
func FlowTable(rows []FlowRow) string {
	var b strings.Builder
	b.WriteString("| way | units/s | round trips/unit | Redis CPU µs/unit | ratio | script µs/unit (commandstats) | ratio | allocs/unit | ratio |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	if len(rows) == 0 {
		return b.String()
	}
	base := rows[0]
	for _, r := range rows {
		s := func(f func(FlowResult) float64) Summary { return Summarize(r.perRound(f)) }
		q := func(f func(FlowResult) float64) Summary { return Summarize(ratios(r, base, f)) }
		cpu := func(x FlowResult) float64 { return x.RedisMicrosPerTask() }
		allocs := func(x FlowResult) float64 { return x.AllocsPerTask() }
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Name,
			s(func(x FlowResult) float64 { return x.PerSec() }).Text("%.0f"),
			s(func(x FlowResult) float64 { return x.TripsPerTask() }).Text("%.3f"),
			s(cpu).Text("%.1f"), q(cpu).Text("%.2f"),
			s(scriptMicros).Text("%.1f"), q(scriptMicros).Text("%.2f"),
			s(allocs).Text("%.1f"), q(allocs).Text("%.2f"))
	}
	return b.String()
}

// CommandTable prints, for each command the rows' units called, its calls
// and µs per unit in each row (the median over the rounds), the commands
// ordered by their greatest µs per unit in any row, the most first, at
// most top of them.
func CommandTable(rows []FlowRow, top int) string {
	names := map[string]bool{}
	for _, r := range rows {
		for _, res := range r.Rounds {
			for name := range res.Commands {
				names[name] = true
			}
		}
	}
	med := func(r FlowRow, name string, f func(CommandStat) int64) float64 {
		return Summarize(r.perRound(func(x FlowResult) float64 { return float64(f(x.Commands[name])) / float64(x.Tasks) })).Median
	}
	usec := func(s CommandStat) int64 { return s.Usec }
	calls := func(s CommandStat) int64 { return s.Calls }
	order := slices.Collect(maps.Keys(names))
	most := func(name string) float64 {
		m := 0.0
		for _, r := range rows {
			m = max(m, med(r, name, usec))
		}
		return m
	}
	slices.SortFunc(order, func(a, b string) int {
		if c := cmp.Compare(most(b), most(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if len(order) > top {
		order = order[:top]
	}
	var b strings.Builder
	b.WriteString("| command |")
	for _, r := range rows {
		fmt.Fprintf(&b, " %s: calls/unit | µs/unit |", r.Name)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|---:|", len(rows)) + "\n")
	for _, name := range order {
		fmt.Fprintf(&b, "| %s |", name)
		for _, r := range rows {
			fmt.Fprintf(&b, " %.2f | %.2f |", med(r, name, calls), med(r, name, usec))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// EnqueueRow is the enqueue of one workflow, measured once per round.
type EnqueueRow struct {
	Name   string
	Rounds []DrainResult
}

// EnqueueWorkflowTable prints rows as a markdown table: the time of one
// enqueue, in ms, and its writes to Redis (one pipeline, which go-redis
// writes in pieces of its buffer's size), Redis CPU ms and allocations per
// step, each "median (min–max)" over the rounds.
func EnqueueWorkflowTable(rows []EnqueueRow) string {
	var b strings.Builder
	b.WriteString("| workflow | steps | enqueue ms | writes to Redis (one pipeline) | Redis CPU ms | allocs/step |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		s := func(f func(DrainResult) float64) Summary {
			xs := make([]float64, len(r.Rounds))
			for i, res := range r.Rounds {
				xs[i] = f(res)
			}
			return Summarize(xs)
		}
		steps := 0
		if len(r.Rounds) > 0 {
			steps = r.Rounds[0].Tasks
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", r.Name, steps,
			s(func(x DrainResult) float64 { return float64(x.Elapsed) / float64(time.Millisecond) }).Text("%.1f"),
			s(func(x DrainResult) float64 { return float64(x.Trips) }).Text("%.0f"),
			s(func(x DrainResult) float64 { return float64(x.RedisCPU) / float64(time.Millisecond) }).Text("%.1f"),
			s(DrainResult.AllocsPerTask).Text("%.1f"))
	}
	return b.String()
}

// ScriptLog makes the Redis server of c log every command it runs from
// now (SLOWLOG, its threshold at 0 µs), so that Scripts can tell the
// scripts apart, which commandstats counts as one evalsha; restore puts
// the server's settings back. Logging costs the server CPU of its own:
// measure with it apart from the figures of INFO cpu.
func ScriptLog(ctx context.Context, c *redis.Client, maxLen int) (restore func() error, err error) {
	old, err := c.ConfigGet(ctx, "slowlog-*").Result()
	if err != nil {
		return nil, err
	}
	restore = func() error {
		ctx := context.Background()
		var errs []error
		for _, k := range []string{"slowlog-log-slower-than", "slowlog-max-len"} {
			if v, ok := old[k]; ok {
				errs = append(errs, c.ConfigSet(ctx, k, v).Err())
			}
		}
		return errors.Join(append(errs, c.SlowLogReset(ctx).Err())...)
	}
	if err := errors.Join(c.ConfigSet(ctx, "slowlog-max-len", strconv.Itoa(maxLen)).Err(),
		c.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err(), c.SlowLogReset(ctx).Err()); err != nil {
		return nil, errors.Join(err, restore())
	}
	return restore, nil
}

// Scripts reads and empties the server's SLOWLOG (see ScriptLog), and
// returns the calls and µs of each script run, by "<sha's first 8>/<its
// number of keys>", and of every other command, by name.
func Scripts(ctx context.Context, c *redis.Client) (map[string]CommandStat, error) {
	logs, err := c.SlowLogGet(ctx, -1).Result()
	if err != nil {
		return nil, err
	}
	if err := c.SlowLogReset(ctx).Err(); err != nil {
		return nil, err
	}
	stats := make(map[string]CommandStat)
	for _, l := range logs {
		if len(l.Args) == 0 {
			continue
		}
		name := strings.ToLower(l.Args[0])
		if (name == "evalsha" || name == "eval") && len(l.Args) >= 3 {
			name = fmt.Sprintf("%s %.8s/%s", name, l.Args[1], l.Args[2])
		}
		if name == "slowlog" || name == "info" || name == "config" {
			continue
		}
		s := stats[name]
		s.Calls++
		s.Usec += l.Duration.Microseconds()
		stats[name] = s
	}
	return stats, nil
}
