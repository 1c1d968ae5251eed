package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

type report struct {
	Account string
	Run     int64
	Lines   []string
	Total   float64
}

// lockedOut returns a middleware, for between JoinLocked and WithLock, that
// counts the runs that found the lock held, and signals each on seen.
func lockedOut(n *atomic.Int64, seen chan<- struct{}) task.Middleware {
	return func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			if errors.Is(err, lock.ErrLocked) {
				n.Add(1)
				if seen != nil {
					seen <- struct{}{}
				}
			}
			return res, err
		}
	}
}

// joinWorker returns a worker that runs up to n tasks at once.
func joinWorker(b *taskwaretest.Backend, n int) *worker.Worker {
	return worker.New(b.Queue, worker.Concurrency(n), worker.PollWait(50*time.Millisecond),
		worker.PromoteEvery(10*time.Millisecond), worker.Grace(5*time.Second), worker.Visibility(10*time.Second))
}

// Fifty tasks for one account's report, run by a worker at once: one run
// makes the report, the 49 others find its lock held and join it, and all
// fifty handles get the one report. With JoinAs and without (the JSON
// bytes as they are), the records are the same bytes.
func TestJoinLockedFifty(t *testing.T) {
	const n = 50
	for _, typed := range []bool{true, false} {
		t.Run(map[bool]string{true: "JoinAs", false: "raw"}[typed], func(t *testing.T) {
			taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
				var runs, locked atomic.Int64
				build := func(ctx context.Context, acct string) (report, error) {
					run := runs.Add(1)
					// The others find the lock held while this run works:
					// wait for them (bounded), then work ~200ms.
					for deadline := time.Now().Add(10 * time.Second); locked.Load() < n-1 && time.Now().Before(deadline); {
						time.Sleep(5 * time.Millisecond)
					}
					time.Sleep(200 * time.Millisecond)
					return report{Account: acct, Run: run, Lines: []string{"a", "b"}, Total: 0.1 + 0.2}, nil
				}
				var opts []middleware.JoinOption
				if typed {
					opts = append(opts, middleware.JoinAs[report]())
				}
				rep := task.New("report", build,
					middleware.StoreResult(b.Store),
					middleware.SkipLocked(),
					middleware.JoinLocked(b.Store, opts...),
					lockedOut(&locked, nil),
					middleware.WithLock(b.Locker, "report:acct-7", lock.TTL(5*time.Second)),
				)
				w := joinWorker(b, n+14)
				worker.Register(w, rep)
				c := worker.NewClient(b.Queue, b.Store)
				ctx := context.Background()
				hs := make([]*worker.Handle[report], n)
				for i := range hs {
					h, err := worker.Enqueue(ctx, c, rep, "acct-7")
					if err != nil {
						t.Fatal(err)
					}
					hs[i] = h
				}
				start := time.Now()
				taskwaretest.StartWorker(t, w)
				got := make([]report, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i, h := range hs {
					wg.Go(func() { got[i], errs[i] = taskwaretest.Get(h, 20*time.Second) })
				}
				wg.Wait()
				took := time.Since(start)
				same := 0
				for i := range got {
					if errs[i] != nil {
						t.Errorf("handle %d: %v", i, errs[i])
					} else if reflect.DeepEqual(got[i], got[0]) {
						same++
					}
				}
				var value []byte
				for i, h := range hs {
					rec := b.RequireRecord(t, h.Queue, h.ID)
					if i == 0 {
						value = rec.Value
					} else if string(rec.Value) != string(value) {
						t.Errorf("record %d holds %s, record 0 %s", i, rec.Value, value)
					}
				}
				t.Logf("FIGURE join %s %s: %d tasks for one key, %d run, %d locked out and joined, %d identical results in %v",
					map[bool]string{true: "JoinAs", false: "raw"}[typed], b.Name, n, runs.Load(), locked.Load(), same, took.Round(time.Millisecond))
				if runs.Load() != 1 || same != n || got[0].Run != 1 || got[0].Account != "acct-7" {
					t.Fatalf("%d runs, %d of %d results the same (%+v), want 1 run and all the same", runs.Load(), same, n, got[0])
				}
				b.RequireNoLocks(t)
			})
		})
	}
}

