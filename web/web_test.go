package web

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// xss is what the seed hides in a task's name, error and arguments, a
// lock's key and holder, and a record's error.
const xss = "<script>alert(1)</script>"

// backend is what seed needs of a backend.
type backend struct {
	q      queue.Queue
	locker lock.Locker
	store  store.Store
}

// env is a web view on a seeded backend, served under /admin/ by a test
// server, and a client that keeps its cookies and follows no redirect.
type env struct {
	kind   string // memory, miniredis or redis
	src    Source
	b      backend
	h      *handler
	srv    *httptest.Server
	client *http.Client
}

// each runs fn on a memory backend, a miniredis and the real Redis, each
// seeded, served with opts.
func each(t *testing.T, fn func(t *testing.T, e *env), opts ...Option) {
	t.Helper()
	for _, kind := range []string{"memory", "miniredis", "redis"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, opts...)
			e.seed(t)
			fn(t, e)
		})
	}
}

func newEnv(t *testing.T, kind string, opts ...Option) *env {
	t.Helper()
	e := &env{kind: kind}
	holder := "web-test " + xss
	if kind == "memory" {
		mb := memorybackend.New(memorybackend.Holder(holder))
		e.src, e.b = FromBackend(mb), backend{mb.Queue(), mb.Locker(), mb.Store()}
	} else {
		var c *redis.Client
		if kind == "miniredis" {
			m := taskwaretest.Miniredis(t)
			c = redis.NewClient(&redis.Options{Addr: m.Addr()})
			t.Cleanup(func() { c.Close() })
		} else {
			c, _ = taskwaretest.Redis(t)
		}
		base, _, _ := strings.Cut(t.Name(), "/")
		prefix := "tw-web-" + strings.TrimPrefix(base, "Test") + "-" + randid.New()[:8] + ":"
		t.Cleanup(func() { taskwaretest.DeletePrefix(t, c, prefix) })
		rb := redisbackend.New(c, redisbackend.Prefix(prefix), redisbackend.Holder(holder))
		e.src, e.b = FromBackend(rb), backend{rb.Queue(), rb.Locker(), rb.Store()}
	}
	e.serve(t, New(e.src, opts...))
	return e
}

// serve serves h under /admin/.
func (e *env) serve(t *testing.T, h http.Handler) {
	e.h = h.(*handler)
	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", h))
	srv := httptest.NewServer(mux)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.srv, e.client = srv, client
	t.Cleanup(func() { // these, not e's: serve may be called again
		client.CloseIdleConnections()
		srv.Close()
	})
}

// seed gives the backend, through the worker's API:
//
//   - queue "default": e-1 running (taken by worker-1, not finished), e-2
//     and e-3 ready, e-4 delayed by an hour (with a header);
//   - queue "side", drained by a worker "w-side": ghost-1, of a task no
//     worker knows, dead-lettered; e-5 succeeded, its result stored; evil-1
//     of the task named "evil"+xss with xss as arguments, failed for good
//     with xss as its error, dead-lettered, its failure stored;
//   - a failure of a run in-process stored; the lock "report:acct-1" held
//     for task e-1 of "default", and a lock whose key is xss; the locks'
//     holder holds xss too.
func (e *env) seed(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	q, s := e.b.q, e.b.store
	email := task.New("email", func(ctx context.Context, to string) (string, error) { return "sent to " + to, nil },
		middleware.StoreResult(s))
	ghost := task.New("ghost", func(ctx context.Context, to string) (string, error) { return "", nil })
	evil := task.New("evil"+xss, func(ctx context.Context, arg string) (string, error) {
		return "", task.Permanent(errors.New(xss))
	}, middleware.StoreResult(s))
	c := worker.NewClient(q, s)
	for _, id := range []string{"e-1", "e-2", "e-3"} {
		_, err := worker.Enqueue(ctx, c, email, id+"@example.com", worker.ID(id))
		must(err)
	}
	_, err := worker.Enqueue(ctx, c, email, "later@example.com", worker.ID("e-4"), worker.Delay(time.Hour),
		worker.Headers(map[string]string{"trace": "t-4"}))
	must(err)
	ds, err := q.Take(ctx, "default", "worker-1", 1, 0)
	must(err)
	if len(ds) != 1 || ds[0].ID != "e-1" {
		t.Fatalf("took %+v, want e-1", ds)
	}

	w := worker.New(q, worker.Queues("side"), worker.Name("w-side"), worker.Concurrency(1),
		worker.PollWait(20*time.Millisecond), worker.OnError(func(error) {}))
	worker.Register(w, email)
	worker.Register(w, evil)
	stop := taskwaretest.Start(t, w)
	hg, err := worker.Enqueue(ctx, c, ghost, "nobody", worker.ID("ghost-1"), worker.OnQueue("side"))
	must(err)
	if _, err := hg.Get(ctx); !errors.Is(err, queue.ErrDeadLettered) {
		t.Fatalf("ghost-1: %v, want it dead-lettered", err)
	}
	he, err := worker.Enqueue(ctx, c, email, "e-5@example.com", worker.ID("e-5"), worker.OnQueue("side"))
	must(err)
	if _, err := he.Get(ctx); err != nil {
		t.Fatalf("e-5: %v", err)
	}
	hv, err := worker.Enqueue(ctx, c, evil, xss, worker.ID("evil-1"), worker.OnQueue("side"))
	must(err)
	if _, err := hv.Get(ctx); !errors.Is(err, queue.ErrDeadLettered) {
		t.Fatalf("evil-1: %v, want it dead-lettered", err)
	}
	stop()

	must(s.Put(ctx, &store.Record{ID: "in-1", Task: "report", Status: store.Failed, Attempt: 1, Kind: "lock.locked",
		Error: "lock report:acct-1 is held"}, time.Hour))
	_, err = e.b.locker.TryAcquire(lock.WithOwnerTask(ctx, "default", "e-1"), "report:acct-1", time.Minute)
	must(err)
	_, err = e.b.locker.TryAcquire(ctx, xss, time.Minute)
	must(err)
}

