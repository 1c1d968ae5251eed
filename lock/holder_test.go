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
// in the LockedError another owner meets, whose text names it too, so that
// a failure rebuilt from the stored text still does.
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
			if got, ok := lock.HolderTask(err); !ok || got != run {
				t.Fatalf("HolderTask = %+v, %v", got, ok)
			}
			if !strings.Contains(err.Error(), "(task "+run.String()+")") {
				t.Fatalf("message %q does not name %s", err.Error(), run)
			}
			// As a worker's Handle.Get returns a skip: the kind and the text.
			stored := task.Skip(&task.Failure{Kind: task.KindOf(err), Message: err.Error()})
			if got, ok := lock.HolderTask(stored); !ok || got != run {
				t.Fatalf("HolderTask of the stored skip %q = %+v, %v", stored, got, ok)
			}
			if got, ok := lock.ParseHolderTask("task: skipped: " + err.Error()); !ok || got != run {
				t.Fatalf("ParseHolderTask = %+v, %v", got, ok)
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
		if _, ok := lock.HolderTask(err); ok {
			t.Fatal("HolderTask found a run for a lock taken outside one")
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
		{lock.TaskRef{Queue: "mail", ID: "a/b"}, `mail/"a/b"`},
		{lock.TaskRef{Queue: "a b", ID: "x)"}, `"a b"/"x)"`},
		{lock.TaskRef{}, ""},
	}
	for _, tt := range tests {
		if got := tt.ref.String(); got != tt.text {
			t.Errorf("%+v.String() = %q, want %q", tt.ref, got, tt.text)
		}
		e := &lock.LockedError{Key: "k", Holder: "h:1", Remaining: time.Second, Task: tt.ref}
		got, ok := lock.ParseHolderTask(e.Error())
		if ok != !tt.ref.IsZero() || got != tt.ref {
			t.Errorf("ParseHolderTask(%q) = %+v, %v", e.Error(), got, ok)
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
	// Text that only looks like it is not read as a run.
	for _, msg := range []string{
		`lock "k (task a/b)": held by another owner`,
		`lock "k": held by h (task )`, `lock "k": held by h (task a/)`, `lock "k": held by h (task a`,
		`lock "k": held by h (task "a/b)`, "held by h (task a/b)", `lock "k": held by h; lock "j": held (task a/b)`,
		"nothing here",
	} {
		if got, ok := lock.ParseHolderTask(msg); ok {
			t.Errorf("ParseHolderTask(%q) = %+v, want none", msg, got)
		}
	}
	// Inside a longer text, after a LockedError that names none.
	msg := `retry could not run (lock "a": held by another owner); last failure: lock "b": held by h:1 (task q/7) (expires in 1s)`
	if got, ok := lock.ParseHolderTask(msg); !ok || got != (lock.TaskRef{Queue: "q", ID: "7"}) {
		t.Errorf("ParseHolderTask(%q) = %+v, %v", msg, got, ok)
	}
	// A skip whose holder is unknown, and an error of another kind.
	if _, ok := lock.HolderTask(task.Skip(&task.Failure{Kind: "other", Message: "held by x (task q/i)"})); ok {
		t.Fatal("HolderTask read the run from a failure of another kind")
	}
	if _, ok := lock.HolderTask(nil); ok {
		t.Fatal("HolderTask(nil) found a run")
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

// A Guard's HoldFor records the run with a TaskLocker, and with any other
// Locker through the context; the Hold carries the run to the work.
func TestHoldForRecordsRun(t *testing.T) {
	taskwaretest.Each(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := context.Background()
		run := lock.TaskRef{Queue: "default", ID: "r1"}
		for name, l := range map[string]lock.Locker{"TaskLocker": b.Locker, "plain Locker": struct{ lock.Locker }{b.Locker}} {
			if _, ok := l.(lock.TaskLocker); ok != (name == "TaskLocker") {
				t.Fatalf("%s: TaskLocker %v", name, ok)
			}
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
			if got, ok := lock.HolderTask(func() error { _, err := g.Acquire(ctx, "k-"+name); return err }()); !ok || got != run {
				t.Fatalf("%s: the locked error names %+v, %v", name, got, ok)
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
