package faults_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// fastWorker is a worker with short waits, for b's queues.
func fastWorker(b *taskwaretest.Backend, opts ...worker.Option) *worker.Worker {
	return worker.New(b.Queue, append([]worker.Option{worker.Concurrency(4), worker.PollWait(50 * time.Millisecond),
		worker.PromoteEvery(10 * time.Millisecond), worker.Grace(2 * time.Second), worker.Visibility(2 * time.Second)}, opts...)...)
}

// Point 1: a panic inside a locked function releases the lock, whoever
// recovers it, and the hold leaves the renewer: three TTLs later the lock
// is still free.
func TestPoint01PanicReleasesLock(t *testing.T) {
	ttl := 150 * time.Millisecond
	cases := []struct {
		name string
		run  func(t *testing.T, b *taskwaretest.Backend)
	}{
		{"Recover outside WithLock, in-process", func(t *testing.T, b *taskwaretest.Backend) {
			tk := task.New("p", func(context.Context, int) (int, error) { panic("boom") },
				middleware.Recover(), middleware.WithLock(b.Locker, "k", lock.TTL(ttl)))
			_, err := tk.Call(context.Background(), 1)
			if !errors.Is(err, task.ErrPanic) {
				t.Fatalf("outcome %v", err)
			}
		}},
		{"the worker's own recover", func(t *testing.T, b *taskwaretest.Backend) {
			tk := task.New("p", func(context.Context, int) (int, error) { panic("boom") },
				middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "k", lock.TTL(ttl)))
			w := fastWorker(b)
			worker.Register(w, tk)
			taskwaretest.StartWorker(t, w)
			h, err := worker.Enqueue(context.Background(), worker.NewClient(b.Queue, b.Store), tk, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := taskwaretest.Get(h, 5*time.Second); !errors.Is(err, task.ErrPanic) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("outcome %q: want a one-line panic failure", err)
			}
		}},
		{"lock.Do, its caller recovers", func(t *testing.T, b *taskwaretest.Backend) {
			func() {
				defer func() { _ = recover() }()
				_ = lock.Do(context.Background(), b.Locker, "k", func(context.Context) error { panic("boom") }, lock.TTL(ttl))
			}()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
				c.run(t, b)
				b.RequireNoLocks(t)
				time.Sleep(3 * ttl) // a hold left with the renewer would be renewed meanwhile
				b.RequireNoLocks(t)
			})
		})
	}
}

// Point 2: only the whole owner token releases or refreshes a lock; an
// empty one, a prefix of it or another owns nothing, held or released, and
// a refused refresh leaves the TTL alone.
func TestPoint02OnlyTheWholeTokenOwns(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		for _, state := range []string{"held", "released"} {
			for _, tok := range []string{"", "prefix", "other"} {
				for _, op := range []string{"release", "refresh"} {
					key := state + "-" + tok + "-" + op
					lease, err := b.Locker.TryAcquire(ctx, key, time.Second)
					if err != nil {
						t.Fatal(err)
					}
					if state == "released" {
						if err := b.Locker.Release(ctx, lease); err != nil {
							t.Fatal(err)
						}
					}
					fake := *lease // a copy: the locker rebuilds its own state
					switch tok {
					case "":
						fake.Token = ""
					case "prefix":
						fake.Token = lease.Token[:8]
					default:
						fake.Token = strings.Repeat("0", len(lease.Token))
					}
					if op == "release" {
						err = b.Locker.Release(ctx, &fake)
					} else {
						err = b.Locker.Refresh(ctx, &fake, time.Hour)
					}
					if !errors.Is(err, lock.ErrNotHeld) {
						t.Errorf("%s of a %s lock with a token %q: %v, want ErrNotHeld", op, state, tok, err)
					}
					if b.Client != nil {
						if ttl := b.Client.PTTL(ctx, b.Prefix()+"lock:{"+key+"}").Val(); ttl > time.Second {
							t.Errorf("%s of a %s lock with a token %q set its TTL to %v", op, state, tok, ttl)
						}
					}
					held := len(b.Locks(t))
					if state == "held" {
						_ = b.Locker.Release(ctx, lease)
					}
					if held != map[string]int{"held": 1, "released": 0}[state] {
						t.Errorf("%s of a %s lock with a token %q: %d locks held after", op, state, tok, held)
					}
				}
			}
		}
	})
}

