package queuetest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

func schedulePromises() []promise {
	return []promise{
		{Name: "PublishAndList", Check: publishSchedules},
		{Name: "Expire", Check: schedulesExpire},
		{Name: "StoredPutAndList", Check: storedPut},
		{Name: "StoredReplace", Check: storedReplace},
		{Name: "StoredRemove", Check: storedRemove},
		{Name: "StoredPauseResume", Check: storedPause},
		{Name: "StoredBadInput", Check: storedBadInput},
		{Name: "StoredSince", Check: storedSince},
		{Name: "StoredResent", Check: storedResent},
	}
}

// Schedules lists every scheduler's latest publication, by entry name then
// scheduler; a publication replaces the scheduler's last, and none
// withdraws it.
func publishSchedules(t *tester) {
	ctx := t.Context()
	tick := time.Now().Truncate(time.Second).UTC()
	a := []queue.ScheduleEntry{{Name: "report", Spec: "every 1h0m0s", Task: "report", Queue: "default",
		Next: tick.Add(time.Hour), Last: tick, LastStatus: "enqueued", Missed: 2, Published: tick}}
	b := []queue.ScheduleEntry{{Name: "cleanup", Spec: "0 3 * * *", Task: "clean", Queue: "chores", Next: tick.Add(time.Minute)},
		{Name: "report", Spec: "every 1h0m0s", Task: "report", Queue: "default", Next: tick.Add(time.Hour)}}
	for name, es := range map[string][]queue.ScheduleEntry{"host-a": a, "host-b": b} {
		if err := t.q.PublishSchedules(ctx, name, es, time.Minute); err != nil {
			t.Fatalf("PublishSchedules(%s): %v", name, err)
		}
	}
	list := func() []string {
		t.Helper()
		es, err := t.q.Schedules(ctx)
		if err != nil {
			t.Fatalf("Schedules: %v", err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Name+"@"+e.Scheduler)
		}
		return got
	}
	if got := list(); !slices.Equal(got, []string{"cleanup@host-b", "report@host-a", "report@host-b"}) {
		t.Fatalf("Schedules = %q; want cleanup and report of host-b, report of host-a, sorted", got)
	}
	es, _ := t.q.Schedules(ctx)
	if e := es[1]; !e.Next.Equal(a[0].Next) || !e.Last.Equal(tick) || e.LastStatus != "enqueued" || e.Missed != 2 ||
		e.Spec != a[0].Spec || e.Queue != "default" || e.Task != "report" || !e.Published.Equal(tick) {
		t.Errorf("host-a's report = %+v; want it as published, %+v", e, a[0])
	}
	if err := t.q.PublishSchedules(ctx, "host-b", b[:1], time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := list(); !slices.Equal(got, []string{"cleanup@host-b", "report@host-a"}) {
		t.Fatalf("after host-b published one entry: %q", got)
	}
	if err := t.q.PublishSchedules(ctx, "host-a", nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := list(); !slices.Equal(got, []string{"cleanup@host-b"}) {
		t.Fatalf("after host-a withdrew: %q", got)
	}
}

// A publication not renewed within its TTL drops off.
func schedulesExpire(t *tester) {
	ctx := t.Context()
	if err := t.q.PublishSchedules(ctx, "gone", []queue.ScheduleEntry{{Name: "x", Spec: "every 1s"}}, time.Second); err != nil {
		t.Fatal(err)
	}
	if es, err := t.q.Schedules(ctx); err != nil || len(es) != 1 {
		t.Fatalf("Schedules = %+v, %v; want x", es, err)
	}
	t.advance(1500 * time.Millisecond)
	if es, err := t.q.Schedules(ctx); err != nil || len(es) != 0 {
		t.Fatalf("Schedules after the TTL = %+v, %v; want none", es, err)
	}
}

// stored0 is a stored entry's time, in whole ms, as backends keep it.
var stored0 = time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)

func storedDef(name string) queue.ScheduleDef {
	return queue.ScheduleDef{Name: name, Spec: "every 1h0m0s", Task: "report", Queue: "default",
		Args: []byte(`{"day":"monday"}`), Since: stored0, Updated: stored0}
}

// defs returns the stored entries and the version, failing t on an
// error.
func (t *tester) defs() ([]queue.ScheduleDef, int64) {
	t.Helper()
	defs, v, err := t.q.ScheduleDefs(t.Context())
	if err != nil {
		t.Fatalf("ScheduleDefs: %v", err)
	}
	return defs, v
}

func (t *tester) version() int64 {
	t.Helper()
	v, err := t.q.ScheduleVersion(t.Context())
	if err != nil {
		t.Fatalf("ScheduleVersion: %v", err)
	}
	return v
}

func (t *tester) put(def queue.ScheduleDef) {
	t.Helper()
	if err := t.q.PutSchedule(t.Context(), def); err != nil {
		t.Fatalf("PutSchedule(%s): %v", def.Name, err)
	}
}

func sameDef(a, b queue.ScheduleDef) bool {
	return a.Name == b.Name && a.Spec == b.Spec && a.Task == b.Task && a.Queue == b.Queue && bytes.Equal(a.Args, b.Args) &&
		a.Paused == b.Paused && a.Since.Equal(b.Since) && a.Updated.Equal(b.Updated)
}

// Stored entries come back as put, sorted by name, with the version they
// are at; ScheduleVersion reads the same version, and each put changes
// it. A zero Since and Updated are set to the backend's now.
func storedPut(t *tester) {
	if defs, v := t.defs(); len(defs) != 0 || v != t.version() {
		t.Fatalf("ScheduleDefs of an empty backend = %+v, version %d (ScheduleVersion %d); want none, the same version", defs, v, t.version())
	}
	v0 := t.version()
	b, a := storedDef("b-report"), storedDef("a-cleanup")
	a.Spec, a.Task, a.Queue, a.Args, a.Paused = "0 3 * * *", "clean", "chores", nil, true
	t.put(b)
	v1 := t.version()
	t.put(a)
	defs, v2 := t.defs()
	if v1 == v0 || v2 == v1 || v2 == v0 || v2 != t.version() {
		t.Fatalf("versions %d, %d, %d (ScheduleVersion %d); want a change with each put", v0, v1, v2, t.version())
	}
	if len(defs) != 2 || !sameDef(defs[0], a) || !sameDef(defs[1], b) {
		t.Fatalf("ScheduleDefs = %+v; want %+v then %+v", defs, a, b)
	}
	z := storedDef("zero")
	z.Since, z.Updated = time.Time{}, time.Time{}
	t.put(z)
	defs, _ = t.defs()
	if got := defs[2]; got.Since.IsZero() || !got.Since.Equal(got.Updated) {
		t.Fatalf("put with zero times: Since %v, Updated %v; want both the backend's now", got.Since, got.Updated)
	}
}

// A put replaces the stored entry of its name, and changes the version;
// a put of what is stored already changes nothing, not Since, not the
// version.
func storedReplace(t *tester) {
	d := storedDef("report")
	t.put(d)
	v := t.version()
	same := d
	same.Since, same.Updated = stored0.Add(time.Hour), stored0.Add(time.Hour)
	t.put(same)
	if defs, v2 := t.defs(); v2 != v || len(defs) != 1 || !sameDef(defs[0], d) {
		t.Fatalf("after a put of the same entry: %+v, version %d (was %d); want it unchanged", defs, v2, v)
	}
	for _, change := range []func(*queue.ScheduleDef){
		func(d *queue.ScheduleDef) { d.Spec = "every 2h0m0s" },
		func(d *queue.ScheduleDef) { d.Task = "other" },
		func(d *queue.ScheduleDef) { d.Queue = "elsewhere" },
		func(d *queue.ScheduleDef) { d.Args = []byte(`{"day":"friday"}`) },
		func(d *queue.ScheduleDef) { d.Paused = true },
	} {
		change(&d)
		d.Since, d.Updated = d.Since.Add(time.Minute), d.Updated.Add(time.Minute)
		v := t.version()
		t.put(d)
		defs, v2 := t.defs()
		if v2 == v || len(defs) != 1 || !sameDef(defs[0], d) {
			t.Fatalf("after a put of a changed entry: %+v, version %d (was %d); want %+v, a new version", defs, v2, v, d)
		}
	}
}

// A remove takes the entry out and changes the version; a remove of no
// entry, a second remove of the caller's included, returns an error
// matching queue.ErrNotFound and changes nothing.
func storedRemove(t *tester) {
	ctx := t.Context()
	t.put(storedDef("a"))
	t.put(storedDef("b"))
	v := t.version()
	if err := t.q.RemoveSchedule(ctx, "a"); err != nil {
		t.Fatalf("RemoveSchedule(a): %v", err)
	}
	defs, v2 := t.defs()
	if v2 == v || len(defs) != 1 || defs[0].Name != "b" {
		t.Fatalf("after removing a: %+v, version %d (was %d); want b alone, a new version", defs, v2, v)
	}
	for _, name := range []string{"a", "never"} {
		if err := t.q.RemoveSchedule(ctx, name); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("RemoveSchedule(%s) of no entry: %v; want queue.ErrNotFound", name, err)
		}
	}
	if t.version() != v2 {
		t.Fatalf("a remove of no entry changed the version")
	}
	for _, call := range []func() error{
		func() error { return t.q.PauseSchedule(ctx, "a", true, stored0) },
		func() error { return t.q.PauseSchedule(ctx, "a", false, stored0) },
	} {
		if err := call(); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("PauseSchedule of a removed entry: %v; want queue.ErrNotFound", err)
		}
	}
	t.put(storedDef("a")) // a name removed can be put again
	if defs, _ := t.defs(); len(defs) != 2 {
		t.Fatalf("after putting a again: %+v", defs)
	}
}

