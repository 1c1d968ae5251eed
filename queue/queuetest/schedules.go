package queuetest

import (
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
)

func schedulePromises() []promise {
	return []promise{
		{Name: "PublishAndList", Check: publishSchedules},
		{Name: "Expire", Check: schedulesExpire},
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
