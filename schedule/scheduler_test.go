package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// ticks records what schedulers did with their ticks (OnTick), and lets a
// test wait for them.
type ticks struct {
	mu      sync.Mutex
	all     []schedule.Tick
	arrived chan struct{}
}

func newTicks() *ticks { return &ticks{arrived: make(chan struct{}, 1)} }

func (r *ticks) record(t schedule.Tick) {
	r.mu.Lock()
	r.all = append(r.all, t)
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
}

func (r *ticks) list() []schedule.Tick {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

// waitN waits up to 5 s for n ticks in all, and returns them.
func (r *ticks) waitN(t *testing.T, n int) []schedule.Tick {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if all := r.list(); len(all) >= n {
			return all
		}
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("got ticks %v, want %d of them within 5s", r.list(), n)
		}
	}
}

// clock is a test's clock, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// start runs s until the test ends or the returned stop is called.
func start(t *testing.T, s *schedule.Scheduler) (stop func()) {
	t.Helper()
	return taskwaretest.Start(t, s)
}

// runs counts the runs of each task ID.
type runs struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *runs) middleware(next task.Func) task.Func {
	return func(ctx context.Context, inv *task.Invocation) (any, error) {
		r.mu.Lock()
		r.n[inv.ID]++
		r.mu.Unlock()
		return next(ctx, inv)
	}
}

func (r *runs) of(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[id]
}

// The required figure: three schedulers on one schedule for ten seconds
// enqueue each of its ten ticks exactly once, and workers run each once;
// stopping one of them midway loses no tick.
func TestExactlyOncePerTick(t *testing.T) {
	const (
		schedulers = 3
		window     = 10 * time.Second
	)
	for _, stopOne := range []bool{false, true} {
		name := "all running"
		if stopOne {
			name = "one stopped midway"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
				t.Parallel()
				r := &runs{n: make(map[string]int)}
				tick := task.New("tick", func(ctx context.Context, n int) (int, error) { return n, nil }, r.middleware)
				w := worker.New(b.Queue, worker.PollWait(200*time.Millisecond))
				worker.Register(w, tick)
				taskwaretest.StartWorker(t, w)

				rec := newTicks()
				errs := make(chan error, 100)
				begin := time.Now()
				stops := make([]func(), schedulers)
				for i := range stops {
					// Each a process of its own: its own client on the queue.
					s := schedule.New(worker.NewClient(b.Queue, b.Store), schedule.OnTick(rec.record),
						schedule.OnError(func(err error) {
							select {
							case errs <- err:
							default:
							}
						}))
					schedule.Add(s, "tick", schedule.Every(time.Second), tick, i)
					stops[i] = start(t, s)
				}
				if stopOne {
					time.Sleep(window / 2)
					stops[0]()
				}
				time.Sleep(time.Until(begin.Add(window + 500*time.Millisecond)))
				for _, stop := range stops {
					stop()
				}
				close(errs)
				for err := range errs {
					t.Errorf("OnError: %v", err)
				}

				// The ticks inside the window: (begin, begin+window].
				var want []string
				for at := begin.Truncate(time.Second).Add(time.Second); !at.After(begin.Add(window)); at = at.Add(time.Second) {
					want = append(want, schedule.TickID("tick", at))
				}
				if len(want) != 10 {
					t.Fatalf("%d ticks in the window, want 10", len(want))
				}
				enqueued, duplicates := map[string]int{}, 0
				for _, ev := range rec.list() {
					if !ev.At.After(begin) || ev.At.After(begin.Add(window)) {
						continue
					}
					switch ev.Status {
					case schedule.Enqueued:
						enqueued[ev.ID]++
					case schedule.Duplicate:
						duplicates++
					default:
						t.Errorf("tick %s: %v (%v)", ev.ID, ev.Status, ev.Err)
					}
				}
				for id, n := range enqueued {
					if n > 1 || !slices.Contains(want, id) {
						t.Errorf("%s enqueued %d times; want once, and only the window's ticks %v", id, n, want)
					}
				}
				// A scheduler stopped in the middle of an enqueue may have
				// made it without knowing: then another's was refused, and
				// nobody saw Enqueued. With all running, every tick was.
				if !stopOne && len(enqueued) != len(want) {
					t.Errorf("%d ticks enqueued, want %d", len(enqueued), len(want))
				}

				client := worker.NewClient(b.Queue, b.Store)
				known, ran := 0, 0
				for _, id := range want {
					h := worker.HandleOf(client, tick, queue.Default, id)
					if _, err := taskwaretest.Get(h, 10*time.Second); err != nil {
						t.Errorf("tick %s: %v", id, err)
					} else {
						known++
					}
					if n := r.of(id); n != 1 {
						t.Errorf("tick %s ran %d times, want once", id, n)
					} else {
						ran++
					}
				}
				t.Logf("FIGURE schedule %s, %s: %d schedulers on Every(1s) for %v: %d ticks in the window, "+
					"%d in the queue, %d reported Enqueued, %d copies refused as duplicates, %d run exactly once",
					name, b.Name, schedulers, window, len(want), known, len(enqueued), duplicates, ran)
			})
		})
	}
}

