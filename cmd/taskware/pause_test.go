package main

import (
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
)

// pause stops workers taking from a queue, resume lets them again; the
// queue's ready tasks wait meanwhile.
func TestPauseResume(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		ctx := t.Context()
		q := e.b.Queue()
		if out := e.cli(t, "pause", "default", "side"); out != "queue default paused\nqueue side paused\n" {
			t.Errorf("pause printed %q", out)
		}
		for _, name := range []string{"default", "side"} {
			if paused, err := q.Paused(ctx, name); err != nil || !paused {
				t.Fatalf("%s: Paused = %v, %v", name, paused, err)
			}
		}
		m := &queue.Message{ID: "p-1", Task: "t", Queue: "default", Payload: []byte("{}"), EnqueuedAt: time.Now(), Attempt: 1}
		if err := q.Enqueue(ctx, m, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if ds, err := q.Take(ctx, "default", "c", 10, 10*time.Millisecond); err != nil || len(ds) != 0 {
			t.Fatalf("Take from a paused queue: %d tasks, %v", len(ds), err)
		}
		if out := e.cli(t, "resume", "default", "--json"); !strings.Contains(out, `"resumed"`) || !strings.Contains(out, `"default"`) {
			t.Errorf("resume --json printed %q", out)
		}
		if ds, err := q.Take(ctx, "default", "c", 10, 0); err != nil || len(ds) != 1 || ds[0].ID != "p-1" {
			t.Fatalf("Take after resume: %d tasks, %v; want p-1", len(ds), err)
		}
		if paused, err := q.Paused(ctx, "side"); err != nil || !paused {
			t.Errorf("side resumed too: %v, %v", paused, err)
		}
		if _, err := e.try(t, "pause"); err == nil || !strings.Contains(err.Error(), "name the queues") {
			t.Errorf("pause without a queue: %v", err)
		}
		if _, err := e.try(t, "pause", "bad{name}"); err == nil {
			t.Error("pause of a queue name with braces passed")
		}
	})
}