// A run that finds the lock held by a run it cannot join (the lock was
// taken outside a run, or the holder stores nothing) gets the lock error
// back once JoinWait has passed, and SkipLocked outside skips it.
func TestJoinLockedTimesOut(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs atomic.Int64
		fn := func(ctx context.Context, s string) (string, error) { runs.Add(1); return s, nil }
		joinAndSkip := task.New("t", fn, middleware.StoreResult(b.Store), middleware.SkipLocked(),
			middleware.JoinLocked(b.Store, middleware.JoinWait(150*time.Millisecond)), middleware.WithLock(b.Locker, "k"))
		joinOnly := task.New("t", fn, middleware.JoinLocked(b.Store, middleware.JoinWait(150*time.Millisecond)),
			middleware.WithLock(b.Locker, "k"))

		// Held by a run that will store nothing: waited for, JoinWait long.
		lease, err := b.Locker.TryAcquire(lock.WithOwnerTask(ctx, "default", "ghost"), "k", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = joinAndSkip.Call(ctx, "x")
		if took := time.Since(start); took < 150*time.Millisecond || took > 10*time.Second {
			t.Fatalf("gave up after %v, want JoinWait (150ms)", took)
		}
		if !errors.Is(err, task.ErrSkipped) || !errors.Is(err, lock.ErrLocked) {
			t.Fatalf("%v, want a skip matching lock.ErrLocked", err)
		}
		if le, ok := errors.AsType[*lock.LockedError](err); !ok || le.Task.ID != "ghost" {
			t.Fatalf("the skip %v does not name the holder ghost", err)
		}
		_, err = joinOnly.Call(ctx, "x")
		if le, ok := errors.AsType[*lock.LockedError](err); !ok || le.Task.ID != "ghost" || task.IsSkipped(err) {
			t.Fatalf("%#v, want the *lock.LockedError unchanged", err)
		}
		// ctx bounds the wait too.
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		start = time.Now()
		_, err = joinOnly.Call(short, "x")
		cancel()
		if took := time.Since(start); !errors.Is(err, lock.ErrLocked) || took > 140*time.Millisecond && !b.Real {
			t.Fatalf("%v after %v, want the lock error after ctx's 50ms", err, took)
		}
		if err := b.Locker.Release(ctx, lease); err != nil {
			t.Fatal(err)
		}

		// Held outside any run: nothing to wait for, at once.
		lease, err = b.Locker.TryAcquire(ctx, "k", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		_, err = joinAndSkip.Call(ctx, "x")
		if took := time.Since(start); !task.IsSkipped(err) || took >= 150*time.Millisecond {
			t.Fatalf("%v after %v, want a skip at once", err, took)
		}
		if err := b.Locker.Release(ctx, lease); err != nil {
			t.Fatal(err)
		}
		if runs.Load() != 0 {
			t.Fatalf("%d runs, want none", runs.Load())
		}
		if recs, err := b.Store.List(ctx); err != nil || len(recs) != 0 {
			t.Fatalf("stored %v, %v; want nothing", recs, err)
		}
	})
}

var errUpstream = task.NewError("jointest.upstream", "upstream down")

