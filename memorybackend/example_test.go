package memorybackend_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/store"
)

// New keeps locks, records and queues in memory, for tests and Task.Call.
// Records are keyed by queue and ID: a run in-process has queue "".
func ExampleNew() {
	ctx := context.Background()
	s := memorybackend.New().Store()

	// Every record has a TTL, so the store cannot grow without bound.
	err := s.Put(ctx, &store.Record{
		Queue:   "emails",
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

	rec, err := s.Get(ctx, "emails", "run-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Status, string(rec.Value))

	// The same ID on another queue, or in-process, is another record.
	_, err = s.Get(ctx, "", "run-1")
	fmt.Println(errors.Is(err, store.ErrNotFound), err)
	_, err = s.Get(ctx, "emails", "run-2")
	fmt.Println(errors.Is(err, store.ErrNotFound), err)
	// Output:
	// succeeded 42
	// true store: no record of "run-1"
	// true store: no record of "run-2" on queue "emails"
}
