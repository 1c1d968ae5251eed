// Package bench measures taskware against its peers on the same real Redis:
// its lock against redsync and redislock, and its worker and queue, end to
// end, against asynq.
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
// exactly once. A Meter measures the drain's cost beside its time: round
// trips to Redis (Trips), this process's heap allocations
// (runtime.MemStats.Mallocs, which count the bench's own wrappers and
// bookkeeping too), and the Redis server's CPU time from INFO cpu (the
// whole server's: on a shared server, others' load counts). These are
// built on it:
//
//   - cmd/e2ebench: the contenders drain 20k tasks, 32 at once, taking
//     turns in 5 rounds, in an order rotated each round (RoundOrder), every
//     key of a round deleted before the next; each is paired with the asynq
//     that does the same work (QueueLib.Pair: bare with "asynq bare", which
//     keeps no result, lock+store with "asynq", which keeps it); a table of
//     the median tasks per second, the ratio to the paired peer computed
//     within each round and shown as "median (min–max)" (PairRatios), and
//     round trips, Redis CPU µs and allocations per task. Run it on a Redis
//     of its own (-redis), so that others' work does not count in its
//     Redis CPU.
//   - cmd/drainchart: the drain rate of taskware (bare, and lock+store) and
//     asynq against the worker's concurrency, 1 to 128 (DrainSweep), drawn
//     as a chart (PlotCurves) and printed as a table.
//   - cmd/depthbench: taskware's drain at several queue depths (20k, 200k,
//     1M tasks enqueued first), each as a ratio to the first depth's, with
//     Redis CPU per task, the keys the server expired meanwhile, and the
//     commands whose µs per task grew (INFO commandstats): what grows with
//     depth (issue 21).
//   - BenchmarkDrain, for go test -bench.
//
// The queue itself, beyond draining, is measured by cmd/queuebench, each
// figure in rounds in which taskware and asynq take turns, printed as
// "median (min–max)" (Summarize):
//
//   - the rate of enqueues from one goroutine (EnqueueRate, EnqueueWays):
//     taskware's worker.EnqueueMany in batches of 1,000 and its
//     worker.Enqueue, one task at a time, against asynq's Client.Enqueue,
//     one at a time (asynq has no call that enqueues many);
//   - the memory that queued tasks take (QueuedMemory, MemoryLibs), the
//     rise of INFO memory's used_memory on enqueueing 100k tasks of the
//     same 1 KiB payload (Payload), not run, then deleted;
//   - the latency from enqueue to start (Latency) at a steady 2,000 tasks
//     a second for 5 s, p50, p99 and the greatest, each library's worker
//     with its defaults.
//
// Workflows (issue 19) are measured by cmd/wfbench against taskware's own
// plain task, on a Redis of the run's own: three FlowWays (a plain task,
// a workflow step in chains of 5, a task chained by hand) each run units
// whose whole lifecycle, enqueue to finish, Lifecycle measures: round
// trips, Redis CPU (INFO cpu), µs by command (CommandStats, INFO
// commandstats) and by script (ScriptLog and Scripts, from SLOWLOG), and
// allocations; FlowTable shows them with their ratios to the plain task,
// CommandTable by command. EnqueueWorkflowTime times the enqueue of one
// workflow (ChainDef, FanInDef), on Redis or memory (MemoryWorkflows).
//
// One hot queue over a Redis Cluster (issue 21) is measured by
// cmd/clusterbench as capacity, not speed (the machine may have too few
// cores to show a speed-up): the queue, split in partitions
// (OpenPartitioned), is drained on a Cluster and on one Redis, each
// server's CPU time read before and after (DrainSpread, Spread); the
// projected capacity is one second over the busiest server's CPU time per
// task (Spread.Capacity), compared with one Redis's round by round
// (CapacityRatios), printed by CapacityTable and drawn by PlotCapacity.
//
// Taskware writes only keys under a prefix of the run's own (NewPrefix);
// asynq, which takes no prefix, writes in a logical DB of its own, which
// must be empty and is left empty. Every key written is deleted after:
// nothing flushes the server, which may be shared.
//
// This is a module of its own, so that taskware's module never depends on
// its peers.
package bench
