package faults_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// countingCodec is JSON, counting the bytes its Encode writes.
type countingCodec struct{ n *atomic.Int64 }

func (c countingCodec) Marshal(v any) ([]byte, error) { return task.JSON.Marshal(v) }
func (c countingCodec) Encode(w io.Writer, v any) error {
	return task.JSON.Encode(writerFunc(func(p []byte) (int, error) {
		c.n.Add(int64(len(p)))
		return w.Write(p)
	}), v)
}
func (c countingCodec) Unmarshal(data []byte, v any) error { return task.JSON.Unmarshal(data, v) }

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Huge failures and results cost their caps, not their sizes: a 5 MB
// error message is stored as at most task.MaxErrorText bytes, in the
// record and in the task's state, and the run ends once, failed (not dead
// letters for too many deliveries, as when a write too large failed); a
// 64 MB result is encoded only up to MaxResultSize, and ends as a small
// stored failure, run once.
func TestFaultHugeErrorsAndResults(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs atomic.Int32
		var encoded atomic.Int64
		huge := strings.Repeat("e", 5<<20)
		failing := task.New("huge-error", func(context.Context, int) (int, error) {
			runs.Add(1)
			return 0, errors.New(huge)
		}, middleware.StoreResult(b.Store))
		big := task.NewWithOptions("huge-result", func(context.Context, int) (string, error) {
			runs.Add(1)
			return strings.Repeat("r", 64<<20), nil
		}, task.WithCodec(countingCodec{&encoded}), task.WithMiddleware(middleware.StoreResult(b.Store)))
		w := fastWorker(b)
		worker.Register(w, failing)
		worker.Register(w, big)
		stop := taskwaretest.StartWorker(t, w)
		defer stop()
		c := worker.NewClient(b.Queue, b.Store)

		h, err := worker.Enqueue(ctx, c, failing, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := taskwaretest.Get(h, 10*time.Second); err == nil || errors.Is(err, worker.ErrTooManyDeliveries) {
			t.Fatalf("the huge error's outcome: %.200v", err)
		}
		rec := b.RequireRecord(t, h.Queue, h.ID)
		st, err := b.Queue.State(ctx, h.Queue, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != store.Failed || len(rec.Error) > task.MaxErrorText+len("…") || st.Status != queue.Failed ||
			len(st.Error) > task.MaxErrorText+len("…") || runs.Load() != 1 {
			t.Fatalf("record %s, %d bytes of error; state %s, %d bytes; %d runs", rec.Status, len(rec.Error), st.Status, len(st.Error), runs.Load())
		}
		figure(t, "a 5 MB error message on "+b.Name, "stored as %d bytes in the record and %d in the state; ended %s after %d run (before: 5 MB in each)",
			len(rec.Error), len(st.Error), st.Status, runs.Load())

		runs.Store(0)
		hb, err := worker.Enqueue(ctx, c, big, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := taskwaretest.Get(hb, 10*time.Second); !errors.Is(err, task.ErrTooLarge) {
			t.Fatalf("the huge result's outcome: %.200v", err)
		}
		rec = b.RequireRecord(t, hb.Queue, hb.ID)
		if rec.Status != store.Failed || len(rec.Value) != 0 || runs.Load() != 1 ||
			encoded.Load() > middleware.DefaultMaxResult+64<<10 {
			t.Fatalf("record %s, %d bytes; %d runs; %d bytes encoded", rec.Status, len(rec.Value), runs.Load(), encoded.Load())
		}
		figure(t, "a 64 MB result on "+b.Name, "%d bytes encoded for a cap of %d (before: all 64 MB), stored as a %d-byte failure, %d run",
			encoded.Load(), middleware.DefaultMaxResult, len(rec.Error), runs.Load())
	})
}