// A pause sets Paused and Updated, keeping Since; a resume clears Paused
// and sets Since, so that ticks while paused are never caught up. Each
// changes the version; pausing a paused entry, or resuming a running one,
// changes nothing.
func storedPause(t *tester) {
	ctx := t.Context()
	d := storedDef("report")
	t.put(d)
	pausedAt, resumedAt := stored0.Add(time.Hour), stored0.Add(3*time.Hour)
	v := t.version()
	if err := t.q.PauseSchedule(ctx, "report", true, pausedAt); err != nil {
		t.Fatalf("PauseSchedule: %v", err)
	}
	want := d
	want.Paused, want.Updated = true, pausedAt
	defs, v2 := t.defs()
	if v2 == v || !sameDef(defs[0], want) {
		t.Fatalf("paused: %+v, version %d (was %d); want %+v, a new version", defs[0], v2, v, want)
	}
	if err := t.q.PauseSchedule(ctx, "report", true, pausedAt.Add(time.Minute)); err != nil {
		t.Fatalf("PauseSchedule of a paused entry: %v", err)
	}
	if defs, v3 := t.defs(); v3 != v2 || !sameDef(defs[0], want) {
		t.Fatalf("paused again: %+v, version %d (was %d); want it unchanged", defs[0], v3, v2)
	}
	if err := t.q.PauseSchedule(ctx, "report", false, resumedAt); err != nil {
		t.Fatalf("resume: %v", err)
	}
	want.Paused, want.Since, want.Updated = false, resumedAt, resumedAt
	defs, v4 := t.defs()
	if v4 == v2 || !sameDef(defs[0], want) {
		t.Fatalf("resumed: %+v, version %d (was %d); want %+v, a new version", defs[0], v4, v2, want)
	}
	if err := t.q.PauseSchedule(ctx, "report", false, resumedAt.Add(time.Hour)); err != nil {
		t.Fatalf("resume of a running entry: %v", err)
	}
	if defs, v5 := t.defs(); v5 != v4 || !sameDef(defs[0], want) {
		t.Fatalf("resumed again: %+v, version %d (was %d); want it unchanged, its Since too", defs[0], v5, v4)
	}
	// A zero time is the backend's now.
	for _, paused := range []bool{true, false} {
		if err := t.q.PauseSchedule(ctx, "report", paused, time.Time{}); err != nil {
			t.Fatalf("PauseSchedule(%v) at a zero time: %v", paused, err)
		}
	}
	if defs, _ := t.defs(); defs[0].Paused || !defs[0].Since.After(resumedAt) || !defs[0].Since.Equal(defs[0].Updated) {
		t.Fatalf("paused and resumed at zero times: %+v; want running, Since and Updated the backend's now", defs[0])
	}
}

