package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// process returns b's queue as another process sees it: a Redis client of
// its own on b's Redis and prefix (the memory queue is one process's).
func process(t *testing.T, b *taskwaretest.Backend) queue.Queue {
	t.Helper()
	if b.Redis == nil {
		return b.Queue
	}
	c := redis.NewClient(b.Client.(*redis.Client).Options())
	t.Cleanup(func() { c.Close() })
	return redisbackend.New(c, redisbackend.Prefix(b.Prefix())).Queue()
}

// enqueues counts the enqueues that a queue took, by task ID, over
// every scheduler's client.
type enqueues struct {
	mu sync.Mutex
	n  map[string]int
}

type countingProducer struct {
	queue.Producer
	count *enqueues
}

func (p countingProducer) Enqueue(ctx context.Context, m *queue.Message, runAt time.Time) error {
	err := p.Producer.Enqueue(ctx, m, runAt)
	if err == nil {
		p.count.mu.Lock()
		p.count.n[m.ID]++
		p.count.mu.Unlock()
	}
	return err
}

// of returns the times of entry name's ticks enqueued, sorted, and fails t
// for any enqueued more than once.
func (e *enqueues) of(t *testing.T, name string) []time.Time {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []time.Time
	for id, n := range e.n {
		if n != 1 {
			t.Errorf("%s enqueued %d times; want once", id, n)
		}
		if at := parseTick(name, id); !at.IsZero() {
			out = append(out, at)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// parseTick returns the time of a TickID of entry name, zero if id is not
// one of name's.
func parseTick(name, id string) time.Time {
	rest, ok := strings.CutPrefix(id, name+"@")
	at, err := time.Parse(time.RFC3339Nano, rest)
	if !ok || err != nil {
		return time.Time{}
	}
	return at
}

// waitFor polls cond every 20 ms for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
	}
}

// Three running schedulers, each a process of its own, run an entry that
// a fourth process stores while they run: each tick is enqueued exactly
// once, the first is after the entry was put (no catch-up of one before),
// a pause stops the ticks and a resume catches none of the paused ones up,
// a change of another entry leaves this one's state alone, and after a
// remove no tick is enqueued.
func TestStoredEntriesChangedAtRunTime(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		t.Parallel()
		count := &enqueues{n: make(map[string]int)}
		errs := make(chan error, 100)
		var recs []*ticks
		for range 3 {
			q := process(t, b)
			rec := newTicks()
			recs = append(recs, rec)
			s := schedule.New(worker.NewClient(countingProducer{q, count}, nil), schedule.Stored(q),
				schedule.OnTick(rec.record), schedule.OnError(func(err error) {
					select {
					case errs <- err:
					default:
					}
				}))
			start(t, s)
		}
		ops := process(t, b)
		ctx := t.Context()
		report := task.New("report", func(ctx context.Context, day string) (int, error) { return 0, nil })

		// Put: ticks from the next one on, each once.
		time.Sleep(1200 * time.Millisecond) // the schedulers run, and have loaded nothing
		if err := schedule.Put(ctx, ops, "report", "every 1s", report, "monday", schedule.OnQueue("reports")); err != nil {
			t.Fatal(err)
		}
		defs, err := schedule.List(ctx, ops)
		if err != nil || len(defs) != 1 {
			t.Fatalf("List = %+v, %v", defs, err)
		}
		since := defs[0].Since
		waitFor(t, 10*time.Second, "3 ticks of report", func() bool { return len(count.of(t, "report")) >= 3 })
		// Another entry put: report's state stays (no scheduler handles a
		// tick of it twice).
		if err := schedule.Put(ctx, ops, "other", "every 1h", report, "x"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "2 more ticks of report", func() bool { return len(count.of(t, "report")) >= 5 })
		got := count.of(t, "report")
		if !got[0].After(since) {
			t.Errorf("first tick %v, not after the entry was put at %v: a catch-up", got[0], since)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Sub(got[i-1]) != time.Second {
				t.Errorf("ticks %v: a gap between %v and %v", got, got[i-1], got[i])
			}
		}
		m, err := ops.Message(ctx, "reports", schedule.TickID("report", got[0]))
		if err != nil || string(m.Payload) != `"monday"` || m.Task != "report" || !m.ExpiresAt.Equal(got[0].Add(time.Second)) {
			t.Errorf("tick's message: %+v, %v; want task report, payload \"monday\", expiring at the next tick", m, err)
		}

		// Pause: no tick a second after; resume: none of the paused ones.
		if err := schedule.Pause(ctx, ops, "report"); err != nil {
			t.Fatal(err)
		}
		paused := time.Now()
		time.Sleep(2500 * time.Millisecond)
		if err := schedule.Resume(ctx, ops, "report"); err != nil {
			t.Fatal(err)
		}
		resumed := time.Now()
		n := len(count.of(t, "report"))
		waitFor(t, 10*time.Second, "2 ticks after the resume", func() bool { return len(count.of(t, "report")) >= n+2 })
		for _, at := range count.of(t, "report") {
			if at.After(paused.Add(time.Second)) && !at.After(resumed) {
				t.Errorf("tick %v while paused (%v to %v), or caught up after", at, paused, resumed)
			}
		}

		// Remove: no tick a second after.
		if err := schedule.Remove(ctx, ops, "report"); err != nil {
			t.Fatal(err)
		}
		removed := time.Now()
		time.Sleep(2500 * time.Millisecond)
		for _, at := range count.of(t, "report") {
			if at.After(removed.Add(time.Second)) {
				t.Errorf("tick %v after the remove at %v", at, removed)
			}
		}
		for i, rec := range recs {
			seen := map[string]int{}
			for _, ev := range rec.list() {
				if seen[ev.ID]++; seen[ev.ID] == 2 {
					t.Errorf("scheduler %d handled %s twice: its state was lost", i, ev.ID)
				}
				if ev.Status != schedule.Enqueued && ev.Status != schedule.Duplicate {
					t.Errorf("scheduler %d: tick %s %v (%v)", i, ev.ID, ev.Status, ev.Err)
				}
			}
		}
		select {
		case err := <-errs:
			t.Errorf("OnError: %v", err)
		default:
		}
		t.Logf("FIGURE stored %s: 3 schedulers, an entry put, paused, resumed and removed at run time: %d ticks enqueued, each once",
			b.Name, len(count.of(t, "report")))
	})
}

