package worker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// The conformance suite of queue.Queue: every test runs over the memory,
// miniredis and real Redis backends, which must behave alike.

// qAt has nanoseconds below the microsecond, which queues drop.
var qAt = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func qMsg(name, id string) *queue.Message {
	return &queue.Message{ID: id, Task: "email", Queue: name, Payload: []byte("payload of " + id), EnqueuedAt: qAt}
}

func qEnqueue(t *testing.T, q queue.Queue, m *queue.Message, runAt time.Time) {
	t.Helper()
	if err := q.Enqueue(t.Context(), m, runAt); err != nil {
		t.Fatalf("Enqueue(%q, %v): %v", m.ID, runAt, err)
	}
}

func qTake(t *testing.T, q queue.Queue, name, consumer string, n int) []*queue.Delivery {
	t.Helper()
	ds, err := q.Take(t.Context(), name, consumer, n, 0)
	if err != nil {
		t.Fatalf("Take(%q, %q, %d): %v", name, consumer, n, err)
	}
	return ds
}

// qReclaim moves up to n deliveries of queue idle for minIdle back to the
// ready ones (Recover), then hands those to consumer: the takeover of a
// dead worker's tasks.
func qReclaim(t *testing.T, q queue.Queue, name, consumer string, minIdle time.Duration, n int) []*queue.Delivery {
	t.Helper()
	moved, err := q.Recover(t.Context(), name, minIdle, n)
	if err != nil {
		t.Fatalf("Recover(%q, %v, %d): %v", name, minIdle, n, err)
	}
	if moved == 0 {
		return nil
	}
	ds := qTake(t, q, name, consumer, 1000)
	if len(ds) != moved {
		t.Fatalf("Recover moved %d, and Take then handed out %q", moved, qIDs(ds))
	}
	return ds
}

func qPromote(t *testing.T, q queue.Queue, name string, now time.Time, n int) int {
	t.Helper()
	moved, err := q.Promote(t.Context(), name, now, n)
	if err != nil {
		t.Fatalf("Promote(%q, %v, %d): %v", name, now, n, err)
	}
	return moved
}

func qFinish(t *testing.T, q queue.Queue, d *queue.Delivery, o queue.Outcome) {
	t.Helper()
	if err := q.Finish(t.Context(), d, o); err != nil {
		t.Fatalf("Finish(%q, %+v): %v", d.ID, o, err)
	}
}

func qState(t *testing.T, q queue.Queue, name, id string) *queue.State {
	t.Helper()
	st, err := q.State(t.Context(), name, id)
	if err != nil {
		t.Fatalf("State(%q, %q): %v", name, id, err)
	}
	return st
}

// qWantState fails t unless id's state has status, attempt, kind and error.
func qWantState(t *testing.T, q queue.Queue, name, id string, status queue.Status, attempt int, kind, msg string) *queue.State {
	t.Helper()
	st := qState(t, q, name, id)
	if st.ID != id || st.Queue != name || st.Status != status || st.Attempt != attempt || st.Kind != kind || st.Error != msg {
		t.Fatalf("State(%q) = %+v; want status %q, attempt %d, kind %q, error %q", id, *st, status, attempt, kind, msg)
	}
	return st
}

func qWantNotFound(t *testing.T, q queue.Queue, name, id string) {
	t.Helper()
	st, err := q.State(t.Context(), name, id)
	if !errors.Is(err, queue.ErrNotFound) || st != nil {
		t.Fatalf("State(%q, %q) = %+v, %v; want an error matching queue.ErrNotFound", name, id, st, err)
	}
}

func qIDs(ds []*queue.Delivery) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

func qWantIDs(t *testing.T, what string, ds []*queue.Delivery, want ...string) {
	t.Helper()
	if got := qIDs(ds); !slices.Equal(got, want) {
		t.Fatalf("%s: got IDs %q, want %q", what, got, want)
	}
}

func qMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// qSameMessage fails t unless got has every field of want, times to the
// microsecond, and no finer.
func qSameMessage(t *testing.T, what string, got, want queue.Message) {
	t.Helper()
	if got.ID != want.ID || got.Task != want.Task || got.Queue != want.Queue || got.Attempt != want.Attempt ||
		!bytes.Equal(got.Payload, want.Payload) || got.LastKind != want.LastKind || got.LastError != want.LastError ||
		qMicros(got.EnqueuedAt) != qMicros(want.EnqueuedAt) || qMicros(got.ExpiresAt) != qMicros(want.ExpiresAt) {
		t.Fatalf("%s: message\n got  %+v\n want %+v", what, got, want)
	}
	if got.EnqueuedAt.Nanosecond()%1000 != 0 || got.ExpiresAt.Nanosecond()%1000 != 0 {
		t.Fatalf("%s: times %v, %v; want them cut to the microsecond, as Redis keeps them", what, got.EnqueuedAt, got.ExpiresAt)
	}
}

// qPass lets d go by for claims: the memory queue's clock moves; miniredis,
// like Redis, measures stream idle times on the wall clock (FastForward only
// moves key TTLs), so on both Redis backends this sleeps.
func qPass(b *taskwaretest.Backend, d time.Duration) {
	if b.Client == nil {
		b.Advance(d)
		return
	}
	time.Sleep(d)
}

// qWrite is a deferred write of the tests, as a policy hands one to the
// worker in task.FinalWrites: a write of no backend's, which a queue makes
// on its own.
type qWrite func(ctx context.Context) error

func (w qWrite) Apply(ctx context.Context) error { return w(ctx) }

// qCounted returns a write that fails with err (succeeds if nil), and the
// count of its applications.
func qCounted(err error) (qWrite, *atomic.Int32) {
	n := new(atomic.Int32)
	return func(context.Context) error { n.Add(1); return err }, n
}

// qFinal returns the deferred writes of a run: result writes that fail with
// results' errors and releases that fail with releases' (nil: succeed), and
// a check that fails t unless each was made exactly once.
func qFinal(results, releases []error) (*task.FinalWrites, func(t *testing.T)) {
	f := &task.FinalWrites{}
	var counts []*atomic.Int32
	for _, err := range results {
		w, n := qCounted(err)
		f.Result(w)
		counts = append(counts, n)
	}
	for _, err := range releases {
		w, n := qCounted(err)
		f.Release(w)
		counts = append(counts, n)
	}
	return f, func(t *testing.T) {
		t.Helper()
		for i, n := range counts {
			if got := n.Load(); got != 1 {
				t.Errorf("deferred write %d of %d was made %d times, want once", i+1, len(counts), got)
			}
		}
	}
}