// Bad input is refused with an error matching task.ErrInvalidConfig, and
// stores nothing.
func storedBadInput(t *tester) {
	ctx := t.Context()
	for _, c := range []struct {
		what   string
		change func(*queue.ScheduleDef)
	}{
		{"an empty name", func(d *queue.ScheduleDef) { d.Name = "" }},
		{"a name with a space", func(d *queue.ScheduleDef) { d.Name = "daily report" }},
		{"a name with a newline", func(d *queue.ScheduleDef) { d.Name = "report\n" }},
		{"a long name", func(d *queue.ScheduleDef) { d.Name = strings.Repeat("n", queue.MaxScheduleName+1) }},
		{"an empty spec", func(d *queue.ScheduleDef) { d.Spec = " " }},
		{"no task", func(d *queue.ScheduleDef) { d.Task = "" }},
		{"no queue", func(d *queue.ScheduleDef) { d.Queue = "" }},
		{"a bad queue name", func(d *queue.ScheduleDef) { d.Queue = "q{x}" }},
		{"args too large", func(d *queue.ScheduleDef) { d.Args = make([]byte, queue.MaxScheduleArgs+1) }},
		{"a Since before 1970", func(d *queue.ScheduleDef) { d.Since = time.Unix(-1, 0) }},
	} {
		d := storedDef("report")
		c.change(&d)
		if err := t.q.PutSchedule(ctx, d); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("PutSchedule with %s: %v; want task.ErrInvalidConfig", c.what, err)
		}
	}
	if defs, _ := t.defs(); len(defs) != 0 {
		t.Fatalf("bad puts stored %+v", defs)
	}
	if err := t.q.RemoveSchedule(ctx, ""); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("RemoveSchedule(\"\"): %v; want task.ErrInvalidConfig", err)
	}
	if err := t.q.PauseSchedule(ctx, "", true, stored0); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("PauseSchedule(\"\"): %v; want task.ErrInvalidConfig", err)
	}
	t.put(storedDef("report"))
	if err := t.q.PauseSchedule(ctx, "report", true, time.Unix(-1, 0)); !errors.Is(err, task.ErrInvalidConfig) {
		t.Errorf("PauseSchedule before 1970: %v; want task.ErrInvalidConfig", err)
	}
}