// get fetches path under the mount point.
func (e *env) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := e.client.Get(e.srv.URL + "/admin/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// page fetches path and fails t unless it is 200.
func (e *env) page(t *testing.T, path string) string {
	t.Helper()
	code, body := e.get(t, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	return body
}

// api fetches api/path into v.
func (e *env) api(t *testing.T, path string, v any) {
	t.Helper()
	body := e.page(t, "api/"+path)
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("api/%s: %v\n%s", path, err, body)
	}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token returns the CSRF token of a page, and so sets the cookie.
func (e *env) token(t *testing.T, path string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(e.page(t, path))
	if m == nil {
		t.Fatalf("%s has no form token", path)
	}
	return m[1]
}

// cookieToken returns the token of the client's CSRF cookie, which a
// page sets, made as the handler makes it: for pages that show no form.
func (e *env) cookieToken(t *testing.T) string {
	t.Helper()
	e.page(t, "")
	u, _ := url.Parse(e.srv.URL + "/admin/")
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == csrfCookie {
			return e.h.tokenOf(c.Value)
		}
	}
	t.Fatal("no CSRF cookie")
	return ""
}

// post posts form to path with the test server's own Origin unless
// header says otherwise, and returns the status and Location.
func (e *env) post(t *testing.T, path string, form url.Values, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/"+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("Location")
}

// act posts form to path with a token, and fails t unless it redirects.
func (e *env) act(t *testing.T, path string, form url.Values) string {
	t.Helper()
	form.Set("csrf", e.token(t, ""))
	code, loc := e.post(t, path, form)
	if code != http.StatusSeeOther {
		t.Fatalf("POST %s %v: %d, want 303", path, form, code)
	}
	return loc
}

// cell returns the text of the first element marked data-testid=id after
// the one marked data-testid=row ("" for the page's start): its content,
// tags stripped, unescaped and trimmed.
func cell(t *testing.T, body, row, id string) string {
	t.Helper()
	at := 0
	if row != "" {
		at = strings.Index(body, `data-testid="`+row+`"`)
		if at < 0 {
			t.Fatalf("no data-testid=%q in\n%s", row, body)
		}
	}
	i := strings.Index(body[at:], `data-testid="`+id+`"`)
	if i < 0 {
		t.Fatalf("no data-testid=%q after %q in\n%s", id, row, body)
	}
	i += at
	open := strings.LastIndexByte(body[:i], '<')
	tag := strings.FieldsFunc(body[open+1:i], func(r rune) bool { return r == ' ' || r == '>' })[0]
	start := i + strings.IndexByte(body[i:], '>') + 1
	end := strings.Index(body[start:], "</"+tag+">")
	if end < 0 {
		t.Fatalf("data-testid=%q: no </%s>", id, tag)
	}
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body[start:start+end], "")
	return strings.TrimSpace(html.UnescapeString(text))
}

func wantCell(t *testing.T, body, row, id, want string) {
	t.Helper()
	if got := cell(t, body, row, id); got != want {
		t.Errorf("%s %s: %q, want %q", row, id, got, want)
	}
}

