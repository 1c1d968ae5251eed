package e2e

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/web"
	"github.com/taskware/taskware/worker"
)

// barState is what a progress bar shows in the page, and whether the page
// is the one loaded at first (stay is set once, lost on a reload).
type barState struct {
	Found  bool
	Hidden bool
	Value  float64
	Max    float64
	Text   string
	Stay   int
}

// readBar reads the bar inside the element of data-testid holder.
func (b *browser) readBar(holder string) barState {
	b.t.Helper()
	var s barState
	b.eval("read the progress bar of "+holder, fmt.Sprintf(`(() => {
		const h = document.querySelector('[data-testid=%q]');
		const bar = h && h.querySelector('progress');
		if (!bar) return {Found: false, Stay: window.__stay || 0};
		const box = bar.closest('[data-bar-live]');
		const text = box.querySelector('[data-bar-text]');
		return {Found: true, Hidden: !!(box && box.hidden), Value: bar.value, Max: bar.max,
			Text: text ? text.textContent : '', Stay: window.__stay || 0};
	})()`, holder), &s)
	return s
}

// waitBar waits, without a reload, until the bar inside holder shows want.
func (b *browser) waitBar(holder string, want barState) {
	b.t.Helper()
	want.Found, want.Stay = true, 1
	var got barState
	eventually(b.t, fmt.Sprintf("the bar of %s shows %+v without a reload", holder, want), func() (bool, error) {
		got = b.readBar(holder)
		return got == want, fmt.Errorf("it shows %+v", got)
	})
}

// TestProgressLive runs a task that reports its progress when told, on a
// real worker, and watches its bar in Chromium: on the task page it shows
// at the first report, and on the task page and in the running listing it
// moves with each report without a reload; on the task page it hides once
// the task ended.
func TestProgressLive(t *testing.T) {
	b := newBackend(t)
	base := serve(t, b, web.Refresh(200*time.Millisecond))
	br := newBrowser(t)
	ctx := context.Background()
	q := b.Queue()
	const name, id, total = "docs", "index-1", 10

	steps := make(chan int64)
	index := task.New("index-docs", func(ctx context.Context, n int64) (struct{}, error) {
		for done := range steps {
			if err := task.Progress(ctx, done, n, "indexing"); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	w := worker.New(q, worker.Queues(name), worker.Name("e2e-progress-worker"), worker.PollWait(50*time.Millisecond),
		worker.OnError(func(err error) { t.Logf("e2e: worker: %v", err) }))
	worker.Register(w, index)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	closed := false
	finish := func() {
		if !closed {
			closed = true
			close(steps)
		}
	}
	t.Cleanup(func() {
		finish()
		stop()
		if err := <-done; err != nil {
			t.Errorf("e2e: worker: %v", err)
		}
	})
	h, err := worker.Enqueue(ctx, worker.NewClient(q, nil), index, total, worker.OnQueue(name), worker.ID(id))
	if err != nil {
		t.Fatal(err)
	}
	// report makes the task report done, and waits until Redis has it.
	report := func(done int64) {
		t.Helper()
		select {
		case steps <- done:
		case <-time.After(stepTimeout):
			t.Fatalf("the task did not take report %d", done)
		}
		eventually(t, fmt.Sprintf("Redis has report %d", done), func() (bool, error) {
			st, err := h.State(ctx)
			return err == nil && st.Progress != nil && st.Progress.Done == done, fmt.Errorf("state %+v, error %v", st, err)
		})
	}
	bar := func(done int64) barState {
		return barState{Value: float64(done), Max: total, Text: fmt.Sprintf("%d/%d (%d%%) indexing", done, total, done*100/total)}
	}
	stay := func(br *browser) {
		run(br, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__stay = 1; void 0`))
	}
	eventually(t, "the task runs", func() (bool, error) {
		st, err := h.State(ctx)
		return err == nil && st.Status == queue.Running, fmt.Errorf("state %+v, error %v", st, err)
	})

	t.Run("task", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "task?" + url.Values{"queue": {name}, "id": {id}}.Encode())
		checkClean(t, base, br.read())
		stay(br)
		if s := br.readBar("task-progress"); !s.Found || !s.Hidden {
			t.Fatalf("before any report: the bar %+v, want there and hidden", s)
		}
		report(3) // the bar shows
		br.waitBar("task-progress", bar(3))
		report(7)
		br.waitBar("task-progress", bar(7))
	})

	t.Run("running", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "tasks?" + url.Values{"queue": {name}, "state": {"running"}}.Encode())
		checkClean(t, base, br.read())
		stay(br)
		br.waitBar("task-"+id, bar(7))
		report(9)
		br.waitBar("task-"+id, bar(9))
	})

	t.Run("ended", func(t *testing.T) {
		br := br.in(t)
		br.open(base + "task?" + url.Values{"queue": {name}, "id": {id}}.Encode())
		stay(br)
		br.waitBar("task-progress", bar(9))
		finish()
		if _, err := h.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if st, err := q.State(ctx, name, id); err != nil || st.Status != queue.Succeeded {
			t.Fatalf("Redis: state %+v, %v; want succeeded", st, err)
		}
		eventually(t, "the bar hides without a reload once the task ended", func() (bool, error) {
			s := br.readBar("task-progress")
			return s.Stay == 1 && (!s.Found || s.Hidden), fmt.Errorf("it shows %+v", s)
		})
		eventually(t, "the status says succeeded without a reload", func() (bool, error) {
			p := br.read()
			return p.IDs["task-status"] == "succeeded", fmt.Errorf("it says %q", p.IDs["task-status"])
		})
	})
}
