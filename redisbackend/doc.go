// Package redisbackend keeps taskware's locks, results and queues on Redis,
// a single server or a Redis Cluster, through go-redis v9. It is the only
// package of the module that talks to Redis.
//
// [New] takes a redis.UniversalClient and one key prefix, and returns a
// [Backend] whose [Backend.Locker], [Backend.Store] and [Backend.Queue]
// share both:
//
//	b := redisbackend.New(rdb) // keys under "taskware:"
//	middleware.WithLock(b.Locker(), "report")
//	middleware.StoreResult(b.Store())
//	worker.New(b.Queue())
//
// Every key is named in keys.go (the limits' in limit.go), each with what
// it holds, and carries a hash tag, so that all the keys of one script
// share a Cluster slot. The scripts are in lua/, a file each, with a table
// of their KEYS and ARGV.
//
// A task's state names its current stream entry ("e"), so that a Cancel
// deletes the entry of a task not taken yet, in the one script that ends
// it; a task a worker holds is told to cancel on the channel instead.
//
// A stream entry holds a message as one string under "m" (see
// encodeMessage): a header (attempt, deliveries, outages, last failure)
// that the scripts change, then the core the client wrote (ID, task,
// times, payload, headers); a payload is stored once. A finished entry is
// acknowledged, not deleted: each worker's Recover trims the stream below
// its oldest pending entry, so it stays bounded.
//
// Round trips. The hot calls of concurrent tasks (lock acquires, releases
// and refreshes, and finishes) share pipelines: a call that finds fewer
// than two pipelines in flight goes at once, and those that come meanwhile
// go together in the next one, each reading its own reply. Taking up to n
// ready tasks is one round trip (two more when none is ready: XREAD BLOCK
// waits for one). An EnqueueMany is one, whatever its size. Under a
// worker, a run's lock releases and its result write are deferred
// (lock.FinalReleaser, store.FinalPutter) and made by the one script that
// ends the task, or schedules it again: it releases the locks,
// acknowledges the task and, only if that acknowledged it, writes the
// record and the state, so a worker that
// finishes late, its task taken over and ended meanwhile, overwrites
// nothing. (On a Cluster, where a lock's key and the queue's lie apart, the
// releases go beside the script, in its pipeline.) Only writes of the same
// Backend are joined this way; any other deferred write is made first, on
// its own, and if it fails the state says queue.ResultLost. A task's end
// is published only if someone waits for it: Wait marks the task's state.
//
// Workflows (queue.Workflows). A step is a task whose state also says
// where it sits in its workflow, and waits ("waiting", its message's core
// in its state) until the finish of its last parent releases it: the
// script that ends a step (finish_step.lua, which runs finish.lua's work
// first) records the step's end in its workflow, its outcome as each
// child's input, and queues each child whose parents have all ended, in
// the same run, and only if the XACK of the step's entry acknowledged it.
// A child counts a parent once (one HSETNX per parent), and is released
// only from "waiting", so a finish sent again or superseded releases
// nothing (lua/lib/flow.lua). A failure that is not absorbed fails the
// workflow and cancels its steps not started in the same script. An
// EnqueueWorkflow is one round trip, as EnqueueMany is; it lists the
// workflow in its home queue's index (queue:{q}:workflows, by creation
// time), which ListWorkflows pages in one script a page, and makes the
// stream of each step's queue, so that Queues lists a queue whose steps
// only wait. On a Cluster, a workflow's steps must all be on its home
// queue, whose slot then holds all its keys.
//
// Batches (queue.Batches). A grouped task waits in its group, a list of
// its queue's keys (its message's core in its state, as a delayed task's),
// and each task's groups are indexed by their oldest and newest members'
// times and by their sizes, so that FlushGroups finds the groups due in
// one script without looking at the others (lua/lib/groups.lua). A batch
// is a message of its own in the stream, its members' IDs in its core,
// with a state of its own: it is taken, extended, recovered and finished
// as any message is. StartBatch and FinishBatch are a script each; the
// latter acknowledges the batch's entry and, only if that acknowledged it,
// ends every member as finish.lua ends a task (lua/lib/finish.lua's
// endtask, lua/lib/requeue.lua's requeued), so a finish sent again or
// superseded changes nothing. A batch of 100 costs about 1,000 Redis
// commands, flushed, taken, started and finished (BenchmarkBatch100).
//
// Partitioned queues. One queue is one stream under one hash tag, so on a
// Cluster one hot queue lives on one master. Queue.SetPartitions splits a
// queue into n partitions (DefaultPartitions for queues first used
// without a count): partition 0 is the queue itself, partition i its own
// queue "<queue>#<k>", with its own keys and slot: k is i on one Redis,
// and on a Cluster the first k whose slot is on the master holding the
// fewest of the queue's partitions when it was added (Queue.PartitionNames
// lists them).
// Enqueue sends a task to the partition of its RouteKey (OrderKey, else
// Group, else Unique, else ID); a Take reads every partition in one
// pipeline, at most n in all, the partition asked first turning with each
// Take; a delivery names its partition, where its finish, extension and
// progress go; Recover, Promote, Leave and FlushGroups run on every
// partition in one pipeline. Tasks of one OrderKey are handed out in the
// order they were enqueued; tasks of different keys, or of none, in no
// set order between them. A task's ID is unique within its partition: an
// Enqueue of an ID held by a task routed to another partition (by another
// key, or a workflow step, which its script puts in partition 0) is not
// refused.
//
// Changing the count of a live queue loses nothing: call SetPartitions
// from any process, and every process goes by the new count within about
// a second (each reads it at most once a second). Producers route over the
// new count; workers take from, promote and recover every partition the
// queue ever had (the highest count, kept beside it), so lowering the
// count strands nothing: the partitions past it drain and are no longer
// written. Order by OrderKey holds only between tasks enqueued under one
// count: after a change, a key's next tasks may go to another partition
// and be handed out before its earlier ones. So to keep a key's order
// across a change, let its queued tasks drain first.
//
// Partitioned queues, as callers and operators see them (partition.go,
// lookup.go). A task lives whole in one partition: its state, record,
// dead letter and outcome counts. A per-task call by (queue, id) —
// State, Wait, Cancel, Message, Attempts, Store.Get, Store.Wait,
// Store.Delete — looks first in partition PartitionFor(id, n), then in
// every other partition in one pipeline; on a queue never split it is the
// one round trip it always was, the count re-read each second in the
// pipeline of the call's look. A waiter waits on its logical queue's
// notice: the hub maps "t{jobs#2}<id>" to "t{jobs}<id>". Records and
// listed tasks are reported under their logical queue. The admin calls
// fan out over every partition the queue ever had, in one pipeline where
// each partition's part is a command or a script: Queues lists logical
// names only; Stats sums (OldestReady the oldest, a worker of several
// partitions counted once, Partitions the count producers route over);
// Workers merges by name; Tasks and DeadLetters merge in their set's
// order; ListTasks (a round trip or more a partition) lists partition 0,
// then 1, and so on, its cursor naming the partition; Find, RequeueDead,
// PurgeDead, Pause, Resume, Rates and Store.Purge cover every partition.
// Paused reads partition 0's mark: Pause and Resume set them all
// together. A dead letter named by entry ID matches in every partition
// that has one of that ID: name dead letters by task ID there. Workflows
// stay in partition 0 of their queues: a workflow's steps, enqueued by
// Lua in its home queue's slot, are not spread, and RetryStep,
// CancelWorkflow and the workflow listings need no lookup.
//
// Every script answers the same when go-redis sends it again after losing
// its reply, and connection errors come back marked task.ErrUnavailable;
// see FAULTS.md. Everything here is safe for concurrent use.
package redisbackend