// Every page renders, and its numbers are the seed's.
func TestPages(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		body := e.page(t, "")
		for _, c := range [][3]string{
			{"queue-default", "ready", "2"}, {"queue-default", "running", "1"}, {"queue-default", "delayed", "1"},
			{"queue-default", "dead", "0"}, {"queue-default", "workers", "1"}, {"queue-default", "paused", "no"},
			{"queue-side", "ready", "0"}, {"queue-side", "dead", "2"}, {"queue-side", "workers", "0"},
		} {
			wantCell(t, body, c[0], c[1], c[2])
		}
		if !strings.Contains(body, `<title>Overview · taskware</title>`) {
			t.Errorf("overview's title is wrong:\n%s", body)
		}

		body = e.page(t, "tasks?queue=default&state=ready")
		wantCell(t, body, "", "listed", "2")
		wantCell(t, body, "task-e-2", "name", "email")
		wantCell(t, body, "task-e-3", "status", "queued")
		body = e.page(t, "tasks?queue=default&state=delayed")
		wantCell(t, body, "task-e-4", "attempt", "1")
		body = e.page(t, "tasks?queue=default&state=running")
		wantCell(t, body, "", "listed", "1")
		body = e.page(t, "tasks?queue=side&state=finished")
		wantCell(t, body, "task-e-5", "status", "succeeded")
		wantCell(t, body, "task-ghost-1", "status", "dead")
		e.page(t, "tasks")

		body = e.page(t, "task?queue=side&id=e-5")
		for field, want := range map[string]string{"id": "e-5", "name": "email", "queue": "side", "status": "succeeded",
			"attempt": "1", "result": "stored", "record-status": "succeeded", "record-value": `"sent to e-5@example.com"`} {
			wantCell(t, body, "", "task-"+field, want)
		}
		body = e.page(t, "task?queue=default&id=e-4")
		wantCell(t, body, "", "task-status", "scheduled")
		if !strings.Contains(body, `data-testid="task-run-at"`) || !strings.Contains(body, `data-testid="action-cancel"`) {
			t.Errorf("a delayed task's page lacks its due time or cancel button:\n%s", body)
		}
		body = e.page(t, "task?id=ghost-1") // any queue
		wantCell(t, body, "", "task-queue", "side")
		wantCell(t, body, "", "task-kind", "worker.unknown_task")
		wantCell(t, body, "", "task-args", `"nobody"`)
		if code, _ := e.get(t, "task?queue=side&id=nope"); code != http.StatusNotFound {
			t.Errorf("an unknown task's page: %d, want 404", code)
		}

		body = e.page(t, "dead")
		wantCell(t, body, "", "dead-total", "2")
		wantCell(t, body, "dead-ghost-1", "kind", "worker.unknown_task")
		wantCell(t, body, "dead-evil-1", "reason", xss)
		if !strings.Contains(body, `data-testid="requeue-ghost-1"`) || !strings.Contains(body, `data-testid="purge-ghost-1"`) {
			t.Errorf("a dead letter's buttons are not shown:\n%s", body)
		}

		body = e.page(t, "locks")
		wantCell(t, body, "", "locks-count", "2")
		wantCell(t, body, "lock-report:acct-1", "task", "default/e-1")
		wantCell(t, body, "lock-report:acct-1", "holder", "web-test "+xss)
		if f := cell(t, body, "lock-report:acct-1", "fence"); f == "" || f == "0" {
			t.Errorf("fence %q", f)
		}
		if !strings.Contains(body, `href="task?queue=default&amp;id=e-1"`) ||
			!strings.Contains(body, `data-testid="break-report:acct-1"`) {
			t.Errorf("the lock's row lacks its task's link or its break button:\n%s", body)
		}

		body = e.page(t, "results")
		for _, c := range [][2]string{{"side-succeeded", "1"}, {"side-failed", "1"}, {"side-skipped", "0"},
			{"side-total", "2"}, {"-failed", "1"}, {"-total", "1"}} {
			wantCell(t, body, "", "results-"+c[0], c[1])
		}
		wantCell(t, body, "", "results-total", "3")

		body = e.page(t, "workers")
		wantCell(t, body, "worker-default-worker-1", "pending", "1")
		wantCell(t, body, "worker-default-worker-1", "live", "yes")

		for _, path := range []string{"static/style.css", "static/app.js"} {
			res, err := e.client.Get(e.srv.URL + "/admin/" + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: %d", path, res.StatusCode)
			}
		}
		if code, _ := e.get(t, "nowhere"); code != http.StatusNotFound {
			t.Errorf("an unknown page: %d, want 404", code)
		}
	})
}