// A scheduler's start and a stall, under each missed-ticks policy, on a
// clock moved by hand.
func TestMissedTicks(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 30, 0, time.UTC) // 30 s after a tick
	at := func(min, sec int) time.Time { return time.Date(2026, 11, 25, 10, min, sec, 0, time.UTC) }
	type step struct {
		now  time.Time
		want []string // "status hh:mm:ss" of the new ticks
	}
	for _, tc := range []struct {
		name  string
		opts  []schedule.EntryOption
		steps []step
	}{
		{"catch up once", nil, []step{
			{base, []string{"enqueued 10:00:00"}},                                // at the start
			{at(5, 30), []string{"enqueued 10:05:00"}},                           // a stall: 10:01 to 10:04 dropped
			{at(6, 0).Add(10 * time.Millisecond), []string{"enqueued 10:06:00"}}, // on time
		}},
		{"skip", []schedule.EntryOption{schedule.MissedTicks(schedule.Skip)}, []step{
			{base, nil},
			{at(5, 30), []string{"missed 10:05:00"}},
			{at(6, 0).Add(10 * time.Millisecond), []string{"enqueued 10:06:00"}},
		}},
		{"catch up, a window too short", []schedule.EntryOption{schedule.CatchUpWindow(10 * time.Second)}, []step{
			{base, nil}, // older than the window: not looked for at the start
			{at(1, 5), []string{"enqueued 10:01:00"}},
			{at(3, 30), []string{"missed 10:03:00"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: base}
			rec := newTicks()
			q := memorybackend.New().Queue()
			noop := task.New("noop", func(ctx context.Context, _ int) (int, error) { return 0, nil })
			s := schedule.New(worker.NewClient(q, nil), schedule.Clock(c.Now), schedule.OnTick(rec.record))
			schedule.Add(s, "noop", schedule.Every(time.Minute), noop, 0, tc.opts...)
			start(t, s)
			seen := 0
			for i, st := range tc.steps {
				c.Set(st.now)
				all := rec.waitN(t, seen+len(st.want))
				if len(st.want) == 0 {
					// Nothing is due: give the scheduler time to say otherwise.
					time.Sleep(1500 * time.Millisecond)
					all = rec.list()
				}
				var got []string
				for _, ev := range all[seen:] {
					got = append(got, ev.Status.String()+" "+ev.At.UTC().Format(time.TimeOnly))
				}
				if !slices.Equal(got, st.want) {
					t.Fatalf("step %d at %s: ticks %q, want %q", i, st.now.Format(time.TimeOnly), got, st.want)
				}
				seen = len(all)
			}
			// The dropped ticks are unknown to the queue.
			for _, ev := range rec.list() {
				_, err := q.State(context.Background(), queue.Default, ev.ID)
				if (ev.Status == schedule.Enqueued) != (err == nil) {
					t.Errorf("tick %s %v: State: %v", ev.ID, ev.Status, err)
				}
			}
			_, err := q.State(context.Background(), queue.Default, schedule.TickID("noop", at(3, 0)))
			if !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("a dropped tick: State: %v, want ErrNotFound", err)
			}
		})
	}
}

// capture is a Producer that records the messages enqueued, and fails the
// first few enqueues.
type capture struct {
	queue.Producer
	mu    sync.Mutex
	msgs  []queue.Message
	fails int
}

var errDown = errors.New("backend down")

func (c *capture) Enqueue(ctx context.Context, m *queue.Message, runAt time.Time) error {
	c.mu.Lock()
	if c.fails > 0 {
		c.fails--
		c.mu.Unlock()
		return errDown
	}
	c.msgs = append(c.msgs, *m)
	c.mu.Unlock()
	return c.Producer.Enqueue(ctx, m, runAt)
}

