package redisbackend_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// Give the queue, locker and store one backend: a run's lock release,
// result write and the end of its task then share one round trip.
func ExampleBackend_Queue() {
	srv, _ := miniredis.Run()
	defer srv.Close()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()

	backend := redisbackend.New(rdb, redisbackend.Prefix("myapp:"))
	queue, results, locker := backend.Queue(), backend.Store(), backend.Locker()
	greet := task.New("greet", func(ctx context.Context, name string) (string, error) { return "hello " + name, nil },
		middleware.StoreResult(results, middleware.ResultTTL(time.Hour)),
		middleware.WithLockFunc(locker, middleware.KeyFromArgs(func(name string) string { return "greet:" + name })))

	w := worker.New(queue, worker.PollWait(100*time.Millisecond))
	worker.Register(w, greet)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	h, _ := worker.Enqueue(context.Background(), worker.NewClient(queue, results), greet, "ada", worker.Delay(50*time.Millisecond))
	fmt.Println(h.Get(context.Background()))
	st, _ := h.State(context.Background())
	fmt.Println(st.Status, st.Result)
	stop()
	<-done
	// Output:
	// hello ada <nil>
	// succeeded stored
}
