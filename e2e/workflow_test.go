package e2e

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/web"
	"github.com/taskware/taskware/worker"
	"github.com/taskware/taskware/workflow"
)

// The workflows of TestWorkflowPage, on queue flows: "report-1" a
// report of 8 steps (fetch, a step per region, merge, render, mail) whose
// region "emea" failed the workflow; "report-2" the same, not run until
// the test starts a worker.
const (
	flowQueue  = "flows"
	failedFlow = "report-1"
	liveFlow   = "report-2"
	flowSteps  = 8
)

// flowTasks are the tasks of the report workflow; region fails for emea
// while failEMEA holds.
type flowTasks struct {
	fetch, region, render, mail *task.Task[string, string]
	merge                       *task.Task[[]string, string]
	failEMEA                    atomic.Bool
}

func newFlowTasks() *flowTasks {
	ft := &flowTasks{}
	ft.fetch = task.New("reports.fetch", func(ctx context.Context, day string) (string, error) { return day, nil })
	ft.region = task.New("reports.region", func(ctx context.Context, s string) (string, error) {
		if strings.HasPrefix(s, "emea") && ft.failEMEA.Load() {
			return "", errors.New("emea: the ledger service answered 503")
		}
		return s, nil
	})
	ft.merge = task.New("reports.merge", func(ctx context.Context, ss []string) (string, error) { return strings.Join(ss, ","), nil })
	ft.render = task.New("reports.render", func(ctx context.Context, s string) (string, error) { return "pdf:" + s, nil })
	ft.mail = task.New("reports.mail", func(ctx context.Context, s string) (string, error) { return "sent", nil })
	return ft
}

// enqueue enqueues the report workflow as id.
func (ft *flowTasks) enqueue(t testing.TB, b *redisbackend.Backend, id string) {
	t.Helper()
	f := workflow.New("monthly report", workflow.OnQueue(flowQueue))
	day := workflow.Start(f, ft.fetch, "2026-11", workflow.Name("fetch"))
	var regions []workflow.Step[string]
	for _, r := range []string{"americas", "emea", "apac", "latam"} {
		regions = append(regions, workflow.Add(f, ft.region, r, workflow.Name("region-"+r), workflow.After(day)))
	}
	merged := workflow.Join(f, regions, ft.merge, workflow.Name("merge"))
	rendered := workflow.Then(f, merged, ft.render, workflow.Name("render"))
	def, err := workflow.Build(f, workflow.Then(f, rendered, ft.mail, workflow.Name("mail")))
	if err != nil {
		t.Fatalf("e2e: build the workflow: %v", err)
	}
	c := worker.NewClient(b.Queue(), b.Store(), worker.WithWorkflows(b.Queue()))
	if _, err := workflow.Enqueue(context.Background(), c, def, workflow.ID(id)); err != nil {
		t.Fatalf("e2e: enqueue workflow %s: %v", id, err)
	}
}

// run starts a worker of the flows queue, stopped when t ends.
func (ft *flowTasks) run(t testing.TB, b *redisbackend.Backend) {
	w := worker.New(b.Queue(), worker.Queues(flowQueue), worker.PollWait(20*time.Millisecond),
		worker.PromoteEvery(10*time.Millisecond), worker.Grace(2*time.Second), worker.OnError(func(error) {}))
	worker.Register(w, ft.fetch)
	worker.Register(w, ft.region)
	worker.Register(w, ft.merge)
	worker.Register(w, ft.render)
	worker.Register(w, ft.mail)
	taskwaretest.StartWorker(t, w)
}

// settled waits until workflow id has status want and every step ended.
func settled(t testing.TB, b *redisbackend.Backend, id string, want queue.Status) {
	t.Helper()
	eventually(t, "workflow "+id+" "+string(want), func() (bool, error) {
		st, err := b.Queue().Workflow(context.Background(), flowQueue, id)
		return err == nil && st.Status == want && st.Ended == st.Steps, err
	})
}