// Point 3: a holder's context ends no later than its lease's validity,
// whatever keeps its refresh from succeeding: a stalled connection, a lock
// broken by an operator, a refresh refused.
func TestPoint03HolderStopsWithinValidity(t *testing.T) {
	ttl := 300 * time.Millisecond
	slack := 60 * time.Millisecond // timer and scheduling, under -race
	cases := []struct {
		name  string
		redis bool // needs the proxy
		fault func(b *taskwaretest.Backend, p *taskwaretest.Proxy)
		// within is how soon after the acquire the context must end.
		within time.Duration
	}{
		{"stalled connection", true, func(_ *taskwaretest.Backend, p *taskwaretest.Proxy) { p.Stall() }, ttl - lock.DriftMargin(ttl) + slack},
		{"lock broken", false, func(b *taskwaretest.Backend, _ *taskwaretest.Proxy) {
			_ = b.Locker.Break(context.Background(), "k")
		}, ttl/3 + ttl/12 + 2*slack}, // the next refresh is refused: a tick, a round trip, a wake-up
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
				locker := lock.Locker(b.Locker)
				var p *taskwaretest.Proxy
				if c.redis {
					if b.Client == nil {
						t.Skip("a stall needs a connection")
					}
					direct := b.Client.(*redis.Client)
					p = taskwaretest.NewProxy(t, direct.Options().Addr)
					defer p.Resume()
					locker = redisbackend.New(through(t, direct, p), redisbackend.Prefix(b.Prefix())).Locker()
				}
				g, err := lock.NewGuard(locker, lock.TTL(ttl))
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				h, err := g.Hold(context.Background(), "k")
				if err != nil {
					t.Fatal(err)
				}
				c.fault(b, p)
				select {
				case <-h.Done():
				case <-time.After(5 * ttl):
					t.Fatal("the holder's context outlived its lease")
				}
				took := time.Since(start)
				if !errors.Is(context.Cause(h), lock.ErrLeaseLost) || took > c.within {
					t.Fatalf("cancelled after %v with %v; want ErrLeaseLost within %v", took, context.Cause(h), c.within)
				}
				if p != nil {
					p.Resume()
				}
				_ = h.Release(context.Background())
			})
		})
	}
}

// Point 5: a retry that can no longer run ends as a failure that carries
// the last one, in-process too, in every order of StoreResult, Expires and
// Retry; what is stored says so.
func TestPoint05RetriesEndAsFailures(t *testing.T) {
	errFirst := errors.New("first run failed")
	for _, order := range orders {
		t.Run(strings.Join(order[:], ","), func(t *testing.T) {
			b := taskwaretest.NewMemory(t)
			runs := 0
			tk := task.New("r", func(ctx context.Context, _ int) (int, error) {
				runs++
				b.Advance(time.Hour) // past Expires by the time the retry comes
				return 0, errFirst
			}, chain(b, order, time.Minute, false)...)
			_, err := taskwaretest.Run(t, b, tk, 1, taskwaretest.ID("r1"))
			if task.IsSkipped(err) || !strings.Contains(fmt.Sprint(err), errFirst.Error()) {
				t.Fatalf("outcome %v after %d runs: want a failure that carries the first", err, runs)
			}
			for _, r := range b.Records(t) {
				if !strings.HasSuffix(r, "failed error") {
					t.Fatalf("stored %q: want the failure", r)
				}
			}
		})
	}
}

// Point 6: task IDs are unique per queue, and so are results: the same ID
// on two queues are two tasks, each handle reads its own result.
func TestPoint06ResultsPerQueue(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		tk := task.New("echo", func(_ context.Context, s string) (string, error) { return s, nil }, middleware.StoreResult(b.Store))
		w := fastWorker(b, worker.Queues("q1", "q2"))
		worker.Register(w, tk)
		taskwaretest.StartWorker(t, w)
		c := worker.NewClient(b.Queue, b.Store)
		hs := map[string]*worker.Handle[string]{}
		for _, q := range []string{"q1", "q2"} {
			h, err := worker.Enqueue(context.Background(), c, tk, "from "+q, worker.OnQueue(q), worker.ID("same"))
			if err != nil {
				t.Fatalf("enqueue the same ID on %s: %v", q, err)
			}
			hs[q] = h
		}
		for q, h := range hs {
			if got, err := taskwaretest.Get(h, 5*time.Second); err != nil || got != "from "+q {
				t.Fatalf("%s's handle read %q, %v", q, got, err)
			}
		}
		if got := b.Records(t); len(got) != 2 || got[0] != "q1/same succeeded" || got[1] != "q2/same succeeded" {
			t.Fatalf("records %q", got)
		}
	})
}

