package e2e

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The checks the web view's tests make, on two pages of known shape: one
// that escapes the payload, as the web view must, and one that does not.
// If the harness could not tell them apart, TestWebView's check of the
// payload would prove nothing.
func TestHarnessTellsEscapedFromInjected(t *testing.T) {
	page := template.Must(template.New("").Parse(`<!doctype html><title>harness</title>` +
		`<p data-testid="count"> 42 </p><p data-testid="name">{{.}}</p><script>document.title += "!"</script>`))
	mux := http.NewServeMux()
	mux.HandleFunc("/escaped", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, xss)
	})
	mux.HandleFunc("/injected", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>harness</title><p data-testid="name">` + xss + `</p>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := newBrowser(t)
	b.open(srv.URL + "/escaped")
	p := b.read()
	if p.IDs["count"] != "42" || p.Title != "harness!" {
		t.Errorf("escaped page: count %q, title %q; want 42 and harness!", p.IDs["count"], p.Title)
	}
	own := func(s string) bool { return s == `inline:document.title += "!"` }
	if err := checkShownAsText(p, own); err != nil {
		t.Errorf("escaped page: %v", err)
	}

	b.open(srv.URL + "/injected")
	p = b.read()
	err := checkShownAsText(p, own)
	if err == nil || !strings.Contains(err.Error(), "ran") {
		t.Errorf("injected page passed the check (err %v): the harness cannot see an injection", err)
	}
}

// axe-core, as TestAccessibility runs it, finds the violations of a page
// made to have them (an image without a text, a field without a label,
// grey on grey) and none on the same page repaired: if it found nothing
// anywhere, TestAccessibility would prove nothing.
func TestHarnessFindsAccessibilityViolations(t *testing.T) {
	axe := axeSource(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><title>broken</title><main>` +
			`<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input name="q">` +
			`<p style="color:#aaa;background:#bbb">faint</p></main></html>`))
	})
	mux.HandleFunc("/repaired", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><title>repaired</title><main>` +
			`<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="a dot"><label>Search <input name="q"></label>` +
			`<p style="color:#222;background:#fff">plain</p></main></html>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := newBrowser(t)
	b.open(srv.URL + "/broken")
	found := map[string]bool{}
	for _, v := range b.axe(axe) {
		found[v.ID] = true
	}
	for _, id := range []string{"image-alt", "label", "color-contrast"} {
		if !found[id] {
			t.Errorf("axe-core missed %s on the broken page (found %v)", id, keys(found))
		}
	}
	b.open(srv.URL + "/repaired")
	if vs := b.axe(axe); len(vs) != 0 {
		t.Errorf("axe-core found %+v on the repaired page, want nothing", vs)
	}
}
