package redisbackend_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/taskwaretest"
)

// partitioned runs fn over a backend whose queues have 3 partitions, on
// each of names.
func partitioned(t *testing.T, names []string, fn func(t *testing.T, b *taskwaretest.Backend)) {
	for _, name := range names {
		t.Run(name, func(t *testing.T) { fn(t, taskwaretest.NewPartitioned(t, name, 3)) })
	}
}

// spread enqueues, in each partition of the 3 of queue jobs, a task
// routed there by its ID and one that is not (as an OrderKey, Group or
// Unique key may place it), and returns their IDs by partition.
func spread(t *testing.T, q *redisbackend.Queue, tag string) [3][]string {
	t.Helper()
	var ids [3][]string
	for i := range 3 {
		routed, placed := "", ""
		for j := 0; routed == "" || placed == ""; j++ {
			id := fmt.Sprintf("%s-%d-%d", tag, i, j)
			if queue.PartitionFor(id, 3) == i {
				routed = cmpOr(routed, id)
			} else {
				placed = cmpOr(placed, id)
			}
		}
		for _, id := range []string{routed, placed} {
			if err := redisbackend.EnqueueIn(t.Context(), q, rqMsg("jobs", id), i); err != nil {
				t.Fatalf("EnqueueIn(%s, %d): %v", id, i, err)
			}
		}
		ids[i] = []string{routed, placed}
	}
	return ids
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Each task of a queue spread over 3 partitions is found by its logical
// queue and ID, whichever partition holds it: State, Message, Attempts,
// Find, Cancel (once, then too late), the store's Get and Delete; and a
// routed task costs one round trip, a task placed elsewhere two.
func TestPartitionedLookups(t *testing.T) {
	partitioned(t, []string{"miniredis", "redis", "cluster"}, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Redis.Queue(), t.Context()
		if n, high, err := q.Partitions(ctx, "jobs"); err != nil || n != 3 || high != 3 {
			t.Fatalf("Partitions = %d, %d, %v; want 3, 3", n, high, err)
		}
		ids := spread(t, q, "look")
		trips := &taskwaretest.RoundTrips{}
		b.Client.AddHook(trips)
		for i, pair := range ids {
			for k, id := range pair {
				before := trips.N()
				st, err := q.State(ctx, "jobs", id)
				if err != nil || st.Status != queue.Queued || st.Queue != "jobs" || st.ID != id {
					t.Fatalf("State(%s) in partition %d = %+v, %v; want queued in jobs", id, i, st, err)
				}
				// The count was read a moment ago (Partitions, or the
				// look before): routed, one round trip; else two.
				if n, want := trips.N()-before, int64(k+1); n != want {
					t.Errorf("State(%s) took %d round trips, want %d", id, n, want)
				}
				m, err := q.Message(ctx, "jobs", id)
				if err != nil || string(m.Payload) != "payload of "+id || m.Queue != "jobs" {
					t.Fatalf("Message(%s) = %+v, %v", id, m, err)
				}
				if _, err := q.Attempts(ctx, "jobs", id); err != nil {
					t.Fatalf("Attempts(%s): %v", id, err)
				}
				found, err := q.Find(ctx, id, "jobs")
				if err != nil || len(found) != 1 || found[0].Queue != "jobs" || found[0].Status != queue.Queued {
					t.Fatalf("Find(%s) = %+v, %v; want it once, in jobs", id, found, err)
				}
				if got, err := q.Cancel(ctx, "jobs", id); err != nil || got != queue.CancelDone {
					t.Fatalf("Cancel(%s) = %q, %v; want done", id, got, err)
				}
				if got, err := q.Cancel(ctx, "jobs", id); err != nil || got != queue.CancelTooLate {
					t.Fatalf("Cancel(%s) again = %q, %v; want too late", id, got, err)
				}
				if st, err := q.State(ctx, "jobs", id); err != nil || st.Status != queue.Canceled {
					t.Fatalf("State(%s) after Cancel = %+v, %v; want canceled", id, st, err)
				}
				if _, err := q.Message(ctx, "jobs", id); !errors.Is(err, queue.ErrNotFound) {
					t.Fatalf("Message(%s) of a canceled task: %v, want not found", id, err)
				}
				// A record in the task's partition, as the end of its run
				// writes it, is the logical queue's.
				rec := &store.Record{ID: id, Queue: partitionNames(t, q, "jobs")[i], Status: store.Succeeded, Value: []byte(`"ok"`)}
				if err := b.Store.Put(ctx, rec, time.Hour); err != nil {
					t.Fatal(err)
				}
				got, err := b.Store.Get(ctx, "jobs", id)
				if err != nil || got.Queue != "jobs" || got.ID != id || string(got.Value) != `"ok"` {
					t.Fatalf("Store.Get(%s) = %+v, %v; want the record of partition %d, as jobs'", id, got, err, i)
				}
				if err := b.Store.Delete(ctx, "jobs", id); err != nil {
					t.Fatal(err)
				}
				if _, err := b.Store.Get(ctx, "jobs", id); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("Store.Get(%s) after Delete: %v, want not found", id, err)
				}
			}
		}
		if _, err := q.State(ctx, "jobs", "nobody"); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("State of an unknown task: %v, want not found", err)
		}
		if _, err := q.Cancel(ctx, "jobs", "nobody"); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("Cancel of an unknown task: %v, want not found", err)
		}
	})
}