// qStored is a run's deferred writes with one result write that succeeds.
func qStored() *task.FinalWrites {
	f, _ := qFinal([]error{nil}, nil)
	return f
}

var errQWrite = errors.New("the test's write failed")

func TestQueueRoundTrip(t *testing.T) {
	binary := []byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', 0, 0xc3, 0x28}
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	cases := []struct {
		name string
		m    queue.Message
		want int // Attempt delivered
	}{
		{"binary payload, expiry", queue.Message{ID: "a", Task: "email", Payload: binary, EnqueuedAt: qAt, ExpiresAt: qAt.Add(90 * time.Minute), Attempt: 1}, 1},
		{"no payload, no times, attempt 0", queue.Message{ID: "b", Task: "noop"}, 1},
		{"large payload, later attempt", queue.Message{ID: "c:1/2", Task: "report.build", Payload: big, EnqueuedAt: qAt.Local(), Attempt: 4}, 4},
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				queueName := fmt.Sprintf("rt%d", i)
				m := tc.m
				m.Queue = queueName
				m.Payload = slices.Clone(tc.m.Payload)
				want := m
				want.Payload = slices.Clone(m.Payload)
				want.Attempt = tc.want
				qEnqueue(t, b.Queue, &m, time.Time{})
				if len(m.Payload) > 0 {
					m.Payload[0]++ // the queue keeps its own copy
				}
				st := qWantState(t, b.Queue, queueName, m.ID, queue.Queued, tc.want, "", "")
				if st.Task != m.Task || st.Result != queue.NoResult || st.Err() != nil {
					t.Fatalf("State after Enqueue = %+v (Err %v)", *st, st.Err())
				}

				ds := qTake(t, b.Queue, queueName, "c1", 10)
				if len(ds) != 1 {
					t.Fatalf("Take: got %d deliveries, want 1", len(ds))
				}
				d := ds[0]
				qSameMessage(t, "Take", d.Message, want)
				if d.Receipt == "" || d.Deliveries != 1 {
					t.Fatalf("Take: Receipt %q, Deliveries %d; want a receipt and 1", d.Receipt, d.Deliveries)
				}
				final, made := qFinal([]error{nil}, nil)
				qFinish(t, b.Queue, d, queue.Outcome{Status: queue.Succeeded, Attempt: tc.want, Final: final})
				made(t)
				st = qWantState(t, b.Queue, queueName, m.ID, queue.Succeeded, tc.want, "", "")
				if st.Task != m.Task || st.Result != queue.ResultStored || st.Err() != nil {
					t.Fatalf("State after Finish = %+v (Err %v); want its task, Result %q and no error", *st, st.Err(), queue.ResultStored)
				}
				if ds := qTake(t, b.Queue, queueName, "c1", 10); len(ds) != 0 {
					t.Fatalf("Take after Finish: got %q, want nothing", qIDs(ds))
				}
			})
		}
	})
}

func TestQueueDuplicate(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Queue, t.Context()
		refused := func(what string, m *queue.Message, runAt time.Time) {
			t.Helper()
			if err := q.Enqueue(ctx, m, runAt); !errors.Is(err, queue.ErrDuplicate) {
				t.Fatalf("Enqueue of %q %s: %v; want an error matching queue.ErrDuplicate", m.ID, what, err)
			}
		}
		qEnqueue(t, q, qMsg("dup", "a"), time.Time{})
		refused("while ready", qMsg("dup", "a"), time.Time{})
		refused("while ready, delayed", qMsg("dup", "a"), time.Now().Add(time.Hour))
		qEnqueue(t, q, qMsg("dup", "s"), time.Now().Add(time.Hour))
		refused("while scheduled", qMsg("dup", "s"), time.Time{})

		d := qTake(t, q, "dup", "c1", 1)[0]
		refused("while running", qMsg("dup", "a"), time.Time{})
		qFinish(t, q, d, queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "boom", Error: "broke"})
		refused("after it failed", qMsg("dup", "a"), time.Time{})
		qWantState(t, q, "dup", "a", queue.Failed, 1, "boom", "broke") // untouched by the refusals

		qEnqueue(t, q, qMsg("dup", "b"), time.Time{})
		d = qTake(t, q, "dup", "c1", 1)[0]
		qFinish(t, q, d, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "task.bad_payload", Error: "no"})
		refused("after it was dead-lettered", qMsg("dup", "b"), time.Time{})

		qEnqueue(t, q, qMsg("dup", "fresh"), time.Time{})
		qEnqueue(t, q, qMsg("dup2", "a"), time.Time{}) // the same ID on another queue is another task
		qWantIDs(t, "Take", qTake(t, q, "dup", "c1", 10), "fresh")
		qWantIDs(t, "Take of the other queue", qTake(t, q, "dup2", "c1", 10), "a")
	})
}

func TestQueueTakeOrder(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for i := range 10 {
			qEnqueue(t, b.Queue, qMsg("fifo", fmt.Sprintf("m%d", i)), time.Time{})
		}
		receipts := map[string]bool{}
		for _, tc := range []struct {
			n    int
			want []string
		}{
			{3, []string{"m0", "m1", "m2"}},
			{1, []string{"m3"}},
			{5, []string{"m4", "m5", "m6", "m7", "m8"}},
			{10, []string{"m9"}},
			{4, nil},
		} {
			ds := qTake(t, b.Queue, "fifo", "c1", tc.n)
			qWantIDs(t, fmt.Sprintf("Take(n=%d)", tc.n), ds, tc.want...)
			for _, d := range ds {
				if receipts[d.Receipt] {
					t.Fatalf("receipt %q handed out twice", d.Receipt)
				}
				receipts[d.Receipt] = true
			}
		}
		if ds := qTake(t, b.Queue, "other", "c1", 10); ds != nil {
			t.Fatalf("Take of an empty queue: got %q, want nil", qIDs(ds))
		}
		// n <= 0 takes every ready message, as XREADGROUP without COUNT does.
		for _, id := range []string{"x", "y", "z"} {
			qEnqueue(t, b.Queue, qMsg("fifo", id), time.Time{})
		}
		qWantIDs(t, "Take(n=0)", qTake(t, b.Queue, "fifo", "c1", 0), "x", "y", "z")
	})
}

