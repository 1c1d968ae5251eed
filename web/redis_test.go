package web

import (
	"net/http"
	"strings"
	"testing"
)

// The Redis page shows the server and counts taskware's keys by kind; on
// the memory backend it says there is no Redis.
func TestRedisPage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		body := e.page(t, "redis")
		if !strings.Contains(body, `data-testid="nav-redis"`) || !strings.Contains(body, `aria-current="page" data-testid="nav-redis"`) {
			t.Error("the Redis page is not marked in the navigation")
		}
		var d redisData
		e.api(t, "redis", &d)
		if e.kind == "memory" {
			if d.Supported || !strings.Contains(body, `data-testid="not-redis"`) {
				t.Fatalf("memory backend: %+v; want the page to say it is not Redis", d)
			}
			return
		}
		if !d.Supported || d.Server == nil || d.Server.Partial {
			t.Fatalf("api/redis = %+v; want the server, counted whole", d)
		}
		wantCell(t, body, "kind-lock", "count", "2")
		wantCell(t, body, "kind-delayed", "count", "1")
		wantCell(t, body, "kind-dead", "count", "1")
		if d.Server.Keys["state"] < 4 || d.Server.Keys["stream"] < 2 || d.Server.Keys["result"] < 1 {
			t.Errorf("keys %v; want the seeded states, streams and results", d.Server.Keys)
		}
		if e.kind == "redis" && (cell(t, body, "", "version") == "" || !strings.Contains(cell(t, body, "", "used-memory"), "iB")) {
			t.Error("a real Redis's page shows no version or memory")
		}
	})
}

// A partial count shows as a least number.
func TestRedisPartialKeys(t *testing.T) {
	e := newEnv(t, "miniredis")
	e.seed(t)
	si, err := e.src.Queue.ServerInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	si.Partial = true
	var b strings.Builder
	v := &view{Title: "Redis", Nav: "redis", Data: &redisData{Supported: true, Server: si}, template: "redis"}
	if err := e.h.pages["redis"].ExecuteTemplate(&b, "layout", v); err != nil {
		t.Fatal(err)
	}
	if got := cell(t, b.String(), "kind-lock", "count"); got != "≥2" {
		t.Errorf("a partial count shows %q, want ≥2", got)
	}
	if code, _ := e.get(t, "redis"); code != http.StatusOK {
		t.Errorf("GET redis: %d", code)
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