func (c *capture) messages() []queue.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// A tick's task expires at the next tick, unless the entry says otherwise,
// and AddFunc's arguments are made from the tick.
func TestTickMessage(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 30, 0, time.UTC)
	tick, next := now.Truncate(time.Minute), now.Truncate(time.Minute).Add(time.Minute)
	for _, tc := range []struct {
		name    string
		opts    []schedule.EntryOption
		expires time.Time
		queue   string
	}{
		{"default", nil, next, queue.Default},
		{"Expiry", []schedule.EntryOption{schedule.Expiry(10 * time.Second)}, tick.Add(10 * time.Second), queue.Default},
		{"NoExpiry", []schedule.EntryOption{schedule.NoExpiry()}, time.Time{}, queue.Default},
		{"EnqueueOptions", []schedule.EntryOption{schedule.EnqueueOptions(worker.OnQueue("reports"))}, next, "reports"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &capture{Producer: memorybackend.New().Queue()}
			rec := newTicks()
			report := task.New("report", func(ctx context.Context, hour string) (int, error) { return 0, nil })
			s := schedule.New(worker.NewClient(p, nil), schedule.Clock(func() time.Time { return now }), schedule.OnTick(rec.record))
			schedule.AddFunc(s, "report", schedule.Every(time.Minute), report,
				func(at time.Time) string { return at.UTC().Format(time.TimeOnly) }, tc.opts...)
			start(t, s)
			rec.waitN(t, 1)
			ms := p.messages()
			if len(ms) != 1 {
				t.Fatalf("%d messages, want 1", len(ms))
			}
			m := ms[0]
			if m.ID != "report@2026-11-25T10:00:00Z" || m.Queue != tc.queue || string(m.Payload) != `"10:00:00"` || !m.ExpiresAt.Equal(tc.expires) {
				t.Errorf("message %s on %s, payload %s, expires %v; want report@2026-11-25T10:00:00Z on %s, payload \"10:00:00\", expires %v",
					m.ID, m.Queue, m.Payload, m.ExpiresAt, tc.queue, tc.expires)
			}
		})
	}
}

// An enqueue that fails goes to OnError and is tried again; a duplicate is
// no error.
func TestEnqueueErrors(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		t.Parallel()
		noop := task.New("noop", func(ctx context.Context, _ int) (int, error) { return 0, nil })
		var mu sync.Mutex
		var reported []error
		onError := schedule.OnError(func(err error) {
			mu.Lock()
			reported = append(reported, err)
			mu.Unlock()
		})
		p := &capture{Producer: b.Queue, fails: 2}
		rec := newTicks()
		s := schedule.New(worker.NewClient(p, nil), onError, schedule.OnTick(rec.record))
		schedule.Add(s, "hourly", schedule.Every(time.Hour), noop, 0)
		start(t, s)
		// Fails at once, then after 1 s, then succeeds after 2 s more.
		all := rec.waitN(t, 3)
		var got []string
		for _, ev := range all {
			got = append(got, ev.Status.String())
			if ev.ID != all[0].ID {
				t.Errorf("tick %s after %s: the retry must be of the same tick", ev.ID, all[0].ID)
			}
		}
		if want := []string{"failed", "failed", "enqueued"}; !slices.Equal(got, want) {
			t.Errorf("ticks %v, want %v", got, want)
		}
		if all[0].Err == nil || !errors.Is(all[0].Err, errDown) {
			t.Errorf("a failed tick's Err: %v", all[0].Err)
		}

		// A second scheduler finds the tick enqueued: a duplicate, silently.
		rec2 := newTicks()
		s2 := schedule.New(worker.NewClient(b.Queue, nil), onError, schedule.OnTick(rec2.record))
		schedule.Add(s2, "hourly", schedule.Every(time.Hour), noop, 0)
		start(t, s2)
		if ev := rec2.waitN(t, 1)[0]; ev.Status != schedule.Duplicate || ev.ID != all[0].ID {
			t.Errorf("second scheduler: %v %s, want duplicate %s", ev.Status, ev.ID, all[0].ID)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reported) != 2 || !errors.Is(reported[0], errDown) {
			t.Errorf("OnError saw %v, want the two failures", reported)
		}
	})
}

// neverSchedule has no tick; stuckSchedule's next tick is not after its
// argument.
type neverSchedule struct{}

func (neverSchedule) Next(time.Time) time.Time { return time.Time{} }

type stuckSchedule struct{}

func (stuckSchedule) Next(after time.Time) time.Time { return after }

