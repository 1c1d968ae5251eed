package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/taskware/taskware/taskwaretest"
)

// The time limits of the browser: every wait is bounded by one of them.
const (
	// browserLife bounds the whole life of one browser, start to close.
	browserLife = 3 * time.Minute
	// startTimeout bounds the start of the browser and its first tab.
	startTimeout = 30 * time.Second
	// stepTimeout bounds one step: a navigation, a click and the load it
	// causes, a read of the DOM.
	stepTimeout = 20 * time.Second
	// closeTimeout bounds the graceful close of the browser.
	closeTimeout = 15 * time.Second
)

// alertHook runs in every document before the page's own scripts, even
// under the page's Content-Security-Policy. It counts the alerts and
// prompts an injected script would open, instead of letting them block the
// page. It answers yes to the page's own confirmations (app.js asks before
// a purge), and keeps the last question in sessionStorage, so that the
// page loaded after the confirmed form can tell it was asked.
const alertHook = `(() => {
	window.__taskwareXSS = 0;
	window.alert = () => { window.__taskwareXSS++; };
	window.prompt = () => { window.__taskwareXSS++; return null; };
	window.confirm = (q) => { sessionStorage.setItem('taskwareConfirmed', String(q)); return true; };
})();`

// chromiumPath returns the Chromium to drive: TASKWARE_CHROMIUM, else the
// first of the usual names found. It skips t if there is none, or fails it
// under TASKWARE_REQUIRE_REDIS=1, where CI has installed Debian's chromium.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TASKWARE_CHROMIUM"); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("e2e: TASKWARE_CHROMIUM=%s: %v", p, err)
		}
		return found
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if taskwaretest.RequireRedis() {
		t.Fatal("e2e: no Chromium (/usr/bin/chromium) and TASKWARE_REQUIRE_REDIS=1: install Debian's chromium, or set TASKWARE_CHROMIUM")
	}
	t.Skip("e2e: no Chromium found (/usr/bin/chromium); install Debian's chromium or set TASKWARE_CHROMIUM; TASKWARE_REQUIRE_REDIS=1 fails instead")
	return ""
}

// browser is one headless Chromium with one tab, closed when its test
// ends.
type browser struct {
	t   testing.TB
	ctx context.Context // the tab
}

// newBrowser starts a headless Chromium for t, with a profile of its own
// in a temporary directory, and closes it (and waits for its process to
// end) when t ends.
func newBrowser(t testing.TB) *browser {
	t.Helper()
	path := chromiumPath(t)
	profile := t.TempDir() // removed after the browser has closed: cleanups run last in, first out

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		// The machine's network is closed: Chromium must not try to
		// reach Google's hosts at start.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	life, stopLife := context.WithTimeout(context.Background(), browserLife)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf), chromedp.WithErrorf(func(format string, args ...any) {
		t.Logf("chromedp error: "+format, args...)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(tabCtx, closeTimeout)
		if err := chromedp.Cancel(ctx); err != nil && ctx.Err() == nil {
			t.Logf("e2e: closing Chromium: %v", err)
		}
		cancel()
		cancelTab()
		cancelAlloc() // waits for the process to end and its goroutines to stop
		stopLife()
	})

	// The first run starts the browser, on the tab's own context: the
	// browser lives as long as that one (bounded by browserLife), so the
	// start is bounded by a timer that cancels it.
	start := time.Now()
	slow := time.AfterFunc(startTimeout, cancelTab)
	_, err := chromedp.Call(tabCtx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: alertHook})
	if !slow.Stop() {
		t.Fatalf("e2e: Chromium at %s did not start within %v (%v)", path, startTimeout, err)
	}
	if err != nil {
		t.Fatalf("e2e: starting Chromium at %s: %v", path, err)
	}
	t.Logf("e2e: Chromium %s started in %v", path, time.Since(start).Round(time.Millisecond))
	return &browser{t: t, ctx: tabCtx}
}

// in returns b for the subtest t: its failures are t's.
func (b *browser) in(t testing.TB) *browser { return &browser{t: t, ctx: b.ctx} }

// run runs a in the tab within stepTimeout, and fails the test on error.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("e2e: %s: %v", what, err)
	}
	return v
}

// open loads url and waits for its load event.
func (b *browser) open(url string) {
	b.t.Helper()
	run(b, "open "+url, chromedp.Navigate(url))
}

// sel is the CSS selector of the element whose data-testid is id.
func sel(id string) chromedp.CSS {
	q, _ := json.Marshal(id) // a CSS string: JSON's quoting is a subset
	return chromedp.CSS(`[data-testid=` + string(q) + `]`)
}

// clickAndLoad clicks the element whose data-testid is id, and waits for
// the page the click loads (a form's POST and the page it redirects to).
func (b *browser) clickAndLoad(id string) {
	b.t.Helper()
	run(b, "click "+id, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(sel(id))))
}

// clickAndLoadCSS clicks the first element css selects, and waits for the
// page the click loads.
func (b *browser) clickAndLoadCSS(css string) {
	b.t.Helper()
	run(b, "click "+css, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css))))
}

// basicAuth sends user and pass, by HTTP basic authentication, with every
// request the tab makes from now on.
func (b *browser) basicAuth(user, pass string) {
	b.t.Helper()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	run(b, "set basic authentication", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Authorization": auth}})
		return err
	}))
}

