package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// The two screens every page is checked on: a laptop's, and a phone's
// (an iPhone 12 to 15 in portrait, in CSS pixels).
var (
	desktop = screen{Name: "desktop", Width: 1366, Height: 900}
	phone   = screen{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// maxPhoneWidth is how much wider than a phone's screen a page may be: a
// little, for a long word the browser could not break, never a table.
const maxPhoneWidth = 1.2

// screenshotHeight caps a screenshot's height, in CSS pixels: Chromium
// cannot capture a page of any length, and a README needs the top.
const screenshotHeight = 2400

// screen is a viewport the browser emulates.
type screen struct {
	Name          string
	Width, Height int64
	Mobile        bool // a phone: mobile viewport rules and touch
}

// webPage is one page of the web view, by the name its screenshots take.
type webPage struct {
	Name string
	Path string // relative to the view's root
}

// webPages lists every page of the web view, on the seed of seed_test.go:
// each one is checked for its width on a phone and by axe-core, and
// screenshot. A new page belongs here.
func webPages() []webPage {
	return []webPage{
		{"overview", ""},
		{"tasks", "tasks?queue=" + mailQueue + "&state=dead"},
		{"tasks-ready", "tasks?queue=" + mailQueue + "&state=ready"},
		{"tasks-running", "tasks?queue=" + mailQueue + "&state=running"},
		{"tasks-delayed", "tasks?queue=" + mailQueue + "&state=delayed"},
		{"tasks-queues", "tasks"},
		{"task", "task?queue=" + mailQueue + "&id=" + xssID},
		{"task-running", "task?queue=" + mailQueue + "&id=" + runningID},
		{"dead", "dead"},
		{"locks", "locks"},
		{"confirm", "confirm?do=break&key=" + nightlyLock},
		{"confirm-schedule", "confirm?do=remove-schedule&name=" + weeklySchedule},
		{"results", "results"},
		{"workers", "workers"},
		// Screenshot with workflows to list by TestWorkflowPage.
		{"workflows", "workflows?queue=" + mailQueue},
		{"error", "task?queue=" + mailQueue + "&id=no-such-task"},
	}
}

// screenshotPages are the pages whose screenshots web/README.md shows,
// besides those the sections' links lead to (see allPages).
var screenshotPages = map[string]bool{
	"overview": true, "tasks": true, "task": true, "dead": true, "locks": true,
	"confirm": true, "results": true, "workers": true,
	// A running task's progress bar, on its page and in the listing.
	"task-running": true, "tasks-running": true,
}

// allPages returns webPages and, after them, each page the sections'
// links (nav-<name>) lead to that they do not name: a new section is
// checked, and screenshot, without a change here.
func (b *browser) allPages(base string) []webPage {
	b.t.Helper()
	pages := webPages()
	b.open(base)
	var nav []webPage
	b.eval("read the sections", `[...document.querySelectorAll('header nav a[data-testid^="nav-"]')]
		.map(a => ({Name: a.getAttribute('data-testid').slice(4), Path: a.getAttribute('href')}))`, &nav)
	for _, n := range nav {
		if !slices.ContainsFunc(pages, func(p webPage) bool { return p.Name == n.Name }) {
			n.Path = strings.TrimPrefix(n.Path, "./")
			pages = append(pages, n)
			screenshotPages[n.Name] = true
		}
	}
	return pages
}

// TestPhoneLayout loads every page on a phone's screen: none is wider
// than maxPhoneWidth times the screen, a listing is a stack of cards
// (each row a block, each cell labelled with its column's name), and a
// table wider than the laptop's screen scrolls in its own box. With
// TASKWARE_SCREENSHOTS=1 it writes each page's screenshots, on both
// screens, to screenshots/<page>-desktop.png and -phone.png.
func TestPhoneLayout(t *testing.T) {
	b := newBackend(t)
	seed(t, b)
	seedLong(t, b)
	base := serve(t, b)
	br := newBrowser(t)
	pages := append(br.allPages(base),
		webPage{"long-dead", "dead?queue=" + longQueue},
		webPage{"long-tasks", "tasks?queue=" + longQueue + "&state=dead"},
		webPage{"long-task", "task?queue=" + longQueue + "&id=" + longID})
	for _, pg := range pages {
		t.Run(pg.Name, func(t *testing.T) {
			br := br.in(t)
			br.emulate(phone, false)
			br.open(base + pg.Path)
			checkClean(t, base, br.read())
			var w struct{ Scroll, Viewport float64 }
			br.eval("measure the page", `({Scroll: document.documentElement.scrollWidth, Viewport: window.innerWidth})`, &w)
			if limit := maxPhoneWidth * float64(phone.Width); w.Scroll > limit {
				t.Errorf("%s on a %dx%d phone: the page is %.0f px wide (%.2f× the screen), want at most %.0f; wider elements: %s",
					pg.Name, phone.Width, phone.Height, w.Scroll, w.Scroll/float64(phone.Width), limit, br.widest(phone.Width))
			}
			// A listing is cards: no row lays out as a table row.
			var rows []string
			br.eval("read the rows", `[...document.querySelectorAll('main table tbody tr')].map(tr => getComputedStyle(tr).display)`, &rows)
			for i, d := range rows {
				if d != "block" {
					t.Errorf("%s on a phone: row %d displays as %q, want a card (block)", pg.Name, i, d)
					break
				}
			}
			var unlabelled int
			br.eval("count the unlabelled cells", `document.querySelectorAll('main table tbody td:not([data-label])').length`, &unlabelled)
			if unlabelled != 0 {
				t.Errorf("%s on a phone: %d cells have no data-label (their column's name)", pg.Name, unlabelled)
			}
			if screenshotPages[pg.Name] {
				br.screenshotAt(pg.Name+"-phone.png", phone)
				br.emulate(desktop, false)
				br.open(base + pg.Path)
				br.screenshotAt(pg.Name+"-desktop.png", desktop)
			}
		})
	}

	// Between a phone and a laptop, tables are tables: a page is never
	// wider than the screen, and a table wider than its box scrolls
	// inside it and can be focused, so that the keyboard scrolls it.
	for _, width := range []int64{601, 800, 1024} {
		t.Run(fmt.Sprintf("width-%d", width), func(t *testing.T) {
			br := br.in(t)
			br.emulate(screen{Name: fmt.Sprint(width), Width: width, Height: 900}, false)
			for _, pg := range pages {
				br.open(base + pg.Path)
				var got struct {
					Page, View float64
					Tables     []struct {
						Table, Box    float64
						Overflow, Tab string
					}
				}
				br.eval("measure the tables", `({Page: document.documentElement.scrollWidth, View: window.innerWidth,
					Tables: [...document.querySelectorAll('main table')].map(t => ({Table: t.scrollWidth, Box: t.clientWidth,
						Overflow: getComputedStyle(t).overflowX, Tab: t.getAttribute('tabindex') || ''}))})`, &got)
				if got.Page > got.View {
					t.Errorf("%s at %d px: the page is %.0f px wide, wider than the screen; wider elements: %s", pg.Name, width, got.Page, br.widest(width))
				}
				for i, tb := range got.Tables {
					if tb.Overflow != "auto" {
						t.Errorf("%s at %d px: table %d has overflow-x %q, want auto (it scrolls in its own box)", pg.Name, width, i, tb.Overflow)
					}
					if tb.Table > tb.Box+1 && tb.Tab != "0" {
						t.Errorf("%s at %d px: table %d scrolls (%.0f px in %.0f) but has tabindex %q, want 0 (the keyboard reaches it)", pg.Name, width, i, tb.Table, tb.Box, tb.Tab)
					}
				}
			}
		})
	}
}

// TestAccessibility runs axe-core on every page, on a laptop's screen in
// light mode and on a phone's in dark mode, and fails on any violation of
// impact serious or critical. axe-core is the npm package of
// package.json (npm ci, in this directory); without it the test skips,
// or fails under TASKWARE_REQUIRE_REDIS=1.
func TestAccessibility(t *testing.T) {
	axe := axeSource(t)
	b := newBackend(t)
	seed(t, b)
	base := serve(t, b)
	br := newBrowser(t)
	pages := br.allPages(base)

	for _, sc := range []struct {
		screen
		dark bool
	}{{desktop, false}, {phone, true}} {
		mode := sc.Name + map[bool]string{false: "-light", true: "-dark"}[sc.dark]
		t.Run(mode, func(t *testing.T) {
			br := br.in(t)
			br.emulate(sc.screen, sc.dark)
			for _, pg := range pages {
				br.open(base + pg.Path)
				for _, v := range br.axe(axe) {
					t.Errorf("%s (%s): axe %s violation %s: %s (%s)\n%s",
						pg.Name, mode, v.Impact, v.ID, v.Help, v.HelpURL, strings.Join(v.Nodes, "\n"))
				}
			}
		})
	}
}

// TestKeyboard works the overview with the keyboard alone: the first Tab
// shows the skip link, every link, field and button is reached by Tab in
// turn and Tab leaves the page at its end (no trap), the focused element
// is outlined, and Enter on a queue's Pause button pauses it in Redis.
func TestKeyboard(t *testing.T) {
	b := newBackend(t)
	seed(t, b)
	base := serve(t, b)
	br := newBrowser(t)
	br.emulate(desktop, false)
	br.open(base)

	// The skip link comes first, and shows when focused.
	br.tab()
	f := br.focused()
	if f.Class != "skip" || f.Left < 0 || f.Width == 0 {
		t.Errorf("the first Tab focused %+v, want the skip link, on screen", f)
	}

	// Enter on it moves the focus to the content: the next Tab is in it,
	// past the sections' links.
	run(br, "press Enter on the skip link", chromedp.KeyEvent(kb.Enter))
	br.tab()
	if f := br.focused(); !f.InMain {
		t.Errorf("the Tab after the skip link focused %s, outside the main content", f.HTML)
	}

	// Tab to the end: every focusable element once, in order, and then
	// out of the page.
	br.open(base)
	br.tab()
	f = br.focused()
	var focusable []string
	br.eval("list the focusable elements", `[...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])')]
		.filter(el => !el.disabled && el.getClientRects().length > 0).map(el => el.outerHTML.slice(0, 120))`, &focusable)
	visited := []string{f.HTML}
	for range 3 * len(focusable) {
		br.tab()
		f = br.focused()
		if f.Body {
			break
		}
		if f.Outline == "none" || f.Outline == "" {
			t.Errorf("focused %s has no visible outline", f.HTML)
		}
		visited = append(visited, f.HTML)
	}
	if !f.Body {
		t.Errorf("after %d Tabs the focus is still in the page, on %s: a keyboard trap", 3*len(focusable), f.HTML)
	}
	if len(visited) != len(focusable) {
		t.Errorf("Tab reached %d elements, want each of the %d focusable ones once:\nreached %q\nfocusable %q",
			len(visited), len(focusable), visited, focusable)
	}

	// Tab to the Pause button of the mail queue, and press Enter.
	br.open(base)
	button := `pause-` + mailQueue
	for i := 0; ; i++ {
		if i > len(focusable) {
			t.Fatalf("Tab never reached %s", button)
		}
		br.tab()
		if br.focused().TestID == button {
			break
		}
	}
	run(br, "press Enter", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(kb.Enter)))
	p := br.read()
	checkClean(t, base, p)
	if !strings.Contains(p.IDs["notice"], "Paused") {
		t.Errorf("after Enter on %s, the notice says %q, want it paused", button, p.IDs["notice"])
	}
	p.wantIn(t, "queue-"+mailQueue, "paused", "paused")
	if paused, err := b.Queue().Paused(context.Background(), mailQueue); err != nil || !paused {
		t.Errorf("Redis: after Enter on %s, %s paused %v (%v), want paused", button, mailQueue, paused, err)
	}
}

// focus is what the element focused now is.
type focus struct {
	Body        bool // nothing in the page has the focus
	HTML        string
	TestID      string
	Class       string
	InMain      bool   // within the main content
	Outline     string // its computed outline-style
	Left, Width float64
}

// tab presses Tab.
func (b *browser) tab() {
	b.t.Helper()
	run(b, "press Tab", chromedp.KeyEvent(kb.Tab))
}

// focused tells the element focused now.
func (b *browser) focused() focus {
	b.t.Helper()
	var f focus
	b.eval("read the focus", `(() => {
		const el = document.activeElement;
		if (!el || el === document.body || el === document.documentElement) return {Body: true};
		const r = el.getBoundingClientRect();
		return {HTML: el.outerHTML.slice(0, 120), TestID: el.getAttribute('data-testid') || '',
			InMain: !!el.closest('main') && el.tagName !== 'MAIN',
			Class: el.className || '', Outline: getComputedStyle(el).outlineStyle, Left: r.left, Width: r.width};
	})()`, &f)
	return f
}

// emulate sets the tab's viewport to s, and its color scheme to dark or
// light, for the pages loaded from now on.
func (b *browser) emulate(s screen, dark bool) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if s.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if s.Width > s.Height {
		opts[0] = chromedp.EmulateLandscape
	}
	scheme := map[bool]string{false: "light", true: "dark"}[dark]
	run(b, "emulate "+s.Name, chromedp.Steps(
		chromedp.EmulateViewport(s.Width, s.Height, opts...),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		}),
	))
}

