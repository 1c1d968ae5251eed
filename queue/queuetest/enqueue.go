package queuetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

func enqueuePromises() []promise {
	return []promise{
		{Name: "RoundTrip", Check: roundTrip},
		{Name: "Duplicate", Check: duplicate},
		{Name: "Refused", Check: refused},
		{Name: "Many", Check: enqueueMany},
		{Name: "MessageWhileWaiting", Check: messageWhileWaiting},
	}
}

// Message shows a task's message while it waits: ready, taken, delayed;
// and a failed one's; not once it ended otherwise (a dead one's is in
// DeadLetters).
func messageWhileWaiting(t *tester) {
	wantMessage := func(what, id string) {
		t.Helper()
		got, err := t.q.Message(t.Context(), "mw", id)
		if err != nil {
			t.Fatalf("Message of a %s task: %v", what, err)
		}
		want := *msg("mw", id)
		want.Attempt = 1
		sameMessage(t, "Message of a "+what+" task", *got, want)
	}
	wantNone := func(what, id string) {
		t.Helper()
		if got, err := t.q.Message(t.Context(), "mw", id); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("Message of %s = %+v, %v; want queue.ErrNotFound", what, got, err)
		}
	}
	for _, id := range []string{"ok", "dead"} {
		t.enqueue(msg("mw", id), time.Time{})
	}
	t.enqueue(msg("mw", "delayed"), time.Now().Add(time.Hour))
	wantMessage("ready", "ok")
	wantMessage("delayed", "delayed")
	ds := t.takeAll("mw", "ok", "dead")
	wantMessage("taken", "ok")
	for _, id := range []string{"canceled", "failed"} { // ready after the take, never taken by it
		t.enqueue(msg("mw", id), time.Time{})
	}
	t.finish(ds[0], queue.Outcome{Status: queue.Succeeded, Attempt: 1})
	t.finish(ds[1], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "k", Error: "e"})
	t.cancel("mw", "canceled", queue.CancelDone)
	wantNone("a succeeded task", "ok")
	wantNone("a dead task", "dead")
	wantNone("a canceled task", "canceled")
	wantNone("an unknown task", "never")
	wantMessage("delayed", "delayed")
	d := t.takeOne("mw", "failed")
	t.finish(d, queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "k", Error: "e"})
	wantMessage("failed", "failed")
}

// A message comes back from Take as it went in: every field, its payload
// and headers copied, its times to the microsecond. Message shows it while
// it waits; once it ends, nothing does.
func roundTrip(t *tester) {
	binary := []byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', 0, 0xc3, 0x28}
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	cases := []struct {
		name string
		m    queue.Message
		want int // Attempt delivered
	}{
		{"binary payload, expiry", queue.Message{ID: "a", Task: "email", Payload: binary, EnqueuedAt: at, ExpiresAt: at.Add(90 * time.Minute), Attempt: 1}, 1},
		{"no payload, no times, attempt 0", queue.Message{ID: "b", Task: "noop"}, 1},
		{"large payload, later attempt", queue.Message{ID: "c:1/2", Task: "report.build", Payload: big, EnqueuedAt: at.Local(), Attempt: 4}, 4},
		{"headers", queue.Message{ID: "d", Task: "email", Payload: []byte("{}"), EnqueuedAt: at,
			Headers: map[string]string{"tenant": "acme", "": "empty key", "trace": "a=b;c\x00d"}}, 1},
	}
	for i, tc := range cases {
		t.sub(tc.name, func(t *tester) {
			name := fmt.Sprintf("rt%d", i)
			m := tc.m
			m.Queue = name
			m.Payload = slices.Clone(tc.m.Payload)
			m.Headers = maps.Clone(tc.m.Headers)
			want := m
			want.Payload = slices.Clone(m.Payload)
			want.Headers = maps.Clone(m.Headers)
			want.Attempt = tc.want
			t.enqueue(&m, time.Time{})
			if len(m.Payload) > 0 {
				m.Payload[0]++ // the queue keeps its own copy
			}
			for k := range m.Headers {
				m.Headers[k] = "changed"
			}
			st := t.wantState(name, m.ID, queue.Queued, tc.want, "", "")
			if st.Task != m.Task || st.Result != queue.NoResult || st.Err() != nil {
				t.Fatalf("State after Enqueue = %+v (Err %v)", *st, st.Err())
			}
			d := t.takeOne(name, m.ID)
			sameMessage(t, "Take", d.Message, want)
			if d.Receipt == "" || d.Deliveries != 1 || d.Outages != 0 || d.Malformed != nil {
				t.Fatalf("Take: Receipt %q, Deliveries %d, Outages %d, Malformed %v; want a receipt, 1, 0, nil",
					d.Receipt, d.Deliveries, d.Outages, d.Malformed)
			}
			got, err := t.q.Message(t.Context(), name, m.ID)
			if err != nil {
				t.Fatalf("Message of a running task: %v", err)
			}
			sameMessage(t, "Message", *got, want)
			o := queue.Outcome{Status: queue.Succeeded, Attempt: tc.want}
			var made func(*tester)
			o.Final, made = final([]error{nil}, nil)
			t.finish(d, o)
			made(t)
			st = t.wantState(name, m.ID, queue.Succeeded, tc.want, "", "")
			if st.Task != m.Task || st.Result != queue.ResultStored || st.Err() != nil {
				t.Fatalf("State after Finish = %+v (Err %v); want its task, Result %q and no error", *st, st.Err(), queue.ResultStored)
			}
			if ds := t.take(name, "c1", 10); len(ds) != 0 {
				t.Fatalf("Take after Finish: got %q, want nothing", ids(ds))
			}
		})
	}
}