// A waiter of a task (Queue.Wait) or of its record (Store.Wait), named by
// its logical queue, wakes at the notice of the partition that ends the
// task: with no re-read due for an hour, only the notice can wake it.
func TestPartitionedWaitWakes(t *testing.T) {
	partitioned(t, []string{"miniredis", "redis", "cluster"}, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Redis.Queue()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		redisbackend.RecheckEvery(b.Redis, time.Hour)
		ids := spread(t, q, "wait")
		waited := func(i int, id string) bool {
			w, _ := b.Client.HGet(ctx, b.Prefix()+"queue:{"+partitionNames(t, q, "jobs")[i]+"}:task:"+id, "w").Result()
			return w == "1"
		}
		for _, id := range ids[2] { // partition 2: routed there, and placed there
			done := make(chan error, 1)
			go func() {
				st, err := q.Wait(ctx, "jobs", id)
				if err == nil && st.Status != queue.Canceled {
					err = fmt.Errorf("status %s, want canceled", st.Status)
				}
				done <- err
			}()
			if !eventually(5*time.Second, func() bool { return waited(2, id) }) {
				t.Fatalf("the waiter of %s never looked", id)
			}
			if _, err := q.Cancel(ctx, "jobs", id); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("Wait(%s): %v; want woken by partition 2's notice", id, err)
			}
		}
		for _, id := range ids[1] {
			res := goWait(ctx, b.Store, "jobs", id)
			if !eventually(5*time.Second, func() bool { return waited(1, id) }) {
				t.Fatalf("the waiter of %s's record never looked", id)
			}
			rec := &store.Record{ID: id, Queue: partitionNames(t, q, "jobs")[1], Status: store.Succeeded, Value: []byte(`1`)}
			if err := b.Store.Put(ctx, rec, time.Hour); err != nil {
				t.Fatal(err)
			}
			if w := <-res; w.err != nil || w.rec.Queue != "jobs" || w.rec.ID != id {
				t.Fatalf("Store.Wait(%s) = %+v, %v; want woken by partition 1's notice", id, w.rec, w.err)
			}
		}
	})
}

// A worker watching cancels is told of a task of a partition by its
// logical queue, as it was canceled: by the notice Cancel publishes, and
// by Extend, which reads the mark a Cancel leaves in case the notice was
// lost.
func TestPartitionedCancelTellsLogicalQueue(t *testing.T) {
	partitioned(t, []string{"miniredis", "redis", "cluster"}, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Redis.Queue(), t.Context()
		ids := spread(t, q, "told")
		told := make(chan string, 100)
		stop := q.WatchCancels(func(name, id string) { told <- name + "/" + id })
		defer stop()
		var ds []*queue.Delivery
		for len(ds) < 6 {
			got, err := q.Take(ctx, "jobs", "c1", 6, 0)
			if err != nil || len(got) == 0 {
				t.Fatalf("Take = %d deliveries, %v; have %d of 6", len(got), err, len(ds))
			}
			ds = append(ds, got...)
		}
		part2 := partitionNames(t, q, "jobs")[2] // "jobs#2", or its placed name on a Cluster
		of := func(id string) *queue.Delivery {
			i := slices.IndexFunc(ds, func(d *queue.Delivery) bool { return d.ID == id })
			if i < 0 || ds[i].Queue != part2 {
				t.Fatalf("no delivery of %s from %s", id, part2)
			}
			return ds[i]
		}
		noticed, marked := of(ids[2][0]), of(ids[2][1])
		// The watch may begin on its own time: cancel until it hears.
		if !eventually(5*time.Second, func() bool {
			if res, err := q.Cancel(ctx, "jobs", noticed.ID); err != nil || res != queue.CancelSent {
				t.Fatalf("Cancel = %q, %v; want sent", res, err)
			}
			select {
			case got := <-told:
				if want := "jobs/" + noticed.ID; got != want {
					t.Fatalf("WatchCancels told of %s, want %s", got, want)
				}
				return true
			case <-time.After(50 * time.Millisecond):
				return false
			}
		}) {
			t.Fatal("WatchCancels was never told of the cancel")
		}
		// The mark a Cancel leaves, its notice lost: only Extend tells of it.
		if err := b.Client.HSet(ctx, b.Prefix()+"queue:{"+part2+"}:task:"+marked.ID, "cx", "1").Err(); err != nil {
			t.Fatal(err)
		}
		if lost, err := q.Extend(ctx, "jobs", "c1", []*queue.Delivery{marked}); err != nil || len(lost) != 0 {
			t.Fatalf("Extend = %v, %v", lost, err)
		}
		for { // Extend calls the watchers before it returns
			select {
			case got := <-told:
				if got == "jobs/"+noticed.ID { // a late notice of a cancel sent again
					continue
				}
				if want := "jobs/" + marked.ID; got != want {
					t.Fatalf("Extend told of %s, want %s", got, want)
				}
				return
			default:
				t.Fatal("Extend told of no canceled task")
			}
		}
	})
}