// Point 7: arguments and results have size caps. Too large an argument is
// refused at enqueue; too large a result is a small stored failure of its
// own kind, dead-lettered, not retried. On Redis, a payload is stored once.
func TestPoint07SizeCaps(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs atomic.Int32
		tk := task.New("big", func(_ context.Context, n int) (string, error) {
			runs.Add(1)
			return strings.Repeat("x", n), nil
		}, middleware.StoreResult(b.Store, middleware.MaxResultSize(1000)),
			middleware.Retry(3, middleware.RetryBackoff(10*time.Millisecond, 10*time.Millisecond)))
		echo := task.New("echo", func(_ context.Context, s string) (string, error) { return s, nil })
		c := worker.NewClient(b.Queue, b.Store, worker.MaxPayloadSize(100))
		cases := []struct {
			name string
			do   func() error
			want func(err error) bool
		}{
			{"argument at the cap", func() error {
				_, err := worker.Enqueue(ctx, c, echo, strings.Repeat("a", 98), worker.OnQueue("caps")) // 98 + 2 quotes
				return err
			}, func(err error) bool { return err == nil }},
			{"argument over the cap", func() error {
				_, err := worker.Enqueue(ctx, c, echo, strings.Repeat("a", 99), worker.OnQueue("caps"))
				return err
			}, func(err error) bool { return errors.Is(err, task.ErrTooLarge) }},
			{"result over the cap", func() error {
				w := fastWorker(b)
				worker.Register(w, tk)
				stop := taskwaretest.StartWorker(t, w)
				defer stop()
				h, err := worker.Enqueue(ctx, c, tk, 5000)
				if err != nil {
					return err
				}
				_, err = taskwaretest.Get(h, 5*time.Second)
				rec, rerr := b.Store.Get(ctx, h.Queue, h.ID)
				if rerr != nil || rec.Status != store.Failed || rec.Kind != task.KindOf(task.ErrTooLarge) || len(rec.Value) != 0 {
					return fmt.Errorf("stored %+v, %v", rec, rerr)
				}
				if runs.Load() != 1 {
					return fmt.Errorf("ran %d times: a result too large is not retried", runs.Load())
				}
				return err
			}, func(err error) bool {
				return errors.Is(err, task.ErrTooLarge) && errors.Is(err, queue.ErrDeadLettered)
			}},
		}
		for _, tc := range cases {
			if err := tc.do(); !tc.want(err) {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		if b.Client == nil {
			return
		}
		// Stored once: in the stream while ready, in the state while delayed.
		payload := strings.Repeat("p", 50)
		for _, delay := range []time.Duration{0, time.Hour} {
			h, err := worker.Enqueue(ctx, c, echo, payload, worker.OnQueue("once"), worker.Delay(delay))
			if err != nil {
				t.Fatal(err)
			}
			// Counted wherever it lies, whatever the field.
			copies := func(vals []string) int {
				n := 0
				for _, v := range vals {
					n += strings.Count(v, payload)
				}
				return n
			}
			var state []string
			for _, v := range b.Client.HGetAll(ctx, b.Prefix()+"queue:{once}:task:"+h.ID).Val() {
				state = append(state, v)
			}
			var stream []string
			for _, e := range b.Client.XRange(ctx, b.Prefix()+"queue:{once}", "-", "+").Val() {
				var vals []string
				for _, v := range e.Values {
					vals = append(vals, fmt.Sprint(v))
				}
				if strings.Contains(strings.Join(vals, " "), h.ID) { // this task's entry
					stream = append(stream, vals...)
				}
			}
			inState, inStream := copies(state), copies(stream)
			if copies := inStream + inState; copies != 1 {
				t.Errorf("delay %v: the payload is stored %d times (state %v, stream %d)", delay, copies, inState, inStream)
			}
		}
	})
}