// An ID the queue knows is refused, wherever its task is: ready, delayed,
// running or ended. The same ID on another queue is another task.
func duplicate(t *tester) {
	t.enqueue(msg("dup", "a"), time.Time{})
	t.duplicate("while ready", msg("dup", "a"), time.Time{}, "a")
	t.duplicate("while ready, delayed", msg("dup", "a"), time.Now().Add(time.Hour), "a")
	t.enqueue(msg("dup", "s"), time.Now().Add(time.Hour))
	t.duplicate("while scheduled", msg("dup", "s"), time.Time{}, "s")

	d := t.takeOne("dup", "a")
	t.duplicate("while running", msg("dup", "a"), time.Time{}, "a")
	t.finish(d, queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "boom", Error: "broke"})
	t.duplicate("after it failed", msg("dup", "a"), time.Time{}, "a")
	t.wantState("dup", "a", queue.Failed, 1, "boom", "broke") // untouched by the refusals

	t.enqueue(msg("dup", "b"), time.Time{})
	d = t.takeOne("dup", "b")
	t.finish(d, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "task.bad_payload", Error: "no"})
	t.duplicate("after it was dead-lettered", msg("dup", "b"), time.Time{}, "b")

	t.enqueue(msg("dup", "fresh"), time.Time{})
	t.enqueue(msg("dup2", "a"), time.Time{})
	wantIDs(t, "Take", t.take("dup", "c1", 10), "fresh")
	wantIDs(t, "Take of the other queue", t.take("dup2", "c1", 10), "a")
	t.wantStats("dup", 0, 1, 1, 1)
}

// A message without an ID, a task or a valid queue name is refused, and
// leaves nothing behind.
func refused(t *tester) {
	cases := []struct {
		name    string
		m       queue.Message
		invalid bool // matches task.ErrInvalidConfig
	}{
		{"no ID", queue.Message{Task: "t", Queue: "ok"}, false},
		{"no task", queue.Message{ID: "x", Queue: "ok"}, false},
		{"negative unique window", queue.Message{ID: "x", Task: "t", Queue: "ok", Unique: "k", UniqueFor: -time.Second}, false},
		{"no queue", queue.Message{ID: "x", Task: "t"}, true},
		{"open brace", queue.Message{ID: "x", Task: "t", Queue: "a{b"}, true},
		{"close brace", queue.Message{ID: "x", Task: "t", Queue: "a}"}, true},
		{"hash tag", queue.Message{ID: "x", Task: "t", Queue: "{ok}"}, true},
	}
	for _, tc := range cases {
		t.sub(tc.name, func(t *tester) {
			err := t.q.Enqueue(t.Context(), &tc.m, time.Time{})
			if err == nil {
				t.Fatalf("Enqueue(%+v): no error", tc.m)
			}
			if tc.invalid && !errors.Is(err, task.ErrInvalidConfig) {
				t.Errorf("Enqueue(%+v): %v, want task.ErrInvalidConfig", tc.m, err)
			}
			if errs, err := t.q.EnqueueMany(t.Context(), []*queue.Message{msg("ok", "fine"), &tc.m}, time.Time{}); err == nil {
				t.Errorf("EnqueueMany with %+v = %v, nil; want an error for the call", tc.m, errs)
			}
		})
	}
	if ds := t.take("ok", "c1", 10); ds != nil {
		t.Fatalf("Take after refused messages: got %q", ids(ds))
	}
	t.wantNotFound("ok", "x")
	t.wantNotFound("ok", "fine")
}

