// Command wfbench measures what a workflow step costs against a plain
// task, on one Redis, in one process: issue 19's target is a step at
// most 1.3 times a plain task's Redis CPU. Run it on a redis-server of its
// own (-redis), so that INFO cpu and commandstats count its work alone.
//
// Three ways run -n units of no-op work each, taking turns in -rounds
// rounds, on one worker of -concurrency slots (bench.FlowWays):
//
//   - plain task: -n tasks, enqueued by EnqueueMany in batches of 1,000;
//   - workflow step: -n/5 chains of 5 steps, each enqueued by
//     workflow.Enqueue (its Def built for it), each step's result its
//     child's argument;
//   - hand-chained task: -n/5 chains of 5 plain tasks, of which each but
//     the last enqueues the next at its end (worker.Enqueue), as users of
//     a queue without workflows chain.
//
// Each unit's whole lifecycle is measured (bench.Lifecycle): enqueue, run
// and finish, from the worker's start until every unit ran. Per unit:
// round trips (writes to the connections), the server's CPU time (INFO
// cpu), the µs in scripts (INFO commandstats' evalsha: a script's µs
// include the commands it calls), and this process's heap allocations;
// each as the median (min–max) over the rounds, and as the ratio to the
// plain task's, computed within each round. A second table breaks the
// server's µs down by command (commandstats, medians), the commands
// scripts call included. With -scripts, as many more rounds of a fifth
// of -n units run with the server's SLOWLOG logging every command, for a
// third table that tells the scripts apart, by SHA (commandstats counts
// them all as evalsha); SLOWLOG's own cost stays out of the first two.
//
// Then the enqueue of one workflow of -steps steps, a chain and a fan-in
// (all but one step roots, joined by the last), -rounds times, on Redis
// and on the memory backend: its time, round trips, Redis CPU and
// allocations per step.
//
// Keys are written under "wfbench:<random>:" and deleted after each
// measurement; nothing is flushed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/bench"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/workflow"
)

type config struct {
	n, conc, rounds, steps, top int
	scripts                     bool
	timeout                     time.Duration
}

func main() {
	redisURL := flag.String("redis", bench.RedisURL(), "Redis URL, best a server of the run's own; $TASKWARE_REDIS_URL if set")
	var c config
	flag.IntVar(&c.n, "n", 10000, "units per way and round, a multiple of 5")
	flag.IntVar(&c.conc, "concurrency", 32, "tasks the worker runs at once")
	flag.IntVar(&c.rounds, "rounds", 5, "rounds, in which the ways take turns")
	flag.IntVar(&c.steps, "steps", 10000, "steps of the workflow whose enqueue is timed")
	flag.IntVar(&c.top, "top", 15, "commands shown in the breakdown")
	flag.BoolVar(&c.scripts, "scripts", false, "after the rounds, as many more of a fifth of -n units per way with the server's SLOWLOG logging every command, for a table by script (it sets the server's slowlog-* settings, then puts them back: use a server of the run's own)")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up on a measurement after this long")
	flag.Parse()
	if c.n < bench.ChainLength || c.n%bench.ChainLength != 0 || c.conc < 1 || c.rounds < 1 || c.steps < 2 {
		log.Fatalf("wfbench: -n must be a positive multiple of %d, -concurrency and -rounds positive, -steps at least 2", bench.ChainLength)
	}
	if err := run(*redisURL, c); err != nil {
		log.Fatal("wfbench: ", err)
	}
}