func TestQueueTakeWait(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, tc := range []struct {
			name    string
			prepare func(t *testing.T, q queue.Queue, queueName string)
			arrive  func(t *testing.T, q queue.Queue, queueName string)
		}{
			{"enqueued", nil, func(t *testing.T, q queue.Queue, queueName string) { qEnqueue(t, q, qMsg(queueName, "w"), time.Time{}) }},
			{"promoted",
				func(t *testing.T, q queue.Queue, queueName string) {
					qEnqueue(t, q, qMsg(queueName, "w"), time.Now().Add(time.Hour))
				},
				func(t *testing.T, q queue.Queue, queueName string) {
					qPromote(t, q, queueName, time.Now().Add(2*time.Hour), 10)
				}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				queueName := "wait-" + tc.name
				if tc.prepare != nil {
					tc.prepare(t, b.Queue, queueName)
				}
				type result struct {
					ds  []*queue.Delivery
					err error
				}
				done := make(chan result, 1)
				go func() {
					ds, err := b.Queue.Take(context.Background(), queueName, "c1", 5, 5*time.Second)
					done <- result{ds, err}
				}()
				time.Sleep(100 * time.Millisecond)
				tc.arrive(t, b.Queue, queueName)
				select {
				case r := <-done:
					if r.err != nil {
						t.Fatalf("Take: %v", r.err)
					}
					qWantIDs(t, "Take", r.ds, "w")
				case <-time.After(time.Second):
					t.Fatal("Take did not return within 1s of a message being ready")
				}
			})
		}
		t.Run("nothing came", func(t *testing.T) {
			start := time.Now()
			ds, err := b.Queue.Take(t.Context(), "wait-empty", "c1", 5, 150*time.Millisecond)
			if ds != nil || err != nil {
				t.Fatalf("Take of an empty queue = %q, %v; want nil, nil", qIDs(ds), err)
			}
			if waited := time.Since(start); waited < 100*time.Millisecond {
				t.Fatalf("Take returned after %v; want it to wait about 150ms", waited)
			}
		})
		t.Run("sub-millisecond wait", func(t *testing.T) {
			// Not BLOCK 0, which would wait for ever.
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			ds, err := b.Queue.Take(ctx, "wait-empty", "c1", 5, 500*time.Microsecond)
			if ds != nil || err != nil {
				t.Fatalf("Take(wait=500µs) of an empty queue = %q, %v; want nil, nil", qIDs(ds), err)
			}
		})
	})
}

func TestQueueConsumersShare(t *testing.T) {
	const total, consumers = 100, 4
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var (
			taken atomic.Int64
			mu    sync.Mutex
			owner = map[string]string{} // ID -> consumer
			wg    sync.WaitGroup
		)
		deadline := time.Now().Add(10 * time.Second)
		for c := range consumers {
			consumer := fmt.Sprintf("c%d", c)
			wg.Go(func() {
				for taken.Load() < total && time.Now().Before(deadline) {
					ds, err := b.Queue.Take(context.Background(), "share", consumer, 3, 50*time.Millisecond)
					if err != nil {
						t.Errorf("Take(%s): %v", consumer, err)
						return
					}
					mu.Lock()
					for _, d := range ds {
						if prev, ok := owner[d.ID]; ok {
							t.Errorf("%s handed to both %s and %s", d.ID, prev, consumer)
						}
						owner[d.ID] = consumer
					}
					mu.Unlock()
					taken.Add(int64(len(ds)))
				}
			})
		}
		for i := range total {
			qEnqueue(t, b.Queue, qMsg("share", fmt.Sprintf("m%03d", i)), time.Time{})
		}
		wg.Wait()
		if len(owner) != total || taken.Load() != total {
			t.Fatalf("took %d distinct of %d messages in %d deliveries", len(owner), total, taken.Load())
		}
		if ds := qTake(t, b.Queue, "share", "late", 10); ds != nil {
			t.Fatalf("Take after all were taken: got %q; pending messages must not be handed out again", qIDs(ds))
		}
	})
}

func TestQueueDelayed(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		now := time.Now()
		soon, late := now.Add(time.Hour), now.Add(2*time.Hour)
		qEnqueue(t, q, qMsg("d", "late"), late)
		qEnqueue(t, q, qMsg("d", "soon"), soon)
		qEnqueue(t, q, qMsg("d", "now"), time.Time{})
		qEnqueue(t, q, qMsg("d", "past"), now.Add(-time.Hour))
		for id, want := range map[string]queue.Status{"late": queue.Scheduled, "soon": queue.Scheduled, "now": queue.Queued, "past": queue.Queued} {
			qWantState(t, q, "d", id, want, 1, "", "")
		}
		if n := qPromote(t, q, "d", now, 10); n != 0 {
			t.Fatalf("Promote(now) moved %d, want 0", n)
		}
		qWantIDs(t, "Take before any is due", qTake(t, q, "d", "c1", 10), "now", "past")
		if n := qPromote(t, q, "d", soon.Add(-time.Millisecond), 10); n != 0 {
			t.Fatalf("Promote(1ms before due) moved %d, want 0", n)
		}
		if ds := qTake(t, q, "d", "c1", 10); ds != nil {
			t.Fatalf("Take before Promote: got %q", qIDs(ds))
		}
		if n := qPromote(t, q, "d", soon, 10); n != 1 {
			t.Fatalf("Promote(due) moved %d, want 1", n)
		}
		qWantState(t, q, "d", "soon", queue.Queued, 1, "", "")
		qWantState(t, q, "d", "late", queue.Scheduled, 1, "", "")
		// A promoted message queues behind those already ready.
		qEnqueue(t, q, qMsg("d", "after"), time.Time{})
		if n := qPromote(t, q, "d", late.Add(time.Hour), 10); n != 1 {
			t.Fatalf("Promote(after all due) moved %d, want 1", n)
		}
		ds := qTake(t, q, "d", "c1", 10)
		qWantIDs(t, "Take after Promote", ds, "soon", "after", "late")
		want := *qMsg("d", "late")
		want.Attempt = 1
		qSameMessage(t, "promoted message", ds[2].Message, want)

		// Promote moves at most n, the earliest due first.
		for _, p := range []struct {
			id string
			at time.Duration
		}{{"p3", 3 * time.Second}, {"p1", time.Second}, {"p2", 2 * time.Second}} {
			qEnqueue(t, q, qMsg("d", p.id), now.Add(time.Hour+p.at))
		}
		for _, want := range []int{2, 1, 0} {
			if n := qPromote(t, q, "d", late, 2); n != want {
				t.Fatalf("Promote(n=2) moved %d, want %d", n, want)
			}
		}
		qWantIDs(t, "Take in due order", qTake(t, q, "d", "c1", 10), "p1", "p2", "p3")
	})
}

