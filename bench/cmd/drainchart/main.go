// Command drainchart draws the drain rate of taskware and asynq against
// the worker's concurrency: for each concurrency of -concurrency (1, 2, 4,
// ... 128), each contender ("taskware bare", "taskware lock+store" and
// "asynq", as in e2ebench, on a plain go-redis client) has -n no-op tasks
// enqueued (not timed), then drains them, timed. The contenders take turns
// at each concurrency, in -rounds rounds; each point is the median of the
// rounds. It writes the chart, tasks per second against concurrency on a
// logarithmic axis, to -out (PNG, or SVG or PDF after the extension), and
// prints the points as a markdown table.
//
// Taskware writes only keys under "drainchart:<random>:"; asynq, which
// takes no key prefix, writes in the logical DB -asynq-db, which must be
// empty. Both are deleted after each drain (for asynq, its keys "asynq:*",
// by SCAN and DEL): the Redis server may be shared, so nothing is flushed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/taskware/taskware/bench"
)

func main() {
	url := bench.RedisURL()
	redisURL := flag.String("redis", url, "Redis URL; $TASKWARE_REDIS_URL if set")
	asynqDB := flag.Int("asynq-db", 9, "logical Redis DB for asynq, which must be empty")
	n := flag.Int("n", 10000, "tasks per drain")
	concs := flag.String("concurrency", "1,2,4,8,16,32,64,128", "worker concurrencies to measure at, comma-separated")
	rounds := flag.Int("rounds", 1, "rounds, in which the contenders take turns; each point is the median")
	out := flag.String("out", "drain-vs-concurrency.png", "the chart's file: .png, .svg or .pdf")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up on a drain after this long")
	quiet := flag.Bool("q", false, "do not log each drain")
	flag.Parse()
	var cs []int
	for f := range strings.SplitSeq(*concs, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			log.Fatalf("drainchart: -concurrency: %q is not a positive number", f)
		}
		cs = append(cs, c)
	}
	if *n < 1 || *rounds < 1 {
		log.Fatal("drainchart: -n and -rounds must be positive")
	}
	o := bench.SweepOptions{Concurrency: cs, Tasks: *n, Rounds: *rounds, Timeout: *timeout}
	if !*quiet {
		o.Progress = func(lib string, conc int, res bench.DrainResult) {
			log.Printf("%s, %d at once: %.0f tasks/s", lib, conc, res.PerSec())
		}
	}
	if err := run(*redisURL, *asynqDB, o, *out); err != nil {
		log.Fatal("drainchart: ", err)
	}
}

func run(url string, asynqDB int, o bench.SweepOptions, out string) (err error) {
	ctx := context.Background()
	clients, err := bench.OpenClients(ctx, url, asynqDB, "drainchart")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, clients.Close()) }()
	client, asynqClient, base := clients.Taskware, clients.Asynq, clients.Prefix

	var libs []bench.QueueLib
	for _, name := range []string{"taskware bare", "taskware lock+store", "asynq"} {
		lib, ok := bench.QueueLibNamed(name)
		if !ok {
			return fmt.Errorf("no contender %q", name)
		}
		libs = append(libs, lib)
	}
	env := bench.Env{Client: client, AsynqClient: asynqClient, Prefix: base}
	curves, err := bench.DrainSweep(ctx, env, libs, o)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Drain of %d no-op tasks, %s, %d CPUs", o.Tasks, roundsText(o.Rounds), runtime.NumCPU())
	if err := bench.PlotCurves(curves, title, out); err != nil {
		return err
	}

	fmt.Printf("%s: tasks/s\n\n| concurrency |", title)
	for _, c := range curves {
		fmt.Printf(" %s |", c.Name)
	}
	fmt.Print("\n|---:|" + strings.Repeat("---:|", len(curves)) + "\n")
	for j, conc := range o.Concurrency {
		fmt.Printf("| %d |", conc)
		for _, c := range curves {
			fmt.Printf(" %.0f |", c.PerSec[j])
		}
		fmt.Println()
	}
	fmt.Printf("\nchart: %s\n", out)
	return nil
}

func roundsText(rounds int) string {
	if rounds == 1 {
		return "one round"
	}
	return fmt.Sprintf("median of %d rounds", rounds)
}
