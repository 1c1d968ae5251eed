package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/web"
	"github.com/taskware/taskware/worker"
)

// mount is where the tests mount the web view, under a prefix as a host
// server would (its links are relative).
const mount = "/ops/taskware"

// serve serves the web view of b, with opts, on a loopback test server
// (closed when t ends, after the browser), and returns its base URL,
// ending in "/".
func serve(t testing.TB, b *redisbackend.Backend, opts ...web.Option) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(mount+"/", http.StripPrefix(mount, web.New(web.FromBackend(b), opts...)))
	srv := httptest.NewServer(mux) // 127.0.0.1, a free port
	t.Cleanup(srv.Close)
	return srv.URL + mount + "/"
}

// TestWebView loads every page of the web view, served from a seeded
// Redis, in headless Chromium: the numbers in the DOM are the seed's, the
// payload is text, requeue and purge a dead letter, break a lock through
// its confirmation, and Redis changes as they say.
func TestWebView(t *testing.T) {
	b := newBackend(t)
	s := seed(t, b)
	base := serve(t, b, web.Refresh(200*time.Millisecond))
	br := newBrowser(t)
	ctx := context.Background()
	q := b.Queue()
	start := time.Now()

	// Each page is a subtest; they share the browser and run in order, the
	// actions last on each page.
	t.Run("overview", func(t *testing.T) {
		br := br.in(t)
		br.open(base)
		p := br.read()
		checkClean(t, base, p)
		for name, c := range s.queues {
			row := "queue-" + name
			p.wantIn(t, row, "ready", itoa(c.Ready))
			p.wantIn(t, row, "running", itoa(c.Running))
			p.wantIn(t, row, "delayed", itoa(c.Delayed))
			p.wantIn(t, row, "dead", itoa(c.Dead))
			p.wantIn(t, row, "workers", itoa(c.Workers))
			p.wantIn(t, row, "paused", "no")
			if _, ok := p.IDs["pause-"+name]; !ok {
				t.Errorf("%s: no button pause-%s", p.URL, name)
			}
		}

		// The numbers are live: a task enqueued now shows without a reload.
		send := task.New("send-email", func(context.Context, string) (struct{}, error) { return struct{}{}, nil })
		if _, err := worker.Enqueue(ctx, worker.NewClient(q, nil), send, "late@example.com",
			worker.OnQueue(mailQueue), worker.ID("ready-late")); err != nil {
			t.Fatal(err)
		}
		c := s.queues[mailQueue]
		c.Ready++
		s.queues[mailQueue] = c
		br.waitFor(`queue-`+mailQueue, "ready", itoa(c.Ready))
	})

	t.Run("tasks", func(t *testing.T) {
		br := br.in(t)
		c := s.queues[mailQueue]
		for _, st := range []struct {
			state string
			n     int64
			ids   []string
		}{
			{"ready", c.Ready, []string{"ready-1", "ready-2", "ready-3", "ready-late"}},
			{"running", c.Running, []string{runningID}},
			{"delayed", c.Delayed, []string{"delayed-1", "delayed-2"}},
			{"dead", c.Dead, []string{xssID, poisonID}},
		} {
			br.open(base + "tasks?queue=" + mailQueue + "&state=" + st.state)
			p := br.read()
			checkClean(t, base, p)
			p.want(t, "listed", itoa(st.n))
			if tab := p.IDs["state-"+st.state]; !strings.Contains(tab, "("+itoa(st.n)+")") {
				t.Errorf("%s: tab state-%s shows %q, want the count (%d)", p.URL, st.state, tab, st.n)
			}
			for _, id := range st.ids {
				if _, ok := p.Within["task-"+id]; !ok {
					t.Errorf("%s: no row task-%s (the page has %s)", p.URL, id, describeIDs(p.idsWith("task-")))
				}
			}
		}
		// The dead listing shows the payload as text, in the task's name
		// and its error.
		p := br.read()
		p.wantIn(t, "task-"+xssID, "name", xss)
		p.wantIn(t, "task-"+xssID, "error", xss)
		if err := checkShownAsText(p, own(base)); err != nil {
			t.Errorf("%s: %v", p.URL, err)
		}
	})

	t.Run("task", func(t *testing.T) {
		br := br.in(t)
		// Reached by its link in the dead listing.
		br.open(base + "tasks?queue=" + mailQueue + "&state=dead")
		br.clickAndLoadCSS(`[data-testid="task-` + xssID + `"] th a`)
		p := br.read()
		if !strings.Contains(p.URL, "id="+xssID) {
			t.Fatalf("the link of %s led to %s", xssID, p.URL)
		}
		p.want(t, "task-id", xssID)
		p.want(t, "task-name", xss)
		p.want(t, "task-queue", mailQueue)
		p.want(t, "task-status", string(queue.Dead))
		p.want(t, "task-attempt", "1")
		p.want(t, "task-kind", "e2e.poisoned")
		p.want(t, "task-error", xss)
		p.want(t, "task-args", `"`+xss+`"`)
		if err := checkShownAsText(p, own(base)); err != nil {
			t.Errorf("%s: %v", p.URL, err)
		}

		// The running task: its worker.
		br.open(base + "task?queue=" + mailQueue + "&id=" + runningID)
		p = br.read()
		checkClean(t, base, p)
		p.want(t, "task-id", runningID)
		p.want(t, "task-name", "send-email")
		p.want(t, "task-status", string(queue.Running))
		p.want(t, "task-worker", taker)
		p.want(t, "task-progress-text", "40/100 (40%) sending the batch")

		// A delayed task: when it is due.
		br.open(base + "task?queue=" + mailQueue + "&id=delayed-1")
		p = br.read()
		checkClean(t, base, p)
		p.want(t, "task-status", string(queue.Scheduled))
		if due := p.IDs["task-run-at"]; due == "" {
			t.Errorf("%s: no due time (task-run-at); the page has %s", p.URL, p.describe("task-"))
		}
	})

	t.Run("dead", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "dead")
		p := br.read()
		total := s.queues[mailQueue].Dead + s.queues[reportQueue].Dead
		p.want(t, "dead-total", itoa(total))
		p.want(t, "dead-count-"+mailQueue, itoa(s.queues[mailQueue].Dead))
		p.want(t, "dead-count-"+reportQueue, itoa(s.queues[reportQueue].Dead))
		p.wantIn(t, "dead-"+xssID, "name", xss)
		p.wantIn(t, "dead-"+xssID, "reason", xss)
		p.wantIn(t, "dead-"+xssID, "kind", "e2e.poisoned")
		p.wantIn(t, "dead-"+poisonID, "name", "send-email")
		st, err := q.State(ctx, reportQueue, reportID)
		if err != nil {
			t.Fatal(err)
		}
		p.wantIn(t, "dead-"+reportID, "name", "render-report")
		p.wantIn(t, "dead-"+reportID, "kind", st.Kind)
		for _, id := range []string{xssID, poisonID, reportID} {
			for _, act := range []string{"requeue-", "purge-"} {
				if _, ok := p.IDs[act+id]; !ok {
					t.Errorf("%s: no button %s%s", p.URL, act, id)
				}
			}
		}
		if err := checkShownAsText(p, own(base)); err != nil {
			t.Errorf("%s: %v", p.URL, err)
		}

		// Requeue poison-1: back to the ready tasks, as a fresh task.
		br.clickAndLoad("requeue-" + poisonID)
		p = br.read()
		checkClean(t, base, p)
		p.want(t, "notice", "Requeued 1 dead letters of queue "+mailQueue+".")
		p.wantNone(t, "dead-"+poisonID)
		c := s.queues[mailQueue]
		c.Dead--
		c.Ready++
		s.queues[mailQueue] = c
		p.want(t, "dead-count-"+mailQueue, itoa(c.Dead))
		st, err = q.State(ctx, mailQueue, poisonID)
		if err != nil || st.Status != queue.Queued || st.Attempt > 1 {
			t.Errorf("after requeue, %s is %+v (%v), want queued at attempt 1", poisonID, st, err)
		}
		wantStats(t, q, mailQueue, c)
		ready, err := q.Tasks(ctx, mailQueue, queue.ReadyTasks, 0)
		if err != nil || !hasTask(ready, poisonID) {
			t.Errorf("after requeue, the ready tasks of %s are %v (%v), want %s among them", mailQueue, ids(ready), err, poisonID)
		}

		// Purge report-1, which app.js confirms first: gone for good.
		br.open(base + "dead")
		br.forgetConfirmed()
		br.clickAndLoad("purge-" + reportID)
		p = br.read()
		checkClean(t, base, p)
		if want := "Purge dead letter " + reportID + " for good?"; p.Confirmed != want {
			t.Errorf("the purge asked %q before it was sent, want %q", p.Confirmed, want)
		}
		p.want(t, "notice", "Purged 1 dead letters of queue "+reportQueue+".")
		p.wantNone(t, "dead-"+reportID)
		r := s.queues[reportQueue]
		r.Dead--
		s.queues[reportQueue] = r
		wantStats(t, q, reportQueue, r)
		if dl, err := q.DeadLetters(ctx, reportQueue, 10); err != nil || len(dl) != 0 {
			t.Errorf("after purge, %s has dead letters %v (%v), want none", reportQueue, dl, err)
		}
	})

	t.Run("locks", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "locks")
		p := br.read()
		checkClean(t, base, p)
		p.want(t, "locks-count", itoa(int64(len(s.locks))))
		for key, l := range s.locks {
			row := "lock-" + key
			p.wantIn(t, row, "key", key)
			p.wantIn(t, row, "holder", l.Holder)
			p.wantIn(t, row, "fence", strconv.FormatInt(l.Fence, 10))
			task := "-"
			if !l.Task.IsZero() {
				task = l.Task.Queue + "/" + l.Task.ID
			}
			p.wantIn(t, row, "task", task)
			if _, ok := p.IDs["break-"+key]; !ok {
				t.Errorf("%s: no button break-%s", p.URL, key)
			}
		}

		// Break nightly-report: the button asks on a page of its own.
		br.clickAndLoad("break-" + nightlyLock)
		p = br.read()
		checkClean(t, base, p)
		if !strings.Contains(p.URL, "confirm") || !strings.Contains(p.IDs["question"], nightlyLock) {
			t.Fatalf("break-%s led to %s, asking %q; want the confirmation", nightlyLock, p.URL, p.IDs["question"])
		}
		if _, held, err := b.Locker().Lookup(ctx, nightlyLock); err != nil || !held {
			t.Fatalf("the confirmation page alone changed the lock: held %v (%v)", held, err)
		}
		br.clickAndLoad("confirm")
		p = br.read()
		checkClean(t, base, p)
		p.want(t, "notice", "Broke lock "+nightlyLock+": its holder learns of it at its next renewal.")
		p.wantNone(t, "lock-"+nightlyLock)
		delete(s.locks, nightlyLock)
		p.want(t, "locks-count", itoa(int64(len(s.locks))))
		if _, held, err := b.Locker().Lookup(ctx, nightlyLock); err != nil || held {
			t.Errorf("after break, %s held %v (%v), want gone", nightlyLock, held, err)
		}
		if info, held, err := b.Locker().Lookup(ctx, invoiceLock); err != nil || !held || info.Fence != s.locks[invoiceLock].Fence {
			t.Errorf("after the break of %s, %s is %+v held %v (%v), want it untouched", nightlyLock, invoiceLock, info, held, err)
		}
	})

	t.Run("results", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "results")
		p := br.read()
		checkClean(t, base, p)
		all := 0
		for queueName, by := range s.results {
			n := 0
			for _, st := range []store.Status{store.Succeeded, store.Failed, store.Skipped} {
				p.want(t, "results-"+queueName+"-"+string(st), strconv.Itoa(by[st]))
				n += by[st]
			}
			p.want(t, "results-"+queueName+"-total", strconv.Itoa(n))
			all += n
		}
		p.want(t, "results-total", strconv.Itoa(all))
	})

	t.Run("workers", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "workers")
		p := br.read()
		checkClean(t, base, p)
		row := "worker-" + mailQueue + "-" + taker
		p.wantIn(t, row, "name", taker)
		p.wantIn(t, row, "pending", "1")
		p.wantIn(t, row, "live", "yes")
		// The worker that dead-lettered report-1 stopped and left.
		if got := p.idsWith("worker-" + reportQueue + "-"); len(got) != 0 {
			t.Errorf("%s: workers of %s shown: %v; the one that ran there has left", p.URL, reportQueue, got)
		}
	})

	t.Logf("e2e: pages checked in %v", time.Since(start).Round(time.Millisecond))
}