func TestQueueRetry(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		m := qMsg("r", "job")
		m.ExpiresAt = qAt.Add(time.Hour)
		qEnqueue(t, q, m, time.Time{})
		first := qTake(t, q, "r", "c1", 1)[0]
		runAt := time.Now().Add(time.Hour)
		qFinish(t, q, first, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: runAt, Kind: "boom", Error: "it broke", Retry: true})
		st := qWantState(t, q, "r", "job", queue.Scheduled, 2, "boom", "it broke")
		if st.Err() != nil {
			t.Fatalf("State(scheduled).Err() = %v, want nil", st.Err())
		}
		if err := q.Enqueue(t.Context(), qMsg("r", "job"), time.Time{}); !errors.Is(err, queue.ErrDuplicate) {
			t.Fatalf("Enqueue while the retry waits: %v, want queue.ErrDuplicate", err)
		}
		if ds := qTake(t, q, "r", "c1", 10); ds != nil {
			t.Fatalf("Take before the retry is due: got %q", qIDs(ds))
		}
		if n := qPromote(t, q, "r", time.Now(), 10); n != 0 {
			t.Fatalf("Promote before the retry is due moved %d", n)
		}
		if n := qPromote(t, q, "r", runAt, 10); n != 1 {
			t.Fatalf("Promote when the retry is due moved %d, want 1", n)
		}
		qWantState(t, q, "r", "job", queue.Queued, 2, "boom", "it broke")
		ds := qTake(t, q, "r", "c2", 10)
		if len(ds) != 1 {
			t.Fatalf("Take of the retry: got %q", qIDs(ds))
		}
		want := *m
		want.Attempt, want.LastKind, want.LastError = 2, "boom", "it broke" // the next run knows why it is a retry
		qSameMessage(t, "retry", ds[0].Message, want)
		if ds[0].Deliveries != 1 || ds[0].Receipt == first.Receipt {
			t.Fatalf("retry: Deliveries %d, Receipt %q (first %q); want 1 and a new receipt", ds[0].Deliveries, ds[0].Receipt, first.Receipt)
		}
		qFinish(t, q, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 2})
		qWantState(t, q, "r", "job", queue.Succeeded, 2, "", "")
	})
}

func TestQueueReclaim(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		idle := time.Minute
		if b.Client != nil {
			idle = 600 * time.Millisecond // real time (see qPass), with room for a loaded machine
		}
		for _, id := range []string{"a", "b", "c"} {
			qEnqueue(t, q, qMsg("rc", id), time.Time{})
		}
		da := qTake(t, q, "rc", "c1", 1)[0]
		db := qTake(t, q, "rc", "c2", 1)[0]
		qTake(t, q, "rc", "c1", 1)
		if ds := qReclaim(t, q, "rc", "c3", idle, 10); ds != nil {
			t.Fatalf("Reclaim of fresh deliveries: got %q", qIDs(ds))
		}

		qPass(b, idle*6/10)
		if err := q.Extend(t.Context(), "rc", "c2", []*queue.Delivery{db}); err != nil {
			t.Fatalf("Extend: %v", err)
		}
		qPass(b, idle*6/10)
		// a and c (c1 died) were not extended for idle; b was.
		ds := qReclaim(t, q, "rc", "c2", idle, 10)
		qWantIDs(t, "Reclaim", ds, "a", "c")
		for _, d := range ds {
			if d.Deliveries != 2 {
				t.Errorf("reclaimed %s: Deliveries %d, want 2", d.ID, d.Deliveries)
			}
		}
		want := *qMsg("rc", "a")
		want.Attempt = 1
		qSameMessage(t, "reclaimed", ds[0].Message, want)
		if ds[0].Receipt == da.Receipt {
			t.Errorf("reclaimed a: Receipt %q, want a new one: it went back to the queue", ds[0].Receipt)
		}
		if ds := qReclaim(t, q, "rc", "c3", idle, 10); ds != nil {
			t.Fatalf("Reclaim right after a reclaim: got %q, want none", qIDs(ds))
		}

		qPass(b, idle)
		// Taken over, a and c went back to the end of the queue: b, still
		// at the front, is the oldest idle delivery now.
		ds = qReclaim(t, q, "rc", "c3", idle, 1)
		qWantIDs(t, "Reclaim(n=1)", ds, "b")
		if ds[0].Deliveries != 2 {
			t.Errorf("reclaimed b: Deliveries %d, want 2", ds[0].Deliveries)
		}
		qFinish(t, q, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		// minIdle 0 claims every pending delivery.
		ds = qReclaim(t, q, "rc", "c3", 0, 10)
		qWantIDs(t, "Reclaim(minIdle=0)", ds, "a", "c")
		for _, d := range ds {
			if d.Deliveries != 3 {
				t.Errorf("reclaimed %s again: Deliveries %d, want 3", d.ID, d.Deliveries)
			}
		}
		for _, d := range ds {
			qFinish(t, q, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		}
		if ds := qReclaim(t, q, "rc", "c3", 0, 10); ds != nil {
			t.Fatalf("Reclaim after all finished: got %q", qIDs(ds))
		}
		if ds := qReclaim(t, q, "nothing-here", "c3", 0, 10); ds != nil {
			t.Fatalf("Reclaim of an unused queue: got %q", qIDs(ds))
		}
	})
}

// TestQueueLateFinish: a delivery taken over from a worker that was only
// slow is finished twice. The first finish stands: a late one changes
// nothing, so a retry does not bring back a task that has ended, nor a
// success overwrite a retry under way.
func TestQueueLateFinish(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		twice := func(id string) (slow, fast *queue.Delivery) {
			t.Helper()
			qEnqueue(t, q, qMsg("late", id), time.Time{})
			slow = qTake(t, q, "late", "slow", 1)[0]
			ds := qReclaim(t, q, "late", "fast", 0, 10)
			qWantIDs(t, "Reclaim", ds, id)
			return slow, ds[0]
		}
		retry := queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Kind: "boom", Error: "x"}
		done := func() queue.Outcome {
			return queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: qStored()}
		}
		// ended fails t unless id ended as done says, its result stored.
		ended := func(id string) {
			t.Helper()
			if st := qWantState(t, q, "late", id, queue.Succeeded, 1, "", ""); st.Result != queue.ResultStored {
				t.Fatalf("State(%q).Result = %q, want %q", id, st.Result, queue.ResultStored)
			}
		}

		slow, fast := twice("retried-then-done")
		qFinish(t, q, slow, retry)
		qFinish(t, q, fast, done())
		ended("retried-then-done")

		slow, fast = twice("done-then-retried")
		qFinish(t, q, fast, done())
		qFinish(t, q, slow, retry)
		ended("done-then-retried")

		qPromote(t, q, "late", time.Now(), 10)
		if ds := qTake(t, q, "late", "c", 10); ds != nil {
			t.Fatalf("Take after Promote: got %q; an ended task came back", qIDs(ds))
		}
		ended("retried-then-done")
		ended("done-then-retried")
	})
}

