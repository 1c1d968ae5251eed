package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

// confirmData is a confirmation page: what the action will do, and the
// form that does it.
type confirmData struct {
	// Action is the path the form posts to, Fields its hidden fields.
	Action string
	Fields [][2]string
	// Question asks, Details tell what is there now; Possible is false if
	// there is nothing to do (the lock is not held any more).
	Question string
	Details  [][2]string
	Possible bool
	Button   string
	// Back is the page to go back to, relative.
	Back string
}

// confirm is the page that asks before a change that cannot be undone:
// ?do=break&key=K, ?do=requeue|purge&queue=Q&all=1 (or &id=ID, once or
// more), ?do=cancel|retry&queue=Q&id=ID (once or more, from a listing;
// once, from a task's page), ?do=purge-results&queue=Q (or &all=1), and
// from a task's page ?do=purge-record&queue=Q&id=ID (and requeue or purge
// with &back=task), and from the schedules page
// ?do=pause-schedule|resume-schedule|remove-schedule&name=N.
func (h *handler) confirm(r *http.Request) (*view, error) {
	if h.cfg.readOnly {
		return nil, &httpError{http.StatusForbidden, "This view is read-only: actions are turned off."}
	}
	q := r.URL.Query()
	var d *confirmData
	var err error
	switch do := q.Get("do"); do {
	case "break":
		d, err = h.confirmBreak(r.Context(), q.Get("key"))
	case "requeue", "purge":
		d, err = h.confirmDead(r.Context(), do, q)
	case "cancel", "retry":
		if len(q["id"]) > 1 { // selected in a listing
			d, err = confirmSelection(do, q)
		} else {
			d, err = h.confirmTask(r.Context(), do, q)
		}
	case "purge-results":
		d, err = h.confirmPurgeResults(r.Context(), q)
	case "purge-record":
		d, err = h.confirmTask(r.Context(), do, q)
	case "retry-step", "cancel-workflow":
		d, err = h.confirmWorkflow(r.Context(), do, q)
	case "pause-schedule", "resume-schedule", "remove-schedule":
		d, err = h.confirmSchedule(r.Context(), do, q)
	default:
		err = &httpError{http.StatusBadRequest,
			"Nothing to confirm: say ?do=break, requeue, purge, purge-results, retry, cancel, purge-record, retry-step, cancel-workflow, pause-schedule, resume-schedule or remove-schedule."}
	}
	if err != nil {
		return nil, err
	}
	return &view{Title: "Confirm", Data: d, template: "confirm"}, nil
}

// confirmBreak asks before breaking lock key, and shows who holds it.
func (h *handler) confirmBreak(ctx context.Context, key string) (*confirmData, error) {
	if h.src.Locks == nil {
		return nil, &httpError{http.StatusNotImplemented, "This backend shows no locks."}
	}
	if key == "" {
		return nil, &httpError{http.StatusBadRequest, "Say which lock: ?key=."}
	}
	held, err := h.src.Locks.Held(ctx)
	if err != nil {
		return nil, err
	}
	d := &confirmData{Action: "break", Fields: [][2]string{{"key", key}}, Back: "locks", Button: "Break the lock",
		Question: "Break lock " + key + "? Whoever holds it learns of it at its next renewal, as a lost lease, and another run may take it at once.",
		Possible: true}
	i := slices.IndexFunc(held, func(l lock.Info) bool { return l.Key == key })
	if i < 0 {
		d.Possible, d.Question = false, "Lock "+key+" is not held any more."
		return d, nil
	}
	l := rows.LockOf(held[i])
	d.Details = [][2]string{{"Key", l.Key}, {"Holder", l.Holder}, {"Fence", strconv.FormatInt(l.Fence, 10)},
		{"Held for", age(l.Since)}, {"Time left", l.Left()}}
	if l.TaskID != "" {
		d.Details = append(d.Details, [2]string{"Task", queueName(l.TaskQueue) + " / " + l.TaskID})
	}
	return d, nil
}