// The overview charts the outcome rates both backends' queues keep.
func TestRates(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var d overviewData
		e.api(t, "overview", &d)
		if d.Rates == nil {
			t.Fatalf("no rates: %q", d.RatesError)
		}
		totals := map[string]int64{}
		for _, row := range d.Rates.Rows {
			totals[row.Name] = row.Total
			for _, c := range row.Charts {
				if len(c.Counts) != 15 {
					t.Errorf("%s of %s: %d minutes, want 15", row.Name, c.Queue, len(c.Counts))
				}
			}
		}
		if totals["succeeded"] != 1 || totals["throughput"] != 3 || totals["failed"] != 0 || totals["dead"] != 2 {
			t.Errorf("rates %v, want 1 succeeded and 2 dead of 3 finished", totals)
		}
		body := e.page(t, "")
		wantCell(t, body, "", "rate-succeeded-total", "1")
		if n, want := strings.Count(body, "<rect "), nonzero(d.Rates); n != want || n == 0 {
			t.Errorf("%d bars, want one per minute that counts something, %d", n, want)
		}
	})
}

// The JSON endpoints return what the pages show, and their live numbers.
func TestAPI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var o overviewData
		e.api(t, "overview", &o)
		if len(o.Queues) != 2 || o.Queues[0] != (rows.Queue{Queue: "default", Partitions: 1, Ready: 2, Running: 1, Delayed: 1,
			OldestReadyMs: o.Queues[0].OldestReadyMs, Workers: 1}) || o.Queues[1].Dead != 2 {
			t.Errorf("api/overview queues %+v", o.Queues)
		}
		if o.Live["q/default/ready"] != "2" || o.Live["q/side/dead"] != "2" || len(o.Rows) != 2 {
			t.Errorf("api/overview live %v rows %v", o.Live, o.Rows)
		}

		var ts tasksData
		e.api(t, "tasks?queue=default&state=ready", &ts)
		if len(ts.Tasks) != 2 || ts.Tasks[0].ID != "e-2" || ts.Counts["running"] != 1 {
			t.Errorf("api/tasks %+v", ts)
		}
		e.api(t, "tasks?queue=default&state=running", &ts)
		if len(ts.Tasks) != 1 || ts.Tasks[0].IdleMs == nil || ts.Tasks[0].EnqueuedAt.Location() != time.UTC {
			t.Errorf("api/tasks running %+v: want its idle time, and times in UTC", ts.Tasks)
		}
		var td taskData
		e.api(t, "task?queue=default&id=e-4", &td)
		if td.Status != "scheduled" || td.RunAt.IsZero() || td.Live["task/status"] != "scheduled" {
			t.Errorf("api/task %+v", td)
		}
		var dd deadData
		e.api(t, "dead", &dd)
		if dd.Total != 2 || len(dd.Queues) != 1 || len(dd.Queues[0].Letters) != 2 {
			t.Errorf("api/dead %+v", dd)
		}
		var ld locksData
		e.api(t, "locks", &ld)
		if len(ld.Locks) != 2 || ld.Locks[0].Key != xss || ld.Locks[1].TaskID != "e-1" || ld.Locks[1].RemainingMs <= 0 {
			t.Errorf("api/locks %+v", ld)
		}
		var rd resultsData
		e.api(t, "results", &rd)
		if rd.Total != 3 || len(rd.Queues) != 2 || rd.Queues[1].Succeeded != 1 || rd.Queues[1].Records != 2 ||
			rd.Queues[1].FailedKinds["error"] != 1 || len(rd.Recent) != 3 {
			t.Errorf("api/results %+v", rd)
		}
		var wd workersData
		e.api(t, "workers", &wd)
		if len(wd.Workers) != 1 || wd.Workers[0].Name != "worker-1" || wd.Live["default"] != 1 {
			t.Errorf("api/workers %+v", wd)
		}

		for _, path := range []string{"api/nope", "api/confirm", "api/"} {
			code, body := e.get(t, path)
			var ed errorData
			if code != http.StatusNotFound || json.Unmarshal([]byte(body), &ed) != nil || ed.Status != 404 {
				t.Errorf("%s: %d %s, want a JSON 404", path, code, body)
			}
		}
		if code, _ := e.get(t, "api/tasks?queue=default&state=nope"); code != http.StatusBadRequest {
			t.Errorf("api/tasks with a bad state: %d, want 400", code)
		}
		if code, _ := e.post(t, "api/overview", url.Values{}); code != http.StatusMethodNotAllowed {
			t.Errorf("POST api/overview: %d, want 405", code)
		}
	})
}