func TestQueueOutcomes(t *testing.T) {
	type check func(t *testing.T, err error)
	is := func(target error) check {
		return func(t *testing.T, err error) {
			t.Helper()
			if !errors.Is(err, target) {
				t.Errorf("Err() = %v, want it to match %v", err, target)
			}
		}
	}
	succeeded := func(t *testing.T, err error) {
		if err != nil {
			t.Errorf("Err() = %v, want nil", err)
		}
	}
	timedOut := func(t *testing.T, err error) {
		f, ok := errors.AsType[*task.Failure](err)
		if !ok || f.Kind != "timeout" || f.Message != "took too long" {
			t.Errorf("Err() = %#v, want a task.Failure of kind timeout", err)
		}
	}
	deadLetter := func(id string) check {
		return func(t *testing.T, err error) {
			if e, ok := errors.AsType[*queue.DeadLetterError](err); !ok || e.ID != id {
				t.Errorf("Err() = %#v, want a *queue.DeadLetterError for %q", err, id)
			}
		}
	}
	var (
		stored = []error{nil}
		lost   = []error{nil, errQWrite} // one write of two fails: no result
	)
	cases := []struct {
		name string
		o    queue.Outcome // without Final
		// noFinal leaves o.Final nil; else it holds result writes and
		// releases that fail with these errors (nil: succeed).
		noFinal           bool
		results, releases []error
		result            queue.ResultStatus
		checks            []check
	}{
		{name: "succeeded", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, results: stored,
			result: queue.ResultStored, checks: []check{succeeded}},
		{name: "succeeded, lock released", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, results: stored, releases: []error{nil},
			result: queue.ResultStored, checks: []check{succeeded}},
		// A release that fails expires with its TTL: the result stands.
		{name: "succeeded, release failed", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, results: stored, releases: []error{errQWrite},
			result: queue.ResultStored, checks: []check{succeeded}},
		{name: "succeeded, nothing stored", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, releases: []error{nil},
			result: queue.NoResult, checks: []check{succeeded}},
		{name: "succeeded, no final writes", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, noFinal: true,
			result: queue.NoResult, checks: []check{succeeded}},
		{name: "succeeded, result lost", o: queue.Outcome{Status: queue.Succeeded, Attempt: 1}, results: []error{errQWrite},
			result: queue.ResultLost, checks: []check{succeeded}},
		{name: "failed", o: queue.Outcome{Status: queue.Failed, Attempt: 3, Kind: "timeout", Error: "took too long"}, results: stored,
			result: queue.ResultStored, checks: []check{is(context.DeadlineExceeded), timedOut}},
		{name: "failed, nothing stored", o: queue.Outcome{Status: queue.Failed, Attempt: 3, Kind: "timeout", Error: "took too long"},
			result: queue.NoResult, checks: []check{is(context.DeadlineExceeded), timedOut}},
		{name: "failed, result lost", o: queue.Outcome{Status: queue.Failed, Attempt: 3, Kind: "timeout", Error: "took too long"}, results: lost,
			result: queue.ResultLost, checks: []check{is(context.DeadlineExceeded), timedOut}},
		{name: "skipped", o: queue.Outcome{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked", Error: "held elsewhere"}, releases: []error{nil},
			result: queue.NoResult, checks: []check{is(task.ErrSkipped), is(lock.ErrLocked)}},
		// A dead letter keeps its result: its last failure may have been stored.
		{name: "dead", o: queue.Outcome{Status: queue.Dead, Attempt: 2, Kind: "task.bad_payload", Error: "cannot decode"}, results: stored,
			result: queue.ResultStored, checks: []check{is(queue.ErrDeadLettered), is(task.ErrBadPayload), deadLetter("dead")}},
		{name: "dead, nothing stored", o: queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "worker.unknown_task", Error: "no such task"},
			noFinal: true, result: queue.NoResult,
			checks: []check{is(queue.ErrDeadLettered), is(worker.ErrUnknownTask), deadLetter("dead, nothing stored")}},
		{name: "dead, result lost", o: queue.Outcome{Status: queue.Dead, Attempt: 2, Kind: "worker.too_many_deliveries", Error: "crashed"},
			results: lost, result: queue.ResultLost,
			checks: []check{is(queue.ErrDeadLettered), is(worker.ErrTooManyDeliveries), deadLetter("dead, result lost")}},
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				qEnqueue(t, b.Queue, qMsg("out", tc.name), time.Time{})
				d := qTake(t, b.Queue, "out", "c1", 1)[0]
				o, made := tc.o, func(*testing.T) {}
				if !tc.noFinal {
					o.Final, made = qFinal(tc.results, tc.releases)
				}
				qFinish(t, b.Queue, d, o)
				made(t)
				st := qWantState(t, b.Queue, "out", tc.name, tc.o.Status, tc.o.Attempt, tc.o.Kind, tc.o.Error)
				if st.Result != tc.result || st.Task != "email" {
					t.Errorf("State = %+v; want Result %q, Task email", *st, tc.result)
				}
				for _, c := range tc.checks {
					c(t, st.Err())
				}
			})
		}
		t.Run("not an outcome", func(t *testing.T) {
			qEnqueue(t, b.Queue, qMsg("out", "bad"), time.Time{})
			d := qTake(t, b.Queue, "out", "c1", 1)[0]
			for _, s := range []queue.Status{queue.Queued, "", "running"} {
				if err := b.Queue.Finish(t.Context(), d, queue.Outcome{Status: s, Attempt: 1}); err == nil {
					t.Errorf("Finish with status %q: no error", s)
				}
			}
			qWantState(t, b.Queue, "out", "bad", queue.Queued, 1, "", "")
			qWantIDs(t, "Reclaim (still pending)", qReclaim(t, b.Queue, "out", "c2", 0, 10), "bad")
		})
	})
}