// A holder that fails gives its failure to its joiners: the same kind and
// text, stored for each; one that is skipped gives them nothing to join.
func TestJoinLockedHolderFails(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs, locked atomic.Int64
		seen := make(chan struct{}, 1)
		release := make(chan error)
		fn := func(ctx context.Context, s string) (string, error) {
			runs.Add(1)
			return s, <-release
		}
		rep := task.New("report", fn,
			middleware.StoreResult(b.Store, middleware.StoreSkips(time.Minute)),
			middleware.SkipLocked(),
			middleware.JoinLocked(b.Store, middleware.JoinWait(10*time.Second)),
			lockedOut(&locked, seen),
			middleware.WithLock(b.Locker, "k"),
		)
		for i, holderErr := range []error{fmt.Errorf("building: %w", errUpstream), task.Skip(errors.New("nothing to do"))} {
			runs.Store(0)
			holderOut := make(chan error, 1)
			holderID := fmt.Sprint("holder-", i)
			go func() {
				_, err := rep.Invoke(ctx, &task.Invocation{ID: holderID, Attempt: 1, Args: "x"})
				holderOut <- err
			}()
			for deadline := time.Now().Add(5 * time.Second); len(b.Locks(t)) == 0; {
				if time.Now().After(deadline) {
					t.Fatal("the holder did not take its lock")
				}
				time.Sleep(time.Millisecond)
			}
			joinerOut := make(chan error, 1)
			go func() {
				_, err := rep.Invoke(ctx, &task.Invocation{ID: "joiner", Attempt: 1, Args: "x"})
				joinerOut <- err
			}()
			<-seen
			release <- holderErr
			herr, jerr := <-holderOut, <-joinerOut
			if runs.Load() != 1 {
				t.Fatalf("%d runs, want 1", runs.Load())
			}
			if task.IsSkipped(holderErr) {
				// Not followed: the joiner is skipped for the lock.
				if !task.IsSkipped(jerr) || !errors.Is(jerr, lock.ErrLocked) {
					t.Fatalf("joiner of a skipped holder: %v, want a skip for the lock", jerr)
				}
				continue
			}
			// One failure, the holder's: the joiner is skipped as joined,
			// and carries the holder's failure.
			je, ok := errors.AsType[*middleware.JoinedError](jerr)
			if !ok || je.Holder.ID != holderID || !task.IsSkipped(jerr) || !errors.Is(jerr, middleware.ErrJoined) ||
				!errors.Is(jerr, errUpstream) || !strings.HasSuffix(jerr.Error(), herr.Error()) {
				t.Fatalf("joiner: %#v, want a joined skip carrying the holder's failure %v", jerr, herr)
			}
			hrec := b.RequireRecord(t, "", holderID)
			jrec := b.RequireRecord(t, "", "joiner")
			if hrec.Status != store.Failed || hrec.Kind != "jointest.upstream" ||
				jrec.Status != store.Skipped || jrec.Kind != "middleware.joined" || !strings.HasSuffix(jrec.Error, hrec.Error) {
				t.Fatalf("joiner stored %+v, holder %+v: want the holder failed, the joiner skipped as joined", jrec, hrec)
			}
			for _, id := range []string{holderID, "joiner"} {
				if err := b.Store.Delete(ctx, "", id); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// A run in-process (Task.Call, no worker) joins a holder run by a worker,
// and gets its typed result with JoinAs.
func TestJoinLockedInProcess(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var runs, locked atomic.Int64
		seen := make(chan struct{}, 1)
		release := make(chan struct{})
		build := func(ctx context.Context, acct string) (report, error) {
			run := runs.Add(1)
			<-release
			return report{Account: acct, Run: run, Total: 42}, nil
		}
		rep := task.New("report", build,
			middleware.StoreResult(b.Store),
			middleware.SkipLocked(),
			middleware.JoinLocked(b.Store, middleware.JoinAs[report]()),
			lockedOut(&locked, seen),
			middleware.WithLock(b.Locker, "report:acct-7"),
		)
		w := joinWorker(b, 4)
		worker.Register(w, rep)
		taskwaretest.StartWorker(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		ctx := context.Background()
		h, err := worker.Enqueue(ctx, c, rep, "acct-7")
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); runs.Load() == 0; {
			if time.Now().After(deadline) {
				t.Fatal("the worker did not start the holder")
			}
			time.Sleep(time.Millisecond)
		}
		type out struct {
			r   report
			err error
		}
		called := make(chan out, 1)
		go func() {
			r, err := rep.Call(ctx, "acct-7")
			called <- out{r, err}
		}()
		<-seen
		close(release)
		o := <-called
		got, err := taskwaretest.Get(h, 10*time.Second)
		if err != nil || o.err != nil || !reflect.DeepEqual(o.r, got) || got.Run != 1 || runs.Load() != 1 {
			t.Fatalf("Call = %+v, %v; the holder's Get = %+v, %v; %d runs", o.r, o.err, got, err, runs.Load())
		}
	})
}

// Under a worker, a skipped run's handle tells the reader which run held
// the lock: its stored text names it. (The run as data is the live
// error's, lock.LockedError.Task; the stored outcome keeps a kind and a
// text.)
func TestSkippedHandleNamesHolder(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		var locked atomic.Int64
		release := make(chan struct{})
		started := make(chan struct{}, 1)
		fn := func(ctx context.Context, s string) (string, error) {
			started <- struct{}{}
			<-release
			return s, nil
		}
		rep := task.New("report", fn,
			middleware.StoreResult(b.Store),
			middleware.SkipLocked(),
			lockedOut(&locked, nil),
			middleware.WithLock(b.Locker, "k"),
		)
		w := joinWorker(b, 4)
		worker.Register(w, rep)
		taskwaretest.StartWorker(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		ctx := context.Background()
		holder, err := worker.Enqueue(ctx, c, rep, "x", worker.OnQueue(queue.Default))
		if err != nil {
			t.Fatal(err)
		}
		<-started
		skipped, err := worker.Enqueue(ctx, c, rep, "y")
		if err != nil {
			t.Fatal(err)
		}
		_, err = taskwaretest.Get(skipped, 10*time.Second)
		close(release)
		if !task.IsSkipped(err) || !errors.Is(err, lock.ErrLocked) {
			t.Fatalf("%v, want a skip for the lock", err)
		}
		if want := "(task " + holder.Queue + "/" + holder.ID + ")"; !strings.Contains(err.Error(), want) {
			t.Fatalf("the skip %q does not name the holder %s", err, want)
		}
		if _, err := taskwaretest.Get(holder, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	})
}

func TestJoinLockedMisconfiguration(t *testing.T) {
	s := memorybackend.New().Store()
	for name, build := range map[string]func(){
		"nil store":     func() { middleware.JoinLocked(nil) },
		"zero JoinWait": func() { middleware.JoinLocked(s, middleware.JoinWait(0)) },
		"nil option":    func() { middleware.JoinLocked(s, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
					t.Fatalf("panic %v, want ErrInvalidConfig", err)
				}
			}()
			build()
		})
	}
}

