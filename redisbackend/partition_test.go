package redisbackend_test

import (
	"errors"
	"testing"

	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// A queue's partition count is stored: raising it raises the high mark
// workers read, lowering it keeps the mark, and a default is stored on
// first use only, so a process with another default goes by what is
// stored.
func TestPartitionCounts(t *testing.T) {
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) {
			b := taskwaretest.New(t, name)
			q, ctx := b.Redis.Queue(), t.Context()
			if n, high, err := q.Partitions(ctx, "plain"); err != nil || n != 1 || high != 1 {
				t.Fatalf("Partitions(plain) = %d, %d, %v; want 1, 1", n, high, err)
			}
			for _, bad := range []int{0, -1, redisbackend.MaxPartitions + 1} {
				if err := q.SetPartitions(ctx, "jobs", bad); !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("SetPartitions(%d) = %v, want ErrInvalidConfig", bad, err)
				}
			}
			if err := q.SetPartitions(ctx, "jobs#1", 2); !errors.Is(err, task.ErrInvalidConfig) {
				t.Errorf("SetPartitions of a partition's name = %v, want ErrInvalidConfig", err)
			}
			for _, c := range []struct{ set, n, high int }{{3, 3, 3}, {5, 5, 5}, {2, 2, 5}, {4, 4, 5}} {
				if err := q.SetPartitions(ctx, "jobs", c.set); err != nil {
					t.Fatal(err)
				}
				if n, high, err := q.Partitions(ctx, "jobs"); err != nil || n != c.n || high != c.high {
					t.Fatalf("after SetPartitions(%d): %d, %d, %v; want %d, %d", c.set, n, high, err, c.n, c.high)
				}
			}
			other := redisbackend.New(b.Client, redisbackend.Prefix(b.Prefix()), redisbackend.DefaultPartitions(3))
			if n, high, err := other.Queue().Partitions(ctx, "fresh"); err != nil || n != 3 || high != 3 {
				t.Fatalf("default on first use: %d, %d, %v; want 3, 3", n, high, err)
			}
			if n, _, err := other.Queue().Partitions(ctx, "jobs"); err != nil || n != 4 {
				t.Fatalf("a stored count beside a default: %d, %v; want the stored 4", n, err)
			}
			if n, _, err := q.Partitions(ctx, "fresh"); err != nil || n != 3 {
				t.Fatalf("another process without the default reads %d, %v; want the stored 3", n, err)
			}
		})
	}
}