func run(url string, c config) (err error) {
	ctx := context.Background()
	trips := new(bench.Trips)
	client, err := bench.Connect(ctx, url, trips.Count)
	if err != nil {
		return fmt.Errorf("redis %s: %w", url, err)
	}
	defer client.Close()
	base := bench.NewPrefix("wfbench")
	defer func() {
		_, derr := bench.DeletePrefix(context.Background(), client, base)
		err = errors.Join(err, derr)
	}()

	rows := make([]bench.FlowRow, len(bench.FlowWays))
	for round := range c.rounds {
		for i, way := range bench.FlowWays {
			env := bench.Env{Client: client, Prefix: fmt.Sprintf("%s%d:%d:", base, i, round), Concurrency: c.conc}
			res, err := lifecycle(ctx, way, env, c, trips)
			if err != nil {
				return fmt.Errorf("%s: %w", way.Name, err)
			}
			rows[i].Name = way.Name
			rows[i].Rounds = append(rows[i].Rounds, res)
		}
	}
	fmt.Printf("%d rounds of %d units per way, a worker of %d slots; median (min–max) over the rounds, ratios to the plain task within each round\n\n",
		c.rounds, c.n, c.conc)
	fmt.Print(bench.FlowTable(rows))
	fmt.Printf("\nRedis µs and calls per unit, by command (INFO commandstats, medians; a script's µs include the commands it calls)\n\n")
	fmt.Print(bench.CommandTable(rows, c.top))

	if c.scripts {
		units := max(c.n/5/bench.ChainLength*bench.ChainLength, bench.ChainLength)
		byScript := make([]bench.FlowRow, len(bench.FlowWays))
		for round := range c.rounds {
			for i, way := range bench.FlowWays {
				env := bench.Env{Client: client, Prefix: fmt.Sprintf("%s%d:s%d:", base, i, round), Concurrency: c.conc}
				res, err := scripts(ctx, way, env, units, c.timeout)
				if err != nil {
					return fmt.Errorf("%s, by script: %w", way.Name, err)
				}
				byScript[i].Name = way.Name
				byScript[i].Rounds = append(byScript[i].Rounds, res)
			}
		}
		fmt.Printf("\nRedis µs and calls per unit, by script (\"evalsha <sha>/<keys>\") and command (those scripts call included, inside the scripts' µs), from SLOWLOG in %d more rounds of %d units per way; medians\n\n", c.rounds, units)
		fmt.Print(bench.CommandTable(byScript, c.top))
	}

	enq, err := enqueues(ctx, client, base, c, trips)
	if err != nil {
		return err
	}
	fmt.Printf("\nThe enqueue of one workflow of %d steps through workflow.Enqueue, %d times; median (min–max)\n\n", c.steps, c.rounds)
	fmt.Print(bench.EnqueueWorkflowTable(enq))
	return nil
}

// lifecycle opens way on env, measures bench.Lifecycle, and closes it.
func lifecycle(ctx context.Context, way bench.FlowWay, env bench.Env, c config, trips *bench.Trips) (res bench.FlowResult, err error) {
	q, err := way.Open(env)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, q.Close()) }()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return bench.Lifecycle(ctx, q, c.n, bench.Meter{Trips: trips, Server: env.Client}, env.Client)
}

// scripts opens way on env, runs bench.Lifecycle of n units with the
// server's SLOWLOG on, and returns what it logged, as the commands of a
// FlowResult.
func scripts(ctx context.Context, way bench.FlowWay, env bench.Env, n int, timeout time.Duration) (res bench.FlowResult, err error) {
	q, err := way.Open(env)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, q.Close()) }()
	restore, err := bench.ScriptLog(ctx, env.Client, 100*n)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, restore()) }()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if res, err = bench.Lifecycle(ctx, q, n, bench.Meter{}, env.Client); err != nil {
		return res, err
	}
	res.Commands, err = bench.Scripts(ctx, env.Client)
	return res, err
}

// enqueues times the enqueue of a chain and a fan-in of c.steps steps,
// on Redis and on memory, c.rounds times each.
func enqueues(ctx context.Context, client *redis.Client, base string, c config, trips *bench.Trips) ([]bench.EnqueueRow, error) {
	step := task.New("bench:step", func(_ context.Context, i int) (int, error) { return i + 1, nil })
	sum := task.New("bench:sum", func(_ context.Context, xs []int) (int, error) { return len(xs), nil })
	chain, err := bench.ChainDef(step, 0, c.steps)
	if err != nil {
		return nil, err
	}
	fanIn, err := bench.FanInDef(step, sum, c.steps)
	if err != nil {
		return nil, err
	}
	shapes := []struct {
		name string
		def  *workflow.Def[int]
	}{{"chain", chain}, {"fan-in", fanIn}}
	var rows []bench.EnqueueRow
	for _, backend := range []string{"Redis", "memory"} {
		for _, s := range shapes {
			row := bench.EnqueueRow{Name: fmt.Sprintf("%s, %s", s.name, backend)}
			for round := range c.rounds {
				prefix := fmt.Sprintf("%se:%s:%s:%d:", base, backend, s.name, round)
				q, m := bench.MemoryWorkflows(), bench.Meter{}
				if backend == "Redis" {
					q, m = redisbackend.New(client, redisbackend.Prefix(prefix)).Queue(), bench.Meter{Trips: trips, Server: client}
				}
				tctx, cancel := context.WithTimeout(ctx, c.timeout)
				res, err := bench.EnqueueWorkflowTime(tctx, q, s.def, m)
				cancel()
				if err != nil {
					return nil, fmt.Errorf("%s: %w", row.Name, err)
				}
				if backend == "Redis" {
					if _, err := bench.DeletePrefix(ctx, client, prefix); err != nil {
						return nil, err
					}
				}
				row.Rounds = append(row.Rounds, res)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}
