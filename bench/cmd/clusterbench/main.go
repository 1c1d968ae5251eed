// Command clusterbench measures how far one hot queue scales out over a
// Redis Cluster when it is split into partitions (issue 21), by capacity
// rather than speed: the machine it runs on may have too few cores to
// show a speed-up, so it measures each Redis server's CPU time per task
// (INFO cpu, read before and after each drain) and projects what the
// servers could carry with one core each: one second over the busiest
// server's CPU time per task.
//
// Its configurations, each drained with the lock+store chain and bare
// (as in e2ebench, -tasks no-op tasks enqueued first, untimed, then
// drained by a worker of -concurrency slots):
//
//   - "one node": the queue on one Redis that is not a Cluster (-node),
//     the base of the ratios; with -node-partitions, also split there, to
//     tell the cost of splitting from the cost of the Cluster;
//   - "cluster, P partitions", for each P of -partitions: the queue split
//     in P partitions on the Cluster of -cluster (its masters; no
//     replicas).
//
// The configurations take turns in -rounds rounds, in an order rotated
// each round. It prints a table: tasks/s (for information only), Redis
// CPU µs per task of all servers and of each with its share of the work,
// the busiest server's share, the projected capacity and its ratio to one
// node's in the same round, each the median of the rounds (and its
// spread), and the reads and commands per task of all servers (INFO
// stats: where the CPU time went), and draws it as a chart (-chart).
//
// With -start (the default) it starts the servers itself on the given
// ports, which must be free (each Cluster node's bus too, port + 10000),
// creates the Cluster with redis-cli, and stops them by PID when done.
// Every key a drain writes is under a prefix of its own, deleted after
// it; nothing is flushed, so -start=false may point it at servers that
// hold other data (their work counts in the CPU figures, though).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/bench"
)

func main() {
	node := flag.String("node", "127.0.0.1:6461", "address of the one Redis (not a Cluster) to compare with")
	cluster := flag.String("cluster", "127.0.0.1:6462,127.0.0.1:6463,127.0.0.1:6464", "addresses of the Cluster's masters, comma-separated")
	start := flag.Bool("start", true, "start the servers on those ports, and stop them when done")
	tasks := flag.Int("tasks", 20000, "tasks per drain")
	rounds := flag.Int("rounds", 5, "rounds, in which the configurations take turns")
	conc := flag.Int("concurrency", 32, "the worker's concurrency")
	parts := flag.String("partitions", "1,3", "partition counts to measure on the Cluster, comma-separated")
	nodeParts := flag.String("node-partitions", "1", "partition counts to measure on one node, comma-separated; 1 is the base")
	name := flag.String("queue", "bench", "the queue's name (its partitions' homes depend on it)")
	chart := flag.String("chart", "cluster-capacity.png", "the chart's file (.png, .svg or .pdf); empty for none")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up on a drain after this long")
	quiet := flag.Bool("q", false, "do not log each drain")
	flag.Parse()

	o := options{node: *node, cluster: split(*cluster), tasks: *tasks, rounds: *rounds, conc: *conc,
		queue: *name, chart: *chart, timeout: *timeout, quiet: *quiet}
	var err error
	if o.partitions, err = counts(*parts); err != nil {
		log.Fatal("clusterbench: -partitions: ", err)
	}
	if o.nodePartitions, err = counts(*nodeParts); err != nil {
		log.Fatal("clusterbench: -node-partitions: ", err)
	}
	if !slices.Contains(o.nodePartitions, 1) {
		o.nodePartitions = append([]int{1}, o.nodePartitions...) // the base of the ratios
	}
	if o.tasks < 1 || o.rounds < 1 || o.conc < 1 || len(o.cluster) == 0 || len(o.partitions) == 0 {
		log.Fatal("clusterbench: -tasks, -rounds, -concurrency, -cluster and -partitions must be given, and positive")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var s servers
	err = func() error {
		if !*start {
			return nil
		}
		if err := s.startNode(o.node, false); err != nil {
			return err
		}
		for _, a := range o.cluster {
			if err := s.startNode(a, true); err != nil {
				return err
			}
		}
		return createCluster(o.cluster)
	}()
	if err == nil {
		err = run(ctx, o)
	}
	if serr := s.stop(); serr != nil {
		log.Print("clusterbench: stopping the servers: ", serr)
	}
	if err != nil {
		log.Fatal("clusterbench: ", err)
	}
}

type options struct {
	node                string
	cluster             []string
	tasks, rounds, conc int
	partitions          []int // on the Cluster
	nodePartitions      []int // on one node
	queue, chart        string
	timeout             time.Duration
	quiet               bool
}

// config is one way of running the queue.
type config struct {
	name       string
	lockStore  bool
	cluster    bool
	partitions int
}

func run(ctx context.Context, o options) (err error) {
	one := redis.NewClient(&redis.Options{Addr: o.node})
	defer one.Close()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: o.cluster})
	defer cc.Close()
	masters := make([]*redis.Client, len(o.cluster))
	for i, a := range o.cluster {
		masters[i] = redis.NewClient(&redis.Options{Addr: a})
		defer masters[i].Close()
	}
	if err := checkServers(ctx, one, masters); err != nil {
		return err
	}

	var configs []config
	for _, kind := range []struct {
		name      string
		lockStore bool
	}{{"lock+store", true}, {"bare", false}} {
		for _, p := range o.nodePartitions {
			name := kind.name + ", one node"
			if p > 1 {
				name += fmt.Sprintf(", %d partitions", p)
			}
			configs = append(configs, config{name: name, lockStore: kind.lockStore, partitions: p})
		}
		for _, p := range o.partitions {
			configs = append(configs, config{name: fmt.Sprintf("%s, cluster, %d %s", kind.name, p, plural(p, "partition")),
				lockStore: kind.lockStore, cluster: true, partitions: p})
		}
	}
	for _, p := range o.partitions {
		homes, err := bench.PartitionHomes(ctx, cc, o.queue, p)
		if err != nil {
			return err
		}
		fmt.Printf("queue %q in %d %s: on %s\n", o.queue, p, plural(p, "partition"), strings.Join(homes, ", "))
	}

	rows := make([]bench.CapacityRow, len(configs))
	for i, c := range configs {
		rows[i].Name = c.name
		rows[i].Base = strings.SplitN(c.name, ",", 2)[0] + ", one node"
	}
	base := bench.NewPrefix("clusterbench")
	for round := range o.rounds {
		for _, i := range bench.RoundOrder(round, len(configs)) {
			c := configs[i]
			var client redis.UniversalClient = one
			servers := []*redis.Client{one}
			if c.cluster {
				client, servers = cc, masters
			}
			po := bench.PartitionedOptions{Prefix: fmt.Sprintf("%s%d:%d:", base, round, i), Queue: o.queue,
				Partitions: c.partitions, Concurrency: o.conc, LockStore: c.lockStore}
			res, spread, err := drainOnce(ctx, client, servers, po, o)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", c.name, round+1, err)
			}
			rows[i].Results = append(rows[i].Results, res)
			rows[i].Spreads = append(rows[i].Spreads, spread)
			if !o.quiet {
				log.Printf("round %d, %s: %.0f tasks/s, %.1f µs/task of Redis CPU, busiest server %.0f%%, capacity %.0f tasks/s",
					round+1, c.name, res.PerSec(), spread.TotalMicrosPerTask(), 100*spread.BusiestShare(), spread.Capacity())
			}
		}
	}

	title := fmt.Sprintf("One queue, %d no-op tasks drained at concurrency %d, a Cluster of %d masters against one node, %s, %d CPUs",
		o.tasks, o.conc, len(o.cluster), roundsText(o.rounds), runtime.NumCPU())
	fmt.Printf("\n%s\n\n%s", title, bench.CapacityTable(rows))
	fmt.Println("\nservers in the order of -cluster (" + strings.Join(o.cluster, ", ") + "); one node is " + o.node)
	if o.chart == "" {
		return nil
	}
	bars := make([]bench.CapacityBar, len(rows))
	for i, r := range rows {
		bars[i] = bench.CapacityBar{Name: strings.ReplaceAll(r.Name, ", ", "\n"), Shares: medianShares(r.Spreads),
			Capacity: bench.Summarize(capacities(r.Spreads)).Median}
		if r.Base != r.Name {
			bars[i].Ratio = bench.Summarize(bench.CapacityRatios(r, rows)).Median
		}
	}
	if err := bench.PlotCapacity(bars, title, 0.4, o.chart); err != nil {
		return err
	}
	fmt.Printf("chart: %s\n", o.chart)
	return nil
}

