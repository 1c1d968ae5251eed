package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

func ExampleNewMemory() {
	ctx := context.Background()
	s := store.NewMemory()

	// Every record has a TTL, so the store cannot grow without bound.
	err := s.Put(ctx, &store.Record{
		ID:      "run-1",
		Task:    "add",
		Status:  store.Succeeded,
		Value:   []byte("42"),
		Attempt: 1,
		At:      time.Now(),
	}, time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}

	rec, err := s.Get(ctx, "run-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Status, string(rec.Value))

	_, err = s.Get(ctx, "run-2")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// succeeded 42
	// true
}

func ExampleRecord_Err() {
	ctx := context.Background()
	s := store.NewMemory()

	// A run found its lock held elsewhere. Its failure is stored as text
	// plus a kind, "locked".
	cause := &lock.LockedError{Key: "report:daily"}
	err := s.Put(ctx, &store.Record{
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
	rec, err := s.Get(ctx, "run-7")
	if err != nil {
		fmt.Println(err)
		return
	}
	err = rec.Err()
	fmt.Println(err)
	fmt.Println(errors.Is(err, lock.ErrLocked))
	fmt.Println(errors.Is(err, task.ErrSkipped))
	// Output:
	// lock "report:daily": held by another owner
	// true
	// false
}
