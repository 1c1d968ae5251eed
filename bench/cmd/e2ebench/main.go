// Command e2ebench compares taskware's worker with asynq end to end, on one
// Redis, in one run: each contender has -n no-op tasks enqueued (not
// timed), then its worker starts, with -concurrency tasks at once, and the
// time until every task ran gives tasks per second. The contenders take
// turns in -rounds rounds, in an order rotated by one each round
// (bench.RoundOrder), so that a burst of load from elsewhere on the
// machine is shared out and no contender always drains first or last.
// After each round, every key the round wrote is deleted, so that each
// round starts from the same empty keyspace.
//
// Each contender is paired with a peer that does the same work: taskware
// lock+store, which keeps each task's result, with "asynq", whose handler
// writes its result with the task's ResultWriter, the tasks enqueued with
// a retention so that the result is kept; taskware bare, which keeps
// nothing, with "asynq bare", which neither writes a result nor keeps the
// task. A markdown table shows, for each contender, the median over the
// rounds of its tasks per second; its peer and its ratio to that peer,
// computed in each round (its rate in round r over its peer's in round r)
// and shown as "median (min–max)" of the rounds' ratios ("n/a" if -run left
// the peer out); and, each the median over the rounds:
//
//   - round trips to Redis per task while the tasks ran (writes to the
//     connections: a pipeline, or an auto-pipelined batch, counts once);
//   - the Redis server's CPU time per task, in µs, from INFO cpu
//     (used_cpu_sys + used_cpu_user) before and after the drain: whatever
//     else the server does meanwhile counts too, so give the benchmark a
//     Redis of its own, e.g.
//     redis-server --port 6397 --save "" --appendonly no
//     and -redis redis://127.0.0.1:6397/0;
//   - this process's heap allocations per task (runtime.MemStats.Mallocs
//     before and after the drain), which count the bench's own wrapper of
//     each library beside the library and its Redis client.
//
// The taskware contenders run each on a plain go-redis client and on
// go-redis's AutoPipeliner in full-duplex mode.
//
// Taskware writes only keys under "e2ebench:<random>:"; asynq, which takes
// no key prefix, writes in the logical DB -asynq-db, which must be empty.
// Both are deleted after each round (for asynq, its keys "asynq:*", by
// SCAN and DEL): the Redis server may be shared, so nothing is flushed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/taskware/taskware/bench"
)

func main() {
	url := bench.RedisURL()
	redisURL := flag.String("redis", url, "Redis URL; $TASKWARE_REDIS_URL if set")
	n := flag.Int("n", 20000, "tasks per contender")
	conc := flag.Int("concurrency", 32, "tasks a worker runs at once")
	asynqDB := flag.Int("asynq-db", 9, "logical Redis DB for asynq, which must be empty")
	rounds := flag.Int("rounds", 5, "rounds, in which the contenders take turns")
	only := flag.String("run", "", "run only the contenders whose name matches this regexp")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the first round's drains (not of the enqueues) to this file")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up on a contender after this long")
	flag.Parse()
	if *n < 1 || *conc < 1 || *rounds < 1 {
		log.Fatal("e2ebench: -n, -concurrency and -rounds must be positive")
	}
	filter, err := regexp.Compile(*only)
	if err != nil {
		log.Fatal("e2ebench: -run: ", err)
	}
	if err := run(*redisURL, *asynqDB, *n, *conc, *rounds, filter, *profile, *timeout); err != nil {
		log.Fatal("e2ebench: ", err)
	}
}

func run(url string, asynqDB, n, conc, rounds int, filter *regexp.Regexp, profile string, timeout time.Duration) (err error) {
	ctx := context.Background()
	trips := new(bench.Trips)
	clients, err := bench.OpenClients(ctx, url, asynqDB, "e2ebench", trips.Count)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, clients.Close()) }()
	client, asynqClient, base := clients.Taskware, clients.Asynq, clients.Prefix

	var libs []bench.QueueLib
	var queues []bench.TaskQueue
	defer func() {
		for i, q := range queues {
			if cerr := q.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("%s: close: %w", libs[i].Name, cerr)
			}
		}
	}()
	for i, lib := range bench.QueueLibs {
		if !filter.MatchString(lib.Name) {
			continue
		}
		env := bench.Env{Client: client, AsynqClient: asynqClient, Prefix: fmt.Sprintf("%s%d:", base, i), Concurrency: conc}
		q, err := lib.Open(env)
		if err != nil {
			return fmt.Errorf("%s: %w", lib.Name, err)
		}
		libs, queues = append(libs, lib), append(queues, q)
	}

	results := make([][]bench.DrainResult, len(queues))
	stopProfile := func() {}
	for round := range rounds {
		order := bench.RoundOrder(round, len(queues))
		// Every contender's tasks are enqueued first, so that the profile
		// covers the drains alone.
		for _, i := range order {
			if err := queues[i].Enqueue(ctx, n); err != nil {
				return fmt.Errorf("%s: enqueue: %w", libs[i].Name, err)
			}
		}
		if round == 0 && profile != "" {
			if stopProfile, err = startProfile(profile); err != nil {
				return err
			}
			defer stopProfile() // if a drain fails
		}
		for _, i := range order {
			dctx, cancel := context.WithTimeout(ctx, timeout)
			res, err := bench.Drain(dctx, queues[i], n, bench.Meter{Trips: trips, Server: client})
			cancel()
			if err != nil {
				return fmt.Errorf("%s: %w", libs[i].Name, err)
			}
			results[i] = append(results[i], res)
		}
		stopProfile()
		if err := deleteRoundKeys(ctx, clients); err != nil {
			return fmt.Errorf("round %d: %w", round+1, err)
		}
	}
	rows := make([]bench.DrainRow, len(queues))
	for i, lib := range libs {
		rows[i] = bench.DrainRow{Name: lib.Name, Peer: lib.Peer, Pair: lib.Pair, Rounds: results[i]}
	}
	fmt.Printf("%d rounds of %d no-op tasks per contender, %d at once; medians over the rounds\n\n", rounds, n, conc)
	fmt.Print(bench.DrainTable(rows))
	return nil
}

// deleteRoundKeys deletes every key a round wrote: taskware's under the
// run's prefix (its queues', results', locks'), and asynq's in its DB,
// the workers being stopped by then.
func deleteRoundKeys(ctx context.Context, clients *bench.Clients) error {
	_, err := bench.DeletePrefix(ctx, clients.Taskware, clients.Prefix)
	_, aerr := bench.DeletePrefix(ctx, clients.Asynq, "asynq:")
	return errors.Join(err, aerr)
}

// startProfile starts a CPU profile into file; stop, which may be called
// more than once, ends it.
func startProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return sync.OnceFunc(func() { pprof.StopCPUProfile(); f.Close() }), nil
}