// Point 8: a dead worker's tasks are taken over within the visibility
// timeout and a second (see TestFaultTakeover for 16 tasks and 2 slots),
// and a run abandoned at a clean stop's end of grace goes back at once.
func TestPoint08AbandonedRunsGoBackAtOnce(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		var runs atomic.Int32
		tk := task.New("slow", func(ctx context.Context, _ int) (int, error) {
			if runs.Add(1) == 1 {
				<-ctx.Done() // outlives the first worker's grace
				return 0, ctx.Err()
			}
			return 1, nil
		}, middleware.StoreResult(b.Store))
		first := fastWorker(b, worker.Grace(50*time.Millisecond), worker.Visibility(time.Minute))
		worker.Register(first, tk)
		stop := taskwaretest.StartWorker(t, first)
		h, err := worker.Enqueue(ctx, worker.NewClient(b.Queue, b.Store), tk, 1)
		if err != nil {
			t.Fatal(err)
		}
		for runs.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		stop()
		stopped := time.Now()
		second := fastWorker(b, worker.Visibility(time.Minute))
		worker.Register(second, tk)
		taskwaretest.StartWorker(t, second)
		if _, err := taskwaretest.Get(h, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(stopped); took > 2*time.Second {
			t.Fatalf("the abandoned run ran again %v after the stop; want at once, not after the visibility timeout", took)
		}
		if st, _ := h.State(ctx); st.Attempt != 1 {
			t.Fatalf("attempt %d: an abandoned run uses no attempt", st.Attempt)
		}
	})
}

// Point 9: a worker that stops cleanly leaves its queues' consumer group;
// consumers idle for long with nothing pending are forgotten; one with
// deliveries pending is kept.
func TestPoint09ConsumersDoNotPileUp(t *testing.T) {
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) {
			b := taskwaretest.New(t, name)
			ctx := context.Background()
			stream := b.Prefix() + "queue:{default}"
			consumers := func() []string {
				cs, err := b.Client.XInfoConsumers(ctx, stream, "taskware").Result()
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, c := range cs {
					names = append(names, c.Name)
				}
				return names
			}
			for i := range 3 {
				w := fastWorker(b, worker.Name(fmt.Sprint("clean-", i)))
				stop := taskwaretest.StartWorker(t, w)
				time.Sleep(100 * time.Millisecond) // it reads the stream
				stop()
			}
			if got := consumers(); len(got) != 0 {
				t.Fatalf("consumers after 3 clean stops: %q", got)
			}
			// A worker that died with a task, and one that died with none.
			tk := task.New("t", func(context.Context, int) (int, error) { return 1, nil })
			if _, err := worker.Enqueue(ctx, worker.NewClient(b.Queue, nil), tk, 1); err != nil {
				t.Fatal(err)
			}
			if ds, err := b.Queue.Take(ctx, queue.Default, "died-busy", 1, 0); err != nil || len(ds) != 1 {
				t.Fatal(ds, err)
			}
			if err := b.Client.XGroupCreateConsumer(ctx, stream, "taskware", "died-idle").Err(); err != nil {
				t.Fatal(err)
			}
			if err := b.Queue.Leave(ctx, queue.Default, "died-busy"); err != nil {
				t.Fatal(err)
			}
			if got := consumers(); len(got) != 2 {
				t.Fatalf("consumers %q: Leave must keep one with a delivery pending", got)
			}
			if !b.Real {
				return // miniredis does not keep consumers' idle times
			}
			time.Sleep(250 * time.Millisecond)
			if _, err := b.Queue.Recover(ctx, queue.Default, time.Millisecond, 0); err != nil { // forgets after 100ms idle
				t.Fatal(err)
			}
			// died-busy's delivery went back to the queue, died-idle was
			// forgotten, and so, now that it has nothing pending, was
			// died-busy. (Recover's own consumer may stay: it is never idle.)
			if got := consumers(); len(got) > 1 || len(got) == 1 && got[0] != "taskware:recover" {
				t.Fatalf("consumers after Recover: %q", got)
			}
		})
	}
}