func TestQueueDeadLetters(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		if dl, err := q.DeadLetters(t.Context(), "dl", 10); err != nil || len(dl) != 0 {
			t.Fatalf("DeadLetters of a new queue = %v, %v; want none", dl, err)
		}
		before := time.Now().Truncate(time.Microsecond)
		var want []queue.Message
		for i := 1; i <= 3; i++ {
			m := qMsg("dl", fmt.Sprintf("x%d", i))
			m.ExpiresAt = qAt.Add(time.Duration(i) * time.Hour)
			qEnqueue(t, q, m, time.Time{})
			d := qTake(t, q, "dl", "c1", 1)[0]
			qFinish(t, q, d, queue.Outcome{Status: queue.Dead, Attempt: i + 1, Kind: "task.bad_payload", Error: "cannot decode " + m.ID})
			m.Attempt = i + 1 // the outcome's attempt
			want = append(want, *m)
		}
		after := time.Now()
		dl, err := q.DeadLetters(t.Context(), "dl", 10)
		if err != nil || len(dl) != 3 {
			t.Fatalf("DeadLetters = %d entries, %v; want 3", len(dl), err)
		}
		for i, e := range dl {
			qSameMessage(t, "dead letter", e.Message, want[i])
			if e.Kind != "task.bad_payload" || e.Reason != "cannot decode "+want[i].ID {
				t.Errorf("dead letter %s: kind %q, reason %q", e.ID, e.Kind, e.Reason)
			}
			if e.At.Before(before) || e.At.After(after) {
				t.Errorf("dead letter %s: At %v, want within [%v, %v]", e.ID, e.At, before, after)
			}
		}
		dl, err = q.DeadLetters(t.Context(), "dl", 2)
		if err != nil || len(dl) != 2 || dl[0].ID != "x1" || dl[1].ID != "x2" {
			t.Fatalf("DeadLetters(n=2) = %+v, %v; want x1, x2", dl, err)
		}
		if dl, err := q.DeadLetters(t.Context(), "dl", 0); err != nil || len(dl) != 0 {
			t.Fatalf("DeadLetters(n=0) = %+v, %v; want none", dl, err)
		}
		st := qWantState(t, q, "dl", "x1", queue.Dead, 2, "task.bad_payload", "cannot decode x1")
		if !errors.Is(st.Err(), queue.ErrDeadLettered) {
			t.Fatalf("State(dead).Err() = %v, want queue.ErrDeadLettered", st.Err())
		}
		if ds := qTake(t, q, "dl", "c1", 10); ds != nil {
			t.Fatalf("Take after dead-lettering: got %q", qIDs(ds))
		}
	})
}

// Both backends requeue and purge dead letters: by task ID or all, a
// requeued one a fresh delivery with its arguments and headers.
func TestQueueRepairDead(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		q := b.Queue
		dr := q
		if done, kept, err := dr.RequeueDead(ctx, "rd"); err != nil || len(done)+len(kept) != 0 {
			t.Fatalf("RequeueDead of an empty queue = %v, %v, %v", done, kept, err)
		}
		for i := 1; i <= 4; i++ {
			m := qMsg("rd", fmt.Sprintf("x%d", i))
			m.Headers = map[string]string{"tenant": m.ID}
			qEnqueue(t, q, m, time.Time{})
			qFinish(t, q, qTake(t, q, "rd", "c1", 1)[0], queue.Outcome{Status: queue.Dead, Attempt: 3, Kind: "task.unknown", Error: "no such task"})
		}
		done, kept, err := dr.RequeueDead(ctx, "rd", "x1")
		if err != nil || !slices.Equal(done, []string{"x1"}) || len(kept) != 0 {
			t.Fatalf("RequeueDead(x1) = %v, %v, %v; want [x1]", done, kept, err)
		}
		if done, _, err := dr.RequeueDead(ctx, "rd", "x1"); err != nil || len(done) != 0 {
			t.Fatalf("RequeueDead(x1) again = %v, %v; want nothing", done, err)
		}
		qWantState(t, q, "rd", "x1", queue.Queued, 1, "", "")
		ds := qTake(t, q, "rd", "c1", 10)
		if len(ds) != 1 {
			t.Fatalf("Take after requeue: %q, want x1", qIDs(ds))
		}
		if d := ds[0]; d.ID != "x1" || d.Attempt != 1 || d.LastKind != "" || string(d.Payload) != "payload of x1" || d.Headers["tenant"] != "x1" {
			t.Fatalf("requeued delivery %+v; want x1, attempt 1, its payload and headers", d)
		}
		qFinish(t, q, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
		if n, err := dr.PurgeDead(ctx, "rd", "x2"); err != nil || n != 1 {
			t.Fatalf("PurgeDead(x2) = %d, %v; want 1", n, err)
		}
		if dl, _ := q.DeadLetters(ctx, "rd", 10); len(dl) != 2 || dl[0].ID != "x3" || dl[1].ID != "x4" {
			t.Fatalf("dead letters %+v; want x3, x4", dl)
		}
		if done, kept, err := dr.RequeueDead(ctx, "rd"); err != nil || !slices.Equal(done, []string{"x3", "x4"}) || len(kept) != 0 {
			t.Fatalf("RequeueDead(all) = %v, %v, %v; want [x3 x4]", done, kept, err)
		}
		for _, d := range qTake(t, q, "rd", "c1", 10) {
			qFinish(t, q, d, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "again"})
		}
		if n, err := dr.PurgeDead(ctx, "rd"); err != nil || n != 2 {
			t.Fatalf("PurgeDead(all) = %d, %v; want 2", n, err)
		}
		if n, err := dr.PurgeDead(ctx, "rd"); err != nil || n != 0 {
			t.Fatalf("PurgeDead(all) again = %d, %v; want 0", n, err)
		}
		if st, _ := q.Stats(ctx, "rd"); st.Ready+st.Running+st.Delayed+st.Dead != 0 {
			t.Fatalf("stats at the end %+v; want nothing left", st)
		}
	})
}

