package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// The Store's promises are the conformance suite in package
// store/storetest, which each backend runs. These test the package's own
// functions.

func TestValidatePut(t *testing.T) {
	rec := func(id string) *store.Record {
		return &store.Record{Queue: "q", ID: id, Task: "t", Status: store.Succeeded, Value: []byte("1")}
	}
	cases := []struct {
		name       string
		rec        *store.Record
		ttl        time.Duration
		wantConfig bool // the error matches task.ErrInvalidConfig
	}{
		{"nil record", nil, time.Hour, false},
		{"empty ID", rec(""), time.Hour, false},
		{"zero TTL", rec("zero-ttl"), 0, true},
		{"negative TTL", rec("negative-ttl"), -time.Second, true},
		// A brace would break the Redis key's hash tag, and with it every
		// List: the queue names of queue.ValidateName have none.
		{"brace in queue", &store.Record{Queue: "a}b", ID: "x", Status: store.Succeeded}, time.Hour, true},
		{"opening brace in queue", &store.Record{Queue: "{a", ID: "x", Status: store.Succeeded}, time.Hour, true},
	}
	for _, c := range cases {
		err := store.ValidatePut(c.rec, c.ttl)
		if err == nil || c.wantConfig != errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("%s: ValidatePut = %v, want an error (config: %v)", c.name, err, c.wantConfig)
		}
	}
	if err := store.ValidatePut(rec("good"), time.Nanosecond); err != nil {
		t.Errorf("ValidatePut of a good record = %v", err)
	}
}

// Record.Err rebuilds a stored outcome: nil for a success, the failure's
// kind and text, a skip that matches task.ErrSkipped too.
func TestRecordErr(t *testing.T) {
	if err := (&store.Record{Status: store.Succeeded}).Err(); err != nil {
		t.Errorf("Err of a success = %v", err)
	}
	failed := (&store.Record{Status: store.Failed, Kind: "lock.locked", Error: "held"}).Err()
	if f, ok := errors.AsType[*task.Failure](failed); !ok || f.Kind != "lock.locked" || failed.Error() != "held" || task.IsSkipped(failed) {
		t.Errorf("Err of a failure = %#v", failed)
	}
	skipped := (&store.Record{Status: store.Skipped, Kind: "lock.locked", Error: "held"}).Err()
	if f, ok := errors.AsType[*task.Failure](skipped); !ok || f.Kind != "lock.locked" || !task.IsSkipped(skipped) || skipped.Error() != "task: skipped: held" {
		t.Errorf("Err of a skip = %#v; want a skip of a lock.locked failure", skipped)
	}
}

func TestCompare(t *testing.T) {
	r := func(name, id string) *store.Record { return &store.Record{Queue: name, ID: id} }
	cases := []struct {
		a, b *store.Record
		want int
	}{
		{r("", "b"), r("a", "a"), -1}, // queue first
		{r("a", "b"), r("a", "a"), 1},
		{r("a", "a"), r("a", "a"), 0},
		{r("a", "z"), r("b", "a"), -1},
		{r("a:b", "c"), r("a", "b:c"), 1},
	}
	for _, c := range cases {
		if got := store.Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%+v, %+v) = %d, want %d", *c.a, *c.b, got, c.want)
		}
		if got := store.Compare(c.b, c.a); got != -c.want {
			t.Errorf("Compare(%+v, %+v) = %d, want %d", *c.b, *c.a, got, -c.want)
		}
	}
}
