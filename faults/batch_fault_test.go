package faults_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
)

// The calls batches add (queue.Batches) run a thousand times each with
// their reply dropped: Redis runs the script, the connection breaks before
// the reply arrives, and go-redis sends it again. Each must answer as if
// it ran once: FlushGroups its count of batches, no member in two batches
// or in none; StartBatch every member not ended; FinishBatch nil, not
// ErrSuperseded, each member ended once (one run in its history); and a
// FinishBatch of a batch taken over, ErrSuperseded, changing nothing.
func TestFaultBatchResentCalls(t *testing.T) {
	const n, size = 1000, 5
	direct, prefix, p, c := proxied(t)
	faulty := redisbackend.New(c, redisbackend.Prefix(prefix)).Queue()
	clean := redisbackend.New(direct, redisbackend.Prefix(prefix)).Queue()
	ctx := context.Background()
	policy := []queue.GroupPolicy{{Task: "sum", Size: size, Delay: time.Hour}}
	scripts := func(cmd []string) bool { return cmd[0] == "evalsha" || cmd[0] == "eval" }

	// group enqueues a full group of queue name, key i, and returns its IDs.
	group := func(name string, i int) ([]string, error) {
		ms := make([]*queue.Message, size)
		ids := make([]string, size)
		for j := range ms {
			ids[j] = fmt.Sprintf("g%d-%d", i, j)
			ms[j] = &queue.Message{ID: ids[j], Task: "sum", Queue: name, Attempt: 1, Payload: []byte("1"), Group: fmt.Sprint("k", i)}
		}
		if _, err := clean.EnqueueMany(ctx, ms, time.Time{}); err != nil {
			return nil, fmt.Errorf("setting up: %w", err)
		}
		return ids, nil
	}
	// batch makes a full group of queue name and takes its batch.
	batch := func(name string, i int) (*queue.Delivery, []string, error) {
		ids, err := group(name, i)
		if err != nil {
			return nil, nil, err
		}
		if made, err := clean.FlushGroups(ctx, name, policy, time.Now()); made != 1 || err != nil {
			return nil, nil, fmt.Errorf("setting up: flushed %d, %v", made, err)
		}
		ds, err := clean.Take(ctx, name, "c", 10, 0)
		if err != nil || len(ds) != 1 || !slices.Equal(ds[0].Batch, ids) {
			return nil, nil, fmt.Errorf("setting up: took %d, %v", len(ds), err)
		}
		return ds[0], ids, nil
	}
	members := map[string]int{} // of the flushes' batches: member -> batches

	kinds := []resentCall{
		{"flush groups", "count of batches", func(i int) error {
			if _, err := group("flush", i); err != nil {
				return err
			}
			made, err := faulty.FlushGroups(ctx, "flush", policy, time.Now())
			if err == nil && made != 1 {
				err = fmt.Errorf("FlushGroups = %d, want 1", made)
			}
			return err
		}, func() error {
			ds, err := clean.Take(ctx, "flush", "c", 2*n, 0)
			if err != nil {
				return err
			}
			for _, d := range ds {
				for _, id := range d.Batch {
					members[id]++
				}
			}
			twice := 0
			for _, k := range members {
				if k > 1 {
					twice++
				}
			}
			if len(ds) != n || len(members) != n*size || twice > 0 {
				return fmt.Errorf("%d batches, %d members in one, %d in two or more; want %d, %d, 0", len(ds), len(members), twice, n, n*size)
			}
			return nil
		}},
		{"start batch", "members left out", func(i int) error {
			d, ids, err := batch("start", i)
			if err != nil {
				return err
			}
			ms, err := faulty.StartBatch(ctx, d, "w", time.Now())
			if err != nil {
				return err
			}
			got := make([]string, len(ms))
			for j, m := range ms {
				got[j] = m.ID
			}
			if !slices.Equal(got, ids) {
				return fmt.Errorf("StartBatch = %v, want %v", got, ids)
			}
			return nil
		}, nil},
		{"finish batch", "ErrSuperseded or members ended twice", func(i int) error {
			d, ids, err := batch("finish", i)
			if err != nil {
				return err
			}
			ms, err := clean.StartBatch(ctx, d, "w", time.Now())
			if err != nil || len(ms) != size {
				return fmt.Errorf("setting up: started %d, %v", len(ms), err)
			}
			os := make([]queue.Outcome, size)
			for j := range os {
				os[j] = queue.Outcome{Status: queue.Succeeded, Attempt: 1}
			}
			os[0] = queue.Outcome{Status: queue.Scheduled, Attempt: 2, Retry: true, RunAt: time.Now().Add(time.Hour), Kind: "k", Error: "e"}
			if err := faulty.FinishBatch(ctx, d, ms, os); err != nil {
				return err
			}
			for j, id := range ids {
				as, err := clean.Attempts(ctx, "finish", id)
				if err != nil || len(as) != 1 || as[0].Status != os[j].Status {
					return fmt.Errorf("member %s: %d runs recorded, %v; want 1, %s", id, len(as), err, os[j].Status)
				}
			}
			return nil
		}, func() error {
			st, err := clean.Stats(ctx, "finish")
			if err != nil || st.Delayed != n || st.Ready != 0 {
				return fmt.Errorf("%d retried members delayed, %d ready; want %d, 0 (%v)", st.Delayed, st.Ready, n, err)
			}
			return nil
		}},
		{"finish batch taken over", "success of a finish superseded", func(i int) error {
			slow, ids, err := batch("over", i)
			if err != nil {
				return err
			}
			ms, err := clean.StartBatch(ctx, slow, "slow", time.Now())
			if err != nil || len(ms) != size {
				return fmt.Errorf("setting up: started %d, %v", len(ms), err)
			}
			if n, err := clean.Recover(ctx, "over", 0, 10); err != nil || n != 1 {
				return fmt.Errorf("setting up: recovered %d, %v", n, err)
			}
			ds, err := clean.Take(ctx, "over", "fast", 1, 0)
			if err != nil || len(ds) != 1 {
				return fmt.Errorf("setting up: %d, %v", len(ds), err)
			}
			fails := make([]queue.Outcome, size)
			for j := range fails {
				fails[j] = queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k", Error: "late"}
			}
			err = faulty.FinishBatch(ctx, slow, ms, fails)
			if !errors.Is(err, queue.ErrSuperseded) {
				return fmt.Errorf("FinishBatch of a batch taken over = %v, want ErrSuperseded", err)
			}
			ms2, err := clean.StartBatch(ctx, ds[0], "fast", time.Now())
			if err != nil || len(ms2) != size {
				return fmt.Errorf("the new delivery started %d members, %v", len(ms2), err)
			}
			oks := make([]queue.Outcome, size)
			for j := range oks {
				oks[j] = queue.Outcome{Status: queue.Succeeded, Attempt: 1}
			}
			if err := clean.FinishBatch(ctx, ds[0], ms2, oks); err != nil {
				return fmt.Errorf("setting up: %w", err)
			}
			for _, id := range ids {
				if as, err := clean.Attempts(ctx, "over", id); err != nil || len(as) != 1 || as[0].Status != queue.Succeeded {
					return fmt.Errorf("member %s: %d runs recorded, %v; want 1 succeeded", id, len(as), err)
				}
			}
			return nil
		}, nil},
	}
	for i := range kinds { // a call its test's end cut short is no false answer
		op := kinds[i].op
		kinds[i].op = func(i int) error {
			if err := op(i); !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		}
	}
	resend(t, p, scripts, n, "", kinds)
}
