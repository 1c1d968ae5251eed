package main

import (
	"strings"
	"testing"
)

// queues partition sets a queue's count and says what changes; queues
// shows it in PARTS; lowering it says the retired partitions are drained;
// a count out of range, or no count, is refused.
func TestQueuesPartition(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		out := e.cli(t, "queues", "partition", "default", "3")
		if !strings.Contains(out, "queue default: 1 -> 3 partitions") || !strings.Contains(out, "spread over partitions 0-2") {
			t.Fatalf("queues partition default 3 printed:\n%s", out)
		}
		lines := strings.Split(strings.TrimSpace(e.cli(t, "queues")), "\n")
		if got := strings.Fields(lines[1]); got[0] != "default" || got[1] != "3" {
			t.Fatalf("queues: %q, want default with 3 parts", lines[1])
		}
		if got := strings.Fields(lines[2]); got[0] != "side" || got[1] != "1" {
			t.Fatalf("queues: %q, want side with 1 part", lines[2])
		}
		out = e.cli(t, "queues", "partition", "default", "2")
		if !strings.Contains(out, "queue default: 3 -> 2 partitions") || !strings.Contains(out, "what is left in partition 2 is drained") {
			t.Fatalf("queues partition default 2 printed:\n%s", out)
		}
		for _, args := range [][]string{
			{"queues", "partition", "default"},
			{"queues", "partition", "default", "x"},
			{"queues", "partition", "default", "65"},
			{"queues", "partition", "default", "0"},
			{"queues", "partition", "a#b", "2"},
		} {
			if out, err := e.try(t, args...); err == nil {
				t.Errorf("taskware %s: no error; printed:\n%s", strings.Join(args, " "), out)
			}
		}
	})
}
