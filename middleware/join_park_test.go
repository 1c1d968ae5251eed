package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// Fifty requests for one report make one run on a worker of default
// settings, and on one of 8 slots: the joiners park, giving back their
// slots, so that every request starts while the holder runs.
func TestJoinLockedFiftyOnDefaults(t *testing.T) {
	const n = 50
	for _, conc := range []int{0, 8} { // 0: the default
		t.Run(map[int]string{0: "default", 8: "concurrency8"}[conc], func(t *testing.T) {
			taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
				var runs, locked atomic.Int64
				build := func(ctx context.Context, acct string) (string, error) {
					runs.Add(1)
					for deadline := time.Now().Add(10 * time.Second); locked.Load() < n-1 && time.Now().Before(deadline); {
						time.Sleep(5 * time.Millisecond)
					}
					return "report of " + acct, nil
				}
				rep := task.New("report", build,
					middleware.StoreResult(b.Store),
					middleware.SkipLocked(),
					middleware.JoinLocked(b.Store, middleware.JoinAs[string]()),
					lockedOut(&locked, nil),
					middleware.WithLock(b.Locker, "report:acct-7"),
				)
				opts := []worker.Option{worker.PollWait(50 * time.Millisecond)}
				if conc > 0 {
					opts = append(opts, worker.Concurrency(conc))
				}
				w := worker.New(b.Queue, opts...)
				worker.Register(w, rep)
				c := worker.NewClient(b.Queue, b.Store)
				hs, err := worker.EnqueueMany(context.Background(), c, rep, make([]string, n))
				if err != nil {
					t.Fatal(err)
				}
				taskwaretest.StartWorker(t, w)
				ok := 0
				for _, h := range hs {
					if got, err := taskwaretest.Get(h, 20*time.Second); err == nil && got == "report of " {
						ok++
					}
				}
				t.Logf("FIGURE join at concurrency %d (0: default) %s: %d requests, %d runs, %d locked out and joined, %d got the report",
					conc, b.Name, n, runs.Load(), locked.Load(), ok)
				if runs.Load() != 1 || ok != n {
					t.Fatalf("%d runs, %d of %d got the report: want 1 run, all got it", runs.Load(), ok, n)
				}
				b.RequireNoLocks(t)
			})
		})
	}
}

// levels counts the records a slog.Logger writes, by level.
type levels struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	count map[slog.Level]int
}

func (l *levels) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *levels) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.Lines(l.buf.String()) {
		if strings.Contains(line, "level=ERROR") {
			out = append(out, line)
		}
	}
	return out
}

// A holder dead-lettered after 4 attempts, with 16 joiners, is one
// failure: one ERROR line, one failed event, one stored failure; each
// joiner is skipped as joined (middleware.ErrJoined), logged at Info, and
// its handle says so.
func TestJoinLockedHolderDeadIsOneFailure(t *testing.T) {
	const joiners = 16
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var runs, locked atomic.Int64
		fn := func(ctx context.Context, acct string) (string, error) {
			if runs.Add(1) == 1 { // the joiners find the first attempt's lock held
				for deadline := time.Now().Add(10 * time.Second); locked.Load() < joiners && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
			}
			return "", errUpstream
		}
		rep := task.New("report", fn,
			middleware.StoreResult(b.Store),
			middleware.RetryUpTo(3, middleware.RetryBackoff(10*time.Millisecond, 10*time.Millisecond)),
			middleware.SkipLocked(),
			middleware.JoinLocked(b.Store),
			lockedOut(&locked, nil),
			middleware.WithLock(b.Locker, "report:acct-7"),
		)
		logs := &levels{}
		var mu sync.Mutex
		events := map[worker.EventKind]int{}
		joinedSkips := 0
		w := worker.New(b.Queue, worker.Concurrency(8), worker.PollWait(50*time.Millisecond),
			worker.PromoteEvery(10*time.Millisecond), worker.Grace(5*time.Second),
			worker.Logger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
			worker.OnError(func(err error) { t.Log(err) }), // the log holds the events' lines only
			worker.OnEvent(func(e worker.Event) {
				mu.Lock()
				defer mu.Unlock()
				events[e.Kind]++
				if e.Kind == worker.EventSkipped && errors.Is(e.Err, middleware.ErrJoined) && errors.Is(e.Err, errUpstream) {
					joinedSkips++
				}
			}))
		worker.Register(w, rep)
		c := worker.NewClient(b.Queue, b.Store)
		hs, err := worker.EnqueueMany(context.Background(), c, rep, make([]string, joiners+1))
		if err != nil {
			t.Fatal(err)
		}
		stop := taskwaretest.StartWorker(t, w)
		failed, joined := 0, 0
		for _, h := range hs {
			_, err := taskwaretest.Get(h, 20*time.Second)
			switch {
			case task.IsSkipped(err) && errors.Is(err, middleware.ErrJoined):
				joined++
			case errors.Is(err, errUpstream):
				failed++
			default:
				t.Errorf("handle %s: %v, want the failure or a joined skip", h.ID, err)
			}
		}
		stop() // its events flushed
		recs, err := b.Store.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for _, r := range recs {
			if r.Status == store.Failed {
				stored++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		failures := events[worker.EventFailed] + events[worker.EventDeadLettered]
		t.Logf("FIGURE join, holder dead after 4 attempts, %d joiners, %s: %d runs, %d ERROR lines, %d failure events, %d stored failures, %d joined handles, %d joined skip events",
			joiners, b.Name, runs.Load(), len(logs.errors()), failures, stored, joined, joinedSkips)
		if runs.Load() != 4 || failed != 1 || joined != joiners || len(logs.errors()) != 1 || failures != 1 ||
			stored != 1 || joinedSkips != joiners {
			t.Fatalf("want 4 runs, 1 failure everywhere and %d joined; errors logged:\n%s", joiners, strings.Join(logs.errors(), ""))
		}
		b.RequireNoLocks(t)
	})
}