// What the seed hides in names, errors, arguments, keys and holders is
// shown as text, never as markup.
func TestEscaping(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, path := range []string{"", "tasks?queue=side&state=dead", "tasks?queue=side&state=finished",
			"task?queue=side&id=evil-1", "dead", "locks", "results", "workers",
			"confirm?do=break&key=" + url.QueryEscape(xss), "task?queue=side&id=" + url.QueryEscape(xss),
			"api/dead", "api/locks", "api/task?queue=side&id=evil-1"} {
			code, body := e.get(t, path)
			if strings.Contains(body, "<script>alert") {
				t.Errorf("%s (%d) holds a raw <script>:\n%s", path, code, body)
			}
		}
		body := e.page(t, "task?queue=side&id=evil-1")
		escaped := "&lt;script&gt;alert(1)&lt;/script&gt;"
		for _, field := range []string{"name", "error"} {
			if got := cell(t, body, "", "task-"+field); !strings.Contains(got, xss) {
				t.Errorf("task-%s %q, want it to show %q", field, got, xss)
			}
		}
		if !strings.Contains(body, `data-testid="task-args">&#34;`+escaped+`&#34;</pre>`) &&
			!strings.Contains(body, `data-testid="task-args">"`+escaped+`"</pre>`) {
			t.Errorf("the arguments are not shown as escaped text:\n%s", body)
		}
		if !strings.Contains(body, escaped) {
			t.Errorf("no escaped text in\n%s", body)
		}
		if e.kind != "memory" {
			body = e.page(t, "locks")
			if !strings.Contains(body, "<th scope=\"row\" data-testid=\"key\">"+escaped+"</th>") {
				t.Errorf("the lock's key is not shown as escaped text:\n%s", body)
			}
		}
	})
}

// Every response carries the security headers.
func TestHeaders(t *testing.T) {
	e := newEnv(t, "memory")
	for _, path := range []string{"", "api/overview", "static/app.js", "nowhere"} {
		res, err := e.client.Get(e.srv.URL + "/admin/" + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for k, v := range securityHeaders {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s %q, want %q", path, k, got, v)
			}
		}
		if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, res.Header.Get("Content-Security-Policy"))
		}
	}
	res, err := http.Get(e.srv.URL + "/admin/") // no cookie yet
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var c *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == csrfCookie {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("CSRF cookie %+v, want HttpOnly and SameSite=Strict", c)
	}
}

