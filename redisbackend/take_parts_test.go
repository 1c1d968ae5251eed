package redisbackend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/taskwaretest"
)

// partitionedKits are the backends the partition tests run over.
var partitionedKits = []string{"miniredis", "redis", "cluster"}

// eachPartitioned runs fn over each partitioned backend, its queues split
// into parts.
func eachPartitioned(t *testing.T, parts int, fn func(t *testing.T, b *taskwaretest.Backend)) {
	for _, name := range partitionedKits {
		t.Run(name, func(t *testing.T) { fn(t, taskwaretest.NewPartitioned(t, name, parts)) })
	}
}

// streamLens returns the length of each partition's stream of queue name.
func streamLens(t *testing.T, b *taskwaretest.Backend, name string, parts int) []int64 {
	t.Helper()
	lens := make([]int64, parts)
	names := partitionNames(t, b.Redis.Queue(), name)
	for i := range lens {
		if i >= len(names) { // a partition it never had
			continue
		}
		n, err := b.Client.XLen(t.Context(), b.Prefix()+"queue:{"+names[i]+"}").Result()
		if err != nil {
			t.Fatalf("XLEN of partition %d: %v", i, err)
		}
		lens[i] = n
	}
	return lens
}

// Enqueue and EnqueueMany spread a split queue's tasks over its
// partitions, each its own stream, and leave the caller's messages as
// they were; each delivery names its partition, and all are handed out.
func TestPartitionsSpread(t *testing.T) {
	eachPartitioned(t, 3, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Redis.Queue(), t.Context()
		const one, many = 150, 150
		for i := range one {
			m := &queue.Message{ID: fmt.Sprintf("one-%d", i), Task: "t", Queue: "jobs"}
			if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if m.Queue != "jobs" {
				t.Fatalf("Enqueue changed the message's queue to %q", m.Queue)
			}
		}
		ms := make([]*queue.Message, many)
		for i := range ms {
			ms[i] = &queue.Message{ID: fmt.Sprintf("many-%d", i), Task: "t", Queue: "jobs"}
		}
		if errs, err := q.EnqueueMany(ctx, ms, time.Time{}); err != nil {
			t.Fatal(err)
		} else {
			for i, err := range errs {
				if err != nil || ms[i].Queue != "jobs" {
					t.Fatalf("EnqueueMany: %s: %v, queue %q", ms[i].ID, err, ms[i].Queue)
				}
			}
		}
		lens := streamLens(t, b, "jobs", 3)
		total := int64(0)
		for i, n := range lens {
			total += n
			if n < (one+many)/6 { // a fair share is 100
				t.Errorf("partition %d holds %d of %d tasks: %v", i, n, one+many, lens)
			}
		}
		if total != one+many {
			t.Fatalf("the partitions hold %v, %d in all; want %d", lens, total, one+many)
		}
		seen := map[string]bool{}
		for range 100 {
			ds, err := q.Take(ctx, "jobs", "c1", 32, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 0 {
				break
			}
			for _, d := range ds {
				if seen[d.ID] {
					t.Fatalf("%s handed out twice", d.ID)
				}
				seen[d.ID] = true
				if logical, i := queue.SplitPartition(d.Queue); logical != "jobs" || partitionNames(t, q, "jobs")[queue.PartitionFor(d.ID, 3)] != d.Queue {
					t.Fatalf("%s came from %q (partition %d), want its own partition of jobs", d.ID, d.Queue, i)
				}
			}
		}
		if len(seen) != one+many {
			t.Fatalf("took %d tasks, want %d", len(seen), one+many)
		}
	})
}

// Tasks of one OrderKey go to one partition and are handed out in the
// order they were enqueued, though the keys' tasks interleave; Take never
// hands out more than it is asked for, and every task once.
func TestPartitionsOrderKey(t *testing.T) {
	eachPartitioned(t, 3, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Redis.Queue(), t.Context()
		const keys, each = 6, 20
		var ms []*queue.Message
		for i := range each {
			for k := range keys {
				ms = append(ms, &queue.Message{ID: fmt.Sprintf("k%d-%02d", k, i), Task: "t", Queue: "ordered", OrderKey: fmt.Sprintf("k%d", k)})
			}
		}
		for _, m := range ms[:len(ms)/2] { // one by one, then the rest at once
			if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := q.EnqueueMany(ctx, ms[len(ms)/2:], time.Time{}); err != nil {
			t.Fatal(err)
		}
		next := map[string]int{} // key -> the index its next task must have
		taken := 0
		for round := 0; taken < len(ms) && round < 200; round++ {
			n := 1 + round%7
			ds, err := q.Take(ctx, "ordered", "c1", n, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) > n {
				t.Fatalf("Take(%d) handed out %d", n, len(ds))
			}
			for _, d := range ds {
				var k, i int
				if _, err := fmt.Sscanf(d.ID, "k%d-%d", &k, &i); err != nil {
					t.Fatalf("unexpected ID %q", d.ID)
				}
				key := fmt.Sprintf("k%d", k)
				if i != next[key] {
					t.Fatalf("key %s: handed out its task %d, want %d: out of order", key, i, next[key])
				}
				next[key]++
				if err := q.Finish(ctx, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1}); err != nil {
					t.Fatal(err)
				}
			}
			taken += len(ds)
		}
		if taken != len(ms) {
			t.Fatalf("took %d of %d", taken, len(ms))
		}
	})
}

// A Take of a queue of one partition is one round trip, as it always was;
// one of a queue of three is one too (one pipeline, which go-redis sends
// to each master at once on a Cluster), while each partition has its
// share ready.
func TestPartitionsTakeRoundTrips(t *testing.T) {
	eachPartitioned(t, 3, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Redis.Queue(), t.Context()
		if err := q.SetPartitions(ctx, "plain", 1); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"plain", "split"} {
			// Enough in each partition for two takes of 9 (a fair share
			// is 3 a partition, a take each; 60 leaves room for chance).
			var ms []*queue.Message
			for i := range 60 {
				ms = append(ms, &queue.Message{ID: fmt.Sprintf("%s-%d", name, i), Task: "t", Queue: name})
			}
			if _, err := q.EnqueueMany(ctx, ms, time.Time{}); err != nil {
				t.Fatal(err)
			}
			lens := streamLens(t, b, name, 3)
			if name == "split" && (lens[0] < 6 || lens[1] < 6 || lens[2] < 6) {
				t.Fatalf("partitions hold %v: too few for the test", lens)
			}
			// The first take makes the groups and loads the script.
			if ds, err := q.Take(ctx, name, "c1", 9, 0); err != nil || len(ds) != 9 {
				t.Fatalf("Take(%s, 9) = %d, %v", name, len(ds), err)
			}
			trips := &taskwaretest.RoundTrips{}
			b.Client.AddHook(trips)
			ds, err := q.Take(ctx, name, "c1", 9, 0)
			if err != nil || len(ds) != 9 {
				t.Fatalf("Take(%s, 9) = %d, %v", name, len(ds), err)
			}
			if trips.N() != 1 {
				t.Errorf("Take of %s took %d round trips, want 1", name, trips.N())
			}
		}
	})
}