// EnqueueMany adds each message as Enqueue does, and answers for each at
// its place: a duplicate, of a known ID or of one earlier in the call, is
// refused there alone.
func enqueueMany(t *tester) {
	t.enqueue(t.ordered("many", "known"), time.Time{})
	batch := []*queue.Message{t.ordered("many", "a"), t.ordered("many", "known"), t.ordered("many", "b"), t.ordered("many", "a"), t.ordered("other", "a")}
	errs, err := t.q.EnqueueMany(t.Context(), batch, time.Time{})
	if err != nil || len(errs) != len(batch) {
		t.Fatalf("EnqueueMany = %v, %v; want an answer for each of %d", errs, err, len(batch))
	}
	for i, wantDup := range []bool{false, true, false, true, false} {
		if got := errors.Is(errs[i], queue.ErrDuplicate); got != wantDup || !wantDup && errs[i] != nil {
			t.Errorf("EnqueueMany: error of %s/%s = %v; want a duplicate: %v", batch[i].Queue, batch[i].ID, errs[i], wantDup)
		}
	}
	wantIDs(t, "Take", t.take("many", "c1", 10), "known", "a", "b")
	wantIDs(t, "Take of the other queue", t.take("other", "c1", 10), "a")

	later := time.Now().Add(time.Hour)
	errs, err = t.q.EnqueueMany(t.Context(), []*queue.Message{t.ordered("many", "c"), t.ordered("many", "d")}, later)
	if err != nil || len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("EnqueueMany delayed = %v, %v", errs, err)
	}
	t.wantState("many", "c", queue.Scheduled, 1, "", "")
	if errs, err := t.q.EnqueueMany(t.Context(), nil, time.Time{}); err != nil || len(errs) != 0 {
		t.Fatalf("EnqueueMany(none) = %v, %v; want nothing", errs, err)
	}
	t.wantStats("many", 0, 3, 2, 0)
}

func uniquePromises() []promise {
	return []promise{
		{Name: "OneHolder", Check: uniqueOneHolder},
		{Name: "FreedWhenTaskEnds", Check: uniqueFreedAtEnd},
		{Name: "Window", Check: uniqueWindow},
	}
}

func uniqueMsg(name, id, key string, window time.Duration) *queue.Message {
	m := msg(name, id)
	m.Unique, m.UniqueFor = key, window
	return m
}

// Concurrent enqueues of one unique key under many IDs add one task: each
// other is refused as a duplicate that names it. A task enqueued again
// under its own ID is a duplicate of itself.
func uniqueOneHolder(t *tester) {
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = t.q.Enqueue(t.Context(), uniqueMsg("u", fmt.Sprint("t", i), "report:acct-1", time.Hour), time.Time{})
		})
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		if err == nil {
			if winner != "" {
				t.Fatalf("both %s and t%d were added under one unique key", winner, i)
			}
			winner = fmt.Sprint("t", i)
		}
	}
	if winner == "" {
		t.Fatalf("none of %d enqueues of one unique key was added: %v", n, errs)
	}
	for i, err := range errs {
		de, ok := errors.AsType[*queue.DuplicateError](err)
		if err != nil && (!ok || !errors.Is(err, queue.ErrDuplicate) || de.Existing != winner || de.ID != fmt.Sprint("t", i)) {
			t.Fatalf("enqueue t%d: %v; want a duplicate of %s", i, err, winner)
		}
	}
	t.duplicate("under its own ID", uniqueMsg("u", winner, "report:acct-1", time.Hour), time.Time{}, winner)
	t.enqueue(uniqueMsg("u", "other-key", "report:acct-2", time.Hour), time.Time{})
	t.enqueue(uniqueMsg("u2", "same-key-other-queue", "report:acct-1", time.Hour), time.Time{})
	wantIDs(t, "Take", t.take("u", "c1", 100), winner, "other-key")
}