// Every action works by POST with the page's token, and changes what it
// says.
func TestActions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		q := e.src.Queue

		loc := e.act(t, "pause", url.Values{"queue": {"default"}})
		if !strings.HasPrefix(loc, "./?notice=") || !strings.HasSuffix(loc, "&queue=default") {
			t.Errorf("pause went to %q", loc)
		}
		if p, err := q.Paused(ctx, "default"); err != nil || !p {
			t.Errorf("paused: %v %v", p, err)
		}
		body := e.page(t, strings.TrimPrefix(loc, "./"))
		wantCell(t, body, "queue-default", "paused", "paused")
		wantCell(t, body, "", "notice", "Paused queue default: workers take nothing from it until it is resumed.")
		if !strings.Contains(body, `data-testid="resume-default"`) {
			t.Errorf("a paused queue has no resume button")
		}
		e.act(t, "resume", url.Values{"queue": {"default"}})
		if p, _ := q.Paused(ctx, "default"); p {
			t.Errorf("still paused")
		}
		e.act(t, "pause", url.Values{"queue": {"unlisted"}}) // by name
		if p, _ := q.Paused(ctx, "unlisted"); !p {
			t.Errorf("queue unlisted not paused")
		}
		if code, _ := e.post(t, "pause", url.Values{"queue": {"a{b}"}, "csrf": {e.token(t, "")}}); code != http.StatusBadRequest {
			t.Errorf("pause of a bad queue name: %d, want 400", code)
		}

		loc = e.act(t, "cancel", url.Values{"queue": {"default"}, "id": {"e-3"}})
		if !strings.HasPrefix(loc, "task?id=e-3&notice=") {
			t.Errorf("cancel went to %q", loc)
		}
		if st, err := q.State(ctx, "default", "e-3"); err != nil || st.Status != queue.Canceled {
			t.Errorf("e-3: %+v %v, want canceled", st, err)
		}
		body = e.page(t, loc)
		wantCell(t, body, "", "notice", "Canceled: the task will not run.")
		if code, _ := e.post(t, "cancel", url.Values{"queue": {"default"}, "id": {"nope"}, "csrf": {e.token(t, "")}}); code != http.StatusNotFound {
			t.Errorf("cancel of an unknown task: %d, want 404", code)
		}

		body = e.page(t, "confirm?do=break&key=report:acct-1")
		if !strings.Contains(cell(t, body, "", "question"), "Break lock report:acct-1?") {
			t.Errorf("confirm page:\n%s", body)
		}
		token := csrfRe.FindStringSubmatch(body)[1]
		code, loc := e.post(t, "break", url.Values{"key": {"report:acct-1"}, "csrf": {token}})
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "locks?notice=") {
			t.Errorf("break: %d %q", code, loc)
		}
		held, _ := e.src.Locks.Held(ctx)
		if len(held) != 1 || held[0].Key != xss {
			t.Errorf("held after the break: %+v", held)
		}
		body = e.page(t, "confirm?do=break&key=report:acct-1")
		if strings.Contains(body, `data-testid="confirm"`) {
			t.Errorf("a lock not held can be broken:\n%s", body)
		}

		body = e.page(t, "confirm?do=purge-results&queue=side")
		if !strings.Contains(body, "Purge the 2 stored records of queue side?") {
			t.Errorf("confirm page:\n%s", body)
		}
		loc = e.act(t, "purge-results", url.Values{"queue": {"side"}})
		if !strings.HasPrefix(loc, "results?notice=") {
			t.Errorf("purge-results went to %q", loc)
		}
		wantCell(t, e.page(t, loc), "", "notice", "Purged 2 records of queue side.")
		if recs, _ := e.b.store.List(ctx); len(recs) != 1 || recs[0].ID != "in-1" {
			t.Errorf("records left: %v", recs)
		}
		e.act(t, "purge-results", url.Values{"all": {"1"}})
		if recs, _ := e.b.store.List(ctx); len(recs) != 0 {
			t.Errorf("records left: %v", recs)
		}

		loc = e.act(t, "requeue", url.Values{"queue": {"side"}, "id": {"ghost-1"}})
		if !strings.HasPrefix(loc, "dead?notice=") || !strings.HasSuffix(loc, "&queue=side") {
			t.Errorf("requeue went to %q", loc)
		}
		wantCell(t, e.page(t, loc), "", "notice", "Requeued 1 dead letters of queue side.")
		if st, _ := q.Stats(ctx, "side"); st.Ready != 1 || st.Dead != 1 {
			t.Errorf("side after the requeue: %+v", st)
		}
		loc = e.act(t, "purge", url.Values{"queue": {"side"}, "id": {"evil-1"}})
		if st, _ := q.Stats(ctx, "side"); st.Dead != 0 {
			t.Errorf("side after the purge: %+v", st)
		}
		body = e.page(t, loc)
		wantCell(t, body, "", "notice", "Purged 1 dead letters of queue side.")
		if code, _ := e.post(t, "purge", url.Values{"queue": {"side"}, "csrf": {e.token(t, "")}}); code != http.StatusBadRequest {
			t.Errorf("purge with no id nor all: %d, want 400", code)
		}
		body = e.page(t, "confirm?do=requeue&queue=default")
		if strings.Contains(body, `data-testid="confirm"`) {
			t.Errorf("requeue all of a queue with no dead letter is offered:\n%s", body)
		}
	})
}

// noRepair is a queue whose backend cannot repair dead letters: it says
// so with queue.ErrNotSupported.
type noRepair struct{ queue.Queue }

func (noRepair) RequeueDead(context.Context, string, ...string) ([]string, []string, error) {
	return nil, nil, queue.ErrNotSupported
}

func (noRepair) PurgeDead(context.Context, string, ...string) (int, error) {
	return 0, queue.ErrNotSupported
}

// A backend that cannot repair dead letters refuses their actions with
// 501, and changes nothing.
func TestNoDeadRepair(t *testing.T) {
	e := newEnv(t, "memory")
	e.seed(t)
	src := e.src
	src.Queue = noRepair{src.Queue}
	e.serve(t, New(src))
	body := e.page(t, "dead")
	wantCell(t, body, "", "dead-total", "2")
	for _, do := range []string{"requeue", "purge"} {
		if code, _ := e.post(t, do, url.Values{"queue": {"side"}, "id": {"ghost-1"}, "csrf": {e.token(t, "")}}); code != http.StatusNotImplemented {
			t.Errorf("%s without repair: %d, want 501", do, code)
		}
	}
	if st, _ := e.src.Queue.Stats(t.Context(), "side"); st.Dead != 2 {
		t.Errorf("side after refused actions: %+v", st)
	}
}