// TestWorkflowPage loads a failed workflow's page in Chromium: the SVG
// draws a box per step, each saying its state in words and linked to its
// step's task page, which links back; axe-core finds nothing serious on
// a laptop (light) or a phone (dark); on a phone the page is no wider
// than the screen allows, the graph scrolling in its own box. A second
// workflow's page, loaded before a worker runs it, follows it live to
// its end without a reload.
func TestWorkflowPage(t *testing.T) {
	b := newBackend(t)
	ft := newFlowTasks()
	ft.failEMEA.Store(true)
	ft.enqueue(t, b, failedFlow)
	ft.run(t, b)
	settled(t, b, failedFlow, queue.Failed)
	base := serve(t, b, web.Refresh(200*time.Millisecond))
	br := newBrowser(t)
	page := func(id string) string {
		return base + "workflow?" + url.Values{"queue": {flowQueue}, "id": {id}}.Encode()
	}

	t.Run("graph", func(t *testing.T) {
		br := br.in(t)
		br.emulate(desktop, false)
		br.open(page(failedFlow))
		p := br.read()
		checkClean(t, base, p)
		p.want(t, "workflow-status", "failed")
		p.want(t, "workflow-failed-step", "region-emea")
		p.want(t, "workflow-progress", "8/8 steps ended")
		var nodes []struct{ Name, State, Text, Href string }
		br.eval("read the graph", `[...document.querySelectorAll('svg[data-testid="workflow-graph"] a.wf-node')].map(a => ({
			Name: a.getAttribute('data-testid').slice(5), State: a.getAttribute('data-state'),
			Text: a.querySelector('[data-testid="step-state"]').textContent, Href: a.getAttribute('href')}))`, &nodes)
		if len(nodes) != flowSteps {
			t.Fatalf("the graph draws %d steps, want %d: %+v", len(nodes), flowSteps, nodes)
		}
		want := map[string]string{"fetch": "succeeded", "region-emea": "failed", "merge": "canceled", "mail": "canceled"}
		for _, n := range nodes {
			if w, ok := want[n.Name]; ok && n.State != w {
				t.Errorf("step %s is drawn %s, want %s", n.Name, n.State, w)
			}
			if !strings.HasSuffix(n.Text, n.State) {
				t.Errorf("step %s's box says %q, not its state %s", n.Name, n.Text, n.State)
			}
			u, err := url.Parse(n.Href)
			if err != nil || u.Path != "task" || u.Query().Get("queue") != flowQueue || u.Query().Get("id") != failedFlow+":"+n.Name {
				t.Errorf("step %s links to %q", n.Name, n.Href)
			}
		}
		var edges int
		br.eval("count the edges", `document.querySelectorAll('svg[data-testid="workflow-graph"] polyline.wf-edge').length`, &edges)
		if edges != 4+4+1+1 {
			t.Errorf("%d edges drawn, want 10", edges)
		}
		br.screenshotAt("workflow-desktop.png", desktop)
		br.open(base + "workflows?queue=" + flowQueue)
		br.screenshotAt("workflows-desktop.png", desktop)
		br.open(page(failedFlow))

		// The failed step's page links back, and offers no plain Retry.
		br.clickAndLoad("step-region-emea")
		p = br.read()
		p.want(t, "task-status", "failed")
		p.wantNone(t, "action-retry")
		br.clickAndLoad("task-workflow")
		br.read().want(t, "workflow-id", failedFlow)
	})

	t.Run("phone", func(t *testing.T) {
		br := br.in(t)
		br.emulate(phone, false)
		br.open(page(failedFlow))
		checkClean(t, base, br.read())
		var w struct{ Scroll, Viewport, Graph, Box float64 }
		br.eval("measure the page", `({Scroll: document.documentElement.scrollWidth, Viewport: window.innerWidth,
			Graph: document.querySelector('.wf-graph').scrollWidth, Box: document.querySelector('.wf-graph').clientWidth})`, &w)
		if limit := maxPhoneWidth * float64(phone.Width); w.Scroll > limit {
			t.Errorf("on a phone the page is %.0f px wide, want at most %.0f; wider elements: %s", w.Scroll, limit, br.widest(phone.Width))
		}
		if w.Graph <= w.Box {
			t.Errorf("on a phone the graph (%.0f px) fits its box (%.0f px): it is drawn too small to read", w.Graph, w.Box)
		}
		var rows []string
		br.eval("read the rows", `[...document.querySelectorAll('main table tbody tr')].map(tr => getComputedStyle(tr).display)`, &rows)
		if len(rows) != flowSteps || rows[0] != "block" {
			t.Errorf("on a phone the steps are %q, want %d cards", rows, flowSteps)
		}
		br.screenshotAt("workflow-phone.png", phone)
		br.open(base + "workflows?queue=" + flowQueue)
		br.screenshotAt("workflows-phone.png", phone)
	})

	t.Run("axe", func(t *testing.T) {
		axe := axeSource(t)
		br := br.in(t)
		for _, sc := range []struct {
			screen
			dark bool
		}{{desktop, false}, {phone, true}} {
			br.emulate(sc.screen, sc.dark)
			for _, path := range []string{page(failedFlow), base + "confirm?do=retry-step&queue=" + flowQueue + "&id=" + failedFlow + "&step=region-emea"} {
				br.open(path)
				for _, v := range br.axe(axe) {
					t.Errorf("%s (%s, dark %v): axe %s violation %s: %s (%s)\n%s",
						path, sc.Name, sc.dark, v.Impact, v.ID, v.Help, v.HelpURL, strings.Join(v.Nodes, "\n"))
				}
			}
		}
	})

	t.Run("live", func(t *testing.T) {
		br := br.in(t)
		br.emulate(desktop, false)
		ft.failEMEA.Store(false)
		// No worker takes from it yet: pause the queue, enqueue, load.
		if err := b.Queue().Pause(context.Background(), flowQueue); err != nil {
			t.Fatal(err)
		}
		ft.enqueue(t, b, liveFlow)
		br.open(page(liveFlow))
		p := br.read()
		p.want(t, "workflow-status", "running")
		p.want(t, "workflow-progress", "0/8 steps ended")
		if err := b.Queue().Resume(context.Background(), flowQueue); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the page shows the workflow succeeded, without a reload", func() (bool, error) {
			var got struct {
				Status string
				States []string
			}
			br.eval("read the states", `({Status: document.querySelector('[data-testid="workflow-status"]').textContent,
				States: [...document.querySelectorAll('a.wf-node')].map(a => a.getAttribute('data-state') + ' ' +
					a.querySelector('[data-testid="step-state"]').textContent)})`, &got)
			for _, s := range got.States {
				if s != "succeeded ✓ succeeded" {
					return false, nil
				}
			}
			return got.Status == "succeeded" && len(got.States) == flowSteps, nil
		})
		p = br.read()
		p.want(t, "workflow-progress", "8/8 steps ended")
	})
}