// A unique key is let go when its task ends, however it ends; a retry
// that waits keeps it.
func uniqueFreedAtEnd(t *tester) {
	ends := []struct {
		name string
		end  func(t *tester, d *queue.Delivery)
	}{
		{"succeeded", func(t *tester, d *queue.Delivery) { t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1}) }},
		{"failed", func(t *tester, d *queue.Delivery) {
			t.finish(d, queue.Outcome{Status: queue.Failed, Attempt: 1, Kind: "boom", Error: "x"})
		}},
		{"skipped", func(t *tester, d *queue.Delivery) {
			t.finish(d, queue.Outcome{Status: queue.Skipped, Attempt: 1, Kind: "lock.locked", Error: "held"})
		}},
		{"dead", func(t *tester, d *queue.Delivery) {
			t.finish(d, queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "task.permanent", Error: "no"})
		}},
		{"canceled", func(t *tester, d *queue.Delivery) {
			t.finish(d, queue.Outcome{Status: queue.Canceled, Attempt: 1, Kind: queue.ErrCanceled.ErrorKind(), Error: queue.ErrCanceled.Error()})
		}},
		{"retried, then succeeded", func(t *tester, d *queue.Delivery) {
			t.finish(d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(-time.Second), Kind: "boom", Error: "x", Retry: true})
			t.duplicate("while its retry waits", uniqueMsg(logical(d.Queue), "second", "k", time.Hour), time.Time{}, d.ID)
			t.promote(logical(d.Queue), time.Now(), 10)
			t.finish(t.takeOne(logical(d.Queue), d.ID), queue.Outcome{Status: queue.Succeeded, Attempt: 2})
		}},
	}
	for i, e := range ends {
		t.sub(e.name, func(t *tester) {
			name := fmt.Sprint("uend", i)
			t.enqueue(uniqueMsg(name, "first", "k", time.Hour), time.Time{})
			d := t.takeOne(name, "first")
			t.duplicate("while its holder runs", uniqueMsg(name, "second", "k", time.Hour), time.Time{}, "first")
			e.end(t, d)
			t.enqueue(uniqueMsg(name, "second", "k", time.Hour), time.Time{})
			t.duplicate("held anew", uniqueMsg(name, "third", "k", time.Hour), time.Time{}, "second")
		})
	}
	t.sub("canceled before it ran", func(t *tester) {
		t.enqueue(uniqueMsg("ucancel", "first", "k", time.Hour), time.Now().Add(time.Hour))
		if out, err := t.q.Cancel(t.Context(), "ucancel", "first"); err != nil || out != queue.CancelDone {
			t.Fatalf("Cancel = %q, %v", out, err)
		}
		t.enqueue(uniqueMsg("ucancel", "second", "k", time.Hour), time.Time{})
	})
}

// A unique window bounds the key: past it, the key is free though its
// holder still waits to run.
func uniqueWindow(t *tester) {
	window, within := time.Minute, 30*time.Second
	if t.real() {
		window, within = 800*time.Millisecond, 0
	}
	t.enqueue(uniqueMsg("uw", "holder", "k", window), time.Now().Add(time.Hour))
	t.advance(within)
	t.duplicate("within its window", uniqueMsg("uw", "second", "k", window), time.Time{}, "holder")
	t.advance(window - within + window/2)
	t.enqueue(uniqueMsg("uw", "second", "k", window), time.Time{})
	t.wantState("uw", "holder", queue.Scheduled, 1, "", "")
}