// With Stored, a code entry's first deploy does not catch up a tick from
// before any scheduler saw it, but a restart catches up one missed after.
func TestCodeEntryCatchUpFromFirstSeen(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		t.Parallel()
		at := func(min, sec int) time.Time { return time.Date(2026, 11, 25, 10, min, sec, 0, time.UTC) }
		c := &clock{t: at(0, 30)} // 30 s after a tick
		noop := task.New("noop", func(ctx context.Context, _ int) (int, error) { return 0, nil })
		run := func(rec *ticks) (stop func()) {
			s := schedule.New(worker.NewClient(b.Queue, nil), schedule.Clock(c.Now), schedule.OnTick(rec.record),
				schedule.Stored(b.Queue))
			schedule.Add(s, "noop", schedule.Every(time.Minute), noop, 0)
			return start(t, s)
		}
		first := newTicks()
		stop := run(first)
		time.Sleep(1500 * time.Millisecond) // give it time to catch 10:00 up, wrongly
		if all := first.list(); len(all) != 0 {
			t.Fatalf("first deploy at 10:00:30: ticks %v; want none (10:00 is before the entry was first seen)", all)
		}
		c.Set(at(1, 0).Add(10 * time.Millisecond))
		if ev := first.waitN(t, 1)[0]; ev.Status != schedule.Enqueued || !ev.At.Equal(at(1, 0)) {
			t.Fatalf("tick %v %v; want 10:01 enqueued", ev.At, ev.Status)
		}
		stop()

		c.Set(at(5, 30)) // down over 10:02 to 10:05
		again := newTicks()
		run(again)
		if ev := again.waitN(t, 1)[0]; ev.Status != schedule.Enqueued || !ev.At.Equal(at(5, 0)) {
			t.Fatalf("restart at 10:05:30: tick %v %v; want 10:05 caught up", ev.At, ev.Status)
		}
		if _, err := b.Queue.State(t.Context(), queue.Default, schedule.TickID("noop", at(0, 0))); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("10:00's tick: State: %v; want ErrNotFound", err)
		}
	})
}

