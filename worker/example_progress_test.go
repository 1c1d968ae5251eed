package worker_test

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// A long task reports how far it is; another reader sees it in the
// task's state while it runs, and the finish clears it.
func ExampleHandle_State_progress() {
	backend := memorybackend.New()
	halfway, finish := make(chan struct{}), make(chan struct{})
	index := task.New("index", func(ctx context.Context, docs int) (int, error) {
		_ = task.Progress(ctx, int64(docs/2), int64(docs), "indexing")
		close(halfway)
		<-finish
		return docs, nil
	})
	w := worker.New(backend.Queue())
	worker.Register(w, index)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	client := worker.NewClient(backend.Queue(), backend.Store())
	h, err := worker.Enqueue(context.Background(), client, index, 100)
	if err != nil {
		fmt.Println(err)
		stop()
		return
	}
	<-halfway
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if st, err := h.State(context.Background()); err == nil && st.Progress != nil {
			fmt.Println(st.Status, st.Progress)
			break
		}
	}
	close(finish)
	_, err = h.Get(context.Background()) // no StoreResult: the end, no value
	fmt.Println(err)
	st, _ := h.State(context.Background())
	fmt.Println(st.Status, st.Progress == nil)

	stop()
	fmt.Println(<-done)
	// Output:
	// running 50/100 (50%) indexing
	// <nil>
	// succeeded true
	// <nil>
}

// A worker made with ProgressEvents tells its subscribers of each
// progress report it writes: here, a subscriber that prints them.
func ExampleProgressEvents() {
	backend := memorybackend.New()
	index := task.New("index", func(ctx context.Context, docs int) (int, error) {
		_ = task.Progress(ctx, int64(docs/4), int64(docs), "indexing") // written at once: the run's first
		return docs, nil
	})
	seen := make(chan string, 1)
	w := worker.New(backend.Queue(), worker.ProgressEvents(), worker.OnEvent(func(e worker.Event) {
		if e.Kind == worker.EventProgress {
			seen <- fmt.Sprintf("%s %s: %v", e.Kind, e.Task, &e.Progress)
		}
	}))
	worker.Register(w, index)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	h, err := worker.Enqueue(context.Background(), worker.NewClient(backend.Queue(), backend.Store()), index, 100)
	if err == nil {
		_, err = h.Get(context.Background())
	}
	fmt.Println(err)
	fmt.Println(<-seen)
	stop()
	fmt.Println(<-done)
	// Output:
	// <nil>
	// progress index: 25/100 (25%) indexing
	// <nil>
}
