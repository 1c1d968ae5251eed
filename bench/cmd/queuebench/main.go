// Command queuebench compares taskware's queue with asynq's, on one Redis,
// in one run, beyond draining tasks (which e2ebench measures): how fast one
// goroutine enqueues, how much memory queued tasks take, and how long a
// task waits from its enqueue to its start. Each figure is measured in
// -rounds rounds, in which the libraries take turns, and printed as
// "median (min–max)" of the rounds, each library's ratio to asynq computed
// within each round. Three markdown tables:
//
//  1. Enqueue: -n no-op tasks enqueued from one goroutine, timed: by
//     taskware's worker.EnqueueMany in batches of -batch, by taskware's
//     worker.Enqueue one task at a time, and by asynq's Client.Enqueue one
//     task at a time (asynq has no call that enqueues many tasks). The
//     tasks are those of e2ebench (an int argument; asynq's with a
//     retention, so that the result would be kept), on a plain go-redis
//     client. Round trips, Redis CPU time (INFO cpu, the whole server's:
//     others' load on a shared server counts) and this process's
//     allocations are per task.
//  2. Memory: -mem-n tasks of a -payload-byte payload enqueued (not run),
//     and the rise of the server's used_memory (INFO memory) from before to
//     after, shown in MB (10⁶ bytes) per -mem-n tasks and bytes per task,
//     with taskware's ratio to asynq. The payload is the same bytes for
//     both: a JSON string of random letters and digits, which is what
//     taskware's JSON codec makes of the string argument of a
//     task.New[string, int] (checked), and asynq's task payload as it is.
//     Each library enqueues with its defaults (no option). The server is
//     shared: others' writes and deletes meanwhile count too. The tasks are
//     deleted after each measurement.
//  3. Latency: tasks enqueued one at a time at a steady -rate per second
//     for -duration, each when it falls due, into a worker started
//     beforehand with its library's defaults (taskware's worker.New with
//     no option and no middleware, asynq's server with a default Config):
//     for each task, the time from just before its enqueue to the start of
//     its run, as p50, p99 and the greatest, in ms, and the rate held.
//     (Asynq's server, when it finds its queues empty, sleeps between half
//     and one and a half of its Config.TaskCheckInterval, 1 s by default,
//     before it looks again: a task enqueued meanwhile waits.)
//
// Taskware writes only keys under "queuebench:<random>:"; asynq, which
// takes no key prefix, writes in the logical DB -asynq-db, which must be
// empty. Both are deleted after each measurement (for asynq, its keys
// "asynq:*", by SCAN and DEL): the Redis server may be shared, so nothing
// is flushed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"regexp"
	"slices"
	"time"

	"github.com/taskware/taskware/bench"
)

type config struct {
	n, batch, memN, payload, rounds int
	rate                            float64
	duration, timeout               time.Duration
	only                            *regexp.Regexp
}

func main() {
	url := bench.RedisURL()
	var c config
	redisURL := flag.String("redis", url, "Redis URL; $TASKWARE_REDIS_URL if set")
	asynqDB := flag.Int("asynq-db", 9, "logical Redis DB for asynq, which must be empty")
	flag.IntVar(&c.n, "n", 100000, "tasks enqueued from one goroutine, per library and round")
	flag.IntVar(&c.batch, "batch", 1000, "tasks per EnqueueMany")
	flag.IntVar(&c.memN, "mem-n", 100000, "tasks queued to measure their memory")
	flag.IntVar(&c.payload, "payload", 1024, "bytes of payload of the tasks whose memory is measured")
	flag.Float64Var(&c.rate, "rate", 2000, "tasks per second enqueued to measure latency")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "how long to enqueue at -rate")
	flag.IntVar(&c.rounds, "rounds", 5, "rounds, in which the libraries take turns")
	only := flag.String("run", "", "run only the measurements (enqueue, memory, latency) that match this regexp")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up on a measurement after this long")
	flag.Parse()
	if c.n < 1 || c.batch < 1 || c.memN < 1 || c.payload < 2 || c.rounds < 1 || c.rate <= 0 || c.rate*c.duration.Seconds() < 1 {
		log.Fatal("queuebench: -n, -batch, -mem-n, -rounds and -rate must be positive, -payload at least 2, and -rate × -duration at least 1 task")
	}
	var err error
	if c.only, err = regexp.Compile(*only); err != nil {
		log.Fatal("queuebench: -run: ", err)
	}
	if err := run(*redisURL, *asynqDB, c); err != nil {
		log.Fatal("queuebench: ", err)
	}
}

