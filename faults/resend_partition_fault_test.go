package faults_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
)

// On a queue of 3 partitions, a Cancel and a RequeueDead of a task that
// is not in the partition its ID names (its OrderKey put it elsewhere)
// reach it in a pipeline over the other partitions; each call runs with
// that pipeline's reply dropped once, and go-redis sends the whole
// pipeline again. Each must still answer as if it ran once: "canceled",
// not "too late"; the task requeued, not "0 requeued".
func TestFaultResentPartitionedCalls(t *testing.T) {
	const n = 300
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix))
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix))
	ctx := context.Background()
	for _, name := range []string{"pcancel", "prequeue"} {
		if err := clean.Queue().SetPartitions(ctx, name, 3); err != nil {
			t.Fatal(err)
		}
	}
	// ids are IDs that name partition 1; orderKey routes to partition 2.
	var ids []string
	for i := 0; len(ids) < n; i++ {
		if id := fmt.Sprint("t", i); queue.PartitionFor(id, 3) == 1 {
			ids = append(ids, id)
		}
	}
	orderKey := ""
	for i := 0; orderKey == ""; i++ {
		if k := fmt.Sprint("k", i); queue.PartitionFor(k, 3) == 2 {
			orderKey = k
		}
	}
	enqueue := func(name, id string) error {
		m := &queue.Message{ID: id, Task: "t", Queue: name, Attempt: 1, OrderKey: orderKey}
		if err := clean.Queue().Enqueue(ctx, m, time.Time{}); err != nil {
			return fmt.Errorf("setting up: %w", err)
		}
		return nil
	}
	// The reply dropped is a script's outside partition 1, where the
	// first look goes: one in the pipeline over the others.
	drop := func(cmd []string) bool {
		return (cmd[0] == "evalsha" || cmd[0] == "eval") && len(cmd) > 3 && !strings.Contains(cmd[3], "#1}")
	}
	resend(t, p, drop, n, "partitioned ", []resentCall{
		{"cancel", "too late", func(i int) error {
			if err := enqueue("pcancel", ids[i]); err != nil {
				return err
			}
			out, err := faulty.Queue().Cancel(ctx, "pcancel", ids[i])
			if err == nil && out != queue.CancelDone {
				err = fmt.Errorf("Cancel(%s) = %q, want %q", ids[i], out, queue.CancelDone)
			}
			return err
		}, func() error {
			st, err := clean.Queue().Stats(ctx, "pcancel")
			if err != nil || st.Ready != 0 {
				return fmt.Errorf("after %d cancels: %+v, %v; want nothing ready", n, st, err)
			}
			return nil
		}},
		{"requeue dead", `"0 requeued"`, func(i int) error {
			id := ids[i]
			if err := enqueue("prequeue", id); err != nil {
				return err
			}
			ds, err := clean.Queue().Take(ctx, "prequeue", "c", 1, 0)
			if err != nil || len(ds) != 1 {
				return fmt.Errorf("setting up: %d, %v", len(ds), err)
			}
			if err := clean.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"}); err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			done, kept, err := faulty.Queue().RequeueDead(ctx, "prequeue", id)
			if err != nil {
				return err
			}
			if !slices.Equal(done, []string{id}) || len(kept) != 0 {
				return fmt.Errorf("RequeueDead(%s) = %q, %q; want it requeued", id, done, kept)
			}
			ds, err = clean.Queue().Take(ctx, "prequeue", "c", 10, 0)
			if err != nil || len(ds) != 1 || ds[0].ID != id {
				return fmt.Errorf("after RequeueDead(%s), Take = %d tasks, %v; want it alone", id, len(ds), err)
			}
			return clean.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		}, func() error {
			st, err := clean.Queue().Stats(ctx, "prequeue")
			if err != nil || st.Ready != 0 || st.Dead != 0 {
				return fmt.Errorf("after %d requeues: %+v, %v; want nothing ready, no dead letter", n, st, err)
			}
			return nil
		}},
	})
}