// A POST without the token of its cookie, from another site, or in
// read-only mode is refused with 403, and changes nothing.
func TestForbidden(t *testing.T) {
	e := newEnv(t, "memory")
	e.seed(t)
	ctx := t.Context()
	form := func(extra ...string) url.Values {
		f := url.Values{"queue": {"default"}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	token := e.token(t, "")
	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", form(), nil},
		{"bad token", form("csrf", "AAAA"+token[4:]), nil},
		{"another site's Origin", form("csrf", token), []string{"Origin", "https://evil.example"}},
		{"another site's Referer", form("csrf", token), []string{"Origin", "", "Referer", "https://evil.example/x"}},
		{"cross-site fetch", form("csrf", token), []string{"Origin", "", "Sec-Fetch-Site", "cross-site"}},
		{"null Origin", form("csrf", token), []string{"Origin", "null"}},
	} {
		if code, _ := e.post(t, "pause", tc.form, tc.header...); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, code)
		}
	}
	for _, path := range []string{"resume", "cancel", "requeue", "purge", "break", "purge-results"} {
		if code, _ := e.post(t, path, url.Values{"queue": {"side"}, "id": {"ghost-1"}, "key": {"report:acct-1"}, "all": {"1"}}); code != http.StatusForbidden {
			t.Errorf("POST %s without a token: %d, want 403", path, code)
		}
	}
	// A token of another cookie.
	other := newEnv(t, "memory")
	if code, _ := e.post(t, "pause", form("csrf", other.cookieToken(t))); code != http.StatusForbidden {
		t.Errorf("another cookie's token: %d, want 403", code)
	}
	// No cookie.
	e.client.Jar, _ = cookiejar.New(nil)
	if code, _ := e.post(t, "pause", form("csrf", token)); code != http.StatusForbidden {
		t.Errorf("no cookie: %d, want 403", code)
	}
	if p, _ := e.src.Queue.Paused(ctx, "default"); p {
		t.Fatal("a refused POST paused the queue")
	}
	if held, _ := e.src.Locks.Held(ctx); len(held) != 2 {
		t.Errorf("a refused POST broke a lock: %+v", held)
	}
	if recs, _ := e.b.store.List(ctx); len(recs) != 3 {
		t.Errorf("a refused POST purged records: %d left", len(recs))
	}
	// The same, with the cookie and token: it works, without an Origin too.
	token = e.token(t, "")
	if code, _ := e.post(t, "pause", form("csrf", token), "Origin", ""); code != http.StatusSeeOther {
		t.Errorf("a good POST: %d, want 303", code)
	}
	if code, _ := e.get(t, "pause?queue=default"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET of an action: %d, want 405", code)
	}
}

// Read-only: no action is offered, and every POST is refused.
func TestReadOnly(t *testing.T) {
	e := newEnv(t, "miniredis", ReadOnly())
	e.seed(t)
	for _, path := range []string{"", "tasks?queue=default&state=ready", "task?queue=default&id=e-2", "dead", "locks", "results"} {
		body := e.page(t, path)
		if strings.Contains(body, `<form method="post"`) || strings.Contains(body, `action="confirm"`) ||
			!strings.Contains(body, `data-testid="read-only"`) {
			t.Errorf("%s offers actions in read-only mode:\n%s", path, body)
		}
	}
	if code, _ := e.get(t, "confirm?do=break&key=report:acct-1"); code != http.StatusForbidden {
		t.Errorf("confirm page in read-only mode: %d, want 403", code)
	}
	token := e.cookieToken(t)
	for path, form := range map[string]url.Values{
		"pause":         {"queue": {"default"}},
		"resume":        {"queue": {"default"}},
		"cancel":        {"queue": {"default"}, "id": {"e-2"}},
		"requeue":       {"queue": {"side"}, "all": {"1"}},
		"purge":         {"queue": {"side"}, "all": {"1"}},
		"break":         {"key": {"report:acct-1"}},
		"purge-results": {"all": {"1"}},
	} {
		form.Set("csrf", token)
		if code, _ := e.post(t, path, form); code != http.StatusForbidden {
			t.Errorf("POST %s in read-only mode: %d, want 403", path, code)
		}
	}
	if held, _ := e.src.Locks.Held(t.Context()); len(held) != 2 {
		t.Errorf("read-only broke a lock: %+v", held)
	}
	if st, _ := e.src.Queue.Stats(t.Context(), "side"); st.Dead != 2 {
		t.Errorf("read-only changed the dead letters: %+v", st)
	}
}

