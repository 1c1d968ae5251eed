package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

var update = flag.Bool("update", false, "rewrite the golden files of the inspection commands")

// cliEnv is a Redis for a test of the inspection commands, and the key
// prefix of the test's own.
type cliEnv struct {
	url, prefix string
	client      *redis.Client
	b           *redisbackend.Backend
	// shared: the Redis is the one other tests use too.
	shared bool
}

// cliEach runs fn on a miniredis and on the real Redis.
func cliEach(t *testing.T, fn func(t *testing.T, e *cliEnv)) {
	t.Helper()
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) {
			var c *redis.Client
			var url string
			if name == "miniredis" {
				m := taskwaretest.Miniredis(t)
				url = "redis://" + m.Addr() + "/0"
				c = redis.NewClient(&redis.Options{Addr: m.Addr()})
				t.Cleanup(func() { c.Close() })
			} else {
				c, _ = taskwaretest.Redis(t)
				url = taskwaretest.RedisURL()
			}
			base := t.Name()[:strings.IndexByte(t.Name(), '/')]
			prefix := "tw-cli-" + strings.TrimPrefix(base, "Test") + "-" + randid.New()[:8] + ":"
			t.Cleanup(func() { taskwaretest.DeletePrefix(t, c, prefix) })
			b := redisbackend.New(c, redisbackend.Prefix(prefix), redisbackend.Holder("cli-test"))
			fn(t, &cliEnv{url: url, prefix: prefix, client: c, b: b, shared: name == "redis"})
		})
	}
}

// cli runs the command args against e's Redis and prefix, and returns its
// output; it fails t on an error.
func (e *cliEnv) cli(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.try(t, args...)
	if err != nil {
		t.Fatalf("taskware %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *cliEnv) try(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, append(args, "--redis", e.url, "--prefix", e.prefix), &out, io.Discard)
	return out.String(), err
}

// fill gives e's Redis, through the worker's API, what the commands show:
//
//   - queue "default": e-1 running (taken by worker-1, not finished), e-2
//     and e-3 ready, e-4 delayed by an hour;
//   - queue "side", drained by a worker "w-side": ghost-1, of a task no
//     worker knows, dead-lettered, then e-5 succeeded, its result stored;
//   - a failure of a run in-process stored, and the lock "report:acct-1"
//     held by "cli-test".
func (e *cliEnv) fill(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	q, s := e.b.Queue(), e.b.Store()
	email := task.New("email", func(ctx context.Context, to string) (string, error) { return "sent to " + to, nil },
		middleware.StoreResult(s))
	ghost := task.New("ghost", func(ctx context.Context, to string) (string, error) { return "", nil })
	c := worker.NewClient(q, s)
	for _, id := range []string{"e-1", "e-2", "e-3"} {
		_, err := worker.Enqueue(ctx, c, email, id+"@example.com", worker.ID(id))
		must(err)
	}
	_, err := worker.Enqueue(ctx, c, email, "later@example.com", worker.ID("e-4"), worker.Delay(time.Hour))
	must(err)
	ds, err := q.Take(ctx, "default", "worker-1", 1, 0)
	must(err)
	if len(ds) != 1 || ds[0].ID != "e-1" {
		t.Fatalf("took %+v, want e-1", ds)
	}

	w := worker.New(q, worker.Queues("side"), worker.Name("w-side"), worker.Concurrency(1),
		worker.PollWait(20*time.Millisecond), worker.OnError(func(error) {}))
	worker.Register(w, email)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("worker: %v", err)
		}
	}()
	// One after the other, so that they finish in this order.
	hg, err := worker.Enqueue(ctx, c, ghost, "nobody", worker.ID("ghost-1"), worker.OnQueue("side"))
	must(err)
	if _, err := hg.Get(ctx); !errors.Is(err, queue.ErrDeadLettered) {
		t.Fatalf("ghost-1: %v, want it dead-lettered", err)
	}
	he, err := worker.Enqueue(ctx, c, email, "e-5@example.com", worker.ID("e-5"), worker.OnQueue("side"))
	must(err)
	if _, err := he.Get(ctx); err != nil {
		t.Fatalf("e-5: %v", err)
	}
	stop()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("worker: %v", err)
	}
	done <- nil // for the deferred stop

	must(s.Put(ctx, &store.Record{ID: "in-1", Task: "report", Status: store.Failed, Attempt: 1, Kind: "lock.locked",
		Error: "lock report:acct-1 is held"}, time.Hour))
	_, err = e.b.Locker().TryAcquire(ctx, "report:acct-1", time.Minute)
	must(err)
}