// drainOnce sets taskware up on client as po says, enqueues the tasks,
// drains them, measuring the CPU time of servers, and deletes its keys.
func drainOnce(ctx context.Context, client redis.UniversalClient, servers []*redis.Client, po bench.PartitionedOptions,
	o options) (res bench.DrainResult, s bench.Spread, err error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	q, err := bench.OpenPartitioned(ctx, client, po)
	if err != nil {
		return res, s, err
	}
	defer func() { err = errors.Join(err, q.Close()) }()
	if err := q.Enqueue(ctx, o.tasks); err != nil {
		return res, s, fmt.Errorf("enqueue: %w", err)
	}
	return bench.DrainSpread(ctx, q, o.tasks, servers)
}

// checkServers fails unless one answers and is not a Cluster node, and each
// of masters answers as a Cluster master.
func checkServers(ctx context.Context, one *redis.Client, masters []*redis.Client) error {
	if info, err := one.Info(ctx, "cluster").Result(); err != nil {
		return fmt.Errorf("%s: %w", one.Options().Addr, err)
	} else if strings.Contains(info, "cluster_enabled:1") {
		return fmt.Errorf("%s is a Cluster node: -node wants a Redis of its own", one.Options().Addr)
	}
	for _, m := range masters {
		role, err := m.Do(ctx, "ROLE").Slice()
		if err != nil {
			return fmt.Errorf("%s: %w", m.Options().Addr, err)
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("%s is not a master", m.Options().Addr)
		}
	}
	return nil
}

func medianShares(spreads []bench.Spread) []float64 {
	var out []float64
	for j := 0; ; j++ {
		var xs []float64
		for _, s := range spreads {
			if sh := s.Shares(); j < len(sh) {
				xs = append(xs, sh[j])
			}
		}
		if len(xs) == 0 {
			return out
		}
		out = append(out, bench.Summarize(xs).Median)
	}
}

func capacities(spreads []bench.Spread) []float64 {
	out := make([]float64, len(spreads))
	for i, s := range spreads {
		out[i] = s.Capacity()
	}
	return out
}

// counts parses a comma-separated list of partition counts.
func counts(s string) ([]int, error) {
	var out []int
	for _, f := range split(s) {
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, p)
	}
	return out, nil
}

func split(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func roundsText(rounds int) string {
	if rounds == 1 {
		return "one round"
	}
	return fmt.Sprintf("median of %d rounds", rounds)
}