// ScheduleSince records the first time a name was seen, and returns it
// ever after: a later time does not move it.
func storedSince(t *tester) {
	ctx := t.Context()
	first, later := stored0, stored0.Add(time.Hour)
	got, err := t.q.ScheduleSince(ctx, []string{"a", "b"}, first)
	if err != nil || len(got) != 2 || !got[0].Equal(first) || !got[1].Equal(first) {
		t.Fatalf("ScheduleSince(a, b) first = %v, %v; want %v twice", got, err, first)
	}
	got, err = t.q.ScheduleSince(ctx, []string{"c", "a"}, later)
	if err != nil || len(got) != 2 || !got[0].Equal(later) || !got[1].Equal(first) {
		t.Fatalf("ScheduleSince(c, a) later = %v, %v; want %v (c new), %v (a kept)", got, err, later, first)
	}
	if got, err := t.q.ScheduleSince(ctx, nil, later); err != nil || len(got) != 0 {
		t.Fatalf("ScheduleSince(none) = %v, %v", got, err)
	}
}

// The calls on stored entries, made twice in a row, answer as if made
// once: a put of the same entry and a pause or resume of one so already
// change nothing (checked above); a remove sent again after a lost reply
// answers nil (the fault suite checks that on Redis: the suite cannot
// lose a reply), while a second remove of the caller's finds nothing.
func storedResent(t *tester) {
	ctx := t.Context()
	d := storedDef("report")
	t.put(d)
	v := t.version()
	t.put(d)
	for range 2 {
		if err := t.q.PauseSchedule(ctx, "report", true, stored0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	want := d
	want.Paused, want.Updated = true, stored0.Add(time.Minute)
	if defs, v2 := t.defs(); len(defs) != 1 || !sameDef(defs[0], want) || v2 == v {
		t.Fatalf("after put, put, pause, pause: %+v, version %d (was %d); want %+v, a new version", defs, v2, v, want)
	}
	if got, err := t.q.ScheduleSince(ctx, []string{"x"}, stored0); err != nil || !got[0].Equal(stored0) {
		t.Fatalf("ScheduleSince = %v, %v", got, err)
	}
	if got, err := t.q.ScheduleSince(ctx, []string{"x"}, stored0); err != nil || !got[0].Equal(stored0) {
		t.Fatalf("ScheduleSince again = %v, %v; want the first answer", got, err)
	}
}