// confirmDead asks before requeueing or purging (do) a queue's dead
// letters: one, or all of them.
func (h *handler) confirmDead(ctx context.Context, do string, q url.Values) (*confirmData, error) {
	name := q.Get("queue")
	if queue.ValidateName(name) != nil {
		return nil, &httpError{http.StatusBadRequest, "Say which queue: ?queue=."}
	}
	d := &confirmData{Action: do, Back: to("dead", url.Values{"queue": {name}}), Fields: [][2]string{{"queue", name}},
		Possible: true}
	what := "all dead letters"
	if ids := q["id"]; len(ids) > 0 {
		if err := checkIDs(ids); err != nil {
			return nil, err
		}
		what = "dead letter " + ids[0]
		if len(ids) > 1 {
			what = fmt.Sprintf("the %d dead letters listed", len(ids))
		}
		d.Fields, d.Details = append(d.Fields, idFields(ids)...), idDetails(ids)
		if len(ids) == 1 && q.Get("back") == "task" {
			d.Fields = append(d.Fields, [2]string{"back", "task"})
			d.Back = taskPage(name, ids[0])
		}
	} else {
		d.Fields = append(d.Fields, [2]string{"all", "1"})
		st, err := h.src.Queue.Stats(ctx, name)
		if err != nil {
			return nil, err
		}
		what = fmt.Sprintf("all %d dead letters", st.Dead)
		d.Possible = st.Dead > 0
	}
	if do == "requeue" {
		d.Question = fmt.Sprintf("Requeue %s of queue %s? Each runs again as a fresh task, from attempt 1.", what, name)
		d.Button = "Requeue"
	} else {
		d.Question = fmt.Sprintf("Purge %s of queue %s? They are deleted for good.", what, name)
		d.Button = "Purge"
	}
	return d, nil
}

// confirmPurgeResults asks before purging the stored records of a queue,
// or all of them, and counts them.
func (h *handler) confirmPurgeResults(ctx context.Context, q url.Values) (*confirmData, error) {
	if h.src.Results == nil {
		return nil, &httpError{http.StatusNotImplemented, "This backend has no result store."}
	}
	recs, err := h.src.Results.List(ctx)
	if err != nil {
		return nil, err
	}
	d := &confirmData{Action: "purge-results", Back: "results", Button: "Purge the records"}
	if q.Get("all") == "1" {
		d.Fields = [][2]string{{"all", "1"}}
		d.Question = fmt.Sprintf("Purge all %d stored records, of every queue? Handles waiting on them find nothing.", len(recs))
		d.Possible = len(recs) > 0
		return d, nil
	}
	if !q.Has("queue") {
		return nil, &httpError{http.StatusBadRequest, "Say which records: ?queue= or ?all=1."}
	}
	name := q.Get("queue")
	n := 0
	for _, rec := range recs {
		if rec.Queue == name {
			n++
		}
	}
	d.Fields = [][2]string{{"queue", name}}
	d.Question = fmt.Sprintf("Purge the %d stored records of queue %s? Handles waiting on them find nothing.", n, queueName(name))
	d.Possible = n > 0
	return d, nil
}

// confirmSelection asks before canceling or retrying (do) the tasks
// selected in a listing, and lists them; Cancel goes back to the listing.
func confirmSelection(do string, q url.Values) (*confirmData, error) {
	name, ids := q.Get("queue"), q["id"]
	if queue.ValidateName(name) != nil {
		return nil, &httpError{http.StatusBadRequest, "Say which queue: ?queue=."}
	}
	if err := checkIDs(ids); err != nil {
		return nil, err
	}
	back := url.Values{"queue": {name}}
	if s := q.Get("state"); slices.Contains(queue.TaskSets, queue.TaskSet(s)) {
		back.Set("state", s)
	}
	d := &confirmData{Action: do, Back: to("tasks", back), Possible: true,
		Fields: append([][2]string{{"queue", name}}, idFields(ids)...), Details: idDetails(ids)}
	if do == "retry" {
		d.Button = "Retry the tasks"
		d.Question = fmt.Sprintf("Retry %d tasks of queue %s? Each failed or dead one is enqueued again as a new task, with the same arguments, from attempt 1.", len(ids), name)
	} else {
		d.Button = "Cancel the tasks"
		d.Question = fmt.Sprintf("Cancel %d tasks of queue %s? Those waiting will not run; those running are told to stop.", len(ids), name)
	}
	return d, nil
}