// A run parked waiting on its holder goes back to its queue at once when
// its worker stops, however long the grace period, its claim kept alive
// meanwhile; another worker then joins the holder's outcome.
func TestJoinLockedParkedGoBackAtStop(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs, locked atomic.Int64
		seen := make(chan struct{}, 1)
		release := make(chan struct{})
		rep := task.New("report", func(ctx context.Context, s string) (string, error) {
			runs.Add(1)
			<-release
			return "report " + s, nil
		},
			middleware.StoreResult(b.Store),
			middleware.SkipLocked(),
			middleware.JoinLocked(b.Store, middleware.JoinAs[string](), middleware.JoinWait(time.Minute)),
			lockedOut(&locked, seen),
			middleware.WithLock(b.Locker, "k"),
		)
		holderOut := make(chan error, 1)
		go func() { // the holder, in-process
			_, err := rep.Invoke(ctx, &task.Invocation{ID: "holder", Attempt: 1, Args: "x"})
			holderOut <- err
		}()
		for deadline := time.Now().Add(5 * time.Second); len(b.Locks(t)) == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the holder did not take its lock")
			}
		}
		c := worker.NewClient(b.Queue, b.Store)
		h, err := worker.Enqueue(ctx, c, rep, "x")
		if err != nil {
			t.Fatal(err)
		}
		var abandoned atomic.Int64
		newWorker := func() *worker.Worker {
			w := worker.New(b.Queue, worker.Concurrency(1), worker.PollWait(50*time.Millisecond),
				worker.Grace(time.Minute), worker.OnEvent(func(e worker.Event) {
					if e.Kind == worker.EventAbandoned {
						abandoned.Add(1)
					}
				}))
			worker.Register(w, rep)
			return w
		}
		stop := taskwaretest.StartWorker(t, newWorker())
		select {
		case <-seen: // the joiner found the lock held, and parks
		case <-time.After(10 * time.Second):
			t.Fatal("the joiner did not run within 10s")
		}
		time.Sleep(20 * time.Millisecond) // parked, waiting
		stop()                            // fails the test if Run waits out its minute of grace
		if st, err := b.Queue.State(ctx, h.Queue, h.ID); err != nil || st.Status.Terminal() {
			t.Fatalf("joiner after the stop: %+v, %v; want it back in its queue", st, err)
		}
		taskwaretest.StartWorker(t, newWorker())
		select {
		case <-seen: // it joins again, on the next worker
		case <-time.After(10 * time.Second):
			t.Fatal("the joiner did not run again within 10s")
		}
		close(release)
		if err := <-holderOut; err != nil {
			t.Fatal(err)
		}
		got, err := taskwaretest.Get(h, 10*time.Second)
		if err != nil || got != "report x" || runs.Load() != 1 || abandoned.Load() != 1 {
			t.Fatalf("joiner got %q, %v after %d runs, %d abandoned: want the holder's report, 1 run, 1 abandoned",
				got, err, runs.Load(), abandoned.Load())
		}
	})
}