// The admin calls see one logical queue: Queues lists it once, Stats sums
// its partitions (a worker of several counted once), Workers merges,
// Pause marks every partition, ListTasks pages through every task once,
// and the dead letters of every partition are listed, requeued and purged.
func TestPartitionedAdmin(t *testing.T) {
	partitioned(t, []string{"miniredis", "redis"}, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Redis.Queue(), t.Context()
		ids := spread(t, q, "adm")
		var all []string
		for _, pair := range ids {
			all = append(all, pair...)
		}
		if st, err := q.Stats(ctx, "jobs"); err != nil || st.Ready != 6 || st.Partitions != 3 || st.Queue != "jobs" {
			t.Fatalf("Stats = %+v, %v; want 6 ready over 3 partitions", st, err)
		}
		checkPages(t, q, queue.ReadyTasks, all)
		ts, err := q.Tasks(ctx, "jobs", queue.ReadyTasks, 0)
		if err != nil || len(ts) != 6 {
			t.Fatalf("Tasks(ready) = %d tasks, %v; want 6", len(ts), err)
		}
		for _, ti := range ts {
			if ti.Queue != "jobs" {
				t.Fatalf("Tasks(ready) row of queue %q, want jobs", ti.Queue)
			}
		}

		// Pause marks every partition: no worker takes from any.
		if err := q.Pause(ctx, "jobs"); err != nil {
			t.Fatal(err)
		}
		if p, err := q.Paused(ctx, "jobs"); err != nil || !p {
			t.Fatalf("Paused = %v, %v; want true", p, err)
		}
		for i := range 3 {
			if ds, err := redisbackend.TakeIn(ctx, q, partitionNames(t, q, "jobs")[i], "w1", 10); err != nil || len(ds) != 0 {
				t.Fatalf("took %d from paused partition %d: %v", len(ds), i, err)
			}
		}
		if err := q.Resume(ctx, "jobs"); err != nil {
			t.Fatal(err)
		}
		if p, err := q.Paused(ctx, "jobs"); err != nil || p {
			t.Fatalf("Paused after Resume = %v, %v", p, err)
		}

		// One worker takes a task of each partition and ends it dead.
		var dead [3]string
		for i := range 3 {
			ds, err := redisbackend.TakeIn(ctx, q, partitionNames(t, q, "jobs")[i], "w1", 1)
			if err != nil || len(ds) != 1 {
				t.Fatalf("TakeIn(%d) = %d, %v", i, len(ds), err)
			}
			if i == 0 {
				st, err := q.Stats(ctx, "jobs")
				if err != nil || st.Running != 1 || st.Workers != 1 {
					t.Fatalf("Stats = %+v, %v; want 1 running, 1 worker", st, err)
				}
			}
			dead[i] = ds[0].ID
			rqFinish(t, q, ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "error", Error: "boom"})
			time.Sleep(2 * time.Millisecond) // dead letters of distinct times
		}
		if _, err := redisbackend.TakeIn(ctx, q, partitionNames(t, q, "jobs")[1], "w1", 1); err != nil { // w1 holds one in partition 1
			t.Fatal(err)
		}
		if _, err := redisbackend.TakeIn(ctx, q, partitionNames(t, q, "jobs")[2], "w1", 1); err != nil { // and one in 2
			t.Fatal(err)
		}
		st, err := q.Stats(ctx, "jobs")
		if err != nil || st.Ready != 1 || st.Running != 2 || st.Dead != 3 || st.Workers != 1 {
			t.Fatalf("Stats = %+v, %v; want 1 ready, 2 running, 3 dead, 1 worker (counted once)", st, err)
		}
		ws, err := q.Workers(ctx, "jobs")
		if err != nil || len(ws) != 1 || ws[0].Name != "w1" || ws[0].Pending != 2 || ws[0].Queue != "jobs" {
			t.Fatalf("Workers = %+v, %v; want w1 once, 2 pending", ws, err)
		}
		names, err := q.Queues(ctx)
		if err != nil || !slices.Equal(names, []string{"jobs"}) {
			t.Fatalf("Queues = %q, %v; want jobs once", names, err)
		}
		dls, err := q.DeadLetters(ctx, "jobs", 10)
		if err != nil || len(dls) != 3 {
			t.Fatalf("DeadLetters = %d, %v; want 3", len(dls), err)
		}
		for i, dl := range dls {
			if dl.Message.ID != dead[i] || dl.Message.Queue != "jobs" {
				t.Errorf("dead letter %d = %s of %s; want %s of jobs, oldest first", i, dl.Message.ID, dl.Message.Queue, dead[i])
			}
		}
		if dls, err := q.DeadLetters(ctx, "jobs", 2); err != nil || len(dls) != 2 || dls[1].Message.ID != dead[1] {
			t.Fatalf("DeadLetters(2) = %+v, %v; want the 2 oldest", dls, err)
		}
		checkPages(t, q, queue.DeadTasks, dead[:])
		rs, err := q.Rates(ctx, "jobs", time.Now().Add(-2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var deadCount int64
		for _, r := range rs {
			deadCount += r.Dead
		}
		if deadCount != 3 {
			t.Errorf("Rates count %d dead, want 3 (each partition's)", deadCount)
		}
		if found, err := q.Find(ctx, dead[2]); err != nil || len(found) != 1 || found[0].Queue != "jobs" || found[0].Status != queue.Dead {
			t.Fatalf("Find(%s) in every queue = %+v, %v", dead[2], found, err)
		}

		requeued, kept, err := q.RequeueDead(ctx, "jobs", dead[2])
		if err != nil || !slices.Equal(requeued, []string{dead[2]}) || len(kept) != 0 {
			t.Fatalf("RequeueDead(%s) = %q, %q, %v", dead[2], requeued, kept, err)
		}
		if st, err := q.State(ctx, "jobs", dead[2]); err != nil || st.Status != queue.Queued {
			t.Fatalf("State after RequeueDead = %+v, %v; want queued", st, err)
		}
		if n, err := q.PurgeDead(ctx, "jobs", dead[1]); err != nil || n != 1 {
			t.Fatalf("PurgeDead(%s) = %d, %v; want 1", dead[1], n, err)
		}
		if n, err := q.PurgeDead(ctx, "jobs"); err != nil || n != 1 {
			t.Fatalf("PurgeDead(all) = %d, %v; want the 1 left", n, err)
		}
		if dls, err := q.DeadLetters(ctx, "jobs", 10); err != nil || len(dls) != 0 {
			t.Fatalf("DeadLetters after the purges = %d, %v", len(dls), err)
		}

		// Records of every partition go with their logical queue.
		for i := range 3 {
			rec := &store.Record{ID: fmt.Sprint("rec", i), Queue: partitionNames(t, q, "jobs")[i], Status: store.Succeeded}
			if err := b.Store.Put(ctx, rec, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := b.Store.Purge(ctx, "jobs"); err != nil || n != 3 {
			t.Fatalf("Store.Purge(jobs) = %d, %v; want the 3 records of its partitions", n, err)
		}
	})
}

// checkPages pages through set of jobs two at a time, and wants each of
// ids once.
func checkPages(t *testing.T, q *redisbackend.Queue, set queue.TaskSet, ids []string) {
	t.Helper()
	var got []string
	tq := queue.TaskQuery{Set: set, Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatalf("ListTasks(%s) never ends: %q", set, got)
		}
		page, err := q.ListTasks(t.Context(), "jobs", tq)
		if err != nil {
			t.Fatalf("ListTasks(%s): %v", set, err)
		}
		for _, ti := range page.Tasks {
			got = append(got, ti.ID)
			if ti.Queue != "jobs" {
				t.Errorf("row %s of queue %q, want jobs", ti.ID, ti.Queue)
			}
		}
		if page.Next == "" {
			break
		}
		tq.After = page.Next
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Fatalf("ListTasks(%s) paged through %q, want each of %q once", set, got, want)
	}
}

// Stats and Pause see one logical queue on a Cluster too, where the
// partitions lie on several masters.
func TestPartitionedClusterAdmin(t *testing.T) {
	partitioned(t, []string{"cluster"}, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Redis.Queue(), t.Context()
		spread(t, q, "cl")
		if st, err := q.Stats(ctx, "jobs"); err != nil || st.Ready != 6 || st.Partitions != 3 {
			t.Fatalf("Stats = %+v, %v; want 6 ready over 3 partitions", st, err)
		}
		if err := q.Pause(ctx, "jobs"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if ds, err := redisbackend.TakeIn(ctx, q, partitionNames(t, q, "jobs")[i], "w1", 10); err != nil || len(ds) != 0 {
				t.Fatalf("took %d from paused partition %d: %v", len(ds), i, err)
			}
		}
		if p, err := q.Paused(ctx, "jobs"); err != nil || !p {
			t.Fatalf("Paused = %v, %v", p, err)
		}
		if err := q.Resume(ctx, "jobs"); err != nil {
			t.Fatal(err)
		}
		if ds, err := redisbackend.TakeIn(ctx, q, partitionNames(t, q, "jobs")[2], "w1", 10); err != nil || len(ds) != 2 {
			t.Fatalf("took %d from partition 2 after Resume, %v; want 2", len(ds), err)
		}
		names, err := q.Queues(ctx)
		if err != nil || !slices.Equal(names, []string{"jobs"}) {
			t.Fatalf("Queues = %q, %v; want jobs once", names, err)
		}
	})
}

