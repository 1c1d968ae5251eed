package redisbackend_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// New puts a locker, a result store and a queue on one client and key
// prefix; an embedded miniredis stands in for Redis here. This plays a
// worker's part by hand: under a worker, a run's lock release and result
// write are deferred, and Finish sends them with the task's end in one
// round trip.
func ExampleNew() {
	srv, _ := miniredis.Run()
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	ctx := context.Background()

	b := redisbackend.New(client, redisbackend.Prefix("myapp:"), redisbackend.Holder("worker-1"))
	locker, results, q := b.Locker(), b.Store(), b.Queue()

	// A producer enqueues a task; a worker takes it.
	msg := &queue.Message{ID: "r-1", Task: "report", Queue: "reports", Attempt: 1}
	if err := q.Enqueue(ctx, msg, time.Time{}); err != nil {
		fmt.Println(err)
		return
	}
	ds, err := q.Take(ctx, "reports", "worker-1", 1, 0)
	if err != nil || len(ds) != 1 {
		fmt.Println(ds, err)
		return
	}
	d := ds[0]

	// The run takes its lock; another run would find it held.
	lease, err := locker.TryAcquire(ctx, "nightly-report", 30*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = locker.TryAcquire(ctx, "nightly-report", 30*time.Second)
	fmt.Println(err)

	// The run ends: its release and its record are the last writes.
	var final task.FinalWrites
	final.Release(locker.FinalRelease(lease))
	put, err := results.FinalPut(&store.Record{Queue: d.Queue, ID: d.ID, Task: d.Task, Status: store.Succeeded,
		Value: []byte(`"done"`), Attempt: d.Attempt}, time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}
	final.Result(put)
	if err := q.Finish(ctx, d, queue.Outcome{Status: queue.Succeeded, Attempt: d.Attempt, Final: &final}); err != nil {
		fmt.Println(err)
		return
	}

	st, _ := q.State(ctx, "reports", "r-1")
	fmt.Println("state:", st.Status, st.Result)
	rec, _ := results.Get(ctx, "reports", "r-1")
	fmt.Println("record:", rec.Status, string(rec.Value))
	held, _ := locker.Held(ctx)
	fmt.Println("locks held:", len(held))
	_ = q.Leave(ctx, "reports", "worker-1") // the worker stops cleanly
	for _, k := range srv.Keys() {
		if i := strings.Index(k, ":rate:"); i > 0 {
			k = k[:i] + ":rate:<minute>" // the outcome counted in its minute
		}
		fmt.Println(k)
	}
	// Output:
	// lock "nightly-report": held by worker-1 (expires in 30s)
	// state: succeeded stored
	// record: succeeded "done"
	// locks held: 0
	// myapp:lock:{nightly-report}
	// myapp:queue:{reports}
	// myapp:queue:{reports}:ended
	// myapp:queue:{reports}:rate:<minute>
	// myapp:queue:{reports}:task:r-1
	// myapp:queues
	// myapp:result:{reports}:r-1
}