// TestWebViewReadOnly serves the view read-only behind basic
// authentication: no action is offered, and the browser gets in with the
// password only.
func TestWebViewReadOnly(t *testing.T) {
	b := newBackend(t)
	s := seed(t, b)
	base := serve(t, b, web.ReadOnly(), web.BasicAuth("ops", "e2e-secret"))

	res, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET %s without the password: %s, want 401", base, res.Status)
	}

	br := newBrowser(t)
	br.basicAuth("ops", "e2e-secret")
	for _, path := range []string{"", "dead", "locks", "results", "tasks?queue=" + mailQueue + "&state=dead"} {
		br.open(base + path)
		p := br.read()
		checkClean(t, base, p)
		p.want(t, "read-only", "read-only")
		for id := range p.IDs {
			for _, act := range []string{"requeue-", "purge-", "break-", "pause-", "resume-", "cancel-"} {
				if strings.HasPrefix(id, act) {
					t.Errorf("%s: read-only, yet it offers %s", p.URL, id)
				}
			}
		}
		if path == "" {
			p.wantIn(t, "queue-"+mailQueue, "ready", itoa(s.queues[mailQueue].Ready))
		}
	}
	// The confirmation page refuses too.
	br.open(base + "confirm?do=break&key=" + nightlyLock)
	p := br.read()
	p.wantNone(t, "confirm")
	if !strings.Contains(p.IDs["error"], "read-only") {
		t.Errorf("%s: error %q, want it to say the view is read-only", p.URL, p.IDs["error"])
	}
	if _, held, err := b.Locker().Lookup(context.Background(), nightlyLock); err != nil || !held {
		t.Errorf("read-only: %s held %v (%v), want still held", nightlyLock, held, err)
	}
}

