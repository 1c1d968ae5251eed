package redisbackend_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/taskwaretest"
)

// entryMsg makes a stream entry's "m" of parts: the header's attempt,
// deliveries, outages, last kind and error, then the core's ID, task,
// enqueue and expiry times and payload.
func entryMsg(parts ...string) string {
	var b strings.Builder
	b.WriteString("m1")
	for _, p := range parts {
		fmt.Fprintf(&b, "%d:%s", len(p), p)
	}
	return b.String()
}

// An entry that taskware did not write, or whose message does not read,
// is handed out malformed, saying why; a Recover puts it back as it was,
// for a worker to dead-letter.
func TestMalformedEntries(t *testing.T) {
	cases := []struct {
		fields map[string]any
		want   string
	}{
		{map[string]any{"id": "x", "task": "t", "attempt": "1"}, "no message"},
		{map[string]any{"m": "m9whatever"}, "message of an unknown version"},
		{map[string]any{"m": "m13:ab"}, "unreadable message"},
		{map[string]any{"m": entryMsg("x", "1", "0", "", "", "a", "t", "", "", "")}, `attempt "x"`},
		{map[string]any{"m": entryMsg("0", "1", "0", "", "", "b", "t", "", "", "")}, `attempt "0"`},
		{map[string]any{"m": entryMsg("1", "1", "0", "", "", "", "t", "", "", "")}, "no id"},
		{map[string]any{"m": entryMsg("1", "1", "0", "", "", "c", "", "", "", "")}, "no task"},
		{map[string]any{"m": entryMsg("1", "1", "0", "", "", "d", "t", "yesterday", "", "")}, `enq "yesterday"`},
		{map[string]any{"m": entryMsg("1", "1", "0", "", "", "e", "t", "", "", "") + "5:3:abc"}, "unreadable headers"},
	}
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		ctx := t.Context()
		q := b.Redis.Queue()
		rqTake(t, q, "bad", 1) // makes the group
		for _, c := range cases {
			if err := b.Client.XAdd(ctx, &redis.XAddArgs{Stream: b.Prefix() + "queue:{bad}", Values: c.fields}).Err(); err != nil {
				t.Fatal(err)
			}
		}
		check := func(when string) {
			t.Helper()
			ds := rqTake(t, q, "bad", 100)
			if len(ds) != len(cases) {
				t.Fatalf("%s: took %d, want %d", when, len(ds), len(cases))
			}
			for i, d := range ds {
				if d.Malformed == nil || !strings.Contains(d.Malformed.Error(), cases[i].want) {
					t.Errorf("%s: entry %v: malformed %v, want it to say %q", when, cases[i].fields, d.Malformed, cases[i].want)
				}
			}
		}
		check("first take")
		moved, err := q.Recover(ctx, "bad", 0, 100)
		if err != nil || moved != len(cases) {
			t.Fatalf("Recover moved %d, %v; want %d", moved, err, len(cases))
		}
		check("after a Recover")
	})
}