// A stored entry whose spec does not parse, or that has a code entry's
// name, is reported once and ignored; a SpecParser reads what "every"
// does not.
func TestStoredEntriesReported(t *testing.T) {
	q := taskwaretest.NewMemory(t).Queue
	ctx := t.Context()
	var mu sync.Mutex
	var reported []string
	onError := schedule.OnError(func(err error) {
		mu.Lock()
		reported = append(reported, err.Error())
		mu.Unlock()
	})
	noop := task.New("noop", func(ctx context.Context, _ int) (int, error) { return 0, nil })
	for name, spec := range map[string]string{"bad": "0 3 * * *", "code": "every 1h", "parsed": "hourly", "fine": "every 1h"} {
		if err := schedule.Put(ctx, q, name, spec, noop, 1); err != nil {
			t.Fatal(err)
		}
	}
	rec := newTicks()
	s := schedule.New(worker.NewClient(q, nil), schedule.Stored(q), onError, schedule.OnTick(rec.record),
		schedule.Publish(q, "host"),
		schedule.SpecParser(func(spec string) (schedule.Schedule, error) {
			if spec == "hourly" {
				return schedule.Every(time.Hour), nil
			}
			return nil, fmt.Errorf("%w: not hourly", task.ErrInvalidConfig)
		}))
	schedule.Add(s, "code", schedule.Every(time.Hour), noop, 0)
	start(t, s)
	var names []string
	waitFor(t, 10*time.Second, "the entries published", func() bool {
		es, _ := q.Schedules(ctx)
		names = names[:0]
		for _, e := range es {
			names = append(names, e.Name+" "+e.Spec)
		}
		return len(es) == 3
	})
	if want := []string{"code every 1h0m0s", "fine every 1h", "parsed hourly"}; !slices.Equal(names, want) {
		t.Errorf("published %q; want %q", names, want)
	}
	time.Sleep(1500 * time.Millisecond) // a few wakes: nothing reported twice
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(reported)
	if len(reported) != 2 || !contains(reported[0], `"bad"`, "not hourly") || !contains(reported[1], `"code"`, "code entry") {
		t.Errorf("reported %q; want bad's spec and code's name, once each", reported)
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// A stored entry's first tick is the first after its Since: none caught up
// from before it was put, or from while it was paused; on a clock moved
// by hand.
func TestStoredEntryFirstTick(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		t.Parallel()
		at := func(min, sec int) time.Time { return time.Date(2026, 11, 25, 10, min, sec, 0, time.UTC) }
		c := &clock{t: at(0, 30)}
		rec := newTicks()
		s := schedule.New(worker.NewClient(b.Queue, nil), schedule.Clock(c.Now), schedule.OnTick(rec.record),
			schedule.Stored(b.Queue))
		start(t, s)
		ctx := t.Context()
		def := queue.ScheduleDef{Name: "noop", Spec: "every 1m", Task: "noop", Queue: queue.Default, Since: at(0, 20), Updated: at(0, 20)}
		if err := b.Queue.PutSchedule(ctx, def); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond) // loaded: give it time to catch 10:00 up, wrongly
		if all := rec.list(); len(all) != 0 {
			t.Fatalf("put at 10:00:20: ticks %v; want none before 10:01", all)
		}
		c.Set(at(1, 0).Add(10 * time.Millisecond))
		if ev := rec.waitN(t, 1)[0]; ev.Status != schedule.Enqueued || !ev.At.Equal(at(1, 0)) {
			t.Fatalf("tick %v %v; want 10:01 enqueued", ev.At, ev.Status)
		}
		if err := b.Queue.PauseSchedule(ctx, "noop", true, at(1, 10)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond) // the pause loaded
		c.Set(at(3, 30))
		time.Sleep(1500 * time.Millisecond)
		if err := b.Queue.PauseSchedule(ctx, "noop", false, at(3, 30)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond) // the resume loaded: give it time to catch 10:03 up, wrongly
		if all := rec.list(); len(all) != 1 {
			t.Fatalf("paused 10:01:10 to 10:03:30: ticks %v; want none but 10:01", all)
		}
		c.Set(at(4, 0).Add(10 * time.Millisecond))
		if ev := rec.waitN(t, 2)[1]; ev.Status != schedule.Enqueued || !ev.At.Equal(at(4, 0)) {
			t.Fatalf("tick %v %v; want 10:04 enqueued", ev.At, ev.Status)
		}
	})
}

// Put refuses bad input with an error matching task.ErrInvalidConfig, and
// stores nothing; Remove, Pause and Resume of no entry match
// queue.ErrNotFound.
func TestPutBadInput(t *testing.T) {
	q := taskwaretest.NewMemory(t).Queue
	ctx := t.Context()
	report := task.New("report", func(ctx context.Context, day string) (int, error) { return 0, nil })
	unencodable := task.New("fn", func(ctx context.Context, f func()) (int, error) { return 0, nil })
	for what, err := range map[string]error{
		"nil task":                schedule.Put[string, int](ctx, q, "x", "every 1h", nil, ""),
		"nil option":              schedule.Put(ctx, q, "x", "every 1h", report, "", nil),
		"bad every":               schedule.Put(ctx, q, "x", "every -1h", report, ""),
		"empty spec":              schedule.Put(ctx, q, "x", "", report, ""),
		"bad name":                schedule.Put(ctx, q, "a b", "every 1h", report, ""),
		"bad queue":               schedule.Put(ctx, q, "x", "every 1h", report, "", schedule.OnQueue("{q}")),
		"args too large":          schedule.Put(ctx, q, "x", "every 1h", report, strings.Repeat("a", queue.MaxScheduleArgs)),
		"args that do not encode": schedule.Put(ctx, q, "x", "every 1h", unencodable, func() {}),
	} {
		if !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("Put with %s: %v; want task.ErrInvalidConfig", what, err)
		}
	}
	if defs, err := schedule.List(ctx, q); err != nil || len(defs) != 0 {
		t.Errorf("List = %+v, %v; want nothing stored", defs, err)
	}
	for what, err := range map[string]error{
		"Remove": schedule.Remove(ctx, q, "x"),
		"Pause":  schedule.Pause(ctx, q, "x"),
		"Resume": schedule.Resume(ctx, q, "x"),
	} {
		if !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("%s of no entry: %v; want queue.ErrNotFound", what, err)
		}
	}
}

