package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"redis://u:secret@h:6379/0", "redis://u:xxxxx@h:6379/0"},
		{"redis://:secret@127.0.0.1:1/0", "redis://:xxxxx@127.0.0.1:1/0"},
		{"redis://u:se%3Acret@h/0", "redis://u:xxxxx@h/0"},
		{"redis://u:secret@h/0?password=secret&db=1", "redis://u:xxxxx@h/0?db=1&password=xxxxx"},
		{"redis://u:p@ss@h/0", "redis://u:xxxxx@h/0"},
		// Not a URL: all between "://" and the last "@" goes.
		{"redis://u:secret@[::1", "redis://xxxxx@[::1"},
		{"rediss://u:secret@host:badport", "rediss://xxxxx@host:badport"},
		{"redis://u:secret@[::1?password=secret", "redis://xxxxx@[::1?password=xxxxx"},
		// Nothing to hide.
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://u@h/0", "redis://u@h/0"},
		{"::", "::"},
		{"", ""},
	} {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactKeepsUsageErrors(t *testing.T) {
	const u = "redis://u:secret@h/0"
	if err := redact(nil, u); err != nil {
		t.Errorf("redact(nil) = %v", err)
	}
	plain := errors.New("boom")
	if err := redact(plain, u); err != plain {
		t.Errorf("redact of an error without the password = %v, want it unchanged", err)
	}
	err := redact(usageError{fmt.Errorf("--redis: %q and se%%3Acret", u)}, u)
	if _, ok := errors.AsType[usageError](err); !ok || strings.Contains(err.Error(), "secret") {
		t.Errorf("redact(usage error) = %#v, want a usage error without the password", err)
	}
	if want := `--redis: "redis://u:xxxxx@h/0" and se%3Acret`; err.Error() != want {
		t.Errorf("redact(usage error) = %q, want %q", err, want)
	}
}

// TestRunHidesPasswords runs the CLI with bad or unreachable URLs, and
// checks that no password shows in its error, its output, or what go-redis
// logs.
func TestRunHidesPasswords(t *testing.T) {
	logs := &logBuffer{}
	redis.SetLogger(logs)
	t.Cleanup(logging.Enable) // go-redis's own logger again

	for _, tc := range []struct {
		name string
		url  string
		code int
		// secrets must not show; the password is "secret" unless said.
		secrets []string
	}{
		{"unreachable", "redis://:secret@127.0.0.1:1/0", 1, nil},
		{"unreachable with user", "redis://u:secret@127.0.0.1:1/0", 1, nil},
		{"unclosed IPv6 host", "redis://u:secret@[::1", 2, nil},
		{"bad port", "rediss://u:secret@host:badport", 2, nil},
		{"escaped password", "redis://u:se%3Acret@[::1/0", 2, []string{"se%3Acret", "se:cret"}},
		{"escaped password, unreachable", "redis://u:se%3Acret@127.0.0.1:1/0", 1, []string{"se%3Acret", "se:cret"}},
		{"password parameter", "redis://127.0.0.1:1/0?password=secret", 2, nil},
		{"password parameter, bad URL", "redis://u:secret@[::1/0?password=secret", 2, nil},
		{"bad database", "redis://u:secret@127.0.0.1:1/x", 2, nil},
		{"unknown scheme", "http://u:secret@127.0.0.1:1/0", 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secrets := tc.secrets
			if secrets == nil {
				secrets = []string{"secret"}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			var out, stderr bytes.Buffer
			logs.Reset()
			err := run(ctx, []string{"demo", "--tasks", "1", "--redis", tc.url}, &out, io.Discard)
			code := exitCode(err, &stderr)
			t.Logf("exit %d: %v", code, err)
			if code != tc.code {
				t.Errorf("exit code %d, want %d (error: %v)", code, tc.code, err)
			}
			for _, s := range secrets {
				for what, text := range map[string]string{
					"the error": fmt.Sprint(err), "stdout": out.String(), "stderr": stderr.String(), "go-redis's log": logs.String(),
				} {
					if strings.Contains(text, s) {
						t.Errorf("%s shows %q:\n%s", what, s, text)
					}
				}
			}
		})
	}
}

// logBuffer is a go-redis logger that keeps what it is told.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Printf(_ context.Context, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, format+"\n", v...)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}
