package taskware_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/testkit"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// On a Redis Cluster every script's keys share a slot (hash tags), and
// inspection scans every master.
func TestRedisCluster(t *testing.T) {
	c := testkit.Cluster(t)
	ctx := context.Background()
	locker := lock.NewRedis(c)
	results := store.NewRedis(c)

	// Keys spread over all three masters.
	const n = 30
	var leases []*lock.Lease
	for i := range n {
		l, err := locker.TryAcquire(ctx, fmt.Sprintf("key-%d", i), time.Minute)
		if err != nil {
			t.Fatalf("acquire on the cluster: %v", err)
		}
		leases = append(leases, l)
	}
	if _, err := locker.TryAcquire(ctx, "key-0", time.Minute); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("second acquire: %v", err)
	}
	held, err := locker.Held(ctx)
	if err != nil || len(held) != n {
		t.Fatalf("Held found %d of %d locks: %v", len(held), n, err)
	}
	for _, l := range leases {
		if err := locker.Refresh(ctx, l, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := locker.Release(ctx, l); err != nil {
			t.Fatal(err)
		}
	}

	tk := task.New("echo", func(ctx context.Context, s string) (string, error) { return s, nil },
		middleware.StoreResult(results), middleware.SkipLocked(), middleware.WithLock(locker, "echo"))
	for i := range n {
		id := fmt.Sprintf("run-%d", i)
		if _, err := tk.Invoke(ctx, &task.Invocation{ID: id, Args: id}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := results.List(ctx)
	if err != nil || len(recs) != n {
		t.Fatalf("List found %d of %d records: %v", len(recs), n, err)
	}
	waited := make(chan error, 1)
	go func() {
		rec, err := results.Wait(ctx, "late")
		if err == nil && string(rec.Value) != `"late"` {
			err = fmt.Errorf("waited for %+v", rec)
		}
		waited <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := tk.Invoke(ctx, &task.Invocation{ID: "late", Args: "late"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Wait did not wake on the cluster")
	}
}