// own tells the web view's own scripts: those it serves from static/ (its
// Content-Security-Policy allows no other).
func own(base string) func(script string) bool {
	return func(s string) bool { return strings.HasPrefix(s, base+"static/") }
}

// checkClean checks that no script of p opened a dialog, and that every
// script element of p is the web view's own: nothing seeded ran.
func checkClean(t testing.TB, base string, p *pageView) {
	t.Helper()
	if p.XSS != 0 {
		t.Errorf("%s: a script opened %d dialog(s)", p.URL, p.XSS)
	}
	if len(p.Scripts) == 0 {
		t.Errorf("%s: no script element; want the web view's own app.js", p.URL)
	}
	for _, s := range p.Scripts {
		if !own(base)(s) {
			t.Errorf("%s: script element %q is not the web view's own", p.URL, s)
		}
	}
}

// waitFor waits, without a reload, until the element of data-testid cell
// within row shows want: the page's live refresh.
func (b *browser) waitFor(row, cell, want string) {
	b.t.Helper()
	var got string
	eventually(b.t, fmt.Sprintf("%s/%s shows %q without a reload", row, cell, want), func() (bool, error) {
		p := b.read()
		got = p.Within[row][cell]
		return got == want, fmt.Errorf("it shows %q", got)
	})
}

// wantStats checks queue's counts in Redis.
func wantStats(t testing.TB, q *redisbackend.Queue, name string, want counts) {
	t.Helper()
	st, err := q.Stats(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if got := (counts{st.Ready, st.Running, st.Delayed, st.Dead, int64(st.Workers)}); got != want {
		t.Errorf("Redis: %s counts %+v, want %+v", name, got, want)
	}
}

func hasTask(ts []queue.TaskInfo, id string) bool {
	for _, ti := range ts {
		if ti.ID == id {
			return true
		}
	}
	return false
}

func ids(ts []queue.TaskInfo) []string {
	out := make([]string, len(ts))
	for i, ti := range ts {
		out[i] = ti.ID
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
