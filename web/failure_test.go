package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// runFlaky runs task "flaky" f-1 on queue "flaky" through a worker "w-flaky": its
// first two runs fail and ask for a retry, its third panics, and it ends
// failed.
func (e *env) runFlaky(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	flaky := task.New("flaky", func(ctx context.Context, to string) (string, error) {
		inv, _ := task.InvocationFrom(ctx)
		if inv.Attempt < 3 {
			return "", task.Requeue(0, true, fmt.Errorf("boom %d", inv.Attempt))
		}
		panic("kaput")
	})
	w := worker.New(e.b.q, worker.Queues("flaky"), worker.Name("w-flaky"), worker.Concurrency(1),
		worker.PollWait(20*time.Millisecond), worker.PromoteEvery(20*time.Millisecond), worker.OnError(func(error) {}))
	worker.Register(w, flaky)
	stop := taskwaretest.Start(t, w)
	defer stop()
	c := worker.NewClient(e.b.q, nil)
	h, err := worker.Enqueue(ctx, c, flaky, "f@example.com", worker.ID("f-1"), worker.OnQueue("flaky"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(ctx); !errors.Is(err, task.ErrPanic) {
		t.Fatalf("f-1: %v, want a panic", err)
	}
}

// The task page shows every attempt, in order, with its outcome, worker,
// kind, error and, for a panic, its stack; and a failed task's arguments.
func TestTaskPageAttempts(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.runFlaky(t)
		body := e.page(t, "task?queue=flaky&id=f-1")
		wantCell(t, body, "", "task-status", "failed")
		wantCell(t, body, "", "task-args", `"f@example.com"`)
		for i, want := range [][4]string{
			{"1", "retried", "boom 1", "error"}, {"2", "retried", "boom 2", "error"}, {"3", "failed", "task panicked: kaput", "task.panic"},
		} {
			row := fmt.Sprintf("attempt-%d", i)
			wantCell(t, body, row, "attempt-number", want[0])
			wantCell(t, body, row, "attempt-outcome", want[1])
			wantCell(t, body, row, "attempt-error", want[2])
			wantCell(t, body, row, "attempt-kind", want[3])
			wantCell(t, body, row, "attempt-worker", "w-flaky")
		}
		if strings.Contains(body, `data-testid="attempt-3"`) {
			t.Errorf("a fourth attempt is shown")
		}
		stack := body[strings.Index(body, `data-testid="attempt-2"`):]
		if !strings.Contains(stack, `<details data-testid="attempt-stack"><summary>Stack</summary><pre>goroutine`) {
			t.Errorf("the panic's stack is not shown, collapsed:\n%s", stack)
		}
		if n := strings.Count(body, `data-testid="attempt-stack"`); n != 1 {
			t.Errorf("%d stacks shown, want 1 (the panic's)", n)
		}
		var d taskData
		e.api(t, "task?queue=flaky&id=f-1", &d)
		if len(d.Attempts) != 3 || d.Attempts[2].Stack == "" || d.Attempts[0].Error != "boom 1" {
			t.Errorf("api/task attempts: %+v", d.Attempts)
		}
		// The seed's dead letter ghost-1 died at once: one attempt.
		body = e.page(t, "task?queue=side&id=ghost-1")
		wantCell(t, body, "attempt-0", "attempt-outcome", "dead")
		wantCell(t, body, "attempt-0", "attempt-kind", "worker.unknown_task")
	})
}

// confirmAndPost opens the confirm page of a task page's action link,
// posts its form, and returns where it went.
func (e *env) confirmAndPost(t *testing.T, taskPage, action string) string {
	t.Helper()
	body := e.page(t, taskPage)
	m := regexpHref(body, action)
	if m == "" {
		t.Fatalf("%s has no %s link:\n%s", taskPage, action, body)
	}
	body = e.page(t, m)
	if !strings.Contains(body, `data-testid="confirm"`) {
		t.Fatalf("the confirm page of %s offers nothing:\n%s", action, body)
	}
	form := url.Values{}
	for _, f := range hiddenRe.FindAllStringSubmatch(body, -1) {
		form.Add(htmlUnescape(f[1]), htmlUnescape(f[2]))
	}
	do := formActionRe.FindStringSubmatch(body)[1]
	code, loc := e.post(t, do, form)
	if code != http.StatusSeeOther {
		t.Fatalf("POST %s %v: %d, want 303", do, form, code)
	}
	return loc
}

