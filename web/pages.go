package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/taskware/taskware/internal/humantime"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
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
	// recentRecords is how many records the results page lists.
	recentRecords = 50
)

// liveData is what a page's script updates in place: the text of each
// element marked data-live="<key>", and the keys of the rows marked
// data-row="<key>", to tell that rows came or went.
type liveData struct {
	Live map[string]string `json:"live"`
	Rows []string          `json:"rows"`
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
	"ago":       ago,
	"until":     until,
	"dur":       func(ms int64) string { return duration(time.Duration(ms) * time.Millisecond) },
	"stamp":     stamp,
	"queueName": queueName,
	"bars":      bars,
}

// duration shows d as the tables do (see humantime.Duration).
func duration(d time.Duration) string { return humantime.Duration(d) }

// ago shows when t was, "3s ago", "-" if t is zero.
func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration(time.Since(t)) + " ago"
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

// queueRow is a queue of the overview.
type queueRow struct {
	Queue         string `json:"queue"`
	Ready         int64  `json:"ready"`
	Running       int64  `json:"running"`
	Delayed       int64  `json:"delayed"`
	Dead          int64  `json:"dead"`
	OldestReadyMs int64  `json:"oldest_ready_ms"`
	Workers       int    `json:"workers"`
	Paused        bool   `json:"paused"`
}

// Oldest shows the oldest ready task's wait, "-" if none is ready.
func (q queueRow) Oldest() string {
	if q.Ready == 0 {
		return "-"
	}
	return duration(time.Duration(q.OldestReadyMs) * time.Millisecond)
}

// PausedText shows whether the queue is paused.
func (q queueRow) PausedText() string {
	if q.Paused {
		return "paused"
	}
	return "no"
}

// overviewData is the overview, and api/overview.
type overviewData struct {
	Queues []queueRow `json:"queues"`
	// Rates are the outcome counts of the last 15 minutes, of all queues;
	// nil if the Source has no rates, or they failed (RatesError).
	Rates      *ratesData `json:"rates"`
	RatesError string     `json:"rates_error,omitempty"`
	liveData
}

func (h *handler) overview(r *http.Request) (*view, error) {
	ctx := r.Context()
	q := h.src.Queue
	names, err := q.Queues(ctx)
	if err != nil {
		return nil, err
	}
	d := &overviewData{Queues: make([]queueRow, 0, len(names)), liveData: liveData{Rows: []string{}}}
	for _, name := range names {
		st, err := q.Stats(ctx, name)
		if err != nil {
			return nil, err
		}
		paused, err := q.Paused(ctx, name)
		if err != nil {
			return nil, err
		}
		row := queueRow{Queue: name, Ready: st.Ready, Running: st.Running, Delayed: st.Delayed, Dead: st.Dead,
			OldestReadyMs: st.OldestReady.Milliseconds(), Workers: st.Workers, Paused: paused}
		d.Queues = append(d.Queues, row)
		d.Rows = append(d.Rows, name)
		for _, f := range []struct {
			name string
			v    any
		}{{"ready", row.Ready}, {"running", row.Running}, {"delayed", row.Delayed}, {"dead", row.Dead},
			{"oldest", row.Oldest()}, {"workers", row.Workers}, {"paused", row.PausedText()}} {
			d.set(f.v, "q", name, f.name)
		}
	}
	if d.Rates, err = h.rates(ctx, names); err != nil {
		d.RatesError = h.cfg.redact(err.Error())
	}
	if d.Rates != nil {
		for _, s := range d.Rates.Series {
			d.set(s.Total, "rate", s.Name, "total")
		}
	}
	return &view{Title: "Overview", Nav: "overview", Data: d, API: "api/overview", template: "overview"}, nil
}

// rateMinutes is how many minutes the overview charts.
const rateMinutes = 15

// ratesData is the outcome counts of the last minutes, of all queues.
type ratesData struct {
	// Minutes are the minutes' starts, oldest first.
	Minutes []time.Time `json:"minutes"`
	Series  []series    `json:"series"`
}