func run(url string, asynqDB int, c config) (err error) {
	ctx := context.Background()
	trips := new(bench.Trips)
	clients, err := bench.OpenClients(ctx, url, asynqDB, "queuebench", trips.Count)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, clients.Close()) }()
	client, asynqClient, base := clients.Taskware, clients.Asynq, clients.Prefix
	env := func(name string, round int) bench.Env {
		return bench.Env{Client: client, AsynqClient: asynqClient, Prefix: fmt.Sprintf("%s%s:%d:", base, name, round)}
	}
	fmt.Printf("%d rounds, in which the libraries take turns; median (min–max) of the rounds\n", c.rounds)

	if c.only.MatchString("enqueue") {
		ways := slices.Clone(bench.EnqueueWays)
		ways[0].Batch = c.batch
		ways[0].Name = fmt.Sprintf("taskware EnqueueMany, batches of %d", c.batch)
		rows := make([]bench.DrainRow, len(ways))
		for round := range c.rounds {
			for i, way := range ways {
				tctx, cancel := context.WithTimeout(ctx, c.timeout)
				res, err := bench.EnqueueRate(tctx, way, env(fmt.Sprint("e", i), round), c.n, bench.Meter{Trips: trips, Server: client})
				cancel()
				if err != nil {
					return fmt.Errorf("%s: %w", way.Name, err)
				}
				rows[i].Name, rows[i].Peer = way.Name, way.Peer
				rows[i].Rounds = append(rows[i].Rounds, res)
			}
		}
		fmt.Printf("\nEnqueue from one goroutine, %d tasks per library and round (asynq has no call that enqueues many tasks)\n\n", c.n)
		fmt.Print(bench.EnqueueTable(rows))
	}

	if c.only.MatchString("memory") {
		payload := bench.Payload(c.payload)
		rows := make([]bench.Series, len(bench.MemoryLibs))
		for round := range c.rounds {
			for i, lib := range bench.MemoryLibs {
				tctx, cancel := context.WithTimeout(ctx, c.timeout)
				delta, err := bench.QueuedMemory(tctx, lib, env(fmt.Sprint("m", i), round), c.memN, payload)
				cancel()
				if err != nil {
					return fmt.Errorf("%s: %w", lib.Name, err)
				}
				rows[i].Name, rows[i].Peer = lib.Name, lib.Peer
				rows[i].Values = append(rows[i].Values, float64(delta))
			}
		}
		fmt.Printf("\nMemory of %d queued tasks of a %d-byte payload (rise of used_memory; the server is shared)\n\n", c.memN, len(payload))
		fmt.Print(bench.MemoryTable(rows, c.memN, c.memN))
	}

	if c.only.MatchString("latency") {
		libs := []struct{ lib, name string }{
			{"taskware bare", "taskware, default worker"},
			{"asynq", "asynq, default server"},
		}
		rows := make([]bench.LatencyRow, len(libs))
		for round := range c.rounds {
			for i, l := range libs {
				lib, ok := bench.QueueLibNamed(l.lib)
				if !ok {
					return fmt.Errorf("no contender %q", l.lib)
				}
				res, err := latency(ctx, lib, env(fmt.Sprint("l", i), round), c)
				if err != nil {
					return fmt.Errorf("%s: %w", l.name, err)
				}
				rows[i].Name = l.name
				rows[i].Rounds = append(rows[i].Rounds, res)
			}
		}
		fmt.Printf("\nLatency from enqueue to start at %.0f tasks/s for %v (%d tasks), ms\n\n", c.rate, c.duration, int(c.rate*c.duration.Seconds()))
		fmt.Print(bench.LatencyTable(rows))
	}
	return nil
}

// latency opens lib on env with its default concurrency, measures
// Latency, and closes it.
func latency(ctx context.Context, lib bench.QueueLib, env bench.Env, c config) (res bench.LatencyResult, err error) {
	q, err := lib.Open(env)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, q.Close()) }()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return bench.Latency(ctx, q, c.rate, c.duration)
}
