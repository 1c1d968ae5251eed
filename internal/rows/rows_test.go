package rows

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

// jsonOf is v's JSON.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The JSON of each row, field by field: the contract of --json and api/.
func TestJSON(t *testing.T) {
	paris := time.FixedZone("Paris", 3600)
	at := time.Date(2026, 11, 25, 13, 4, 5, 600_000_000, paris) // 12:04:05.6 UTC
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"queue", QueueOf(&queue.Stats{Queue: "q", Ready: 1, Running: 2, Delayed: 3, Dead: 4, Waiting: 6, Grouped: 7, OldestReady: 1500 * time.Millisecond, Workers: 5}, true),
			`{"queue":"q","partitions":1,"ready":1,"running":2,"delayed":3,"dead":4,"waiting":6,"grouped":7,"oldest_ready_ms":1500,"workers":5,"paused":true}`},
		{"running task", TaskOf(queue.TaskInfo{ID: "t-1", Task: "email", Queue: "q", Status: queue.Running, Attempt: 2,
			EnqueuedAt: at, Receipt: "1-0", Worker: "w", Deliveries: 1}),
			`{"id":"t-1","task":"email","queue":"q","status":"running","attempt":2,"enqueued_at":"2026-11-25T12:04:05.6Z","entry":"1-0","worker":"w","idle_ms":0,"deliveries":1}`},
		{"finished task", TaskOf(queue.TaskInfo{ID: "t-2", Task: "email", Queue: "q", Status: queue.Failed, Attempt: 1,
			Worker: "w", Idle: time.Second, Kind: "k", Error: "e", StartedAt: at, FinishedAt: at}),
			`{"id":"t-2","task":"email","queue":"q","status":"failed","attempt":1,"worker":"w","kind":"k","error":"e","started_at":"2026-11-25T12:04:05.6Z","finished_at":"2026-11-25T12:04:05.6Z"}`},
		{"task of a state", TaskOfState(&queue.State{ID: "t-3", Task: "email", Queue: "q", Status: queue.Scheduled}),
			`{"id":"t-3","task":"email","queue":"q","status":"scheduled"}`},
		{"panicked attempt", AttemptOf(queue.Attempt{Attempt: 2, Status: queue.Dead, Kind: "task.panic", Error: "oops",
			Stack: "goroutine 1 [running]:", Worker: "w", StartedAt: at, FinishedAt: at.Add(1500 * time.Millisecond)}),
			`{"attempt":2,"status":"dead","kind":"task.panic","error":"oops","stack":"goroutine 1 [running]:","worker":"w","started_at":"2026-11-25T12:04:05.6Z","finished_at":"2026-11-25T12:04:07.1Z","duration_ms":1500}`},
		{"attempt never started", AttemptOf(queue.Attempt{Attempt: 1, Status: queue.Scheduled, Retry: true, FinishedAt: at}),
			`{"attempt":1,"status":"scheduled","retry":true,"finished_at":"2026-11-25T12:04:05.6Z","duration_ms":0}`},
		{"no attempts", AttemptsOf(nil), `[]`},
		{"lock", LockOf(lock.Info{Key: "k", Holder: "h", Fence: 7, Since: at, Remaining: 2 * time.Second,
			Task: lock.TaskRef{Queue: "q", ID: "t-1"}}),
			`{"key":"k","holder":"h","fence":7,"since":"2026-11-25T12:04:05.6Z","remaining_ms":2000,"task_queue":"q","task_id":"t-1"}`},
		{"lock outside a task", LockOf(lock.Info{Key: "k", Holder: "h", Fence: 7}),
			`{"key":"k","holder":"h","fence":7,"remaining_ms":0}`},
		{"worker", WorkerOf(queue.WorkerInfo{Name: "w", Queue: "q", Pending: 3, Idle: 90 * time.Second}),
			`{"queue":"q","name":"w","pending":3,"idle_ms":90000,"live":false}`},
		{"record", RecordOf(&store.Record{Queue: "q", ID: "t-1", Task: "email", Status: store.Succeeded, Attempt: 1,
			At: at, ExpiresAt: at.Add(time.Hour), Value: []byte(`{"a":1}`)}),
			`{"queue":"q","id":"t-1","task":"email","status":"succeeded","attempt":1,"at":"2026-11-25T12:04:05.6Z","expires_at":"2026-11-25T13:04:05.6Z","value":"{\"a\":1}"}`},
		{"result stats", ResultStatsOf([]*store.Record{{Queue: "q", Status: store.Failed, ExpiresAt: at}}),
			`[{"queue":"q","records":1,"succeeded":0,"failed":1,"skipped":0,"failed_kinds":{"unknown":1},"first_expiry":"2026-11-25T12:04:05.6Z","last_expiry":"2026-11-25T12:04:05.6Z"}]`},
		{"no tasks", TasksOf(nil), `[]`},
		{"no locks", LocksOf(nil), `[]`},
		{"no result stats", ResultStatsOf(nil), `[]`},
	} {
		if got := jsonOf(t, tc.v); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// A running task's idle time is known only with its worker and entry; a
// task that is not running has none, whatever its listing says.
func TestTaskIdle(t *testing.T) {
	running := queue.TaskInfo{ID: "t", Status: queue.Running, Worker: "w", Receipt: "1-0", Idle: 1500 * time.Millisecond}
	if r := TaskOf(running); r.IdleMs == nil || *r.IdleMs != 1500 || r.Idle() != "1.5s" {
		t.Errorf("running: IdleMs %v, Idle %q", r.IdleMs, r.Idle())
	}
	for _, ti := range []queue.TaskInfo{
		{ID: "t", Status: queue.Running, Receipt: "1-0", Idle: time.Second}, // no worker
		{ID: "t", Status: queue.Running, Worker: "w", Idle: time.Second},    // no entry
		{ID: "t", Status: queue.Queued, Worker: "w", Receipt: "1-0", Idle: time.Second},
	} {
		if r := TaskOf(ti); r.IdleMs != nil || r.Idle() != "" {
			t.Errorf("%+v: IdleMs %v, Idle %q; want none", ti, r.IdleMs, r.Idle())
		}
	}
}

func TestTaskKeyAndCancelable(t *testing.T) {
	for _, tc := range []struct {
		row        Task
		key        string
		cancelable bool
	}{
		{Task{ID: "t-1", Entry: "1-0", Status: "queued"}, "t-1", true},
		{Task{Entry: "1-0", Status: "dead"}, "1-0", false},
		{Task{ID: "t-2", Status: "running"}, "t-2", true},
		{Task{ID: "t-3", Status: "succeeded"}, "t-3", false},
		{Task{ID: "t-4"}, "t-4", false},
	} {
		if tc.row.Key() != tc.key || tc.row.Cancelable() != tc.cancelable {
			t.Errorf("%+v: Key %q, Cancelable %v; want %q, %v", tc.row, tc.row.Key(), tc.row.Cancelable(), tc.key, tc.cancelable)
		}
	}
}

func TestShownValues(t *testing.T) {
	if got := (Queue{}).Oldest(); got != "-" {
		t.Errorf("Oldest of an empty queue: %q", got)
	}
	if got := (Queue{Ready: 1, OldestReadyMs: 61_000}).Oldest(); got != "1m1s" {
		t.Errorf("Oldest: %q", got)
	}
	if got := (Lock{RemainingMs: 2500}).Left(); got != "2.5s" {
		t.Errorf("Left: %q", got)
	}
	if w := WorkerOf(queue.WorkerInfo{Idle: time.Second}); !w.Live || w.LiveText() != "yes" || w.Idle() != "1s" {
		t.Errorf("a worker idle 1s: %+v %q %q", w, w.LiveText(), w.Idle())
	}
	if w := WorkerOf(queue.WorkerInfo{Idle: queue.LiveWorkerWindow}); w.Live || w.LiveText() != "no" {
		t.Errorf("a worker idle for the live window: %+v", w)
	}
}

// An attempt shows how it ended, "retried" or "rescheduled" for a run
// that goes back, and how long it took, "-" if it never started.
func TestAttemptShown(t *testing.T) {
	start := time.Now()
	for _, tc := range []struct {
		a             queue.Attempt
		outcome, took string
	}{
		{queue.Attempt{Status: queue.Failed, StartedAt: start, FinishedAt: start.Add(2 * time.Second)}, "failed", "2s"},
		{queue.Attempt{Status: queue.Scheduled, Retry: true, StartedAt: start, FinishedAt: start}, "retried", "<1ms"},
		{queue.Attempt{Status: queue.Scheduled, FinishedAt: start}, "rescheduled", "-"},
	} {
		if r := AttemptOf(tc.a); r.Outcome() != tc.outcome || r.Took() != tc.took {
			t.Errorf("%+v: Outcome %q, Took %q; want %q, %q", tc.a, r.Outcome(), r.Took(), tc.outcome, tc.took)
		}
	}
}

// ResultStatsOf counts by queue and status, bounds the expiries, and
// sorts by queue, the queue of runs in-process ("") first.
func TestResultStatsOf(t *testing.T) {
	now := time.Now()
	recs := []*store.Record{
		{Queue: "b", Status: store.Succeeded, ExpiresAt: now.Add(2 * time.Hour)},
		{Queue: "b", Status: store.Failed, Kind: "lock.locked", ExpiresAt: now.Add(time.Hour)},
		{Queue: "b", Status: store.Failed, Kind: "lock.locked"},
		{Queue: "b", Status: store.Skipped, ExpiresAt: now.Add(3 * time.Hour)},
		{Queue: "", Status: store.Failed},
		{Queue: "a", Status: store.Succeeded},
	}
	got := ResultStatsOf(recs)
	if len(got) != 3 || got[0].Queue != "" || got[1].Queue != "a" || got[2].Queue != "b" {
		t.Fatalf("queues: %+v", got)
	}
	b := got[2]
	if b.Records != 4 || b.Succeeded != 1 || b.Failed != 2 || b.Skipped != 1 || b.FailedKinds["lock.locked"] != 2 ||
		!b.FirstExpiry.Equal(now.Add(time.Hour)) || !b.LastExpiry.Equal(now.Add(3*time.Hour)) {
		t.Errorf("b: %+v", b)
	}
	if got[0].FailedKinds["unknown"] != 1 || !got[0].FirstExpiry.IsZero() || got[1].FailedKinds != nil {
		t.Errorf("in-process, a: %+v, %+v", got[0], got[1])
	}
}

// ReadQueues and ReadWorkers name the rows as asked, and read what the
// backend holds.
func TestRead(t *testing.T) {
	ctx := t.Context()
	b := memorybackend.New()
	q := b.Queue()
	m := &queue.Message{ID: "t-1", Task: "t", Queue: "side", Payload: []byte("{}"), EnqueuedAt: time.Now(), Attempt: 1}
	if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := q.Pause(ctx, "side"); err != nil {
		t.Fatal(err)
	}
	qs, err := ReadQueues(ctx, q, []string{"side", "empty"})
	if err != nil || len(qs) != 2 || qs[0] != (Queue{Queue: "side", Partitions: 1, Ready: 1, OldestReadyMs: qs[0].OldestReadyMs, Paused: true}) ||
		qs[1] != (Queue{Queue: "empty", Partitions: 1}) {
		t.Fatalf("ReadQueues: %+v, %v", qs, err)
	}
	if err := q.Resume(ctx, "side"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Take(ctx, "side", "w-1", 1, 0); err != nil {
		t.Fatal(err)
	}
	ws, err := ReadWorkers(ctx, q, []string{"side", "empty"})
	if err != nil || len(ws) != 1 || ws[0].Queue != "side" || ws[0].Name != "w-1" || ws[0].Pending != 1 || !ws[0].Live {
		t.Fatalf("ReadWorkers: %+v, %v", ws, err)
	}
	if ws, err := ReadWorkers(ctx, q, nil); err != nil || ws == nil || len(ws) != 0 {
		t.Errorf("ReadWorkers of no queue: %#v, %v; want an empty slice", ws, err)
	}
}