// series is one count over the minutes.
type series struct {
	Name   string  `json:"name"`
	Label  string  `json:"label"`
	Counts []int64 `json:"counts"`
	Total  int64   `json:"total"`
	// minutes, for the bars' titles.
	minutes []time.Time
}

// seriesDefs are the series the overview charts.
var seriesDefs = []struct {
	name, label string
	count       func(queue.OutcomeCounts) int64
}{
	{"throughput", "Finished (all outcomes)", queue.OutcomeCounts.Ended},
	{"succeeded", "Succeeded", func(c queue.OutcomeCounts) int64 { return c.Succeeded }},
	{"failed", "Failed", func(c queue.OutcomeCounts) int64 { return c.Failed }},
	{"dead", "Dead-lettered", func(c queue.OutcomeCounts) int64 { return c.Dead }},
	{"skipped", "Skipped (all reasons)", queue.OutcomeCounts.SkippedTotal},
	{"skipped_locked", "Skipped: locked", func(c queue.OutcomeCounts) int64 { return c.Skipped[lock.ErrLocked.ErrorKind()] }},
	{"retried", "Retried", func(c queue.OutcomeCounts) int64 { return c.Retried }},
}

func (h *handler) rates(ctx context.Context, queues []string) (*ratesData, error) {
	last := time.Now().Truncate(time.Minute)
	first := last.Add(-(rateMinutes - 1) * time.Minute)
	sum := make([]queue.OutcomeCounts, rateMinutes)
	for _, q := range queues {
		cs, err := h.src.Queue.Rates(ctx, q, first)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			i := int(c.Minute.Sub(first) / time.Minute)
			if c.Minute.Before(first) || i >= rateMinutes {
				continue
			}
			sum[i].Add(c)
		}
	}
	d := &ratesData{Minutes: make([]time.Time, rateMinutes)}
	for i := range d.Minutes {
		d.Minutes[i] = first.Add(time.Duration(i) * time.Minute).UTC()
	}
	for _, def := range seriesDefs {
		s := series{Name: def.name, Label: def.label, Counts: make([]int64, rateMinutes), minutes: d.Minutes}
		for i, c := range sum {
			s.Counts[i] = def.count(c)
			s.Total += s.Counts[i]
		}
		d.Series = append(d.Series, s)
	}
	return d, nil
}

// The charts' geometry, in SVG units; static/app.js draws with the same.
const (
	chartHeight = 40
	barStep     = 10
	barWidth    = 8
)

// bar is one minute's bar of a chart.
type bar struct {
	I       int
	X, Y, H int
	Title   string
}

// bars lays out s's bars, scaled to its largest count.
func bars(s series) []bar {
	top := max(slices.Max(append([]int64{1}, s.Counts...)), 1)
	out := make([]bar, len(s.Counts))
	for i, c := range s.Counts {
		h := 0
		if c > 0 {
			h = max(1, int((c*chartHeight+top/2)/top))
		}
		title := strconv.FormatInt(c, 10)
		if i < len(s.minutes) {
			title = s.minutes[i].Format("15:04") + " UTC: " + title
		}
		out[i] = bar{I: i, X: i*barStep + 1, Y: chartHeight - h, H: h, Title: title}
	}
	return out
}

