package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/schedule"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

type tickArgs struct {
	A []string `json:"a"`
	B int      `json:"b"`
}

// storedDef is the stored entry name, failing t if there is none.
func storedDef(t *testing.T, e *cliEnv, name string) queue.ScheduleDef {
	t.Helper()
	defs, _, err := e.b.Queue().ScheduleDefs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no stored entry %s in %+v", name, defs)
	return queue.ScheduleDef{}
}

type schedulesDoc struct {
	Stored    []rows.StoredSchedule
	Published []rows.PublishedSchedule
}

// schedules add stores an entry whose arguments are the bytes
// schedule.Put stores for the typed task (worker.Enqueue's encoding);
// list shows it with its next tick, then paused; resume moves its Since;
// remove deletes it, and a second remove finds nothing.
func TestSchedulesCommands(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		ctx := t.Context()
		out := e.cli(t, "schedules", "add", "nightly", "every 1h", "report", "--queue", "reports", "--args", `{"b": 2, "a": ["x<y"]}`)
		if want := `schedule nightly stored: every 1h runs report on queue reports with {"a":["x\u003cy"],"b":2}` + "\n"; out != want {
			t.Fatalf("schedules add printed %q, want %q", out, want)
		}
		report := task.New("report", func(context.Context, tickArgs) (int, error) { return 0, nil })
		if err := schedule.Put(ctx, e.b.Queue(), "typed", "every 1h", report, tickArgs{A: []string{"x<y"}, B: 2}, schedule.OnQueue("reports")); err != nil {
			t.Fatal(err)
		}
		got, typed := storedDef(t, e, "nightly"), storedDef(t, e, "typed")
		if string(got.Args) != string(typed.Args) || got.Task != "report" || got.Queue != "reports" || got.Spec != "every 1h" || got.Paused {
			t.Fatalf("stored %+v (args %s); want the args schedule.Put stores, %s, of report on reports, every 1h, running", got, got.Args, typed.Args)
		}
		e.cli(t, "schedules", "remove", "typed")

		before := time.Now()
		var doc schedulesDoc
		decode(t, e.cli(t, "schedules", "list", "--json"), &doc)
		if len(doc.Stored) != 1 || len(doc.Published) != 0 {
			t.Fatalf("schedules list --json: %+v, want nightly alone", doc)
		}
		s := doc.Stored[0]
		if s.Name != "nightly" || s.Args != `{"a":["x\u003cy"],"b":2}` || s.Paused || s.NextFrom != "spec" ||
			s.Next.Before(before) || s.Next.After(before.Add(time.Hour+time.Minute)) || s.Next.Truncate(time.Hour) != s.Next {
			t.Fatalf("schedules list --json: %+v, want nightly running, its next tick the next whole hour", s)
		}
		table := e.cli(t, "schedules")
		if !strings.HasPrefix(table, "stored entries:\nNAME") || !strings.Contains(table, "nightly") || !strings.Contains(table, " in ") {
			t.Fatalf("schedules:\n%s\nwant the stored entry with its next tick", table)
		}

		if out := e.cli(t, "schedules", "pause", "nightly"); out != "schedule nightly paused\n" {
			t.Fatalf("schedules pause printed %q", out)
		}
		if d := storedDef(t, e, "nightly"); !d.Paused {
			t.Fatalf("after pause: %+v", d)
		}
		doc = schedulesDoc{}
		decode(t, e.cli(t, "schedules", "--json"), &doc)
		if s := doc.Stored[0]; !s.Paused || !s.Next.IsZero() {
			t.Fatalf("schedules --json of a paused entry: %+v, want paused, no next tick", s)
		}
		if row := strings.Split(e.cli(t, "schedules"), "\n")[2]; !strings.Contains(row, "paused") {
			t.Fatalf("schedules: row %q, want it paused", row)
		}
		resumed := time.Now()
		e.cli(t, "schedules", "resume", "nightly")
		if d := storedDef(t, e, "nightly"); d.Paused || d.Since.Before(resumed.Add(-time.Second)) {
			t.Fatalf("after resume at %v: %+v, want running since the resume", resumed, d)
		}

		if out := e.cli(t, "schedules", "remove", "nightly", "--json"); strings.Join(strings.Fields(out), "") != `{"removed":["nightly"]}` {
			t.Fatalf("schedules remove --json printed %q", out)
		}
		for _, verb := range []string{"remove", "pause", "resume"} {
			if _, err := e.try(t, "schedules", verb, "nightly"); !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("schedules %s of a removed entry: %v, want not found", verb, err)
			}
		}
		// Several at once: those stored change, the one not stored is an error.
		e.cli(t, "schedules", "add", "a", "every 1h", "report")
		e.cli(t, "schedules", "add", "b", "every 1h", "report")
		out, err := e.try(t, "schedules", "pause", "a", "ghost", "b")
		if !errors.Is(err, queue.ErrNotFound) || !strings.Contains(err.Error(), `"ghost"`) || out != "schedule a paused\nschedule b paused\n" {
			t.Errorf("schedules pause a ghost b: %q, %v; want a and b paused, ghost not found", out, err)
		}
		if !storedDef(t, e, "a").Paused || !storedDef(t, e, "b").Paused {
			t.Error("a and b are not both paused")
		}
	})
}

