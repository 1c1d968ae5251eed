// Package bench measures taskware against its peers on the same real Redis:
// its lock against redsync and redislock, and its worker, end to end,
// against asynq.
//
// For the locks, one measured operation is a pair: acquire one key, then
// release it. Each library is wrapped as a Contender, and one driver
// (Drive, Measure) runs every Contender the same way, on one goroutine or
// many, each goroutine on keys of its own. The benchmarks
// (BenchmarkLockPair) and the lockbench command (cmd/lockbench) are both
// built on that driver.
//
// End to end, each task queue is wrapped as a TaskQueue (QueueLibs), with
// a no-op task; one driver, Drain, starts a worker on tasks enqueued
// beforehand and times how long they take to run, checking that each ran
// exactly once and counting round trips to Redis with Trips. The benchmark
// BenchmarkDrain and the command cmd/e2ebench are built on it.
//
// This is a module of its own, so that taskware's module never depends on
// its peers.
package bench
