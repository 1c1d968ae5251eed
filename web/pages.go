package web

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/taskware/taskware/internal/humantime"
	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// Limits of what a page reads.
const (
	// defaultLimit is how many tasks a listing shows unless ?limit= says.
	defaultLimit = 100
	// maxLimit bounds ?limit=.
	maxLimit = 1000
	// scanLimit is how far a task's page looks in its listing for what
	// the state does not say (its enqueue time, its message).
	scanLimit = 1000
)

// liveData is what a page's script updates in place: the text of each
// element marked data-live="<key>", the progress bar of each element
// marked data-bar-live="<key>" (hidden while its key has none), and the
// keys of the rows marked data-row="<key>", to tell that rows came or
// went.
type liveData struct {
	Live map[string]string  `json:"live"`
	Bars map[string]liveBar `json:"bars,omitempty"`
	Rows []string           `json:"rows"`
}

// liveBar is a progress bar's state: Value of Max, or no value while Max
// is 0 (a total not known), and its text.
type liveBar struct {
	Value int64  `json:"value"`
	Max   int64  `json:"max"`
	Text  string `json:"text"`
}

// bar sets the bar of key parts to p; none if p is nil.
func (l *liveData) bar(p *rows.Progress, parts ...string) {
	if p == nil {
		return
	}
	if l.Bars == nil {
		l.Bars = map[string]liveBar{}
	}
	b := liveBar{Text: p.Text}
	if p.Total > 0 {
		b.Value, b.Max = p.Done, p.Total
	}
	l.Bars[liveKey(parts...)] = b
}

func (l *liveData) set(value any, parts ...string) {
	if l.Live == nil {
		l.Live = map[string]string{}
	}
	l.Live[liveKey(parts...)] = fmt.Sprint(value)
}

// liveKey joins the parts of a data-live key with "/"; the last part is
// always one of a fixed set of field names, so keys do not clash.
func liveKey(parts ...string) string { return strings.Join(parts, "/") }

// funcs are the templates' functions.
var funcs = template.FuncMap{
	"live":      liveKey,
	"age":       age,
	"ago":       ago,
	"until":     until,
	"stamp":     stamp,
	"queueName": queueName,
	"paused":    pausedText,
	"payload":   func(s string) string { return payloadText([]byte(s)) },
	"plot":      plotOf,
	"windows":   func() []chartWindow { return chartWindows },
	"bytes":     byteSize,
	"uptime":    uptimeText,
	// workflow
	"stateLabel": stateLabel,
}

// duration shows d as the tables do (see humantime.Duration).
func duration(d time.Duration) string { return humantime.Duration(d) }

// age shows how long ago t was, "-" if t is zero.
func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration(time.Since(t))
}

// ago shows when t was, "3s ago", "-" if t is zero.
func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return age(t) + " ago"
}

// until shows how long until t, "-" if zero, "due" if past.
func until(t time.Time) string {
	switch d := time.Until(t); {
	case t.IsZero():
		return "-"
	case d <= 0:
		return "due"
	default:
		return "in " + duration(d)
	}
}

// stamp shows t in UTC to the second, "" if zero.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// queueName shows a record's queue: "" is that of runs in-process.
func queueName(q string) string { return cmp.Or(q, "(in-process)") }

// pausedText shows whether a queue is paused.
func pausedText(paused bool) string {
	if paused {
		return "paused"
	}
	return "no"
}

// queueParam reads ?queue=, which must be a valid queue name if given.
func queueParam(r *http.Request) (string, error) {
	q := r.FormValue("queue")
	if q != "" {
		if err := queue.ValidateName(q); err != nil {
			return "", &httpError{http.StatusBadRequest, "Bad queue name."}
		}
	}
	return q, nil
}

// queuesOf is the queue asked for, or every queue if none was.
func (h *handler) queuesOf(ctx context.Context, name string) ([]string, error) {
	if name != "" {
		return []string{name}, nil
	}
	return h.src.Queue.Queues(ctx)
}