var (
	entryRe = regexp.MustCompile(`\b\d{13}-\d+\b`)
	fenceRe = regexp.MustCompile(`\b\d{16}\b`)
	durRe   = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s|m|h)(\d+(\.\d+)?(ms|s|m))*\b`)
	padRe   = regexp.MustCompile(` {2,}`)
)

// normalize hides what changes from run to run (entry IDs, fences,
// durations) and aligns the table again.
func normalize(out string) string {
	out = entryRe.ReplaceAllString(out, "<entry>")
	out = fenceRe.ReplaceAllString(out, "<fence>")
	out = durRe.ReplaceAllString(out, "<dur>")
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for line := range strings.SplitSeq(strings.TrimRight(out, "\n"), "\n") {
		tw.Write([]byte(strings.Join(padRe.Split(strings.TrimRight(line, " "), -1), "\t") + "\n"))
	}
	tw.Flush()
	return b.String()
}

// unstarted hides whether the start of e-5's run was recorded: a worker
// records it without waiting, and a start that lands after the end is
// dropped, so its worker and start time (and its attempt's duration) may
// be known or not.
func unstarted(out string) string {
	var b strings.Builder
	for line := range strings.SplitAfterSeq(out, "\n") {
		switch {
		case strings.HasPrefix(line, "e-5 "):
			line = strings.Replace(line, " w-side ", " -      ", 1)
		case strings.HasPrefix(line, "1 ") && strings.Contains(out, "ID:        e-5"):
			// ATTEMPT OUTCOME KIND WORKER STARTED TOOK ERROR
			f := strings.Fields(line)
			line = strings.Join([]string{f[0], f[1], f[2], "-", "-", "-", f[len(f)-1]}, "  ") + "\n"
		case strings.HasPrefix(line, "WORKER:") && strings.Contains(out, "ID:        e-5"):
			line = "WORKER:    -\n"
		case strings.HasPrefix(line, "STARTED:") && strings.Contains(out, "ID:        e-5"):
			line = "STARTED:   -\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

// golden compares out, normalized, with testdata/<name>.golden, or
// rewrites that with -update.
func golden(t *testing.T, name, out string) {
	t.Helper()
	got := normalize(out)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s--- raw\n%s", name, path, got, want, out)
	}
}

// Each reading command's output, against its golden file.
func TestInspectGolden(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		for _, tc := range []struct {
			golden string
			args   []string
		}{
			{"queues", []string{"queues"}},
			{"tasks_ready", []string{"tasks", "--queue", "default", "--state", "ready"}},
			{"tasks_running", []string{"tasks", "--queue", "default", "--state", "running"}},
			{"tasks_delayed", []string{"tasks", "--queue", "default", "--state", "delayed"}},
			{"tasks_dead", []string{"tasks", "--queue", "side", "--state", "dead"}},
			{"tasks_finished", []string{"tasks", "--queue", "side", "--state", "finished"}},
			{"tasks_limit", []string{"tasks", "--queue", "default", "--state", "ready", "--limit", "1"}},
			{"task", []string{"task", "e-4"}},
			{"task_queue", []string{"task", "e-5", "--queue", "side"}},
			{"task_dead", []string{"task", "--queue", "side", "ghost-1"}},
			{"dead_list", []string{"dead", "list"}},
			{"locks_list", []string{"locks", "list"}},
			{"results_list", []string{"results", "list"}},
			{"results_list_queue", []string{"results", "list", "--queue", "side"}},
			{"results_stats", []string{"results", "stats"}},
			{"workers", []string{"workers"}},
		} {
			t.Run(tc.golden, func(t *testing.T) { golden(t, tc.golden, unstarted(e.cli(t, tc.args...))) })
		}
	})
}

// queues counts each queue's tasks where they are: built through the
// worker's API, read back through run.
func TestQueuesCounts(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		e.cli(t, "pause", "side")
		lines := strings.Split(strings.TrimSpace(e.cli(t, "queues")), "\n")
		want := [][]string{
			{"QUEUE", "PARTS", "READY", "RUNNING", "DELAYED", "DEAD", "WAITING", "GROUPED", "OLDEST", "WORKERS", "PAUSED"},
			{"default", "1", "2", "1", "1", "0", "0", "0", "", "1", "-"},
			{"side", "1", "0", "0", "0", "1", "0", "0", "-", "0", "paused"},
		}
		if len(lines) != len(want) {
			t.Fatalf("queues printed %d lines, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
		}
		for i, line := range lines {
			got := strings.Fields(line)
			if len(got) != len(want[i]) {
				t.Fatalf("line %d: %q, want %q", i, got, want[i])
			}
			for j := range got {
				if want[i][j] != "" && got[j] != want[i][j] {
					t.Errorf("line %d, column %s: %q, want %q", i, want[0][j], got[j], want[i][j])
				}
			}
		}
		oldest, err := time.ParseDuration(strings.Fields(lines[1])[8])
		if err != nil || oldest <= 0 || oldest > time.Minute {
			t.Errorf("oldest ready of default: %v, %v; want a positive age under a minute", oldest, err)
		}
	})
}

// --json prints one document, which parses back to what the tables show.
func TestInspectJSON(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		var qs struct{ Queues []rows.Queue }
		decode(t, e.cli(t, "queues", "--json"), &qs)
		if len(qs.Queues) != 2 {
			t.Fatalf("queues: %+v", qs)
		}
		d := qs.Queues[0]
		if d.Queue != "default" || d.Ready != 2 || d.Running != 1 || d.Delayed != 1 || d.Dead != 0 || d.Workers != 1 || d.OldestReadyMs < 0 || d.Paused {
			t.Errorf("default: %+v", d)
		}
		var ts struct{ Tasks []rows.Task }
		decode(t, e.cli(t, "tasks", "--json", "--queue", "default", "--state", "running"), &ts)
		if len(ts.Tasks) != 1 || ts.Tasks[0].ID != "e-1" || ts.Tasks[0].Worker != "worker-1" || ts.Tasks[0].IdleMs == nil {
			t.Errorf("running: %+v", ts)
		}
		decode(t, e.cli(t, "tasks", "--json", "--queue", "default", "--state", "delayed"), &ts)
		if len(ts.Tasks) != 1 || ts.Tasks[0].ID != "e-4" {
			t.Fatalf("delayed: %+v", ts)
		}
		if at := ts.Tasks[0].RunAt; time.Until(at) < 59*time.Minute || at.Location() != time.UTC {
			t.Errorf("delayed e-4 runs at %v, want in an hour, in UTC", at)
		}
		var dead struct{ Dead []rows.Task }
		decode(t, e.cli(t, "dead", "list", "--json"), &dead)
		if len(dead.Dead) != 1 || dead.Dead[0].ID != "ghost-1" || dead.Dead[0].Kind != "worker.unknown_task" {
			t.Errorf("dead: %+v", dead)
		}
		var ls struct{ Locks []rows.Lock }
		decode(t, e.cli(t, "locks", "list", "--json"), &ls)
		if len(ls.Locks) != 1 || ls.Locks[0].Key != "report:acct-1" || ls.Locks[0].Holder != "cli-test" || ls.Locks[0].RemainingMs <= 0 {
			t.Errorf("locks: %+v", ls)
		}
		var rs struct{ Results []rows.Record }
		decode(t, e.cli(t, "results", "list", "--json"), &rs)
		if len(rs.Results) != 2 || rs.Results[1].ID != "e-5" || rs.Results[1].Value != `"sent to e-5@example.com"` {
			t.Errorf("results: %+v", rs)
		}
		var st struct{ Stats []rows.ResultStats }
		decode(t, e.cli(t, "results", "stats", "--json"), &st)
		if len(st.Stats) != 2 || st.Stats[0].Failed != 1 || st.Stats[0].FailedKinds["lock.locked"] != 1 || st.Stats[1].Succeeded != 1 {
			t.Errorf("stats: %+v", st)
		}
		var ws struct{ Workers []rows.Worker }
		decode(t, e.cli(t, "workers", "--json"), &ws)
		if len(ws.Workers) != 1 || ws.Workers[0].Name != "worker-1" || ws.Workers[0].Pending != 1 || !ws.Workers[0].Live {
			t.Errorf("workers: %+v", ws)
		}
		var one struct{ Tasks []taskAttempts }
		decode(t, e.cli(t, "task", "--json", "e-5"), &one)
		if len(one.Tasks) != 1 || one.Tasks[0].Status != "succeeded" || one.Tasks[0].Queue != "side" ||
			len(one.Tasks[0].Attempts) != 1 || one.Tasks[0].Attempts[0].Status != "succeeded" {
			t.Errorf("task e-5: %+v", one)
		}
		decode(t, e.cli(t, "task", "--json", "e-4"), &one)
		if len(one.Tasks) != 1 || one.Tasks[0].Attempts == nil || len(one.Tasks[0].Attempts) != 0 {
			t.Errorf("task e-4, never run: %+v; want attempts []", one)
		}
	})
}

// task prints a task's attempts under its state, a row each, the error
// cut to one line; a panic's stack only with --stack, in full; and --json
// has every attempt, with its whole error and stack.
func TestTaskAttempts(t *testing.T) {
	longError := "first line\nof a long error: " + strings.Repeat("x", 60) + " and its end"
	const stack = "goroutine 7 [running]:\nmain.handler()\n\t/src/main.go:12 +0x1d\n"
	cliEach(t, func(t *testing.T, e *cliEnv) {
		ctx := t.Context()
		q := e.b.Queue()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(q.Enqueue(ctx, &queue.Message{ID: "f-1", Task: "flaky", Queue: "hist", Payload: []byte(`[]`),
			EnqueuedAt: time.Now(), Attempt: 1}, time.Time{}))
		started := time.Now().Add(-3 * time.Second)
		for _, o := range []queue.Outcome{
			{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Retry: true, Kind: "k1",
				Error: longError, Worker: "w-1", StartedAt: started},
			{Status: queue.Dead, Attempt: 2, Kind: "task.panic", Error: "task: panicked: oops", Stack: stack,
				Worker: "w-2", StartedAt: started},
		} {
			_, err := q.Promote(ctx, "hist", time.Now(), 10)
			must(err)
			ds, err := q.Take(ctx, "hist", "taker", 1, 0)
			must(err)
			if len(ds) != 1 || ds[0].ID != "f-1" {
				t.Fatalf("took %+v, want f-1", ds)
			}
			must(q.Finish(ctx, ds[0], o))
		}

		out := e.cli(t, "task", "f-1")
		_, table, ok := strings.Cut(out, "\nATTEMPT ")
		if !ok {
			t.Fatalf("no table of attempts:\n%s", out)
		}
		lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
		if len(lines) != 4 || strings.Fields(lines[0])[0] != "OUTCOME" {
			t.Fatalf("the attempts: %q; want the header, two rows and a note on the stack", lines)
		}
		for i, want := range [][]string{
			{"1", "retried", "k1", "w-1", "first line of a long error: xxx"},
			{"2", "dead", "task.panic", "w-2", "task: panicked: oops"},
		} {
			row := lines[i+1]
			f := strings.Fields(row)
			if len(f) < 8 || f[0] != want[0] || f[1] != want[1] || f[2] != want[2] || f[3] != want[3] ||
				!strings.Contains(row, "ago  ") || !strings.Contains(row, want[4]) {
				t.Errorf("attempt %d: %q; want %q, started some time ago", i+1, row, want)
				continue
			}
			if took, err := time.ParseDuration(f[6]); err != nil || took < 3*time.Second {
				t.Errorf("attempt %d took %q (%v); want 3s at least, since its start", i+1, f[6], err)
			}
		}
		if first := lines[1]; !strings.HasSuffix(first, "...") || strings.Contains(first, "its end") {
			t.Errorf("the long error is not cut to its cell: %q", first)
		}
		if note := lines[3]; note != "(attempt 2 panicked: --stack prints the stack)" {
			t.Errorf("note: %q", note)
		}
		if strings.Contains(out, "goroutine") {
			t.Errorf("the stack shows without --stack:\n%s", out)
		}

		withStack := e.cli(t, "task", "f-1", "--stack")
		want := "\nSTACK OF ATTEMPT 2: task: panicked: oops\n    goroutine 7 [running]:\n    main.handler()\n    \t/src/main.go:12 +0x1d\n"
		if !strings.HasSuffix(withStack, want) || strings.Contains(withStack, "--stack prints") ||
			strings.Count(withStack, "goroutine") != 1 {
			t.Errorf("task --stack ends not in the panic's stack %q:\n%s", want, withStack)
		}
		if !strings.HasPrefix(normalize(withStack), normalize(strings.TrimSuffix(out, lines[3]+"\n"))) {
			t.Errorf("task --stack changes what task prints before the stack:\n%s\nwant first:\n%s", withStack, out)
		}

		var doc struct{ Tasks []taskAttempts }
		decode(t, e.cli(t, "task", "f-1", "--json"), &doc)
		if len(doc.Tasks) != 1 || len(doc.Tasks[0].Attempts) != 2 {
			t.Fatalf("task --json: %+v; want one task, two attempts", doc)
		}
		a1, a2 := doc.Tasks[0].Attempts[0], doc.Tasks[0].Attempts[1]
		if a1.Attempt != 1 || a1.Status != "scheduled" || !a1.Retry || a1.Error != longError || a1.Stack != "" || a1.Worker != "w-1" ||
			a1.DurationMs < 3000 || a1.StartedAt.Location() != time.UTC {
			t.Errorf("attempt 1 in JSON: %+v", a1)
		}
		if a2.Attempt != 2 || a2.Status != "dead" || a2.Kind != "task.panic" || a2.Stack != stack || a2.Worker != "w-2" {
			t.Errorf("attempt 2 in JSON: %+v", a2)
		}
	})
}

func decode(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", out)
	}
}

// dead requeue moves dead letters back to the ready tasks, as fresh tasks
// a worker runs; a second requeue finds nothing; dead purge deletes them.
func TestDeadRequeueAndPurge(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		ctx := t.Context()
		q := e.b.Queue()
		golden(t, "dead_requeue", e.cli(t, "dead", "requeue", "ghost-1"))
		if out, err := e.try(t, "dead", "requeue", "ghost-1"); err == nil || !strings.Contains(err.Error(), `dead requeue: dead letter "ghost-1" not found in any queue`) {
			t.Errorf("requeued again: %v\n%s", err, out)
		}
		st, err := q.Stats(ctx, "side")
		if err != nil || st.Ready != 1 || st.Dead != 0 {
			t.Fatalf("side after requeue: %+v, %v; want 1 ready, 0 dead", st, err)
		}
		if s, err := q.State(ctx, "side", "ghost-1"); err != nil || s.Status != queue.Queued || s.Attempt != 1 {
			t.Errorf("ghost-1: %+v, %v; want queued afresh", s, err)
		}
		ds, err := q.Take(ctx, "side", "w2", 10, 0)
		if err != nil || len(ds) != 1 || ds[0].ID != "ghost-1" || ds[0].Task != "ghost" || ds[0].Attempt != 1 || ds[0].Deliveries != 1 {
			t.Fatalf("took %+v, %v; want ghost-1 afresh", ds, err)
		}
		if err := q.Finish(ctx, ds[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "dead again"}); err != nil {
			t.Fatal(err)
		}

		golden(t, "dead_purge", e.cli(t, "dead", "purge", "--queue", "side", "ghost-1"))
		if st, _ := q.Stats(ctx, "side"); st.Dead != 0 {
			t.Errorf("side after purge: %+v; want no dead letter", st)
		}
		if out, err := e.try(t, "dead", "purge", "ghost-1"); err == nil {
			t.Errorf("purged again:\n%s", out)
		}
		if out := e.cli(t, "dead", "purge"); strings.TrimSpace(out) != "purged 0 dead letters" {
			t.Errorf("purge all of none: %q", out)
		}
	})
}

// locks break really breaks the lock, and says so; a lock not held is an
// error.
func TestLocksBreak(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		golden(t, "locks_break", e.cli(t, "locks", "break", "report:acct-1"))
		held, err := e.b.Locker().Held(t.Context())
		if err != nil || len(held) != 0 {
			t.Errorf("held after break: %+v, %v", held, err)
		}
		if _, err := e.b.Locker().TryAcquire(t.Context(), "report:acct-1", time.Minute); err != nil {
			t.Errorf("acquire after break: %v", err)
		}
		out, err := e.try(t, "locks", "break", "nope")
		if err == nil || !strings.Contains(err.Error(), `lock "nope" is not held`) {
			t.Errorf("break of a free lock: %v\n%s", err, out)
		}
	})
}

// results purge deletes one queue's records, then all.
func TestResultsPurge(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		golden(t, "results_purge_queue", e.cli(t, "results", "purge", "--queue", "side"))
		recs, err := e.b.Store().List(t.Context())
		if err != nil || len(recs) != 1 || recs[0].ID != "in-1" {
			t.Fatalf("left %+v, %v; want in-1 alone", recs, err)
		}
		golden(t, "results_purge", e.cli(t, "results", "purge"))
		if recs, _ := e.b.Store().List(t.Context()); len(recs) != 0 {
			t.Errorf("left %+v", recs)
		}
	})
}

// Bad usage of the inspection commands is a usageError, exit status 2.
func TestInspectUsage(t *testing.T) {
	for _, args := range [][]string{
		{"tasks", "--queue", "q", "--state", "bogus"},
		{"tasks", "--queue", "q", "--state", "ready", "--limit", "0"},
		{"tasks", "--queue", "a{b}", "--state", "ready"},
		{"task"},
		{"task", "a", "b"},
		{"dead", "bury"},
		{"dead", "list", "x"},
		{"dead", "--limit", "0"},
		{"locks", "--bogus"},
		{"locks", "break"},
		{"locks", "list", "--bogus"},
		{"results", "count"},
		{"queues", "extra"},
		{"workers", "--prefix", "a{"},
		{"queues", "--prefix", "{"},
	} {
		var out bytes.Buffer
		m := taskwaretest.Miniredis(t)
		err := run(t.Context(), append([]string{args[0], "--redis", "redis://" + m.Addr()}, args[1:]...), &out, io.Discard)
		if _, ok := errors.AsType[usageError](err); !ok {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
		if code := exitCode(err, &bytes.Buffer{}); code != 2 {
			t.Errorf("run(%q): exit %d, want 2", args, code)
		}
	}
	if _, ok := errors.AsType[usageError](run(t.Context(), []string{"queues", "--redis", "::"}, &bytes.Buffer{}, io.Discard)); !ok {
		t.Errorf("a bad --redis is no usage error")
	}
	for _, args := range [][]string{{"queues", "-h"}, {"dead", "-h"}, {"locks", "list", "-h"}} {
		var out bytes.Buffer
		if err := run(t.Context(), args, &out, io.Discard); err != nil || !strings.Contains(out.String(), "usage: taskware") {
			t.Errorf("run(%q) = %v, printed:\n%s", args, err, out.String())
		}
	}
}

// The help lists every command.
func TestUsageListsCommands(t *testing.T) {
	var out bytes.Buffer
	printUsage(&out)
	for _, cmd := range []string{"demo", "queues", "tasks", "task ID", "dead list", "dead requeue", "dead purge",
		"locks list", "locks break", "results list", "results purge", "results stats", "workers", "  --json", "  --prefix PREFIX", "  --stack", "  --task NAME", "  --search TEXT", "  --status STATUS", "  --kind KIND",
		"  --since T", "  --until T", "  --after CURSOR"} {
		if !strings.Contains(out.String(), cmd) {
			t.Errorf("usage does not list %q", cmd)
		}
	}
	for name := range inspectCommands {
		if !strings.Contains(out.String(), "  "+name) {
			t.Errorf("usage does not list %q", name)
		}
	}
	if single := regexp.MustCompile(`(?m)^  -\w.*`).FindString(out.String()); single != "" {
		t.Errorf("usage spells a flag with one dash: %q", single)
	}
}

// Every flag the README's command line section names is one a command
// takes, spelled as the help spells it.
func TestReadmeFlagsExist(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "**The command line.**")
	section, _, _ = strings.Cut(section, "\n## ")
	var help bytes.Buffer
	printUsage(&help)
	help.WriteString("\n")
	printFlags(&help, webFlags(&webOptions{}))
	flags := regexp.MustCompile(`--[a-z][a-z-]*`).FindAllString(section, -1)
	if len(flags) < 5 {
		t.Fatalf("found %d flags in the README's command line section: %q", len(flags), flags)
	}
	for _, f := range flags {
		if !regexp.MustCompile(`(?m)^  ` + f + `\b`).MatchString(help.String()) {
			t.Errorf("the README names %s, which no command's help lists", f)
		}
	}
}

// The inspection commands read $TASKWARE_REDIS_URL without --redis, and
// never show its password: not in their output, not in an error.
func TestInspectRedactsCredentials(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	const password = "s3cret-Pa55"
	m.RequireUserAuth("ops", password)
	good := "redis://ops:" + password + "@" + m.Addr() + "/0"
	t.Setenv("TASKWARE_REDIS_URL", good)
	for _, args := range [][]string{{"queues"}, {"workers", "--json"}, {"locks", "list"}, {"results", "stats"}} {
		var out bytes.Buffer
		if err := run(t.Context(), append(args, "--prefix", "tw-cli-redact:"), &out, io.Discard); err != nil {
			t.Errorf("run(%q) with $TASKWARE_REDIS_URL: %v", args, err)
		}
		if strings.Contains(out.String(), password) {
			t.Errorf("run(%q) shows the password:\n%s", args, out.String())
		}
	}
	for _, rawURL := range []string{
		"redis://ops:wrong-" + password + "@" + m.Addr() + "/0",
		"redis://ops:" + password + "@127.0.0.1:1/0",
		"redis://ops:" + password + "@" + m.Addr() + "/0?password=" + password + "&dial_timeout=bogus",
	} {
		var out, stderr bytes.Buffer
		err := run(t.Context(), []string{"queues", "--redis", rawURL}, &out, io.Discard)
		code := exitCode(err, &stderr)
		if code == 0 {
			t.Errorf("queues --redis %s: no error", redactURL(rawURL))
		}
		if strings.Contains(stderr.String()+out.String(), password) {
			t.Errorf("the password shows:\n%s%s", out.String(), stderr.String())
		}
	}
}

// dead, locks and results alone list, as their list subcommand does, with
// their flags before or without a subcommand; tasks alone lists the ready
// tasks, of every queue.
func TestFamilyAloneLists(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		for _, tc := range [][2][]string{
			{{"dead"}, {"dead", "list"}},
			{{"dead", "--queue", "side", "--json"}, {"dead", "list", "--queue", "side", "--json"}},
			{{"locks"}, {"locks", "list"}},
			{{"results", "--limit", "1"}, {"results", "list", "--limit", "1"}},
			{{"tasks", "--queue", "default"}, {"tasks", "--queue", "default", "--state", "ready"}},
		} {
			alone, list := normalize(e.cli(t, tc[0]...)), normalize(e.cli(t, tc[1]...))
			if alone != list {
				t.Errorf("%q printed:\n%s\n%q printed:\n%s", tc[0], alone, tc[1], list)
			}
			if strings.Contains(alone, "usage:") || strings.Count(alone, "\n") < 2 {
				t.Errorf("%q printed no listing:\n%s", tc[0], alone)
			}
		}
		all := e.cli(t, "tasks")
		if !strings.HasPrefix(all, "QUEUE ") || !strings.Contains(all, "e-2") || !strings.Contains(all, "e-3") || strings.Contains(all, "e-4") {
			t.Errorf("tasks alone lists not the ready tasks of every queue:\n%s", all)
		}
		if side := e.cli(t, "tasks", "--state", "dead"); !strings.Contains(side, "side ") || !strings.Contains(side, "ghost-1") {
			t.Errorf("tasks --state dead lists not the dead of every queue:\n%s", side)
		}
	})
}

// A command's -h prints its own help: its synopsis and its flags, not
// every command's.
func TestCommandHelp(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		want, omit []string
	}{
		{[]string{"task", "-h"}, []string{"usage: taskware task ID [--queue Q] [--stack]", "what the queues know of task ID, and its\n  attempts", "--queue QUEUE", "--json", "--stack\n"}, []string{"--limit", "--state"}},
		{[]string{"tasks", "--help"}, []string{"usage: taskware tasks [--state S] [--queue Q] [--limit N] [--task NAME] [--search TEXT] [--status S] [--kind K] [--since T] [--until T] [--after CURSOR] [flags]",
			"--state STATE", "--limit N", `(default "ready")`, "--task NAME", "--search TEXT", "--status STATUS", "--kind KIND",
			"--since T", "--until T", "--after CURSOR"}, []string{"--stack"}},
		{[]string{"task", "-h"}, []string{"--queue QUEUE"}, []string{"--search", "--after"}},
		{[]string{"queues", "-h"}, []string{"usage: taskware queues [flags]", "--prefix PREFIX"}, []string{"--queue", "--limit"}},
		{[]string{"dead", "-h"}, []string{"usage: taskware dead list|requeue|purge", "dead requeue [--queue Q] [ID...]", "flags of dead list:", "--limit N"}, []string{"locks list"}},
		{[]string{"dead", "help"}, []string{"usage: taskware dead list|requeue|purge"}, nil},
		{[]string{"dead", "purge", "-h"}, []string{"usage: taskware dead purge [--queue Q] [ID...]", "--queue QUEUE"}, []string{"--limit", "dead list"}},
		{[]string{"dead", "requeue", "--help"}, []string{"usage: taskware dead requeue [--queue Q] [ID...]"}, []string{"--limit", "dead list"}},
		{[]string{"locks", "-h"}, []string{"usage: taskware locks list|break", "locks break KEY"}, []string{"--queue"}},
		{[]string{"locks", "break", "-h"}, []string{"usage: taskware locks break KEY"}, []string{"--queue", "locks list"}},
		{[]string{"results", "--help"}, []string{"usage: taskware results list|stats|purge", "flags of results list:", "--limit N"}, nil},
		{[]string{"results", "stats", "-h"}, []string{"usage: taskware results stats [--queue Q]"}, []string{"--limit"}},
		{[]string{"pause", "-h"}, []string{"usage: taskware pause QUEUE..."}, nil},
		{[]string{"resume", "-h"}, []string{"usage: taskware resume QUEUE..."}, nil},
		{[]string{"workers", "-h"}, []string{"usage: taskware workers [--queue Q]"}, nil},
		{[]string{"demo", "-h"}, []string{"usage: taskware demo [flags]", "--tasks int", "--keep"}, []string{"--json"}},
		{[]string{"web", "-h"}, []string{"usage: taskware web [--addr HOST:PORT]", "--addr HOST:PORT", "--read-only"}, []string{"--json"}},
	} {
		var out bytes.Buffer
		if err := run(t.Context(), tc.args, &out, io.Discard); err != nil {
			t.Errorf("run(%q) = %v", tc.args, err)
			continue
		}
		got := out.String()
		if single := regexp.MustCompile(`(?m)^  -\w`).FindString(got); single != "" {
			t.Errorf("run(%q) spells a flag with one dash, not as the README does:\n%s", tc.args, got)
		}
		if !strings.HasPrefix(got, "usage: taskware "+tc.args[0]) || strings.Contains(got, "commands:") {
			t.Errorf("run(%q) printed another command's help, or every command's:\n%s", tc.args, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("run(%q) lacks %q:\n%s", tc.args, w, got)
			}
		}
		for _, o := range tc.omit {
			if strings.Contains(got, o) {
				t.Errorf("run(%q) shows %q, not its own:\n%s", tc.args, o, got)
			}
		}
	}
}

// The table of commands puts what a command does beside its synopsis, or
// under it when the synopsis is too long.
func TestUsageLayout(t *testing.T) {
	var out bytes.Buffer
	printUsage(&out)
	for _, want := range []string{
		"\n  queues                      each queue's partitions, its ready, running,\n" +
			"                              delayed and dead tasks, the oldest ready one's\n" +
			"                              wait, and its live workers\n",
		"\n  tasks [--state S]           the tasks in state S (ready, running, delayed,\n" +
			"        [--queue Q]           dead or finished; ready by default), of one\n",
		"\n  dead list [--queue Q] [--limit N]\n                              the dead letters\n",
		"\n  demo   enqueue the same few hundred report tasks under two policies, run\n" +
			"         them through a worker, and compare their outcomes and what the\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks\n%s\nin:\n%s", want, out.String())
		}
	}
}

// A not-found message names what was looked up and where: the queue
// --queue names, or every queue; and it matches queue.ErrNotFound.
func TestNotFoundNamesWhatAndWhere(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"task", "nope"}, `task "nope" not found in any queue`},
			{[]string{"task", "e-5", "--queue", "default"}, `task "e-5" not found in queue "default"`},
			{[]string{"dead", "requeue", "nope", "gone"}, `dead requeue: dead letters "nope", "gone" not found in any queue`},
			{[]string{"dead", "purge", "--queue", "side", "nope"}, `dead purge: dead letter "nope" not found in queue "side"`},
			{[]string{"locks", "break", "nope"}, `locks break: lock "nope" is not held`},
		} {
			out, err := e.try(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("%q: %v, want %q matching queue.ErrNotFound\n%s", tc.args, err, tc.want, out)
			}
			if strings.Contains(fmt.Sprint(err), `"any"`) {
				t.Errorf("%q: %v names a queue \"any\"", tc.args, err)
			}
		}
	})
}

// A usage error shows the help of the command it is in, not every
// command's; "help COMMAND" shows that command's help.
func TestUsageErrorShowsOwnHelp(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	for _, tc := range []struct {
		args []string
		help string
	}{
		{[]string{"task"}, "usage: taskware task ID [--queue Q]"},
		{[]string{"tasks", "--state", "q"}, "usage: taskware tasks [--state S]"},
		{[]string{"dead", "bury"}, "usage: taskware dead list|requeue|purge"},
		{[]string{"dead", "purge", "--bogus"}, "usage: taskware dead purge [--queue Q] [ID...]"},
		{[]string{"locks", "break"}, "usage: taskware locks break KEY"},
		{[]string{"demo", "--tasks", "0"}, "usage: taskware demo [flags]"},
		{[]string{"web", "--bogus"}, "usage: taskware web [--addr HOST:PORT]"},
	} {
		var out, stderr bytes.Buffer
		code := cli(t.Context(), append(tc.args, "--redis", "redis://"+m.Addr()), &out, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.help) || strings.Contains(stderr.String(), "commands:") {
			t.Errorf("%q: exit %d, want 2 and its own help:\n%s", tc.args, code, stderr.String())
		}
	}
	for _, tc := range [][2]string{{"task", "usage: taskware task ID"}, {"dead purge", "usage: taskware dead purge"}, {"web", "usage: taskware web"}} {
		var out bytes.Buffer
		if code := cli(t.Context(), append([]string{"help"}, strings.Fields(tc[0])...), &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), tc[1]) {
			t.Errorf("help %s: exit %d:\n%s", tc[0], code, out.String())
		}
	}
}