// checkIDs refuses an empty selection, or more IDs than a page lists.
func checkIDs(ids []string) error {
	if len(ids) == 0 || slices.Contains(ids, "") {
		return &httpError{http.StatusBadRequest, "Select at least one task."}
	}
	if len(ids) > maxLimit {
		return &httpError{http.StatusBadRequest, fmt.Sprintf("Select at most %d tasks.", maxLimit)}
	}
	return nil
}

// idFields are the hidden fields naming ids, idDetails the lines that
// list them on the confirmation.
func idFields(ids []string) [][2]string {
	out := make([][2]string, len(ids))
	for i, id := range ids {
		out[i] = [2]string{"id", id}
	}
	return out
}

func idDetails(ids []string) [][2]string {
	out := make([][2]string, len(ids))
	for i, id := range ids {
		out[i] = [2]string{"Task", id}
	}
	return out
}

// taskPage is the relative URL of task id's page.
func taskPage(name, id string) string { return to("task", url.Values{"queue": {name}, "id": {id}}) }

// confirmTask asks before an action on one task, from its page: retry (a
// failed or dead task, enqueued again as a new one), cancel (one not
// ended), or purge-record (its stored record).
func (h *handler) confirmTask(ctx context.Context, do string, q url.Values) (*confirmData, error) {
	name, id := q.Get("queue"), q.Get("id")
	if queue.ValidateName(name) != nil || id == "" {
		return nil, &httpError{http.StatusBadRequest, "Say which task: ?queue=&id=."}
	}
	st, err := h.src.Queue.State(ctx, name, id)
	if errors.Is(err, queue.ErrNotFound) {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("No task %s on queue %s.", id, name)}
	}
	if err != nil {
		return nil, err
	}
	d := &confirmData{Action: do, Fields: [][2]string{{"queue", name}, {"id", id}}, Back: taskPage(name, id),
		Details: [][2]string{{"Task", st.Task}, {"Status", string(st.Status)}, {"Attempt", strconv.Itoa(st.Attempt)}}}
	switch do {
	case "retry":
		_, err := (&retrier{h: h, name: name}).retryable(ctx, id)
		d.Possible = err == nil
		d.Question = fmt.Sprintf("Enqueue task %s of queue %s again? It runs as a new task, with the same arguments, from attempt 1.", id, name)
		if he, ok := errors.AsType[*httpError](err); ok {
			d.Question = he.msg
		} else if err != nil {
			return nil, err
		}
		d.Button = "Retry"
	case "cancel":
		d.Possible = !st.Status.Terminal()
		d.Question = fmt.Sprintf("Cancel task %s of queue %s? If it waits, it never runs; if it runs, its worker is told to stop it.", id, name)
		if !d.Possible {
			d.Question = fmt.Sprintf("Task %s has ended (%s): there is nothing to cancel.", id, st.Status)
		}
		d.Button = "Cancel the task"
	case "purge-record":
		if h.src.Results == nil {
			return nil, &httpError{http.StatusNotImplemented, "This backend has no result store."}
		}
		_, err := h.src.Results.Get(ctx, name, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		d.Possible = err == nil
		d.Question = fmt.Sprintf("Delete the stored record of task %s of queue %s? Handles waiting on it find nothing.", id, name)
		if !d.Possible {
			d.Question = fmt.Sprintf("Task %s has no stored record.", id)
		}
		d.Button = "Delete the record"
	}
	return d, nil
}
