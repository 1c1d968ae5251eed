package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

//go:embed templates/*.html static/*
var files embed.FS

// handler is the web view. It is safe for concurrent use.
type handler struct {
	src    Source
	cfg    config
	key    []byte // the HMAC key of CSRF tokens and notices, random per handler
	now    func() time.Time
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
	h := &handler{src: src, cfg: c, key: make([]byte, 32), now: time.Now, pages: map[string]*template.Template{},
		cop: http.NewCrossOriginProtection()}
	rand.Read(h.key)
	for _, name := range []string{"overview", "tasks", "task", "dead", "locks", "results", "workers", "confirm", "error",
		"redis", "schedules", "workflows", "workflow"} {
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
