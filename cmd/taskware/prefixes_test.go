package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

func TestKeyPrefix(t *testing.T) {
	for key, want := range map[string]string{
		"taskware:queue:{default}":          "taskware:",
		"taskware:queue:{default}:task:e-1": "taskware:",
		"app:lock:{report:acct-1}":          "app:",
		"a:b:result:{q}:id":                 "a:b:",
		"x:sem:{k}":                         "x:",
		"x:rate:{k}":                        "x:",
		"app:schedule:{schedule}:version":   "app:",
		"queue:{q}":                         "",
		"my:queue:queue:{q}":                "my:queue:",
	} {
		if got, ok := keyPrefix(key); !ok || got != want {
			t.Errorf("keyPrefix(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	for _, key := range []string{"session:42", "cache:{user}", "taskware:done", "lock"} {
		if p, ok := keyPrefix(key); ok {
			t.Errorf("keyPrefix(%q) = %q, want no taskware key", key, p)
		}
	}
}

// The prefix most like the one asked comes first, then those with most
// keys.
func TestPrefixRanking(t *testing.T) {
	s := prefixScan{keys: map[string]int{"a:": 1, "taskwar:": 1, "big:": 100, "tusk:": 3}}
	want := []string{"taskwar:", "tusk:", "big:", "a:"}
	if got := s.ranked("taskware:"); !slices.Equal(got, want) {
		t.Errorf("ranked = %q, want %q", got, want)
	}
}

// A look at the keys stops after so many keys, and says it did; on a
// real Redis (miniredis's SCAN returns every key at once, whatever its
// COUNT).
func TestScanPrefixesIsBounded(t *testing.T) {
	c, _ := taskwaretest.Redis(t)
	prefix := "tw-cli-scan-" + randid.New()[:8] + ":"
	t.Cleanup(func() { taskwaretest.DeletePrefix(t, c, prefix) })
	p := c.Pipeline()
	for i := range 3000 {
		p.Set(t.Context(), fmt.Sprintf("%slock:{k%d}", prefix, i), "x", time.Hour)
	}
	if _, err := p.Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	s, err := scanPrefixes(t.Context(), c, 10, time.Minute)
	if err != nil || s.whole || s.scanned >= 3000 || s.scanned < 10 {
		t.Errorf("scan of 10 keys at most: scanned %d, whole %v, %v; want 10 or a few more", s.scanned, s.whole, err)
	}
	s, err = scanPrefixes(t.Context(), c, 10_000_000, time.Minute)
	if err != nil || !s.whole || s.scanned < 3000 || s.keys[prefix] != 3000 {
		t.Errorf("whole scan: scanned %d, whole %v, %d under %s, %v; want all 3000", s.scanned, s.whole, s.keys[prefix], prefix, err)
	}
}

// With a prefix that holds no keys, every listing says so on stderr and
// names the prefix that holds the app's keys, first; stdout stays one
// table or one JSON document. With the app's prefix, nothing is noted.
func TestEmptyPrefixNote(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		app, empty := e.prefix+"app:", e.prefix+"apq:"
		b := redisbackend.New(e.client, redisbackend.Prefix(app))
		ctx := t.Context()
		if err := b.Queue().Enqueue(ctx, &queue.Message{ID: "t-1", Task: "report", Queue: "default", Attempt: 1}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Locker().TryAcquire(ctx, "report", time.Minute); err != nil {
			t.Fatal(err)
		}
		run := func(t *testing.T, prefix string, args ...string) (stdout, stderr string, code int) {
			var o, s bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			code = cli(ctx, append(args, "--redis", e.url, "--prefix", prefix), &o, &s)
			return o.String(), s.String(), code
		}
		for _, args := range [][]string{
			{"queues"}, {"queues", "--json"}, {"tasks", "--queue", "default", "--state", "ready"},
			{"task", "t-1"}, {"dead"}, {"locks"}, {"locks", "--json"}, {"results"}, {"results", "stats"},
			{"workers"}, {"dead", "purge"}, {"results", "purge"}, {"locks", "break", "report"},
		} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				stdout, stderr, code := run(t, empty, args...)
				note := "taskware: no keys under the prefix " + quote(empty)
				if !strings.Contains(stderr, note) {
					t.Errorf("stderr lacks %q:\n%s", note, stderr)
				}
				_, list, _ := strings.Cut(stderr, "say which with --prefix:\n")
				if !strings.HasPrefix(list, "  "+quote(app)) {
					t.Errorf("stderr does not name %q first:\n%s", app, stderr)
				}
				if strings.Contains(stdout, "taskware:") && !slices.Contains(args, "--json") {
					t.Errorf("the note went to stdout:\n%s", stdout)
				}
				if slices.Contains(args, "--json") {
					var doc map[string]any
					if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
						t.Errorf("stdout is no JSON document: %v\n%s", err, stdout)
					}
				}
				if want := 0; args[0] == "task" || args[0] == "locks" && len(args) > 1 && args[1] == "break" {
					if code != 1 {
						t.Errorf("exit status %d, want 1 (not found)", code)
					}
				} else if code != want {
					t.Errorf("exit status %d, want %d\n%s", code, want, stderr)
				}
			})
		}
		for _, args := range [][]string{{"queues"}, {"dead"}, {"results"}, {"task", "nope"}} {
			if _, stderr, _ := run(t, app, args...); strings.Contains(stderr, "no keys under") {
				t.Errorf("%q with the app's prefix notes no keys:\n%s", args, stderr)
			}
		}
	})
}

// On a Redis without taskware's keys, the note says there are none.
func TestEmptyPrefixNoteOnEmptyRedis(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	m.Set("session:1", "x")
	var o, s bytes.Buffer
	if code := cli(t.Context(), []string{"queues", "--redis", "redis://" + m.Addr()}, &o, &s); code != 0 {
		t.Fatalf("exit %d: %s", code, s.String())
	}
	want := "taskware: no keys under the prefix \"taskware:\"\ntaskware: nor any of taskware's under another prefix\n"
	if s.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", s.String(), want)
	}
}