func TestQueueWait(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		if st, err := q.Wait(t.Context(), "w", "unknown"); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("Wait(unknown) = %+v, %v; want queue.ErrNotFound", st, err)
		}

		t.Run("finished by another goroutine", func(t *testing.T) {
			qEnqueue(t, q, qMsg("w", "job"), time.Time{})
			type result struct {
				st  *queue.State
				err error
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			done := make(chan result, 2)
			for range 2 {
				go func() {
					st, err := q.Wait(ctx, "w", "job")
					done <- result{st, err}
				}()
			}
			d := qTake(t, q, "w", "c1", 1)[0]
			time.Sleep(100 * time.Millisecond)
			// A retry is not an end.
			qFinish(t, q, d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second)})
			select {
			case r := <-done:
				t.Fatalf("Wait returned on a retry: %+v, %v", r.st, r.err)
			case <-time.After(100 * time.Millisecond):
			}
			qPromote(t, q, "w", time.Now(), 10)
			d = qTake(t, q, "w", "c1", 1)[0]
			qFinish(t, q, d, queue.Outcome{Status: queue.Failed, Attempt: 2, Kind: "boom", Error: "x"})
			timeout := time.After(time.Second)
			for range 2 {
				select {
				case r := <-done:
					if r.err != nil || r.st.Status != queue.Failed || r.st.Attempt != 2 || r.st.Kind != "boom" {
						t.Fatalf("Wait = %+v, %v; want the failed state", r.st, r.err)
					}
				case <-timeout:
					t.Fatal("Wait did not return within 1s of Finish")
				}
			}
			// Once ended, Wait returns at once.
			st, err := q.Wait(t.Context(), "w", "job")
			if err != nil || st.Status != queue.Failed {
				t.Fatalf("Wait after the end = %+v, %v", st, err)
			}
		})

		t.Run("context ends", func(t *testing.T) {
			qEnqueue(t, q, qMsg("w", "forever"), time.Time{})
			cause := errors.New("caller gave up")
			ctx, cancel := context.WithCancelCause(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := q.Wait(ctx, "w", "forever")
				done <- err
			}()
			time.Sleep(50 * time.Millisecond)
			cancel(cause)
			select {
			case err := <-done:
				if !errors.Is(err, cause) {
					t.Fatalf("Wait after cancel: %v, want the cause", err)
				}
			case <-time.After(time.Second):
				t.Fatal("Wait did not return within 1s of its context ending")
			}
			qWantState(t, q, "w", "forever", queue.Queued, 1, "", "")
		})
	})
}

func TestQueueStateNotFound(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		qWantNotFound(t, b.Queue, "nq", "never")
		qEnqueue(t, b.Queue, qMsg("nq", "known"), time.Time{})
		qWantNotFound(t, b.Queue, "nq", "never")
		qWantNotFound(t, b.Queue, "other", "known")
	})
}

// TestQueueFinalWrites: Finish makes a run's deferred writes. A write of no
// backend's is made first, on its own, before the task ends; the record and
// lock release of the queue's own backend are made too (on Redis, in the
// round trip that ends the task: see redisbackend's tests), and the state
// says whether the result was stored.
func TestQueueFinalWrites(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		q, ctx := b.Queue, t.Context()
		releaser, ok := b.Locker.(lock.FinalReleaser)
		if !ok {
			t.Fatalf("the %s locker is no lock.FinalReleaser", b.Name)
		}
		putter, ok := b.Store.(store.FinalPutter)
		if !ok {
			t.Fatalf("the %s store is no store.FinalPutter", b.Name)
		}

		t.Run("others first", func(t *testing.T) {
			qEnqueue(t, q, qMsg("fw", "first"), time.Time{})
			d := qTake(t, q, "fw", "c1", 1)[0]
			var seen []queue.Status
			look := qWrite(func(ctx context.Context) error {
				st, err := q.State(ctx, "fw", "first")
				if err != nil {
					return err
				}
				seen = append(seen, st.Status)
				return nil
			})
			final := &task.FinalWrites{}
			final.Release(look)
			final.Result(look)
			qFinish(t, q, d, queue.Outcome{Status: queue.Succeeded, Attempt: 1, Final: final})
			if want := []queue.Status{queue.Queued, queue.Queued}; !slices.Equal(seen, want) {
				t.Fatalf("the deferred writes saw the task %q, want %q: made before it ended", seen, want)
			}
			if st := qWantState(t, q, "fw", "first", queue.Succeeded, 1, "", ""); st.Result != queue.ResultStored {
				t.Fatalf("State.Result = %q, want %q", st.Result, queue.ResultStored)
			}
		})

		t.Run("own store and locker", func(t *testing.T) {
			for _, tc := range []struct {
				o   queue.Outcome
				rec store.Record
			}{
				{queue.Outcome{Status: queue.Succeeded, Attempt: 1},
					store.Record{Status: store.Succeeded, Value: []byte(`"sent"`), Attempt: 1}},
				{queue.Outcome{Status: queue.Failed, Attempt: 2, Kind: "timeout", Error: "took too long"},
					store.Record{Status: store.Failed, Kind: "timeout", Error: "took too long", Attempt: 2}},
				{queue.Outcome{Status: queue.Dead, Attempt: 3, Kind: "task.permanent", Error: "gave up"},
					store.Record{Status: store.Failed, Kind: "task.permanent", Error: "gave up", Attempt: 3}},
			} {
				id := "own-" + string(tc.o.Status)
				qEnqueue(t, q, qMsg("fw", id), time.Time{})
				d := qTake(t, q, "fw", "c1", 1)[0]
				lease, err := b.Locker.TryAcquire(ctx, "fw-"+id, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				rec := tc.rec
				rec.Queue, rec.ID, rec.Task = "fw", id, "email"
				put, err := putter.FinalPut(&rec, time.Hour)
				if err != nil {
					t.Fatalf("FinalPut: %v", err)
				}
				final := &task.FinalWrites{}
				final.Release(releaser.FinalRelease(lease))
				final.Result(put)
				b.RequireNoRecord(t, "fw", id) // deferred: nothing written yet
				if held := b.Locks(t); len(held) != 1 || held[0].Key != "fw-"+id {
					t.Fatalf("%s: locks held before Finish: %+v, want the run's", id, held)
				}

				o := tc.o
				o.Final = final
				qFinish(t, q, d, o)
				st := qWantState(t, q, "fw", id, o.Status, o.Attempt, o.Kind, o.Error)
				if st.Result != queue.ResultStored {
					t.Fatalf("%s: State.Result = %q, want %q", id, st.Result, queue.ResultStored)
				}
				got := b.RequireRecord(t, "fw", id)
				if got.Status != rec.Status || got.Task != "email" || !bytes.Equal(got.Value, rec.Value) ||
					got.Kind != rec.Kind || got.Error != rec.Error || got.Attempt != rec.Attempt {
					t.Fatalf("%s: stored %+v, want %+v", id, *got, rec)
				}
				b.RequireNoLocks(t)
			}
		})

		t.Run("releases on a requeue", func(t *testing.T) {
			qEnqueue(t, q, qMsg("fw", "again"), time.Time{})
			d := qTake(t, q, "fw", "c1", 1)[0]
			lease, err := b.Locker.TryAcquire(ctx, "fw-again", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			other, n := qCounted(nil)
			final := &task.FinalWrites{}
			final.Release(releaser.FinalRelease(lease))
			final.Release(other)
			qFinish(t, q, d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour),
				Kind: "lock.locked", Error: "held", Final: final})
			qWantState(t, q, "fw", "again", queue.Scheduled, 2, "lock.locked", "held")
			if n.Load() != 1 {
				t.Fatalf("the other release was made %d times, want once", n.Load())
			}
			b.RequireNoLocks(t)
		})
	})
}