// A running scheduler's published entry gives a stored entry of its name
// its next tick, and shows in a table of its own.
func TestSchedulesPublished(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.cli(t, "schedules", "add", "weekly", "0 6 * * mon", "report")
		next := time.Now().Add(36 * time.Hour).Truncate(time.Second)
		if err := e.b.Queue().PublishSchedules(t.Context(), "host-1", []queue.ScheduleEntry{{Name: "weekly", Spec: "0 6 * * mon",
			Task: "report", Queue: queue.Default, Next: next, LastStatus: "enqueued"}}, time.Minute); err != nil {
			t.Fatal(err)
		}
		var doc schedulesDoc
		decode(t, e.cli(t, "schedules", "--json"), &doc)
		if len(doc.Stored) != 1 || !doc.Stored[0].Next.Equal(next) || doc.Stored[0].NextFrom != "scheduler" ||
			len(doc.Published) != 1 || doc.Published[0].Scheduler != "host-1" {
			t.Fatalf("schedules --json: %+v; want weekly's next tick %v from host-1", doc, next)
		}
		out := e.cli(t, "schedules")
		if !strings.Contains(out, "\npublished by running schedulers:\nNAME") || !strings.Contains(out, "host-1") {
			t.Fatalf("schedules:\n%s\nwant the published entry in a table of its own", out)
		}
	})
}

// schedules add refuses what it can tell is wrong, as a usage error, and
// stores nothing: a spec neither "every" nor shaped like cron, a bad
// duration, arguments that are not JSON, a bad name or queue.
func TestSchedulesAddRefuses(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		for _, args := range [][]string{
			{"x", "whenever", "t"},
			{"x", "every soon", "t"},
			{"x", "every -1h", "t"},
			{"x", "0 3 * *", "t"},
			{"x", "every 1h", "t", "--args", "{"},
			{"x", "every 1h", "t", "--args", "1 2"},
			{"bad name", "every 1h", "t"},
			{"x", "every 1h", "t", "--queue", "{q}"},
			{"x", "every 1h"},
		} {
			_, err := e.try(t, append([]string{"schedules", "add"}, args...)...)
			if _, ok := errors.AsType[usageError](err); !ok {
				t.Errorf("schedules add %q: %v, want a usage error", args, err)
			}
		}
		if defs, _, err := e.b.Queue().ScheduleDefs(t.Context()); err != nil || len(defs) != 0 {
			t.Fatalf("stored %+v, %v; want nothing", defs, err)
		}
		var added struct{ Stored rows.StoredSchedule }
		decode(t, e.cli(t, "schedules", "add", "j", "every 90s", "t", "--paused", "--args", `[1, "two"]`, "--json"), &added)
		if s := added.Stored; s.Name != "j" || s.Spec != "every 90s" || s.Queue != queue.Default || !s.Paused || s.Args != `[1,"two"]` {
			t.Errorf("schedules add --json: %+v", s)
		}
		e.cli(t, "schedules", "remove", "j")
		for _, spec := range []string{"0 3 * * *", "CRON_TZ=Europe/Paris 0 3 * * *", "*/10 * * * * *", "@daily", "@every 90s"} {
			e.cli(t, "schedules", "add", "cron", spec, "t")
			if d := storedDef(t, e, "cron"); d.Spec != spec || string(d.Args) != "null" {
				t.Errorf("schedules add cron %q stored %+v (args %s)", spec, d, d.Args)
			}
		}
	})
}

type greetArgs struct {
	Name string `json:"name"`
	N    int64  `json:"n"`
}

// An entry schedules add stores runs: a scheduler started with
// schedule.Stored enqueues its ticks, and a worker decodes the --args
// into the task's typed arguments, a number beyond a float's precision
// kept whole.
func TestSchedulesAddRunsTask(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		q := e.b.Queue()
		got := make(chan greetArgs, 10)
		greet := task.New("greet", func(_ context.Context, a greetArgs) (struct{}, error) {
			select {
			case got <- a:
			default:
			}
			return struct{}{}, nil
		})
		w := worker.New(q, worker.Queues("sq"), worker.PollWait(50*time.Millisecond))
		worker.Register(w, greet)
		taskwaretest.StartWorker(t, w)
		taskwaretest.Start(t, schedule.New(worker.NewClient(q, nil), schedule.Stored(q)))
		e.cli(t, "schedules", "add", "greeter", "every 1s", "greet", "--queue", "sq", "--args", `{"name": "<ada>", "n": 12345678901234567}`)
		select {
		case a := <-got:
			if a != (greetArgs{Name: "<ada>", N: 12345678901234567}) {
				t.Fatalf("the tick's task got %+v", a)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no tick of the stored entry ran within 20s")
		}
	})
}
