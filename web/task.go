package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

// taskRow names the task row that taskData embeds: embedded as rows.Task,
// its field would be named Task, and hide the row's own Task (the task's
// name) from the template.
type taskRow = rows.Task

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
	Record      *rows.Record `json:"record,omitempty"`
	RecordError string       `json:"record_error,omitempty"`
	// Others are the other queues that know a task of this ID.
	Others []string `json:"other_queues,omitempty"`
	// Workflow is the ID of the workflow the task is a step of, and
	// WorkflowQueue that workflow's queue; "" for a plain task.
	Workflow      string      `json:"workflow,omitempty"`
	WorkflowQueue string      `json:"workflow_queue,omitempty"`
	step          *queue.Step // the message's, when the queue keeps it
	// Attempts are the task's runs, oldest first (queue.Admin.Attempts).
	Attempts []rows.Attempt `json:"attempts"`
	liveData
}

// Dead says the task is a dead letter: it can be requeued or purged.
func (t *taskData) Dead() bool { return t.Status == string(queue.Dead) }

// Retryable says the task failed or died: it can be enqueued again, if
// its arguments are known, and it is no workflow's step (a step is
// retried through its workflow).
func (t *taskData) Retryable() bool {
	return t.ArgsKnown && t.Workflow == "" && (t.Status == string(queue.Failed) || t.Status == string(queue.Dead))
}

// WorkflowPage is the relative URL of the page of the task's workflow.
func (t *taskData) WorkflowPage() string { return workflowPage(t.WorkflowQueue, t.Workflow) }

// addAttempts adds to d the task's history of runs.
func (h *handler) addAttempts(ctx context.Context, d *taskData) error {
	as, err := h.src.Queue.Attempts(ctx, d.Queue, d.ID)
	if err != nil {
		return err
	}
	d.Attempts = rows.AttemptsOf(as)
	return nil
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
	st, others, err := h.findState(ctx, queueName, id)
	if err != nil {
		return nil, err
	}
	d := &taskData{taskRow: rows.TaskOfState(st), Result: string(st.Result), Others: others}
	d.ID = id
	if err := h.enrich(ctx, d, st); err != nil {
		return nil, err
	}
	d.WorkflowQueue, d.Workflow = h.stepOf(ctx, d)
	if err := h.addAttempts(ctx, d); err != nil {
		return nil, err
	}
	h.addRecord(ctx, d)
	for _, f := range []struct {
		name string
		v    any
	}{{"status", d.Status}, {"attempt", d.Attempt}, {"worker", cmp.Or(d.Worker, "-")},
		{"started", stamp(d.StartedAt)}, {"finished", stamp(d.FinishedAt)}, {"kind", cmp.Or(d.Kind, "-")},
		{"error", cmp.Or(d.Error, "-")}} {
		d.set(f.v, "task", f.name)
	}
	d.bar(d.Progress, "task", "progress")
	return &view{Title: "Task " + id, Nav: "tasks", Data: d, API: "api/task?" + r.URL.RawQuery, template: "task"}, nil
}

// findState returns the state of task id on the first of the queues
// asked for (all, if none) that knows it, and the others that know it
// too.
func (h *handler) findState(ctx context.Context, queueName, id string) (*queue.State, []string, error) {
	queues, err := h.queuesOf(ctx, queueName)
	if err != nil {
		return nil, nil, err
	}
	var st *queue.State
	var others []string
	for _, name := range queues {
		s, err := h.src.Queue.State(ctx, name, id)
		switch {
		case errors.Is(err, queue.ErrNotFound):
			continue
		case err != nil:
			return nil, nil, err
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
		return nil, nil, &httpError{http.StatusNotFound,
			fmt.Sprintf("No task %s on %s: never enqueued, or ended longer ago than the state TTL.", id, where)}
	}
	return st, others, nil
}

// listedSet is the listing that holds a task of each status, if one does.
var listedSet = map[queue.Status]queue.TaskSet{queue.Queued: queue.ReadyTasks, queue.Running: queue.RunningTasks,
	queue.Scheduled: queue.DelayedTasks, queue.Dead: queue.DeadTasks}

// enrich adds to d what the task's listing knows beyond its state: when
// it was enqueued, its entry, its message.
func (h *handler) enrich(ctx context.Context, d *taskData, st *queue.State) error {
	if set := listedSet[st.Status]; set != "" {
		ts, err := h.src.Queue.Tasks(ctx, st.Queue, set, scanLimit)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(ts, func(ti queue.TaskInfo) bool { return ti.ID == d.ID }); i >= 0 {
			d.merge(rows.TaskOf(ts[i]))
		}
	}
	msg, err := h.message(ctx, st.Queue, d.ID, st.Status)
	if err != nil || msg == nil {
		return err
	}
	d.Args, d.ArgsKnown, d.Headers, d.step = payloadText(msg.Payload), true, msg.Headers, msg.Step
	if d.EnqueuedAt.IsZero() {
		d.EnqueuedAt = msg.EnqueuedAt.UTC()
	}
	return nil
}

// merge adds to d what its listing's row l knows: the state's own fields
// win where it has them.
func (d *taskData) merge(l rows.Task) {
	d.EnqueuedAt, d.Entry, d.Deliveries, d.RunAt, d.Malformed, d.IdleMs = l.EnqueuedAt, l.Entry, l.Deliveries, l.RunAt, l.Malformed, l.IdleMs
	d.Worker = cmp.Or(d.Worker, l.Worker)
	d.Kind, d.Error = cmp.Or(d.Kind, l.Kind), cmp.Or(d.Error, l.Error)
	d.Attempt = cmp.Or(d.Attempt, l.Attempt)
}

// message returns the message of task id of queue name, in status: while
// it waits, once it failed, or as its latest dead letter; nil if the
// queue has it no more.
func (h *handler) message(ctx context.Context, name, id string, status queue.Status) (*queue.Message, error) {
	if !status.Terminal() || status == queue.Failed {
		m, err := h.src.Queue.Message(ctx, name, id)
		if errors.Is(err, queue.ErrNotFound) {
			return nil, nil
		}
		return m, err
	}
	if status != queue.Dead {
		return nil, nil
	}
	dls, err := h.src.Queue.DeadLetters(ctx, name, scanLimit)
	if err != nil {
		return nil, err
	}
	return latestLetter(dls, id), nil
}

// latestLetter is the message of the latest of dls of task id, nil if none.
func latestLetter(dls []queue.DeadLetter, id string) *queue.Message {
	for i := len(dls) - 1; i >= 0; i-- {
		if dls[i].ID == id {
			return &dls[i].Message
		}
	}
	return nil
}

// addRecord adds to d the task's stored record, if the Source has a
// store; a store that fails is shown, not fatal.
func (h *handler) addRecord(ctx context.Context, d *taskData) {
	if h.src.Results == nil {
		return
	}
	rec, err := h.src.Results.Get(ctx, d.Queue, d.ID)
	switch {
	case err == nil:
		row := rows.RecordOf(rec)
		d.Record = &row
	case !errors.Is(err, store.ErrNotFound):
		d.RecordError = h.cfg.redact(err.Error())
	}
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