// taskRow is a task of a listing, and the base of a task's page.
type taskRow struct {
	ID         string    `json:"id"`
	Task       string    `json:"task"`
	Queue      string    `json:"queue"`
	Status     string    `json:"status"`
	Attempt    int       `json:"attempt,omitempty"`
	EnqueuedAt time.Time `json:"enqueued_at,omitzero"`
	Receipt    string    `json:"entry,omitempty"`
	Worker     string    `json:"worker,omitempty"`
	IdleMs     int64     `json:"idle_ms,omitempty"`
	Deliveries int       `json:"deliveries,omitempty"`
	RunAt      time.Time `json:"run_at,omitzero"`
	Kind       string    `json:"kind,omitempty"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Malformed  string    `json:"malformed,omitempty"`
}

func taskRowOf(ti queue.TaskInfo) taskRow {
	return taskRow{ID: ti.ID, Task: ti.Task, Queue: ti.Queue, Status: string(ti.Status), Attempt: ti.Attempt,
		EnqueuedAt: ti.EnqueuedAt, Receipt: ti.Receipt, Worker: ti.Worker, IdleMs: ti.Idle.Milliseconds(),
		Deliveries: ti.Deliveries, RunAt: ti.RunAt, Kind: ti.Kind, Error: ti.Error, StartedAt: ti.StartedAt,
		FinishedAt: ti.FinishedAt, Malformed: ti.Malformed}
}

// Key is what names the task in a form: its ID, or, for a message
// without one, its entry.
func (t taskRow) Key() string { return cmp.Or(t.ID, t.Receipt) }

// Cancelable reports whether the task has not ended.
func (t taskRow) Cancelable() bool {
	s := queue.Status(t.Status)
	return s != "" && !s.Terminal()
}

// tasksData is the tasks page, and api/tasks.
type tasksData struct {
	// Queue and State say what is listed; with no queue, nothing is, and
	// the page offers the queues.
	Queue  string    `json:"queue"`
	State  string    `json:"state"`
	Limit  int       `json:"limit"`
	Tasks  []taskRow `json:"tasks"`
	Queues []string  `json:"queues"`
	// Counts are the queue's counts by state (not "finished", which the
	// queue does not count).
	Counts map[string]int64 `json:"counts"`
	States []string         `json:"-"`
	liveData
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

func (h *handler) tasks(r *http.Request) (*view, error) {
	ctx := r.Context()
	name, err := queueParam(r)
	if err != nil {
		return nil, err
	}
	state := cmp.Or(r.FormValue("state"), string(queue.ReadyTasks))
	if !slices.Contains(queue.TaskSets, queue.TaskSet(state)) {
		return nil, &httpError{http.StatusBadRequest, "Bad state: say ready, running, delayed, dead or finished."}
	}
	limit := defaultLimit
	if s := r.FormValue("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxLimit {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("Bad limit: say 1 to %d.", maxLimit)}
		}
	}
	d := &tasksData{Queue: name, State: state, Limit: limit, Tasks: []taskRow{}, liveData: liveData{Rows: []string{}}}
	for _, s := range queue.TaskSets {
		d.States = append(d.States, string(s))
	}
	if d.Queues, err = h.src.Queue.Queues(ctx); err != nil {
		return nil, err
	}
	title := "Tasks"
	if name != "" {
		ts, err := h.src.Queue.Tasks(ctx, name, queue.TaskSet(state), limit)
		if err != nil {
			return nil, err
		}
		for _, ti := range ts {
			row := taskRowOf(ti)
			d.Tasks = append(d.Tasks, row)
			d.Rows = append(d.Rows, row.Key())
		}
		st, err := h.src.Queue.Stats(ctx, name)
		if err != nil {
			return nil, err
		}
		d.Counts = map[string]int64{"ready": st.Ready, "running": st.Running, "delayed": st.Delayed, "dead": st.Dead}
		for k, v := range d.Counts {
			d.set(v, "count", k)
		}
		d.set(len(d.Tasks), "listed")
		title = "Tasks " + state + " of " + name
	}
	return &view{Title: title, Nav: "tasks", Data: d, API: "api/tasks?" + r.URL.RawQuery, template: "tasks",
		Slow: state == string(queue.FinishedTasks)}, nil
}

// taskData is a task's page, and api/task.
type taskData struct {
	taskRow
	// Result says whether the outcome went to the result store: "stored",
	// "lost" or "".
	Result string `json:"result,omitempty"`
	// Args is the task's payload as text, when the queue shows it
	// (ArgsKnown); Headers are its message's headers.
	Args      string            `json:"args,omitempty"`
	ArgsKnown bool              `json:"args_known"`
	Headers   map[string]string `json:"headers,omitempty"`
	// Record is the task's stored record, if any.
	Record      *recordRow `json:"record,omitempty"`
	RecordError string     `json:"record_error,omitempty"`
	// Others are the other queues that know a task of this ID.
	Others []string `json:"other_queues,omitempty"`
	liveData
}

// HeaderKeys lists the headers' names, sorted.
func (t *taskData) HeaderKeys() []string {
	keys := make([]string, 0, len(t.Headers))
	for k := range t.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (h *handler) task(r *http.Request) (*view, error) {
	ctx := r.Context()
	queueName, err := queueParam(r)
	if err != nil {
		return nil, err
	}
	id := r.FormValue("id")
	if id == "" {
		return nil, &httpError{http.StatusBadRequest, "Say which task: ?id=."}
	}
	q := h.src.Queue
	queues, err := h.queuesOf(ctx, queueName)
	if err != nil {
		return nil, err
	}
	var st *queue.State
	var others []string
	for _, name := range queues {
		s, err := q.State(ctx, name, id)
		switch {
		case errors.Is(err, queue.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		case st == nil:
			st = s
		default:
			others = append(others, name)
		}
	}
	if st == nil {
		where := "any queue"
		if queueName != "" {
			where = "queue " + queueName
		}
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("No task %s on %s: never enqueued, or ended longer ago than the state TTL.", id, where)}
	}
	d := &taskData{taskRow: taskRow{ID: id, Task: st.Task, Queue: st.Queue, Status: string(st.Status), Attempt: st.Attempt,
		Kind: st.Kind, Error: st.Error, Worker: st.Worker, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt},
		Result: string(st.Result), Others: others}
	if err := h.enrich(ctx, d, st); err != nil {
		return nil, err
	}
	if h.src.Results != nil {
		rec, err := h.src.Results.Get(ctx, st.Queue, id)
		switch {
		case err == nil:
			row := recordRowOf(rec)
			d.Record = &row
		case !errors.Is(err, store.ErrNotFound):
			d.RecordError = h.cfg.redact(err.Error())
		}
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"status", d.Status}, {"attempt", d.Attempt}, {"worker", cmp.Or(d.Worker, "-")},
		{"started", stamp(d.StartedAt)}, {"finished", stamp(d.FinishedAt)}, {"kind", cmp.Or(d.Kind, "-")},
		{"error", cmp.Or(d.Error, "-")}} {
		d.set(f.v, "task", f.name)
	}
	return &view{Title: "Task " + id, Nav: "tasks", Data: d, API: "api/task?" + r.URL.RawQuery, template: "task"}, nil
}

// enrich adds to d what the task's listing knows beyond its state: when
// it was enqueued, its entry, its message.
func (h *handler) enrich(ctx context.Context, d *taskData, st *queue.State) error {
	set := map[queue.Status]queue.TaskSet{queue.Queued: queue.ReadyTasks, queue.Running: queue.RunningTasks,
		queue.Scheduled: queue.DelayedTasks, queue.Dead: queue.DeadTasks}[st.Status]
	if set != "" {
		ts, err := h.src.Queue.Tasks(ctx, st.Queue, set, scanLimit)
		if err != nil {
			return err
		}
		for _, ti := range ts {
			if ti.ID == d.ID {
				d.EnqueuedAt, d.Receipt, d.Deliveries, d.RunAt, d.Malformed = ti.EnqueuedAt, ti.Receipt, ti.Deliveries, ti.RunAt, ti.Malformed
				d.IdleMs = ti.Idle.Milliseconds()
				d.Worker = cmp.Or(d.Worker, ti.Worker)
				d.Kind, d.Error = cmp.Or(d.Kind, ti.Kind), cmp.Or(d.Error, ti.Error)
				if d.Attempt == 0 {
					d.Attempt = ti.Attempt
				}
				break
			}
		}
	}
	var msg *queue.Message
	if !st.Status.Terminal() {
		m, err := h.src.Queue.Message(ctx, st.Queue, d.ID)
		if err != nil && !errors.Is(err, queue.ErrNotFound) {
			return err
		}
		msg = m
	} else if st.Status == queue.Dead {
		dls, err := h.src.Queue.DeadLetters(ctx, st.Queue, scanLimit)
		if err != nil {
			return err
		}
		for i := len(dls) - 1; i >= 0; i-- { // the latest letter of the ID
			if dls[i].ID == d.ID {
				msg = &dls[i].Message
				break
			}
		}
	}
	if msg != nil {
		d.Args, d.ArgsKnown, d.Headers = payloadText(msg.Payload), true, msg.Headers
		if d.EnqueuedAt.IsZero() {
			d.EnqueuedAt = msg.EnqueuedAt
		}
	}
	return nil
}

// payloadText shows a payload as text: JSON indented, other UTF-8 as is,
// anything else quoted as a Go string.
func payloadText(p []byte) string {
	if json.Valid(p) {
		var b bytes.Buffer
		if json.Indent(&b, p, "", "  ") == nil {
			return plainJSON(b.String())
		}
	}
	if utf8.Valid(p) {
		return string(p)
	}
	return strconv.Quote(string(p))
}

// plainJSON undoes, in valid JSON text s, the escapes that encoding/json
// makes of "<", ">" and "&" to keep JSON safe inside HTML: a page escapes
// what it shows anyway, and a reader would rather see the characters.
func plainJSON(s string) string {
	if !strings.Contains(s, `\u00`) {
		return s
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			in = !in
		case in && c == '\\' && i+1 < len(s):
			if i+6 <= len(s) {
				switch s[i+1 : i+6] {
				case "u003c":
					b.WriteByte('<')
					i += 5
					continue
				case "u003e":
					b.WriteByte('>')
					i += 5
					continue
				case "u0026":
					b.WriteByte('&')
					i += 5
					continue
				}
			}
			b.WriteByte(c) // an escape: its next byte is taken as is
			i++
			c = s[i]
		}
		b.WriteByte(c)
	}
	return b.String()
}

// deadQueue is one queue's dead letters.
type deadQueue struct {
	Queue   string    `json:"queue"`
	Count   int64     `json:"count"`
	Letters []taskRow `json:"letters"`
}

// deadData is the dead letters page, and api/dead.
type deadData struct {
	// Queue is the queue asked for, "" for all.
	Queue  string      `json:"queue,omitempty"`
	Queues []deadQueue `json:"queues"`
	Total  int64       `json:"total"`
	Limit  int         `json:"limit"`
	liveData
}

func (h *handler) dead(r *http.Request) (*view, error) {
	ctx := r.Context()
	queueName, err := queueParam(r)
	if err != nil {
		return nil, err
	}
	queues, err := h.queuesOf(ctx, queueName)
	if err != nil {
		return nil, err
	}
	d := &deadData{Queue: queueName, Queues: []deadQueue{}, Limit: defaultLimit,
		liveData: liveData{Rows: []string{}}}
	for _, name := range queues {
		st, err := h.src.Queue.Stats(ctx, name)
		if err != nil {
			return nil, err
		}
		if st.Dead == 0 && queueName == "" {
			continue
		}
		ts, err := h.src.Queue.Tasks(ctx, name, queue.DeadTasks, defaultLimit)
		if err != nil {
			return nil, err
		}
		dq := deadQueue{Queue: name, Count: st.Dead, Letters: make([]taskRow, 0, len(ts))}
		for _, ti := range ts {
			row := taskRowOf(ti)
			dq.Letters = append(dq.Letters, row)
			d.Rows = append(d.Rows, name+"/"+row.Key())
		}
		d.Queues = append(d.Queues, dq)
		d.Total += st.Dead
		d.set(st.Dead, "dead", name, "count")
	}
	d.set(d.Total, "dead", "total")
	return &view{Title: "Dead letters", Nav: "dead", Data: d, API: "api/dead?" + r.URL.RawQuery, template: "dead"}, nil
}

// lockRow is a held lock.
type lockRow struct {
	Key         string    `json:"key"`
	Holder      string    `json:"holder"`
	Fence       int64     `json:"fence"`
	Since       time.Time `json:"since,omitzero"`
	RemainingMs int64     `json:"remaining_ms"`
	// TaskQueue and TaskID name the task run that holds it, if any.
	TaskQueue string `json:"task_queue,omitempty"`
	TaskID    string `json:"task_id,omitempty"`
}

func lockRowOf(l lock.Info) lockRow {
	return lockRow{Key: l.Key, Holder: l.Holder, Fence: l.Fence, Since: l.Since, RemainingMs: l.Remaining.Milliseconds(),
		TaskQueue: l.Task.Queue, TaskID: l.Task.ID}
}

// Age shows how long the lock has been held.
func (l lockRow) Age() string {
	if l.Since.IsZero() {
		return "-"
	}
	return duration(time.Since(l.Since))
}

// Left shows the time left before the lock expires.
func (l lockRow) Left() string { return duration(time.Duration(l.RemainingMs) * time.Millisecond) }

// locksData is the locks page, and api/locks.
type locksData struct {
	// Available says whether the Source shows locks at all.
	Available bool      `json:"available"`
	Locks     []lockRow `json:"locks"`
	liveData
}

func (h *handler) locks(r *http.Request) (*view, error) {
	d := &locksData{Available: h.src.Locks != nil, Locks: []lockRow{}, liveData: liveData{Rows: []string{}}}
	if d.Available {
		held, err := h.src.Locks.Held(r.Context())
		if err != nil {
			return nil, err
		}
		for _, l := range held {
			row := lockRowOf(l)
			d.Locks = append(d.Locks, row)
			d.Rows = append(d.Rows, row.Key)
			d.set(row.Holder, "lock", row.Key, "holder")
			d.set(row.Fence, "lock", row.Key, "fence")
			d.set(row.Age(), "lock", row.Key, "age")
			d.set(row.Left(), "lock", row.Key, "left")
		}
	}
	d.set(len(d.Locks), "locks", "count")
	return &view{Title: "Locks", Nav: "locks", Data: d, API: "api/locks", template: "locks"}, nil
}

// recordRow is a stored record.
type recordRow struct {
	Queue     string    `json:"queue"`
	ID        string    `json:"id"`
	Task      string    `json:"task"`
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Kind      string    `json:"kind,omitempty"`
	Error     string    `json:"error,omitempty"`
	Value     string    `json:"value,omitempty"`
}

func recordRowOf(r *store.Record) recordRow {
	v := ""
	if len(r.Value) > 0 {
		v = payloadText(r.Value)
	}
	return recordRow{Queue: r.Queue, ID: r.ID, Task: r.Task, Status: string(r.Status), Attempt: r.Attempt, At: r.At,
		ExpiresAt: r.ExpiresAt, Kind: r.Kind, Error: r.Error, Value: v}
}

// resultQueue counts one queue's records.
type resultQueue struct {
	Queue     string `json:"queue"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
	Total     int    `json:"total"`
	// FirstExpiry and LastExpiry bound when its records expire.
	FirstExpiry time.Time `json:"first_expiry,omitzero"`
	LastExpiry  time.Time `json:"last_expiry,omitzero"`
}

