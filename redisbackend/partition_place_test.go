package redisbackend_test

import (
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// On a Cluster, a queue's partitions are placed on its masters, evenly,
// whatever the queue's name: "jobs", whose "jobs#1" and "jobs#2" hash to
// one master, too. Raising the count keeps the names in use, and every
// partition of every queue is drained.
func TestPartitionsPlacedOnMasters(t *testing.T) {
	c := taskwaretest.Cluster(t)
	prefix := "taskware-place:"
	t.Cleanup(func() { taskwaretest.DeletePrefix(t, c, prefix) })
	rb := redisbackend.New(c, redisbackend.Prefix(prefix))
	q, ctx := rb.Queue(), t.Context()
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	masterOf := func(name string) string {
		slot := c.ClusterKeySlot(ctx, "{"+name+"}").Val()
		for _, r := range slots {
			if int64(r.Start) <= slot && slot <= int64(r.End) {
				return r.Nodes[0].Addr
			}
		}
		t.Fatalf("no master holds slot %d", slot)
		return ""
	}
	for _, name := range []string{"jobs", "bench", "a", "emails", "q7"} {
		for _, n := range []int{3, 6} {
			if err := q.SetPartitions(ctx, name, n); err != nil {
				t.Fatal(err)
			}
			names := partitionNames(t, q, name)
			if len(names) != n || names[0] != name {
				t.Fatalf("%s in %d: partitions %v", name, n, names)
			}
			per := map[string]int{}
			for _, p := range names {
				if l, _ := queue.SplitPartition(p); l != name {
					t.Fatalf("partition %q of %s names another queue", p, name)
				}
				per[masterOf(p)]++
			}
			for m, k := range per {
				if k != n/3 || len(per) != 3 {
					t.Fatalf("%s in %d partitions %v: %d on %s, want %d on each of 3 masters", name, n, names, k, m, n/3)
				}
			}
		}
		first := partitionNames(t, q, name)
		if err := q.SetPartitions(ctx, name, 2); err != nil { // lowering keeps every name
			t.Fatal(err)
		}
		if got := partitionNames(t, q, name); len(got) != len(first) || got[5] != first[5] {
			t.Fatalf("after lowering: %v, want %v", got, first)
		}
	}
	// Tasks go to the placed partitions and are all taken.
	for i := range 30 {
		m := &queue.Message{ID: "t" + string(rune('a'+i)), Task: "x", Queue: "jobs"}
		if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	deadline := time.Now().Add(10 * time.Second)
	for got < 30 && time.Now().Before(deadline) {
		ds, err := q.Take(ctx, "jobs", "c1", 10, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		got += len(ds)
	}
	if got != 30 {
		t.Fatalf("took %d of 30 from placed partitions", got)
	}
}

// partitionNames is q.PartitionNames, failing t on an error.
func partitionNames(t *testing.T, q *redisbackend.Queue, name string) []string {
	t.Helper()
	names, err := q.PartitionNames(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return names
}
