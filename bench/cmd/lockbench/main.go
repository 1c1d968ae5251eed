// Command lockbench compares taskware's Redis lock with redsync and
// redislock on one Redis, in one run: each library does acquire+release
// pairs on 1 goroutine, then on 32, each goroutine on a key of its own, and
// a markdown table shows pairs per second, allocations per pair and the
// ratio to the faster peer.
//
// Each library runs for -duration in each column, split in -rounds rounds
// that take turns with the other libraries, so that a burst of load from
// elsewhere on the machine is shared out rather than landing on one.
//
// It writes only keys under "lockbench:<random>:" and deletes them at the
// end; the Redis server may be shared.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/taskware/taskware/bench"
)

var goroutines = [2]int{1, 32} // the table's two columns

func main() {
	url := bench.RedisURL()
	redisURL := flag.String("redis", url, "Redis URL; $TASKWARE_REDIS_URL if set")
	d := flag.Duration("duration", 3*time.Second, "how long each library runs in each column")
	rounds := flag.Int("rounds", 3, "rounds that -duration is split in")
	ttl := flag.Duration("ttl", 10*time.Second, "lock TTL")
	flag.Parse()
	if *rounds < 1 || *d <= 0 {
		log.Fatal("lockbench: -rounds and -duration must be positive")
	}
	if err := run(*redisURL, *d/time.Duration(*rounds), *rounds, *ttl); err != nil {
		log.Fatal("lockbench: ", err)
	}
}

func run(url string, d time.Duration, rounds int, ttl time.Duration) (err error) {
	ctx := context.Background()
	client, err := bench.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("redis %s: %w", url, err)
	}
	defer client.Close()
	base := bench.NewPrefix("lockbench")
	defer func() {
		if _, derr := bench.DeletePrefix(ctx, client, base); err == nil {
			err = derr
		}
	}()

	contenders := make([]bench.Contender, len(bench.Libs))
	for i, lib := range bench.Libs {
		if contenders[i], err = lib.Open(client, base+lib.Name+":", ttl); err != nil {
			return fmt.Errorf("%s: %w", lib.Name, err)
		}
		defer contenders[i].Close()
	}
	results := make([][2]bench.Result, len(bench.Libs))
	for range rounds {
		for i, lib := range bench.Libs {
			for col, g := range goroutines {
				res, err := bench.Measure(ctx, contenders[i], bench.Keys(base+lib.Name+":", g), d)
				if err != nil {
					return fmt.Errorf("%s on %d goroutines: %w", lib.Name, g, err)
				}
				results[i][col] = results[i][col].Add(res)
			}
		}
	}
	rows := make([]bench.Row, len(bench.Libs))
	for i, lib := range bench.Libs {
		rows[i] = bench.NewRow(lib, results[i][0], results[i][1])
	}
	fmt.Print(bench.Table(rows))
	return nil
}