// unsupported is a backend without stored schedules.
type unsupported struct{ queue.Queue }

func (unsupported) ScheduleVersion(context.Context) (int64, error) { return 0, queue.ErrNotSupported }
func (unsupported) ScheduleSince(context.Context, []string, time.Time) ([]time.Time, error) {
	return nil, queue.ErrNotSupported
}

// On a backend without stored schedules, Stored reports it, and the code
// entries run as without it: the start's catch-up included.
func TestStoredNotSupported(t *testing.T) {
	q := taskwaretest.NewMemory(t).Queue
	c := &clock{t: time.Date(2026, 11, 25, 10, 0, 30, 0, time.UTC)}
	rec := newTicks()
	var mu sync.Mutex
	var reported []error
	s := schedule.New(worker.NewClient(q, nil), schedule.Clock(c.Now), schedule.OnTick(rec.record),
		schedule.Stored(unsupported{q}), schedule.OnError(func(err error) {
			mu.Lock()
			reported = append(reported, err)
			mu.Unlock()
		}))
	noop := task.New("noop", func(ctx context.Context, _ int) (int, error) { return 0, nil })
	schedule.Add(s, "noop", schedule.Every(time.Minute), noop, 0)
	start(t, s)
	if ev := rec.waitN(t, 1)[0]; ev.Status != schedule.Enqueued || ev.At.Minute() != 0 {
		t.Fatalf("tick %s %v; want 10:00 caught up", ev.ID, ev.Status)
	}
	time.Sleep(1500 * time.Millisecond) // a few wakes: reported once each
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 2 || !errors.Is(reported[0], queue.ErrNotSupported) || !errors.Is(reported[1], queue.ErrNotSupported) {
		t.Errorf("reported %v; want the first-seen read and the entries' read, once each", reported)
	}
}

// countingDefs counts the reads of the stored entries.
type countingDefs struct {
	queue.Queue
	mu              sync.Mutex
	versions, loads int
}

func (c *countingDefs) ScheduleVersion(ctx context.Context) (int64, error) {
	c.mu.Lock()
	c.versions++
	c.mu.Unlock()
	return c.Queue.ScheduleVersion(ctx)
}

func (c *countingDefs) ScheduleDefs(ctx context.Context) ([]queue.ScheduleDef, int64, error) {
	c.mu.Lock()
	c.loads++
	c.mu.Unlock()
	return c.Queue.ScheduleDefs(ctx)
}

func (c *countingDefs) counts() (versions, loads int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versions, c.loads
}

// A running scheduler reads the version at each wake, and loads the
// entries only when it changed: once at its start, once per change.
func TestStoredReloadsOnlyOnChange(t *testing.T) {
	q := taskwaretest.NewMemory(t).Queue
	defs := &countingDefs{Queue: q}
	s := schedule.New(worker.NewClient(q, nil), schedule.Stored(defs))
	start(t, s)
	time.Sleep(3 * time.Second)
	versions, loads := defs.counts()
	if versions < 2 || loads != 1 {
		t.Fatalf("idle for 3s: %d version reads, %d loads; want a read per wake, one load", versions, loads)
	}
	report := task.New("report", func(ctx context.Context, day string) (int, error) { return 0, nil })
	if err := schedule.Put(t.Context(), q, "report", "every 1h", report, "x"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the change loaded", func() bool { _, loads := defs.counts(); return loads == 2 })
	time.Sleep(2 * time.Second)
	if _, loads := defs.counts(); loads != 2 {
		t.Fatalf("%d loads after one change; want 2", loads)
	}
	t.Logf("FIGURE stored reads: an idle scheduler read the version %d times in 3s, and loaded the entries once", versions)
}
