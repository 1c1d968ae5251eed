package web

import (
	"encoding/json"
	"net/http"
	"time"
)

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
	// workflow?queue=Q&id=ID: one workflow, its graph drawn
	"workflow": (*handler).workflow,

	// The workflows of a home queue.
	"workflows": (*handler).workflows,

	// What runs beside the queues: the schedulers' entries, the Redis server.
	"schedules": (*handler).schedules,
	"redis":     (*handler).redis,
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
	v.Notice = h.noticeOf(r.URL.Query())
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