// Wiring mistakes panic with task.ErrInvalidConfig, where they are made.
func TestInvalidConfig(t *testing.T) {
	noop := task.New("noop", func(ctx context.Context, _ int) (int, error) { return 0, nil })
	client := worker.NewClient(memorybackend.New().Queue(), nil)
	rec := newTicks()
	running := schedule.New(client, schedule.OnTick(rec.record))
	schedule.Add(running, "a", schedule.Every(time.Hour), noop, 0)
	start(t, running)
	rec.waitN(t, 1) // the catch-up of the start: Run is running
	if err := running.Run(context.Background()); err == nil {
		t.Error("Run twice: no error")
	}

	taken := schedule.New(client)
	schedule.Add(taken, "x", schedule.Every(time.Hour), noop, 0)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"New(nil)", func() { schedule.New(nil) }},
		{"Every(0)", func() { schedule.Every(0) }},
		{"Every(-1s)", func() { schedule.Every(-time.Second) }},
		{"empty name", func() { schedule.Add(schedule.New(client), "", schedule.Every(time.Hour), noop, 0) }},
		{"nil schedule", func() { schedule.Add(schedule.New(client), "x", nil, noop, 0) }},
		{"nil task", func() { schedule.Add[int, int](schedule.New(client), "x", schedule.Every(time.Hour), nil, 0) }},
		{"nil args func", func() { schedule.AddFunc(schedule.New(client), "x", schedule.Every(time.Hour), noop, nil) }},
		{"never fires", func() { schedule.Add(schedule.New(client), "x", neverSchedule{}, noop, 0) }},
		{"does not advance", func() { schedule.Add(schedule.New(client), "x", stuckSchedule{}, noop, 0) }},
		{"name taken", func() { schedule.Add(taken, "x", schedule.Every(time.Minute), noop, 0) }},
		{"added while running", func() { schedule.Add(running, "b", schedule.Every(time.Hour), noop, 0) }},
		{"unknown policy", func() { schedule.MissedTicks(schedule.MissedPolicy(7)) }},
		{"CatchUpWindow(0)", func() { schedule.CatchUpWindow(0) }},
		{"Expiry(0)", func() { schedule.Expiry(0) }},
		{"OnError(nil)", func() { schedule.OnError(nil) }},
		{"OnTick(nil)", func() { schedule.OnTick(nil) }},
		{"Clock(nil)", func() { schedule.Clock(nil) }},
		{"nil enqueue option", func() { schedule.EnqueueOptions(nil) }},
		{"Stored(nil)", func() { schedule.Stored(nil) }},
		{"SpecParser(nil)", func() { schedule.SpecParser(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("panic %v, want an error matching task.ErrInvalidConfig", err)
				}
			}()
			tc.fn()
		})
	}
}

func TestEvery(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		d           time.Duration
		after, want time.Time
	}{
		{time.Second, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 10, 0, 1, 0, time.UTC)},
		{time.Second, time.Date(2026, 11, 25, 10, 0, 0, 999, time.UTC), time.Date(2026, 11, 25, 10, 0, 1, 0, time.UTC)},
		{time.Hour, time.Date(2026, 11, 25, 10, 59, 59, 0, paris), time.Date(2026, 11, 25, 11, 0, 0, 0, paris)},
		{24 * time.Hour, time.Date(2026, 11, 25, 10, 0, 0, 0, paris), time.Date(2026, 11, 26, 1, 0, 0, 0, paris)}, // midnight UTC
		{7 * time.Second, time.Unix(-1, 0), time.Unix(0, 0)},
		{7 * time.Second, time.Unix(-8, 0), time.Unix(-7, 0)},
		{1500 * time.Millisecond, time.Unix(1, 0), time.Unix(1, 5e8)},
	} {
		got := schedule.Every(tc.d).Next(tc.after)
		if !got.Equal(tc.want) || got.Location() != tc.after.Location() {
			t.Errorf("Every(%v).Next(%v) = %v, want %v", tc.d, tc.after, got, tc.want)
		}
	}
	if got := fmt.Sprint(schedule.Every(time.Hour)); got != "every 1h0m0s" {
		t.Errorf("String: %q", got)
	}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 25, 4, 0, 0, 0, paris), "report@2026-11-25T03:00:00Z"},
		{time.Date(2026, 11, 25, 3, 0, 0, 5e8, time.UTC), "report@2026-11-25T03:00:00.5Z"},
	} {
		if got := schedule.TickID("report", tc.at); got != tc.want {
			t.Errorf("TickID(%v) = %q, want %q", tc.at, got, tc.want)
		}
	}
}
