package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

//go:embed templates/*.html static/*
var files embed.FS

// Option configures the handler New returns.
type Option interface{ apply(*config) }

type config struct {
	readOnly  bool
	basic     bool
	user      [32]byte
	pass      [32]byte
	authorize func(*http.Request) bool
	refresh   time.Duration
	redact    func(string) string
	title     string
	timeout   time.Duration
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// ReadOnly turns the actions off: no button is shown, and every POST is
// refused with 403 Forbidden.
func ReadOnly() Option { return optionFunc(func(c *config) { c.readOnly = true }) }

// BasicAuth asks every request for HTTP basic authentication as user
// with password pass, and answers 401 Unauthorized to any other. Both are
// compared in constant time. Serve it over TLS: basic authentication
// sends the password in clear.
func BasicAuth(user, pass string) Option {
	return optionFunc(func(c *config) {
		c.basic = true
		c.user, c.pass = sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	})
}

// Authorize hands every request to fn, the host server's own check (a
// session, a role), before anything else is done but BasicAuth; a request
// it refuses is answered 403 Forbidden. fn may check r.Method to let
// some users look but not act.
func Authorize(fn func(r *http.Request) bool) Option {
	return optionFunc(func(c *config) { c.authorize = fn })
}

// Refresh sets how often a page polls for its numbers, 3s by default; 0
// or less turns polling off. The pages that read every record or every
// finished task (results, finished tasks) poll ten times less often, and
// every 30s at most.
func Refresh(d time.Duration) Option { return optionFunc(func(c *config) { c.refresh = d }) }

// Redact passes every error message shown, on a page or in JSON, through
// fn: the taskware command hides the Redis URL's password with it. No
// page shows a credential of the handler's own; an error of the backend
// is shown as it is, unless fn changes it.
func Redact(fn func(string) string) Option { return optionFunc(func(c *config) { c.redact = fn }) }

// Title sets the name shown in each page's title and header, "taskware"
// by default.
func Title(s string) Option { return optionFunc(func(c *config) { c.title = s }) }

// Timeout bounds the backend calls of one request, 10s by default.
func Timeout(d time.Duration) Option { return optionFunc(func(c *config) { c.timeout = d }) }

// handler is the web view. It is safe for concurrent use.
type handler struct {
	src    Source
	cfg    config
	key    []byte // the CSRF tokens' HMAC key, random per handler
	pages  map[string]*template.Template
	static http.Handler
	cop    *http.CrossOriginProtection
}

// New returns the web view of src, an http.Handler that serves its
// pages, JSON and actions at paths relative to where it is mounted: mount
// it under any prefix with http.StripPrefix (see the package doc). It
// panics if src has no Queue.
func New(src Source, opts ...Option) http.Handler {
	if src.Queue == nil {
		panic(fmt.Errorf("%w: web.New: the Source has no Queue", task.ErrInvalidConfig))
	}
	c := config{refresh: 3 * time.Second, title: "taskware", timeout: 10 * time.Second}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.redact == nil {
		c.redact = func(s string) string { return s }
	}
	h := &handler{src: src, cfg: c, key: make([]byte, 32), pages: map[string]*template.Template{},
		cop: http.NewCrossOriginProtection()}
	rand.Read(h.key)
	for _, name := range []string{"overview", "tasks", "task", "dead", "locks", "results", "workers", "confirm", "error"} {
		h.pages[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	static, _ := fs.Sub(files, "static")
	h.static = http.StripPrefix("static/", http.FileServerFS(static))
	return h
}

// securityHeaders are set on every response.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "same-origin",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	if !h.authenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="taskware", charset="UTF-8"`)
		http.Error(w, "401 unauthorized", http.StatusUnauthorized)
		return
	}
	if h.cfg.authorize != nil && !h.cfg.authorize(r) {
		http.Error(w, "403 forbidden", http.StatusForbidden)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if strings.HasPrefix(path, "static/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		r2 := r.Clone(r.Context())
		r2.URL.Path = path
		h.static.ServeHTTP(w, r2)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.timeout)
	defer cancel()
	r = r.WithContext(ctx)
	if name, ok := strings.CutPrefix(path, "api/"); ok {
		h.serveAPI(w, r, name)
		return
	}
	if act, ok := actions[path]; ok {
		h.serveAction(w, r, act)
		return
	}
	if p, ok := pages[path]; ok {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		h.servePage(w, r, p)
		return
	}
	h.renderError(w, r, &httpError{http.StatusNotFound, "There is no page " + path + " here."})
}

// authenticated reports whether r passes BasicAuth, if it is on.
func (h *handler) authenticated(r *http.Request) bool {
	if !h.cfg.basic {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(u[:], h.cfg.user[:])&subtle.ConstantTimeCompare(p[:], h.cfg.pass[:]) == 1
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
}

// httpError is an error shown with its status code.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

// status returns err's HTTP status: its own, 404 for anything not
// found, 504 for a timeout, else 502 (the backend failed).
func status(err error) int {
	if he, ok := errors.AsType[*httpError](err); ok {
		return he.code
	}
	if errors.Is(err, queue.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound
	}
	if errors.Is(err, queue.ErrNotSupported) {
		return http.StatusNotImplemented
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// view is a rendered page: its template, and what it shows.
type view struct {
	Title string
	// Nav is the page's entry in the navigation.
	Nav string
	// Data is what the JSON endpoint returns too.
	Data any
	// API is the page's JSON endpoint, relative, "" if it polls nothing.
	API string
	// Slow says the page is costly to make (it reads every record, or
	// SCANs the task states): it polls ten times less often, every 30s
	// at least.
	Slow bool
	// Set by the handler:
	App      string
	ReadOnly bool
	CSRF     string
	Notice   string
	Refresh  int64
	template string
}

// page builds a page's view from a request.
type page func(h *handler, r *http.Request) (*view, error)

// pages are the pages, by path; api/<path> serves each one's Data as
// JSON ("api/overview" for the overview).
var pages = map[string]page{
	"":        (*handler).overview,
	"tasks":   (*handler).tasks,
	"task":    (*handler).task,
	"dead":    (*handler).dead,
	"locks":   (*handler).locks,
	"results": (*handler).results,
	"workers": (*handler).workers,
	"confirm": (*handler).confirm,
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request, p page) {
	v, err := p(h, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, v)
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, code int, v *view) {
	v.App, v.ReadOnly = h.cfg.title, h.cfg.readOnly
	v.CSRF = h.csrfToken(w, r)
	v.Notice = notice(r.URL.Query())
	if v.API != "" && h.cfg.refresh > 0 {
		every := h.cfg.refresh
		if v.Slow {
			every = max(10*every, 30*time.Second)
		}
		v.Refresh = every.Milliseconds()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return
	}
	_ = h.pages[v.template].ExecuteTemplate(w, "layout", v)
}

func (h *handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	h.render(w, r, code, &view{Title: http.StatusText(code), template: "error",
		Data: errorData{Status: code, Error: h.cfg.redact(err.Error())}})
}

// errorData is what an error page and an error of the JSON shows.
type errorData struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// serveAPI serves the JSON of page name.
func (h *handler) serveAPI(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	if name == "" {
		name = "-" // no page
	} else if name == "overview" {
		name = ""
	}
	p, ok := pages[name]
	var v *view
	var err error
	if !ok || name == "confirm" {
		err = &httpError{http.StatusNotFound, "no JSON endpoint api/" + name}
	} else {
		v, err = p(h, r)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err != nil {
		w.WriteHeader(status(err))
		json.NewEncoder(w).Encode(errorData{Status: status(err), Error: h.cfg.redact(err.Error())})
		return
	}
	json.NewEncoder(w).Encode(v.Data)
}

// csrfCookie holds the random value a form's token is bound to.
const csrfCookie = "taskware_csrf"

// csrfToken returns the token of r's CSRF cookie, setting a new cookie if
// r has none that is well formed.
func (h *handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && validCookie(c.Value) {
		return h.tokenOf(c.Value)
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode})
	return h.tokenOf(v)
}

func validCookie(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// tokenOf is the form token of a cookie's value: its HMAC under the
// handler's key, so that only this handler makes tokens, and only a page
// that read the cookie knows one.
func (h *handler) tokenOf(cookie string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("taskware web csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkPost refuses a POST that is not this handler's own: read-only,
// another site's (by Sec-Fetch-Site, Origin or Referer), or without the
// token of its cookie.
func (h *handler) checkPost(r *http.Request) error {
	if h.cfg.readOnly {
		return &httpError{http.StatusForbidden, "This view is read-only: actions are turned off."}
	}
	if err := h.cop.Check(r); err != nil {
		return &httpError{http.StatusForbidden, "Refused a request from another site."}
	}
	for _, hdr := range []string{"Origin", "Referer"} {
		v := r.Header.Get(hdr)
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host != r.Host {
			return &httpError{http.StatusForbidden, "Refused a request from another site (" + hdr + ")."}
		}
		break // Origin, when there is one, is the better witness
	}
	c, err := r.Cookie(csrfCookie)
	token := r.PostFormValue("csrf")
	if err != nil || !validCookie(c.Value) || token == "" ||
		!hmac.Equal([]byte(token), []byte(h.tokenOf(c.Value))) {
		return &httpError{http.StatusForbidden, "Missing or bad form token: reload the page and try again."}
	}
	return nil
}

// action is a change a POST makes; it returns where to go next,
// relative.
type action func(h *handler, r *http.Request) (string, error)

func (h *handler) serveAction(w http.ResponseWriter, r *http.Request, act action) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, &httpError{http.StatusBadRequest, "Bad form."})
		return
	}
	if err := h.checkPost(r); err != nil {
		h.renderError(w, r, err)
		return
	}
	next, err := act(h, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	// Relative, so that it works under any prefix: http.Redirect would
	// make it absolute from the path the prefix was stripped off.
	w.Header().Set("Location", next)
	w.WriteHeader(http.StatusSeeOther)
}