// qQueueWithStateTTL returns a queue of b's kind, on its clock or its
// client and key prefix, that keeps finished tasks' states for ttl.
func qQueueWithStateTTL(b *taskwaretest.Backend, ttl time.Duration) queue.Queue {
	if b.Redis == nil {
		return memorybackend.New(memorybackend.WithClock(b.Now), memorybackend.WithStateTTL(ttl)).Queue()
	}
	return redisbackend.New(b.Client, redisbackend.WithPrefix(b.Prefix()), redisbackend.WithStateTTL(ttl)).Queue()
}

func TestQueueStateTTL(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, tc := range []struct {
			name string
			ttl  time.Duration // 0: the default
			// kept is a time after the end within the TTL, gone one after it.
			kept, gone time.Duration
		}{
			{"default", 0, queue.DefaultStateTTL - time.Hour, queue.DefaultStateTTL + time.Hour},
			{"WithStateTTL", time.Second, 500 * time.Millisecond, 1300 * time.Millisecond},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := b.Queue
				if tc.ttl == 0 && b.Real {
					t.Skip("the default state TTL is a day")
				}
				if tc.ttl != 0 {
					q = qQueueWithStateTTL(b, tc.ttl)
				}
				queueName := "ttl-" + tc.name
				for _, id := range []string{"ok", "dead"} {
					qEnqueue(t, q, qMsg(queueName, id), time.Time{})
				}
				ds := qTake(t, q, queueName, "c1", 2)
				qFinish(t, q, ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
				qFinish(t, q, ds[1], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
				qEnqueue(t, q, qMsg(queueName, "waiting"), time.Now().Add(48*time.Hour))

				b.Advance(tc.kept)
				qWantState(t, q, queueName, "ok", queue.Succeeded, 1, "", "")
				if err := q.Enqueue(t.Context(), qMsg(queueName, "ok"), time.Time{}); !errors.Is(err, queue.ErrDuplicate) {
					t.Fatalf("Enqueue %v after the end: %v, want queue.ErrDuplicate", tc.kept, err)
				}

				b.Advance(tc.gone - tc.kept)
				qWantNotFound(t, q, queueName, "ok")
				qWantNotFound(t, q, queueName, "dead")
				if st, err := q.Wait(t.Context(), queueName, "ok"); !errors.Is(err, queue.ErrNotFound) {
					t.Fatalf("Wait %v after the end = %+v, %v; want queue.ErrNotFound", tc.gone, st, err)
				}
				qWantState(t, q, queueName, "waiting", queue.Scheduled, 1, "", "") // only ended tasks expire
				if dl, err := q.DeadLetters(t.Context(), queueName, 10); err != nil || len(dl) != 1 {
					t.Fatalf("DeadLetters %v later = %+v, %v; want the entry kept", tc.gone, dl, err)
				}
				qEnqueue(t, q, qMsg(queueName, "ok"), time.Time{})
				qWantState(t, q, queueName, "ok", queue.Queued, 1, "", "")
				qWantIDs(t, "Take", qTake(t, q, queueName, "c1", 10), "ok")
			})
		}
	})
}

func TestQueueCheckMessage(t *testing.T) {
	cases := []struct {
		name    string
		m       queue.Message
		invalid bool // matches task.ErrInvalidConfig
	}{
		{"no ID", queue.Message{Task: "t", Queue: "ok"}, false},
		{"no task", queue.Message{ID: "x", Queue: "ok"}, false},
		{"no queue", queue.Message{ID: "x", Task: "t"}, true},
		{"open brace", queue.Message{ID: "x", Task: "t", Queue: "a{b"}, true},
		{"close brace", queue.Message{ID: "x", Task: "t", Queue: "a}"}, true},
		{"hash tag", queue.Message{ID: "x", Task: "t", Queue: "{ok}"}, true},
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := b.Queue.Enqueue(t.Context(), &tc.m, time.Time{})
				if err == nil {
					t.Fatalf("Enqueue(%+v): no error", tc.m)
				}
				if tc.invalid && !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("Enqueue(%+v): %v, want task.ErrInvalidConfig", tc.m, err)
				}
			})
		}
		if ds := qTake(t, b.Queue, "ok", "c1", 10); ds != nil {
			t.Fatalf("Take after refused messages: got %q", qIDs(ds))
		}
		qWantNotFound(t, b.Queue, "ok", "x")
	})
}

// TestMemoryQueueTakeContext: a waiting Take of the memory queue returns the
// cause of its context's end.
func TestMemoryQueueTakeContext(t *testing.T) {
	q := memorybackend.New().Queue()
	cause := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := q.Take(ctx, "q", "c1", 1, time.Minute)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel(cause)
	select {
	case err := <-done:
		if !errors.Is(err, cause) {
			t.Fatalf("Take after cancel: %v, want the cause", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Take did not return within 1s of its context ending")
	}
	// An ended context takes nothing.
	qEnqueue(t, q, qMsg("q", "m"), time.Time{})
	if ds, err := q.Take(ctx, "q", "c1", 1, 0); !errors.Is(err, cause) || ds != nil {
		t.Fatalf("Take with an ended context = %q, %v", qIDs(ds), err)
	}
	qWantIDs(t, "Take", qTake(t, q, "q", "c1", 1), "m")
}

// TestMemoryQueueDeadLetterCap: the memory queue keeps the newest
// dead letters of a queue, DefaultDeadLetterMax unless told otherwise.
func TestMemoryQueueDeadLetterCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []memorybackend.Option
		max  int
	}{
		{"default", nil, queue.DefaultDeadLetterMax},
		{"WithDeadLetterMax", []memorybackend.Option{memorybackend.WithDeadLetterMax(3)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := memorybackend.New(tc.opts...).Queue()
			const extra = 5
			for i := range tc.max + extra {
				id := fmt.Sprint(i)
				qEnqueue(t, q, qMsg("cap", id), time.Time{})
				qFinish(t, q, qTake(t, q, "cap", "c1", 1)[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
			}
			dl, err := q.DeadLetters(t.Context(), "cap", tc.max+100)
			if err != nil || len(dl) != tc.max {
				t.Fatalf("DeadLetters = %d entries, %v; want %d", len(dl), err, tc.max)
			}
			if dl[0].ID != fmt.Sprint(extra) || dl[len(dl)-1].ID != fmt.Sprint(tc.max+extra-1) {
				t.Fatalf("DeadLetters run from %s to %s; want the newest", dl[0].ID, dl[len(dl)-1].ID)
			}
		})
	}
}