func expiresAtPromises() []promise {
	cases := []struct {
		name string
		at   time.Time
	}{
		{"Zero", time.Time{}}, // no deadline
		{"Future", at.Add(90 * time.Minute)},
		{"FarFuture", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"Epoch", time.Unix(0, 0)},
		{"Before1970", time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.UTC)},
		{"LongBefore1970", time.Date(1066, 10, 14, 9, 0, 0, 0, time.FixedZone("", 0))},
	}
	out := make([]promise, len(cases))
	for i, c := range cases {
		out[i] = promise{Name: c.name, Check: func(t *tester) { expiresAt(t, c.at) }}
	}
	return out
}

// A deadline reads back as it was set, to the microsecond, whenever it
// is: the zero time (no deadline), before 1970 or long after. It does
// through every place a message waits: ready, delayed, retried, dead.
func expiresAt(t *tester, deadline time.Time) {
	m := func(id string) *queue.Message {
		m := msg("exp", id)
		m.ExpiresAt = deadline
		return m
	}
	want := func(id string, attempt int) queue.Message {
		w := *m(id)
		w.Attempt = attempt
		return w
	}
	taken := func(what string, d *queue.Delivery, want queue.Message) {
		t.Helper()
		if d.Malformed != nil {
			t.Fatalf("%s: the delivery is malformed: %v", what, d.Malformed)
		}
		sameMessage(t, what, d.Message, want)
	}

	// message fails t unless Message shows the deadline of id.
	message := func(what, id string) {
		t.Helper()
		got, err := t.q.Message(t.Context(), "exp", id)
		if err != nil {
			t.Fatalf("Message of %s: %v", what, err)
		}
		if !sameTime(got.ExpiresAt, deadline) {
			t.Fatalf("Message of %s: ExpiresAt %v, want %v", what, got.ExpiresAt, deadline)
		}
	}

	t.enqueue(m("ready"), time.Time{})
	message("a ready task", "ready")
	d := t.takeOne("exp", "ready")
	taken("Take", d, want("ready", 1))

	// Retried: the message waits in the delayed set, and comes back.
	t.finish(d, queue.Outcome{Status: queue.Scheduled, Attempt: 2, RunAt: time.Now().Add(time.Hour), Kind: "boom", Error: "x", Retry: true})
	message("a retry", "ready")
	retry := want("ready", 2)
	retry.LastKind, retry.LastError = "boom", "x"
	t.promote("exp", time.Now().Add(2*time.Hour), 10)
	d = t.takeOne("exp", "ready")
	taken("Take of the retry", d, retry)

	// Dead-lettered, and requeued from there.
	t.finish(d, queue.Outcome{Status: queue.Dead, Attempt: 2, Kind: "task.permanent", Error: "gave up"})
	dl, err := t.q.DeadLetters(t.Context(), "exp", 10)
	if err != nil || len(dl) != 1 {
		t.Fatalf("DeadLetters = %+v, %v; want one", dl, err)
	}
	sameMessage(t, "dead letter", dl[0].Message, retry)
	if requeued, _, err := t.q.RequeueDead(t.Context(), "exp"); err != nil || len(requeued) != 1 {
		t.Fatalf("RequeueDead = %v, %v", requeued, err)
	}
	d = t.takeOne("exp", "ready")
	taken("Take of a requeued dead letter", d, want("ready", 1))
	t.finish(d, queue.Outcome{Status: queue.Succeeded, Attempt: 1})

	// Delayed at enqueue: the message waits apart from the ready ones.
	t.enqueue(m("delayed"), time.Now().Add(time.Hour))
	message("a delayed task", "delayed")
	t.promote("exp", time.Now().Add(2*time.Hour), 10)
	taken("Take of a promoted task", t.takeOne("exp", "delayed"), want("delayed", 1))

	// Enqueued in a batch.
	if errs, err := t.q.EnqueueMany(t.Context(), []*queue.Message{m("many")}, time.Time{}); err != nil || errs[0] != nil {
		t.Fatalf("EnqueueMany = %v, %v", errs, err)
	}
	taken("Take of a task enqueued in a batch", t.takeOne("exp", "many"), want("many", 1))
}