// BasicAuth and Authorize guard every path, static files included.
func TestAuth(t *testing.T) {
	src := FromBackend(memorybackend.New())
	e := &env{src: src}
	e.serve(t, New(src, BasicAuth("admin", "s3cret"), Authorize(func(r *http.Request) bool {
		return r.Header.Get("X-Role") != "guest"
	})))
	do := func(user, pass, role, path string) int {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/"+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		if role != "" {
			req.Header.Set("X-Role", role)
		}
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("401 without a Basic challenge")
		}
		return res.StatusCode
	}
	for _, path := range []string{"", "api/overview", "static/style.css", "locks"} {
		for _, tc := range []struct {
			user, pass, role string
			want             int
		}{
			{"", "", "", http.StatusUnauthorized},
			{"admin", "wrong", "", http.StatusUnauthorized},
			{"Admin", "s3cret", "", http.StatusUnauthorized},
			{"admin", "s3cret", "guest", http.StatusForbidden},
			{"admin", "s3cret", "", http.StatusOK},
		} {
			if got := do(tc.user, tc.pass, tc.role, path); got != tc.want {
				t.Errorf("%s as %q/%q/%q: %d, want %d", path, tc.user, tc.pass, tc.role, got, tc.want)
			}
		}
	}
}

// The handler works at the root too, and under a prefix given with or
// without its last slash; redirects stay under the prefix.
func TestPrefixes(t *testing.T) {
	b := memorybackend.New()
	h := New(FromBackend(b))
	for _, tc := range []struct{ mount, strip, page string }{
		{"/", "", "/"},
		{"/ops/tasks/", "/ops/tasks", "/ops/tasks/"},
		{"/ops/tasks/", "/ops/tasks/", "/ops/tasks/"},
	} {
		mux := http.NewServeMux()
		mux.Handle(tc.mount, http.StripPrefix(tc.strip, h))
		for path, want := range map[string]int{tc.page: 200, tc.page + "locks": 200, tc.page + "api/locks": 200,
			tc.page + "static/style.css": 200} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != want {
				t.Errorf("%s mounted at %s: %d, want %d", path, tc.mount, rec.Code, want)
			}
			if path == tc.page && strings.Contains(rec.Body.String(), `href="/`) {
				t.Errorf("%s has an absolute link:\n%s", path, rec.Body)
			}
		}
	}
}

// New refuses a Source without a queue.
func TestNewNeedsQueue(t *testing.T) {
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("recovered %v, want task.ErrInvalidConfig", err)
		}
	}()
	New(Source{})
}

// An error of the backend is shown through Redact, with a 502.
func TestBackendError(t *testing.T) {
	m := taskwaretest.Miniredis(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	rb := redisbackend.New(c, redisbackend.Prefix("tw-web-err:"))
	addr := m.Addr()
	e := &env{}
	e.serve(t, New(FromBackend(rb), Timeout(2*time.Second), Redact(func(s string) string {
		return strings.ReplaceAll(s, addr, "REDACTED")
	})))
	m.Close()
	code, body := e.get(t, "")
	if code != http.StatusBadGateway || strings.Contains(body, addr) || !strings.Contains(body, "REDACTED") {
		t.Errorf("GET with Redis down: %d\n%s", code, body)
	}
	code, body = e.get(t, "api/locks")
	if code != http.StatusBadGateway || strings.Contains(body, addr) || !strings.Contains(body, `"error"`) {
		t.Errorf("api/locks with Redis down: %d\n%s", code, body)
	}
}

func TestPayloadText(t *testing.T) {
	for in, want := range map[string]string{
		`"\u003cb\u003e \u0026 \\u003c"`: `"<b> & \\u003c"`,
		`{"a":1,"b":[true]}`:             "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}",
		"plain text":                     "plain text",
		"\xff\x00":                       `"\xff\x00"`,
	} {
		if got := payloadText([]byte(in)); got != want {
			t.Errorf("payloadText(%q) = %q, want %q", in, got, want)
		}
	}
}

// Pages poll at the Refresh interval, the costly ones less often, and not
// at all with Refresh(0).
func TestRefresh(t *testing.T) {
	e := newEnv(t, "memory", Refresh(2*time.Second))
	for path, want := range map[string]string{"": `data-refresh="2000"`, "results": `data-refresh="30000"`,
		"tasks?queue=default&state=finished": `data-refresh="30000"`, "confirm?do=purge-results&all=1": `<main id="main">`} {
		if body := e.page(t, path); !strings.Contains(body, want) {
			t.Errorf("%s lacks %s", path, want)
		}
	}
	e = newEnv(t, "memory", Refresh(0))
	if body := e.page(t, ""); strings.Contains(body, "data-refresh") {
		t.Errorf("Refresh(0) still polls")
	}
}