// resultsData is the results page, and api/results.
type resultsData struct {
	// Available says whether the Source has a result store.
	Available bool          `json:"available"`
	Queues    []resultQueue `json:"queues"`
	Total     int           `json:"total"`
	// Recent are the latest records stored.
	Recent []recordRow `json:"recent"`
	liveData
}

func (h *handler) results(r *http.Request) (*view, error) {
	d := &resultsData{Available: h.src.Results != nil, Queues: []resultQueue{}, Recent: []recordRow{},
		liveData: liveData{Rows: []string{}}}
	if d.Available {
		recs, err := h.src.Results.List(r.Context())
		if err != nil {
			return nil, err
		}
		by := map[string]*resultQueue{}
		for _, rec := range recs {
			rq := by[rec.Queue]
			if rq == nil {
				rq = &resultQueue{Queue: rec.Queue}
				by[rec.Queue] = rq
			}
			rq.Total++
			switch rec.Status {
			case store.Succeeded:
				rq.Succeeded++
			case store.Failed:
				rq.Failed++
			case store.Skipped:
				rq.Skipped++
			}
			if !rec.ExpiresAt.IsZero() {
				if rq.FirstExpiry.IsZero() || rec.ExpiresAt.Before(rq.FirstExpiry) {
					rq.FirstExpiry = rec.ExpiresAt
				}
				if rec.ExpiresAt.After(rq.LastExpiry) {
					rq.LastExpiry = rec.ExpiresAt
				}
			}
		}
		for _, rq := range by {
			d.Queues = append(d.Queues, *rq)
		}
		slices.SortFunc(d.Queues, func(a, b resultQueue) int { return strings.Compare(a.Queue, b.Queue) })
		for _, rq := range d.Queues {
			d.Total += rq.Total
			d.Rows = append(d.Rows, rq.Queue)
			d.set(rq.Succeeded, "results", rq.Queue, "succeeded")
			d.set(rq.Failed, "results", rq.Queue, "failed")
			d.set(rq.Skipped, "results", rq.Queue, "skipped")
			d.set(rq.Total, "results", rq.Queue, "total")
		}
		recent := slices.Clone(recs)
		slices.SortStableFunc(recent, func(a, b *store.Record) int { return b.At.Compare(a.At) })
		for _, rec := range recent[:min(len(recent), recentRecords)] {
			d.Recent = append(d.Recent, recordRowOf(rec))
		}
	}
	d.set(d.Total, "results", "total")
	return &view{Title: "Results", Nav: "results", Data: d, API: "api/results", template: "results", Slow: true}, nil
}