// Requeue, Retry, Cancel and Purge work from the task page, through the
// confirm page, and change what the backend holds.
func TestTaskPageActions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		q := e.src.Queue
		e.runFlaky(t)

		// Retry a failed task: a new task, with its arguments.
		loc := e.confirmAndPost(t, "task?queue=flaky&id=f-1", "action-retry")
		newID, _ := url.ParseQuery(strings.TrimPrefix(loc, "task?"))
		id := newID.Get("id")
		if id == "" || id == "f-1" {
			t.Fatalf("retry went to %q", loc)
		}
		body := e.page(t, loc)
		wantCell(t, body, "", "notice", "Enqueued again as this new task, from task f-1.")
		m, err := q.Message(ctx, "flaky", id)
		if err != nil || m.Task != "flaky" || string(m.Payload) != `"f@example.com"` {
			t.Fatalf("the retried task's message: %+v, %v", m, err)
		}
		// Cancel it: it waits, so it never runs.
		loc = e.confirmAndPost(t, "task?queue=flaky&id="+id, "action-cancel")
		wantCell(t, e.page(t, loc), "", "notice", "Canceled: the task will not run.")
		if st, err := q.State(ctx, "flaky", id); err != nil || st.Status != queue.Canceled {
			t.Fatalf("the retried task after the cancel: %+v, %v", st, err)
		}

		// Requeue the dead ghost-1 from its page: the same task, ready.
		loc = e.confirmAndPost(t, "task?queue=side&id=ghost-1", "action-requeue")
		if !strings.HasPrefix(loc, "task?id=ghost-1&notice=") {
			t.Errorf("requeue went to %q", loc)
		}
		wantCell(t, e.page(t, loc), "", "notice", "Requeued 1 dead letters of queue side.")
		if st, err := q.State(ctx, "side", "ghost-1"); err != nil || st.Status != queue.Queued {
			t.Errorf("ghost-1 after the requeue: %+v, %v", st, err)
		}
		// Purge the dead evil-1's letter, and its stored record.
		loc = e.confirmAndPost(t, "task?queue=side&id=evil-1", "action-purge")
		wantCell(t, e.page(t, loc), "", "notice", "Purged 1 dead letters of queue side.")
		if dl, err := q.DeadLetters(ctx, "side", 10); err != nil || len(dl) != 0 {
			t.Errorf("dead letters after the purge: %+v, %v", dl, err)
		}
		loc = e.confirmAndPost(t, "task?queue=side&id=evil-1", "action-purge-record")
		wantCell(t, e.page(t, loc), "", "notice", "Deleted the stored record of this task.")
		if rec, err := e.b.store.Get(ctx, "side", "evil-1"); err == nil {
			t.Errorf("evil-1's record is still there: %+v", rec)
		}
		// A task that has not failed offers no retry, and refuses one.
		body = e.page(t, "task?queue=default&id=e-2")
		if strings.Contains(body, `data-testid="action-retry"`) || strings.Contains(body, `data-testid="action-requeue"`) {
			t.Errorf("a ready task offers a retry or requeue")
		}
		if code, _ := e.post(t, "retry", url.Values{"queue": {"default"}, "id": {"e-2"}, "csrf": {e.token(t, "")}}); code != http.StatusConflict {
			t.Errorf("retry of a ready task: %d, want 409", code)
		}
	})
}

// A banner shows only a notice this handler signed, less than a minute
// ago: never one crafted, tampered with, or expired.
func TestSignedNotice(t *testing.T) {
	e := newEnv(t, "memory")
	banner := func(query string) string {
		t.Helper()
		body := e.page(t, "dead?"+query)
		if !strings.Contains(body, `data-testid="notice"`) {
			return ""
		}
		return cell(t, body, "", "notice")
	}
	fields := url.Values{"notice": {"purged"}, "n": {"3"}, "queue": {"payments"}}
	valid := e.h.signNotice(fields)
	if got := banner("queue=payments&notice=" + url.QueryEscape(valid)); got != "Purged 3 dead letters of queue payments." {
		t.Errorf("a valid notice shows %q", got)
	}
	if got := banner("notice=purged&n=12345&queue=payments"); got != "" {
		t.Errorf("a crafted link shows %q", got)
	}
	payload, mac, _ := strings.Cut(valid, ".")
	forged := url.Values{"notice": {"purged"}, "n": {"12345"}, "queue": {"payments"}, "exp": {"99999999999"}}
	other := New(e.src).(*handler) // another handler's key
	for name, v := range map[string]string{
		"forged":          encodePayload(forged) + "." + mac,
		"tampered":        encodePayload(forged) + "." + e.h.noticeMAC(payload),
		"bad signature":   payload + "." + strings.Repeat("A", len(mac)),
		"no signature":    payload,
		"another handler": other.signNotice(fields),
	} {
		if got := banner("notice=" + url.QueryEscape(v)); got != "" {
			t.Errorf("a %s notice shows %q", name, got)
		}
	}
	old := *e.h
	old.now = func() time.Time { return time.Now().Add(-noticeTTL - time.Second) }
	if got := banner("notice=" + url.QueryEscape(old.signNotice(fields))); got != "" {
		t.Errorf("an expired notice shows %q", got)
	}
}

var (
	hiddenRe     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formActionRe = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// regexpHref returns the unescaped href of the link marked data-testid=id.
func regexpHref(body, id string) string {
	m := regexp.MustCompile(`<a href="([^"]+)" data-testid="` + regexp.QuoteMeta(id) + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return htmlUnescape(m[1])
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func encodePayload(v url.Values) string {
	return base64.RawURLEncoding.EncodeToString([]byte(v.Encode()))
}