// evalJSON evaluates expr in the page and decodes its value into v.
func (b *browser) eval(what, expr string, v any) {
	b.t.Helper()
	raw := run(b, what, chromedp.Evaluate[[]byte](expr))
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("e2e: %s: decode %s: %v", what, raw, err)
	}
}

// pageView is what one load of a page shows: the text of each element with
// a data-testid, and the page's text and scripts.
type pageView struct {
	URL   string
	Title string
	// IDs maps each data-testid to its first element's text, trimmed.
	IDs map[string]string
	// Within maps each data-testid that holds others (a table's row) to
	// the texts of those it holds, by data-testid (its cells).
	Within map[string]map[string]string
	// Text is the page's visible text (document.body.innerText).
	Text string
	// Scripts are the page's script elements, as their src, or
	// "inline:" and their text.
	Scripts []string
	// XSS counts the alerts and prompts a script of the page opened (see
	// alertHook): zero, unless something injected ran.
	XSS int
	// Confirmed is the last question window.confirm asked in this tab,
	// on this page or one before it (see alertHook and takeConfirmed).
	Confirmed string
}

const readPage = `(() => {
	const text = el => (el.innerText || el.textContent || '').trim();
	const ids = {}, within = {};
	for (const el of document.querySelectorAll('[data-testid]')) {
		const id = el.getAttribute('data-testid');
		if (id in ids) continue;
		ids[id] = text(el);
		const inner = el.querySelectorAll('[data-testid]');
		if (inner.length === 0) continue;
		within[id] = {};
		for (const c of inner) {
			const cid = c.getAttribute('data-testid');
			if (!(cid in within[id])) within[id][cid] = text(c);
		}
	}
	const scripts = [...document.querySelectorAll('script')].map(s => s.src ? s.src : 'inline:' + s.textContent);
	return {URL: location.href, Title: document.title, IDs: ids, Within: within,
		Text: document.body ? document.body.innerText : '', Scripts: scripts, XSS: window.__taskwareXSS || 0,
		Confirmed: sessionStorage.getItem('taskwareConfirmed') || ''};
})()`

// forgetConfirmed forgets the last question window.confirm asked.
func (b *browser) forgetConfirmed() {
	b.t.Helper()
	run(b, "forget the last confirmation", chromedp.Evaluate[chromedp.Void](`sessionStorage.removeItem('taskwareConfirmed')`))
}

// read reads the page loaded now.
func (b *browser) read() *pageView {
	b.t.Helper()
	var p pageView
	b.eval("read the page", readPage, &p)
	return &p
}

// want checks that the element of data-testid id shows text want.
func (p *pageView) want(t testing.TB, id, want string) {
	t.Helper()
	got, ok := p.IDs[id]
	switch {
	case !ok:
		t.Errorf("%s: no element with data-testid %q (the page has %s)", p.URL, id, p.describe(id))
	case got != want:
		t.Errorf("%s: data-testid %q shows %q, want %q", p.URL, id, got, want)
	}
}

// wantIn checks that the element of data-testid cell, within that of
// data-testid row, shows text want.
func (p *pageView) wantIn(t testing.TB, row, cell, want string) {
	t.Helper()
	cells, ok := p.Within[row]
	if !ok {
		t.Errorf("%s: no element with data-testid %q holding %q (the page has %s)", p.URL, row, cell, p.describe(row))
		return
	}
	got, ok := cells[cell]
	switch {
	case !ok:
		t.Errorf("%s: no data-testid %q within %q (it holds %s)", p.URL, cell, row, describeIDs(keys(cells)))
	case got != want:
		t.Errorf("%s: data-testid %q within %q shows %q, want %q", p.URL, cell, row, got, want)
	}
}

// wantNone checks that the page has no element of data-testid id.
func (p *pageView) wantNone(t testing.TB, id string) {
	t.Helper()
	if got, ok := p.IDs[id]; ok {
		t.Errorf("%s: data-testid %q is shown (%q), want none", p.URL, id, got)
	}
}

// idsWith lists the page's data-testids that start with prefix.
func (p *pageView) idsWith(prefix string) []string {
	var out []string
	for id := range p.IDs {
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// describe lists the page's data-testids that share id's first part, or
// all of them, for a message.
func (p *pageView) describe(id string) string {
	first, _, _ := strings.Cut(id, "-")
	var near []string
	for k := range p.IDs {
		if strings.HasPrefix(k, first) {
			near = append(near, k)
		}
	}
	if len(near) == 0 {
		near = keys(p.IDs)
	}
	return describeIDs(near)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// screenshots reports whether TASKWARE_SCREENSHOTS=1 asks for the
// screenshots of the README.
func screenshots() bool { return os.Getenv("TASKWARE_SCREENSHOTS") == "1" }

// screenshot writes a full-page PNG of the page loaded now to
// screenshots/name, if TASKWARE_SCREENSHOTS=1.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if !screenshots() {
		return
	}
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100)) // 100: PNG
	path := filepath.Join("screenshots", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("e2e: wrote %s (%d bytes)", path, len(png))
}

// eventually polls cond every 50ms until it holds, for up to stepTimeout.
func eventually(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: %s: not so after %v (last error: %v)", what, stepTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func describeIDs(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	slices.Sort(ids)
	return fmt.Sprintf("%q", ids)
}
