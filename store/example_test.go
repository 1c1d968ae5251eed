package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

func ExampleRecord_Err() {
	ctx := context.Background()
	var s store.Store = memorybackend.New().Store()

	// A run of queue "reports" found its lock held elsewhere. Its failure
	// is stored as text plus a kind, "lock.locked".
	cause := &lock.LockedError{Key: "report:daily"}
	err := s.Put(ctx, &store.Record{
		Queue:   "reports",
		ID:      "run-7",
		Task:    "report",
		Status:  store.Failed,
		Error:   cause.Error(),
		Kind:    task.KindOf(cause),
		Attempt: 1,
		At:      time.Now(),
	}, 24*time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Read back, the failure still matches the sentinel it came from.
	rec, err := s.Get(ctx, "reports", "run-7")
	if err != nil {
		fmt.Println(err)
		return
	}
	err = rec.Err()
	fmt.Println(err)
	fmt.Println(rec.Kind, errors.Is(err, lock.ErrLocked))
	fmt.Println(errors.Is(err, task.ErrSkipped))
	// Output:
	// lock "report:daily": held by another owner
	// lock.locked true
	// false
}

// A Reader's Wait blocks until the run's record is put.
func ExampleReader() {
	ctx := context.Background()
	s := memorybackend.New().Store()
	var r store.Reader = s

	done := make(chan *store.Record)
	go func() {
		rec, err := r.Wait(ctx, "emails", "run-1")
		if err != nil {
			fmt.Println(err)
		}
		done <- rec
	}()

	var w store.Writer = s
	_ = w.Put(ctx, &store.Record{Queue: "emails", ID: "run-1", Task: "send", Status: store.Succeeded, Value: []byte(`"sent"`)}, time.Hour)
	rec := <-done
	fmt.Println(rec.Queue, rec.ID, rec.Status, string(rec.Value))
	// Output:
	// emails run-1 succeeded "sent"
}
