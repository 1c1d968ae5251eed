package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/taskwaretest"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingRe = regexp.MustCompile(`on (http://\S+/)\n`)

// webServer is a `taskware web` running for a test.
type webServer struct {
	url    string
	out    *syncBuffer
	client *http.Client
	stop   func() error
}

// startWeb runs `taskware web args...` on a free loopback port until the
// test ends, and waits for it to print its URL.
func startWeb(t *testing.T, args ...string) *webServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"web", "--addr", "127.0.0.1:0"}, args...), out, io.Discard) }()
	var once sync.Once
	var stopErr error
	tr := &http.Transport{}
	s := &webServer{out: out, client: &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	s.stop = func() error {
		once.Do(func() {
			tr.CloseIdleConnections()
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(10 * time.Second):
				stopErr = errors.New("taskware web did not stop within 10s of its context's end")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("taskware web: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := servingRe.FindStringSubmatch(out.String()); m != nil {
			s.url = m[1]
			return s
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("taskware web ended: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("taskware web printed no URL:\n%s", out.String())
		}
	}
}

func (s *webServer) get(t *testing.T, path string, user ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	if len(user) == 2 {
		req.SetBasicAuth(user[0], user[1])
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// `taskware web` serves the view of the Redis and prefix it is given, on
// loopback, and stops when its context ends.
func TestWeb(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		s := startWeb(t, "--redis", e.url, "--prefix", e.prefix)
		if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
			t.Errorf("serving on %s, want the loopback", s.url)
		}
		code, body := s.get(t, "")
		if code != http.StatusOK || !strings.Contains(body, `data-testid="queue-default"`) ||
			!strings.Contains(body, `data-testid="pause-default"`) {
			t.Fatalf("GET /: %d\n%s", code, body)
		}
		code, body = s.get(t, "api/overview")
		var o struct {
			Queues []struct {
				Queue                         string
				Ready, Running, Delayed, Dead int
			}
		}
		if err := json.Unmarshal([]byte(body), &o); code != http.StatusOK || err != nil || len(o.Queues) != 2 ||
			o.Queues[0].Ready != 2 || o.Queues[0].Running != 1 || o.Queues[0].Delayed != 1 || o.Queues[1].Dead != 1 {
			t.Errorf("api/overview: %d %v %+v\n%s", code, err, o, body)
		}
		for _, path := range []string{"locks", "dead", "results", "workers", "task?queue=side&id=e-5"} {
			if code, body := s.get(t, path); code != http.StatusOK {
				t.Errorf("GET %s: %d\n%s", path, code, body)
			}
		}
		// An action without its token is refused.
		res, err := s.client.PostForm(s.url+"pause", url.Values{"queue": {"default"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST pause without a token: %d, want 403", res.StatusCode)
		}
		if err := s.stop(); err != nil {
			t.Errorf("taskware web: %v, want nil when stopped", err)
		}
		if !strings.Contains(s.out.String(), "prefix \""+e.prefix+"\"") {
			t.Errorf("output:\n%s", s.out.String())
		}
	})
}

// --read-only and --basic-auth reach the handler; the password is never
// printed.
func TestWebOptions(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	m.RequireAuth("redis-pw-123")
	rawURL := "redis://:redis-pw-123@" + m.Addr() + "/0"
	s := startWeb(t, "--redis", rawURL, "--read-only", "--basic-auth", "admin:web-pw-456")
	if code, _ := s.get(t, ""); code != http.StatusUnauthorized {
		t.Errorf("GET without credentials: %d, want 401", code)
	}
	code, body := s.get(t, "", "admin", "web-pw-456")
	if code != http.StatusOK || !strings.Contains(body, `data-testid="read-only"`) {
		t.Errorf("GET with credentials: %d\n%s", code, body)
	}
	for _, secret := range []string{"redis-pw-123", "web-pw-456"} {
		if strings.Contains(body, secret) || strings.Contains(s.out.String(), secret) {
			t.Errorf("%s shown:\n%s\n%s", secret, s.out.String(), body)
		}
	}
	if !strings.Contains(s.out.String(), "redis://:xxxxx@"+m.Addr()+"/0") || !strings.Contains(s.out.String(), "read-only") {
		t.Errorf("output:\n%s", s.out.String())
	}

	// A wrong password: the error hides the URL's.
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, []string{"web", "--addr", "127.0.0.1:0", "--redis", "redis://:wrong-pw-789@" + m.Addr() + "/0"}, &out, io.Discard)
	if err == nil || strings.Contains(err.Error(), "wrong-pw-789") || strings.Contains(out.String(), "wrong-pw-789") {
		t.Errorf("run with a wrong password: %v\n%s", err, out.String())
	}
}

func TestWebUsage(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer c.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"web", "--basic-auth", "nocolon"}, "--basic-auth takes USER:PASS"},
		{[]string{"web", "--basic-auth", "admin:"}, "--basic-auth takes USER:PASS"},
		{[]string{"web", "extra"}, `unexpected argument "extra"`},
		{[]string{"web", "--bogus"}, "flag provided but not defined"},
		{[]string{"web", "--prefix", "a{b}"}, "a prefix has no braces"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), append(tc.args, "--redis", "redis://"+m.Addr()+"/0"), &out, io.Discard)
		if _, ok := errors.AsType[usageError](err); !ok || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"web", "-h"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "web [--addr") {
		t.Errorf("web -h: %v\n%s", err, out.String())
	}
	// A port taken: an error, not a hang.
	s := startWeb(t, "--redis", "redis://"+m.Addr()+"/0")
	addr := strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/")
	if err := run(t.Context(), []string{"web", "--addr", addr, "--redis", "redis://" + m.Addr() + "/0"}, &out, io.Discard); err == nil {
		t.Errorf("a second server on %s started", addr)
	}
}

