// Package bench measures taskware's Redis lock against its peers, redsync
// and redislock, on the same real Redis.
//
// One measured operation is a pair: acquire one key, then release it. Each
// library is wrapped as a Contender, and one driver (Drive, Measure) runs
// every Contender the same way, on one goroutine or many, each goroutine on
// keys of its own. The benchmarks (BenchmarkLockPair) and the lockbench
// command (cmd/lockbench) are both built on that driver.
//
// This is a module of its own, so that taskware's module never depends on
// its peers.
package bench