// Point 10: the backend unavailable at a run's acquire does not end the
// task: it goes back to its queue with backoff, without an attempt, and
// runs once the backend is back; MaxOutages bounds how often.
func TestPoint10OutageRequeues(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxOutages int
		heal       bool
		want       func(t *testing.T, got int, err error, st *queue.State)
	}{
		{"backend comes back", 20, true, func(t *testing.T, got int, err error, st *queue.State) {
			if err != nil || got != 7 || st.Attempt != 1 {
				t.Fatalf("outcome %d, %v, attempt %d; want 7 at attempt 1", got, err, st.Attempt)
			}
		}},
		{"backend stays away", 1, false, func(t *testing.T, got int, err error, st *queue.State) {
			if !errors.Is(err, queue.ErrDeadLettered) || !errors.Is(err, task.ErrUnavailable) || st.Attempt != 1 {
				t.Fatalf("outcome %v, attempt %d; want a dead letter for an unavailable backend at attempt 1", err, st.Attempt)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			direct, prefix, p, c := proxied(t)
			b := redisbackend.New(direct, redisbackend.Prefix(prefix))
			locks := redisbackend.New(c, redisbackend.Prefix(prefix+"locks:")).Locker() // locks through the proxy
			var runs atomic.Int32
			tk := task.New("seven", func(context.Context, int) (int, error) { runs.Add(1); return 7, nil },
				middleware.StoreResult(b.Store()), middleware.WithLock(locks, "k"))
			w := worker.New(b.Queue(), worker.PollWait(50*time.Millisecond), worker.PromoteEvery(10*time.Millisecond),
				worker.MaxOutages(tc.maxOutages))
			worker.Register(w, tk)
			p.Stall()
			taskwaretest.StartWorker(t, w)
			client := worker.NewClient(b.Queue(), b.Store())
			h, err := worker.Enqueue(context.Background(), client, tk, 1)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond) // an acquire or two time out meanwhile
			if tc.heal {
				p.Resume()
			} else {
				p.Cut()
			}
			got, err := taskwaretest.Get(h, 15*time.Second)
			p.Resume()
			st, serr := h.State(context.Background())
			if serr != nil {
				t.Fatal(serr)
			}
			tc.want(t, got, err, st)
		})
	}
}

// Point 11: a stream entry that taskware did not write, or whose fields do
// not parse, is dead-lettered with queue.ErrBadMessage, and never run.
func TestPoint11MalformedEntriesAreDeadLettered(t *testing.T) {
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) {
			b := taskwaretest.New(t, name)
			ctx := context.Background()
			var runs atomic.Int32
			tk := task.New("t", func(context.Context, int) (int, error) { runs.Add(1); return 1, nil })
			w := fastWorker(b)
			worker.Register(w, tk)
			entries := []map[string]any{
				{"id": "no-attempt", "task": "t", "payload": "1", "enq": "1"},
				{"id": "bad-attempt", "task": "t", "payload": "1", "attempt": "junk"},
				{"id": "bad-enq", "task": "t", "payload": "1", "attempt": "1", "enq": "yesterday"},
				{"id": "zero-attempt", "task": "t", "payload": "1", "attempt": "0"},
				{"task": "t", "payload": "1", "attempt": "1"}, // no id
				{"id": "no-task", "payload": "1", "attempt": "1"},
			}
			for _, e := range entries {
				if err := b.Client.XAdd(ctx, &redis.XAddArgs{Stream: b.Prefix() + "queue:{default}", Values: e}).Err(); err != nil {
					t.Fatal(err)
				}
			}
			taskwaretest.StartWorker(t, w)
			deadline := time.Now().Add(5 * time.Second)
			var dls []queue.DeadLetter
			for time.Now().Before(deadline) {
				var err error
				if dls, err = b.Queue.DeadLetters(ctx, queue.Default, 100); err != nil {
					t.Fatal(err)
				}
				if len(dls) >= len(entries) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(dls) != len(entries) || runs.Load() != 0 {
				t.Fatalf("%d dead letters of %d malformed entries, %d runs", len(dls), len(entries), runs.Load())
			}
			for _, dl := range dls {
				if dl.Kind != queue.ErrBadMessage.ErrorKind() || !strings.Contains(dl.Reason, "stream entry") {
					t.Errorf("dead letter %+v: want kind %s", dl, queue.ErrBadMessage.ErrorKind())
				}
			}
		})
	}
}