// --json and the web view's api/ show a queue, task, dead letter, lock,
// worker, record and a queue's record counts alike: field for field,
// value for value, but for the times that pass between the two reads.
func TestJSONAgreesWithWeb(t *testing.T) {
	cliEach(t, func(t *testing.T, e *cliEnv) {
		e.fill(t)
		s := startWeb(t, "--redis", e.url, "--prefix", e.prefix)
		for _, tc := range []struct {
			cli      []string
			cliPath  []string
			api      string
			apiPath  []string
			sortedBy string
		}{
			{[]string{"queues"}, []string{"queues"}, "api/overview", []string{"queues"}, ""},
			{[]string{"tasks", "--queue", "default", "--state", "running"}, []string{"tasks"}, "api/tasks?queue=default&state=running", []string{"tasks"}, ""},
			{[]string{"tasks", "--queue", "side", "--state", "finished"}, []string{"tasks"}, "api/tasks?queue=side&state=finished", []string{"tasks"}, ""},
			{[]string{"dead", "list", "--queue", "side"}, []string{"dead"}, "api/dead?queue=side", []string{"queues", "0", "letters"}, ""},
			{[]string{"locks", "list"}, []string{"locks"}, "api/locks", []string{"locks"}, ""},
			{[]string{"workers"}, []string{"workers"}, "api/workers", []string{"workers"}, ""},
			{[]string{"results", "stats"}, []string{"stats"}, "api/results", []string{"queues"}, ""},
			{[]string{"results", "list"}, []string{"results"}, "api/results", []string{"recent"}, "id"},
		} {
			cliRows := jsonRows(t, e.cli(t, append(tc.cli, "--json")...), tc.cliPath, tc.sortedBy)
			code, body := s.get(t, tc.api)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", tc.api, code, body)
			}
			apiRows := jsonRows(t, body, tc.apiPath, tc.sortedBy)
			if len(cliRows) == 0 || !reflect.DeepEqual(cliRows, apiRows) {
				t.Errorf("%s --json:\n%v\n%s:\n%v", strings.Join(tc.cli, " "), cliRows, tc.api, apiRows)
			}
		}
	})
}

// jsonRows decodes the rows at path of the JSON document doc, without
// the fields that change from one read to the next (expiries are now
// plus a TTL), sorted by the field
// sortedBy if it is not "".
func jsonRows(t *testing.T, doc string, path []string, sortedBy string) []map[string]any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, _ := strconv.Atoi(p)
			v = x[i]
		}
	}
	list, _ := v.([]any)
	out := make([]map[string]any, len(list))
	for i, r := range list {
		out[i] = r.(map[string]any)
		for _, volatile := range []string{"idle_ms", "remaining_ms", "oldest_ready_ms", "expires_at", "first_expiry", "last_expiry"} {
			delete(out[i], volatile)
		}
	}
	if sortedBy != "" {
		slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(a[sortedBy].(string), b[sortedBy].(string)) })
	}
	return out
}