// On a queue never split, each per-task call costs the round trip it
// always did, whether this process's partition count is fresh or is read
// again (in the pipeline of the call's look).
func TestUnpartitionedLookupRoundTrips(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		rqEnqueue(t, b.Redis.Queue(), rqMsg("one", "a"), time.Time{})
		rqEnqueue(t, b.Redis.Queue(), rqMsg("one", "b"), time.Time{})
		if err := b.Store.Put(ctx, &store.Record{ID: "a", Queue: "one", Status: store.Succeeded}, time.Hour); err != nil {
			t.Fatal(err)
		}
		calls := []struct {
			name string
			do   func(q *redisbackend.Queue, s *redisbackend.Store) error
		}{
			{"State", func(q *redisbackend.Queue, _ *redisbackend.Store) error {
				_, err := q.State(ctx, "one", "a")
				return err
			}},
			{"Message", func(q *redisbackend.Queue, _ *redisbackend.Store) error {
				_, err := q.Message(ctx, "one", "a")
				return err
			}},
			{"Attempts", func(q *redisbackend.Queue, _ *redisbackend.Store) error {
				_, err := q.Attempts(ctx, "one", "a")
				return err
			}},
			{"Store.Get", func(_ *redisbackend.Queue, s *redisbackend.Store) error { _, err := s.Get(ctx, "one", "a"); return err }},
			{"Cancel", func(q *redisbackend.Queue, _ *redisbackend.Store) error {
				_, err := q.Cancel(ctx, "one", "b")
				return err
			}},
			{"Store.Delete", func(_ *redisbackend.Queue, s *redisbackend.Store) error { return s.Delete(ctx, "one", "zz") }},
		}
		for _, c := range calls { // once unmeasured: a fresh server loads each script then
			if err := c.do(b.Redis.Queue(), b.Redis.Store()); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		trips := &taskwaretest.RoundTrips{}
		b.Client.AddHook(trips)
		for _, c := range calls {
			for _, fresh := range []bool{false, true} {
				r := redisbackend.New(b.Client, redisbackend.Prefix(b.Prefix())) // its count not read yet
				if fresh {
					if _, _, err := r.Queue().Partitions(ctx, "one"); err != nil {
						t.Fatal(err)
					}
				}
				before := trips.N()
				if err := c.do(r.Queue(), r.Store()); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if n := trips.N() - before; n != 1 {
					t.Errorf("%s (count fresh: %v) took %d round trips, want 1", c.name, fresh, n)
				}
			}
		}
	})
}