// Without JoinAs the holder's JSON comes as a json.RawMessage, the same
// bytes; with another codec, nothing is joined.
func TestJoinLockedRawAndCodecs(t *testing.T) {
	b := memorybackend.New()
	ctx := context.Background()
	if err := b.Store().Put(ctx, &store.Record{Queue: "q", ID: "h", Task: "t", Status: store.Succeeded, Value: []byte(`{"b":1,"a":[0.30000000000000004]}`)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Locker().TryAcquire(lock.WithOwnerTask(ctx, "q", "h"), "k", time.Minute); err != nil {
		t.Fatal(err)
	}
	chain := task.Chain(middleware.JoinLocked(b.Store()), middleware.WithLock(b.Locker(), "k"))(returns("never", nil))
	res, err := chain(ctx, &task.Invocation{ID: "j", Name: "t", Attempt: 1})
	if raw, ok := res.(json.RawMessage); err != nil || !ok || string(raw) != `{"b":1,"a":[0.30000000000000004]}` {
		t.Fatalf("%#v, %v", res, err)
	}
	_, err = chain(ctx, &task.Invocation{ID: "j", Name: "t", Attempt: 1, Codec: otherCodec{}})
	if !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("another codec without JoinAs: %v, want the lock error", err)
	}
	// A record of another task is not joined.
	_, err = chain(ctx, &task.Invocation{ID: "j", Name: "other", Attempt: 1})
	if !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("another task's record: %v, want the lock error", err)
	}
}

type otherCodec struct{}

func (otherCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }
func (c otherCodec) Encode(w io.Writer, v any) error {
	b, err := c.Marshal(v)
	if err == nil {
		_, err = w.Write(b)
	}
	return err
}
func (otherCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Two calls for one report in-process: the second finds the lock held by
// the first, waits for its result and returns it as its own.
func ExampleJoinLocked() {
	b := memorybackend.New()
	var runs atomic.Int64
	release := make(chan struct{})
	lockedOut := make(chan struct{}, 1)
	build := func(ctx context.Context, acct string) (string, error) {
		n := runs.Add(1)
		<-release
		return fmt.Sprintf("report of %s (run %d)", acct, n), nil
	}
	// Only to tell the example when the second call found the lock held.
	signal := func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			res, err := next(ctx, inv)
			if errors.Is(err, lock.ErrLocked) {
				lockedOut <- struct{}{}
			}
			return res, err
		}
	}
	report := task.New("report", build,
		middleware.StoreResult(b.Store()),
		middleware.SkipLocked(),
		middleware.JoinLocked(b.Store(), middleware.JoinAs[string](), middleware.JoinWait(10*time.Second)),
		signal,
		middleware.WithLock(b.Locker(), "report:acct-7"),
	)
	ctx := context.Background()
	first := make(chan string)
	go func() {
		r, _ := report.Call(ctx, "acct-7")
		first <- r
	}()
	for runs.Load() == 0 { // until the first holds the lock and runs
		time.Sleep(time.Millisecond)
	}
	second := make(chan string)
	go func() {
		r, err := report.Call(ctx, "acct-7")
		second <- fmt.Sprint(r, " ", err)
	}()
	<-lockedOut
	close(release)
	fmt.Println("first: ", <-first)
	fmt.Println("second:", <-second)
	fmt.Println("runs:  ", runs.Load())
	// Output:
	// first:  report of acct-7 (run 1)
	// second: report of acct-7 (run 1) <nil>
	// runs:   1
}
