package queue_test

import (
	"testing"

	"github.com/taskware/taskware/queue"
)

func TestPartitionNames(t *testing.T) {
	for _, c := range []struct {
		queue string
		i     int
		name  string
	}{{"jobs", 0, "jobs"}, {"jobs", 1, "jobs#1"}, {"jobs", 12, "jobs#12"}} {
		if got := queue.PartitionName(c.queue, c.i); got != c.name {
			t.Errorf("PartitionName(%q, %d) = %q, want %q", c.queue, c.i, got, c.name)
		}
		if q, i := queue.SplitPartition(c.name); q != c.queue || i != c.i {
			t.Errorf("SplitPartition(%q) = %q, %d; want %q, %d", c.name, q, i, c.queue, c.i)
		}
	}
	for _, odd := range []string{"jobs#", "jobs#x", "jobs#0", "jobs#-1"} {
		if q, i := queue.SplitPartition(odd); q != odd || i != 0 {
			t.Errorf("SplitPartition(%q) = %q, %d; want it whole, 0", odd, q, i)
		}
	}
	if err := queue.ValidateName("jobs#1"); err == nil {
		t.Error("ValidateName accepted a '#'")
	}
}

func TestPartitionForSpreads(t *testing.T) {
	const n, keys = 3, 3000
	var per [n]int
	for i := range keys {
		p := queue.PartitionFor("task-"+string(rune('a'+i%26))+string(rune(i)), n)
		if p < 0 || p >= n {
			t.Fatalf("PartitionFor = %d, out of 0..%d", p, n-1)
		}
		per[p]++
	}
	for p, c := range per {
		if c < keys/n*8/10 || c > keys/n*12/10 {
			t.Errorf("partition %d got %d of %d keys: %v, want each within 20%% of %d", p, c, keys, per, keys/n)
		}
	}
	if queue.PartitionFor("x", 1) != 0 || queue.PartitionFor("x", 0) != 0 {
		t.Error("PartitionFor with n <= 1 is not 0")
	}
	if a, b := queue.PartitionFor("same", 5), queue.PartitionFor("same", 5); a != b {
		t.Error("PartitionFor is not stable")
	}
}

func TestRouteKey(t *testing.T) {
	for _, c := range []struct {
		m    queue.Message
		want string
	}{
		{queue.Message{ID: "id"}, "id"},
		{queue.Message{ID: "id", Unique: "u"}, "u"},
		{queue.Message{ID: "id", Unique: "u", Group: "g"}, "g"},
		{queue.Message{ID: "id", Unique: "u", Group: "g", OrderKey: "o"}, "o"},
	} {
		if got := c.m.RouteKey(); got != c.want {
			t.Errorf("RouteKey(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}