// widest describes the elements of the page loaded now that reach past
// width, for a message.
func (b *browser) widest(width int64) string {
	b.t.Helper()
	var out []string
	b.eval("find the wide elements", fmt.Sprintf(`[...document.querySelectorAll('body *')]
		.filter(el => el.getBoundingClientRect().right > %d)
		.slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' ' + Math.round(el.getBoundingClientRect().right) + 'px')`, width), &out)
	return fmt.Sprintf("%q", out)
}

// screenshotAt writes a PNG of the page loaded now on s, from its top and
// at most screenshotHeight tall, to screenshots/name, if
// TASKWARE_SCREENSHOTS=1.
func (b *browser) screenshotAt(name string, s screen) {
	b.t.Helper()
	if !screenshots() {
		return
	}
	var h float64
	b.eval("measure the page's height", `document.documentElement.scrollHeight`, &h)
	clip := &page.Viewport{X: 0, Y: 0, Width: float64(s.Width), Height: math.Min(h, screenshotHeight), Scale: 1}
	yes := true
	data := run(b, "screenshot "+name, chromedp.Action[[]byte](func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format: page.CaptureScreenshotFormatPng, Clip: clip, FromSurface: &yes, CaptureBeyondViewport: &yes})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	path := filepath.Join("screenshots", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("e2e: wrote %s (%d bytes)", path, len(data))
}

// axeScript is where npm ci puts axe-core, from package-lock.json.
const axeScript = "node_modules/axe-core/axe.min.js"

// axeSource returns the source of axe-core. Without it, it skips t, or
// fails it under TASKWARE_REQUIRE_REDIS=1 (CI runs npm ci first).
func axeSource(t testing.TB) string {
	t.Helper()
	src, err := os.ReadFile(axeScript)
	switch {
	case err == nil:
		return string(src)
	case errors.Is(err, fs.ErrNotExist) && !taskwaretest.RequireRedis():
		t.Skipf("e2e: no %s: run `npm ci` in e2e/ to check accessibility with axe-core; TASKWARE_REQUIRE_REDIS=1 fails instead", axeScript)
	case errors.Is(err, fs.ErrNotExist):
		t.Fatalf("e2e: no %s and TASKWARE_REQUIRE_REDIS=1: run `npm ci` in e2e/ (as .ci/run does)", axeScript)
	default:
		t.Fatalf("e2e: reading axe-core: %v", err)
	}
	return ""
}

// violation is one rule axe-core found broken on a page, with the
// elements that break it.
type violation struct {
	ID, Impact, Help, HelpURL string
	Nodes                     []string // each element's selector and what is wrong
}

// axeRun runs axe-core, once injected, on the document, and returns its
// violations of impact serious or critical.
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
	.filter(v => v.impact === 'serious' || v.impact === 'critical')
	.map(v => ({ID: v.id, Impact: v.impact, Help: v.help, HelpURL: v.helpUrl,
		Nodes: v.nodes.slice(0, 10).map(n => '  ' + n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' '))})))`

// axe injects axe-core (its source, src) into the page loaded now, runs
// it, and returns the serious and critical violations.
func (b *browser) axe(src string) []violation {
	b.t.Helper()
	run(b, "inject axe-core", chromedp.Evaluate[chromedp.Void](src+"\n;void 0"))
	raw := run(b, "run axe-core", chromedp.Evaluate[[]byte](axeRun, chromedp.EvalAwaitPromise))
	var vs []violation
	if err := json.Unmarshal(raw, &vs); err != nil {
		b.t.Fatalf("e2e: axe-core's result %s: %v", raw, err)
	}
	return vs
}

// The seed of seedLong: what a phone finds hardest to fit.
const (
	longQueue = "bulk"
	longID    = "long-1"
)

// seedLong adds to the seed a dead letter of queue bulk whose task name,
// argument, error (a stack of long lines and one word of 600 letters)
// and lock key are long and unbroken: on a phone, a page must wrap them,
// not grow.
func seedLong(t testing.TB, b *redisbackend.Backend) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	word := func(n int) string { return strings.Repeat("abcdefghij", n/10) }
	name := "reports.monthly.RenderAndDeliverTheConsolidatedStatementForEveryAccount_" + word(60)
	long := task.New(name, func(context.Context, string) (struct{}, error) { return struct{}{}, nil })
	client := worker.NewClient(b.Queue(), b.Store())
	if _, err := worker.Enqueue(ctx, client, long, "https://example.com/"+word(300), worker.OnQueue(longQueue), worker.ID(longID)); err != nil {
		t.Fatalf("e2e: seed the long task: %v", err)
	}
	ds, err := b.Queue().Take(ctx, longQueue, "e2e-worker-with-a-rather-long-name-"+word(40), 1, time.Second)
	if err != nil || len(ds) != 1 {
		t.Fatalf("e2e: take the long task: %v (%d taken)", err, len(ds))
	}
	var stack strings.Builder
	stack.WriteString("panic: runtime error: index out of range [7] with length 7 " + word(600) + "\n\ngoroutine 42 [running]:\n")
	for i := range 20 {
		fmt.Fprintf(&stack, "github.com/example/reports/internal/render.(*Statement).writeSection%d(0xc000123456, {0xc000abcdef, 0x1f4})\n\t/home/build/src/github.com/example/reports/internal/render/statement_section_%d.go:%d +0x1a5\n", i, i, 100+i)
	}
	if err := b.Queue().Finish(ctx, ds[0], queue.Outcome{Status: queue.Dead, Attempt: ds[0].Attempt, Kind: "task.panic", Error: stack.String()}); err != nil {
		t.Fatalf("e2e: dead-letter the long task: %v", err)
	}
	if _, err := b.Locker().TryAcquire(ctx, "statement:"+word(200), 10*time.Minute); err != nil {
		t.Fatalf("e2e: lock a long key: %v", err)
	}
	rec := &store.Record{Queue: longQueue, ID: longID, Task: name, Status: store.Failed, Error: stack.String(), Kind: "task.panic", Attempt: 1}
	if err := b.Store().Put(ctx, rec, time.Hour); err != nil {
		t.Fatalf("e2e: store the long record: %v", err)
	}
}
