package lock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
)

// A lock taken for a task run names that run: in its lease, in Held, and
// in the LockedError another owner meets, as data (its Task), whatever
// bytes the queue and ID hold, and in its text, for people.
func TestLockedErrorNamesHolderTask(t *testing.T) {
	runs := []lock.TaskRef{
		{Queue: "default", ID: "5f0c9a"},
		{Queue: "", ID: "in-process-1"},
		{Queue: "q|1/x", ID: "id with (spaces)|and/slash %2F \"quotes\""},
	}
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		for i, run := range runs {
			key := fmt.Sprint("report:", i)
			lease, err := b.Locker.TryAcquire(lock.WithOwnerTask(ctx, run.Queue, run.ID), key, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if lease.Task != run {
				t.Fatalf("lease task %+v, want %+v", lease.Task, run)
			}
			_, err = b.Locker.TryAcquire(lock.WithOwnerTask(ctx, "default", "other"), key, time.Minute)
			le, ok := errors.AsType[*lock.LockedError](err)
			if !ok || le.Task != run || le.Holder == "" {
				t.Fatalf("locked error %#v, want the holder's run %+v", err, run)
			}
			// Wrapped, as SkipLocked and Retry wrap it.
			if le, ok := errors.AsType[*lock.LockedError](task.Skip(fmt.Errorf("retry: %w", err))); !ok || le.Task != run {
				t.Fatalf("a wrapped locked error lost the holder's run: %v", err)
			}
			if !strings.Contains(err.Error(), "(task "+run.String()+")") {
				t.Fatalf("message %q does not name %s", err.Error(), run)
			}
			held := b.Locks(t)
			if len(held) != i+1 || held[i].Key != key || held[i].Task != run {
				t.Fatalf("Held = %+v", held)
			}
		}
		// A lock taken outside a run names none.
		if _, err := b.Locker.TryAcquire(ctx, "plain", time.Minute); err != nil {
			t.Fatal(err)
		}
		_, err := b.Locker.TryAcquire(lock.WithOwnerTask(ctx, "default", "x"), "plain", time.Minute)
		if le, ok := errors.AsType[*lock.LockedError](err); !ok || !le.Task.IsZero() || strings.Contains(err.Error(), "(task ") {
			t.Fatalf("%v: a lock taken outside a run names one", err)
		}
	})
}

func TestTaskRefText(t *testing.T) {
	tests := []struct {
		ref  lock.TaskRef
		text string
	}{
		{lock.TaskRef{Queue: "default", ID: "abc123"}, "default/abc123"},
		{lock.TaskRef{ID: "abc123"}, "abc123"},
		{lock.TaskRef{}, ""},
	}
	for _, tt := range tests {
		if got := tt.ref.String(); got != tt.text {
			t.Errorf("%+v.String() = %q, want %q", tt.ref, got, tt.text)
		}
	}
	e := &lock.LockedError{Key: "report", Holder: "host:4711", Remaining: 1500 * time.Millisecond,
		Task: lock.TaskRef{Queue: "default", ID: "abc123"}}
	if want := `lock "report": held by host:4711 (task default/abc123) (expires in 1.5s)`; e.Error() != want {
		t.Fatalf("%q, want %q", e.Error(), want)
	}
	e.Holder = ""
	if want := `lock "report": held by another owner (task default/abc123)`; e.Error() != want {
		t.Fatalf("%q, want %q", e.Error(), want)
	}
	e.Task = lock.TaskRef{}
	if want := `lock "report": held by another owner`; e.Error() != want {
		t.Fatalf("%q, want %q", e.Error(), want)
	}
}

// WithOwnerTask marks a context once; an empty ID does not mark it.
func TestOwnerTaskContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := lock.OwnerTaskFrom(ctx); ok {
		t.Fatal("a bare context has an owner")
	}
	if got := lock.WithOwnerTask(ctx, "q", ""); got != ctx {
		t.Fatal("an empty ID marked the context")
	}
	marked := lock.WithOwnerTask(ctx, "q", "1")
	if got, ok := lock.OwnerTaskFrom(marked); !ok || got != (lock.TaskRef{Queue: "q", ID: "1"}) {
		t.Fatalf("OwnerTaskFrom = %+v, %v", got, ok)
	}
	if again := lock.WithOwnerTask(marked, "q", "1"); again != marked {
		t.Fatal("the same run marked the context again")
	}
	inner, cancel := context.WithCancel(lock.WithOwnerTask(marked, "q", "2"))
	defer cancel()
	if got, _ := lock.OwnerTaskFrom(inner); got.ID != "2" {
		t.Fatalf("the innermost mark is not the one read: %+v", got)
	}
}

// A Guard's HoldFor records the run, with a backend's Locker and with any
// other one (through the acquire's context); the Hold carries the run to
// the work.
func TestHoldForRecordsRun(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		run := lock.TaskRef{Queue: "default", ID: "r1"}
		for name, l := range map[string]lock.Locker{"backend": b.Locker, "wrapped": struct{ lock.Locker }{b.Locker}} {
			g, err := lock.NewGuard(l)
			if err != nil {
				t.Fatal(err)
			}
			h, err := g.HoldFor(ctx, "k-"+name, run)
			if err != nil {
				t.Fatal(err)
			}
			if h.Lease().Task != run {
				t.Fatalf("%s: lease task %+v", name, h.Lease().Task)
			}
			if got, ok := lock.OwnerTaskFrom(h); !ok || got != run {
				t.Fatalf("%s: the hold carries %+v, %v", name, got, ok)
			}
			_, err = g.Acquire(ctx, "k-"+name)
			if le, ok := errors.AsType[*lock.LockedError](err); !ok || le.Task != run {
				t.Fatalf("%s: the locked error %v does not name %+v", name, err, run)
			}
			if err := h.Release(ctx); err != nil {
				t.Fatal(err)
			}
			// A plain Hold carries no run.
			h, err = g.Hold(ctx, "k-"+name)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := lock.OwnerTaskFrom(h); ok || !h.Lease().Task.IsZero() {
				t.Fatalf("%s: a plain hold carries a run", name)
			}
			if err := h.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}