// workerRow is a worker of a queue.
type workerRow struct {
	Queue   string `json:"queue"`
	Name    string `json:"name"`
	Pending int64  `json:"pending"`
	IdleMs  int64  `json:"idle_ms"`
	Live    bool   `json:"live"`
}

// LiveText shows whether the worker is live.
func (w workerRow) LiveText() string {
	if w.Live {
		return "yes"
	}
	return "no"
}

// workersData is the workers page, and api/workers.
type workersData struct {
	Workers []workerRow `json:"workers"`
	// Live counts the live workers by queue.
	Live map[string]int `json:"live_by_queue"`
	liveData
}

func (h *handler) workers(r *http.Request) (*view, error) {
	ctx := r.Context()
	queueName, err := queueParam(r)
	if err != nil {
		return nil, err
	}
	queues, err := h.queuesOf(ctx, queueName)
	if err != nil {
		return nil, err
	}
	d := &workersData{Workers: []workerRow{}, Live: map[string]int{}, liveData: liveData{Rows: []string{}}}
	for _, name := range queues {
		ws, err := h.src.Queue.Workers(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			row := workerRow{Queue: name, Name: w.Name, Pending: w.Pending, IdleMs: w.Idle.Milliseconds(),
				Live: w.Idle < queue.LiveWorkerWindow}
			d.Workers = append(d.Workers, row)
			if row.Live {
				d.Live[name]++
			}
			d.Rows = append(d.Rows, name+"/"+w.Name)
			d.set(row.Pending, "worker", name, w.Name, "pending")
			d.set(duration(w.Idle), "worker", name, w.Name, "idle")
			d.set(row.LiveText(), "worker", name, w.Name, "live")
		}
	}
	return &view{Title: "Workers", Nav: "workers", Data: d, API: "api/workers?" + r.URL.RawQuery, template: "workers"}, nil
}

// queuesOf is the queue asked for, or every queue if none was.
func (h *handler) queuesOf(ctx context.Context, name string) ([]string, error) {
	if name != "" {
		return []string{name}, nil
	}
	return h.src.Queue.Queues(ctx)
}
