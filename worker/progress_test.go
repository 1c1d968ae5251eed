package worker_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// progressLog is a queue that logs the progress writes a worker makes.
type progressLog struct {
	queue.Queue
	mu     sync.Mutex
	writes []queue.Progress
}

func (l *progressLog) Progress(ctx context.Context, d *queue.Delivery, p queue.Progress) error {
	l.mu.Lock()
	l.writes = append(l.writes, p)
	l.mu.Unlock()
	return l.Queue.Progress(ctx, d, p)
}

func (l *progressLog) log() []queue.Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]queue.Progress(nil), l.writes...)
}

// A task that reports in a tight loop is written at most once a second,
// its last report before a pause written all the same, and seen by a
// client reading its state; once it ends, its progress is cleared and
// nothing more is written.
func TestProgressThrottled(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		const n = 1000
		q := &progressLog{Queue: b.Queue}
		release := make(chan struct{})
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		defer free()
		first := make(chan time.Time, 1)
		tk := task.New("report", func(ctx context.Context, _ int) (int, error) {
			first <- time.Now()
			for i := int64(1); i <= n; i++ {
				if err := task.Progress(ctx, i, n, "indexing"); err != nil {
					return 0, err
				}
			}
			<-release
			return 0, task.Progress(ctx, n, n, "after the pause") // at once or throttled: never outlives the run
		})
		w := worker.New(q, fast()...)
		worker.Register(w, tk)
		start(t, w)
		h, err := worker.Enqueue(ctx, worker.NewClient(b.Queue, b.Store), tk, 0)
		if err != nil {
			t.Fatal(err)
		}
		var st *queue.State
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			st, err = h.State(ctx)
			if err == nil && st.Progress != nil && st.Progress.Done == n {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("state %+v, %v: the last report is not seen", st, err)
			}
		}
		began := <-first
		if p := st.Progress; p.Total != n || p.Message != "indexing" || st.Status != queue.Running || p.String() != "1000/1000 (100%) indexing" {
			t.Fatalf("progress %v of a %s task; want 1000/1000 (100%%) indexing, running", p, st.Status)
		}
		writes := q.log()
		if most := 2 + int(time.Since(began)/time.Second); len(writes) > most || len(writes) == 0 {
			t.Fatalf("%d reports made %d writes in %v; want 1 to %d", n, len(writes), time.Since(began), most)
		}
		if last := writes[len(writes)-1]; last.Done != n {
			t.Fatalf("last write %+v, want the last report", last)
		}
		free()
		if _, err := getWithin(t, h, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		ended := len(q.log())
		time.Sleep(1500 * time.Millisecond) // past any write the throttle held back
		if after := q.log(); len(after) != ended {
			t.Fatalf("%d progress writes after the run ended: %+v", len(after)-ended, after[ended:])
		}
		if st, err := h.State(ctx); err != nil || st.Progress != nil {
			t.Fatalf("state %+v, %v after the end; want no progress", st, err)
		}
	})
}

// A worker made with ProgressEvents publishes each progress write as an
// EventProgress carrying the report, between the run's start and its end;
// one made without publishes none, to the same kind of subscriber.
func TestProgressEvents(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		for _, opted := range []bool{true, false} {
			ctx := context.Background()
			rec := newRecorder()
			reported := make(chan struct{})
			release := make(chan struct{})
			tk := task.New("report", func(ctx context.Context, _ int) (int, error) {
				if err := task.Progress(ctx, 2, 4, "half"); err != nil {
					return 0, err
				}
				close(reported)
				<-release
				return 0, nil
			})
			opts := fast(worker.OnEvent(rec.add))
			if opted {
				opts = append(opts, worker.ProgressEvents())
			}
			w := worker.New(b.Queue, opts...)
			worker.Register(w, tk)
			stop := start(t, w)
			h, err := worker.Enqueue(ctx, worker.NewClient(b.Queue, b.Store, worker.OnEvent(rec.add)), tk, 0)
			if err != nil {
				t.Fatal(err)
			}
			<-reported
			if opted { // the event comes while the run goes on
				for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
					if _, ok := rec.last(h.ID, worker.EventProgress); ok {
						break
					}
					if time.Now().After(end) {
						t.Fatal("no progress event while the run waits")
					}
				}
			}
			close(release)
			if _, err := getWithin(t, h, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			stop() // its Run delivers its last events
			want := []worker.EventKind{worker.EventStarted, worker.EventSucceeded}
			if opted {
				want = []worker.EventKind{worker.EventStarted, worker.EventProgress, worker.EventSucceeded}
				e, _ := rec.last(h.ID, worker.EventProgress)
				if e.Progress.Done != 2 || e.Progress.Total != 4 || e.Progress.Message != "half" || e.Task != "report" || e.Attempt != 1 {
					t.Fatalf("progress event %+v; want 2/4 half of report, attempt 1", e)
				}
			}
			if got := rec.kinds(t, h.ID); !slices.Equal(got, want) {
				t.Fatalf("ProgressEvents %v: events %v, want %v", opted, got, want)
			}
		}
	})
}
