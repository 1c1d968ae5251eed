package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
)

// actions are the changes, by path: each is a POST with the form's CSRF
// token, and answers 303 See Other to the page that shows its effect.
var actions = map[string]action{
	"pause":         func(h *handler, r *http.Request) (string, error) { return h.pause(r, true) },
	"resume":        func(h *handler, r *http.Request) (string, error) { return h.pause(r, false) },
	"cancel":        (*handler).cancel,
	"requeue":       func(h *handler, r *http.Request) (string, error) { return h.repair(r, true) },
	"purge":         func(h *handler, r *http.Request) (string, error) { return h.repair(r, false) },
	"break":         (*handler).breakLock,
	"purge-results": (*handler).purgeResults,
	"retry":         (*handler).retry,
	"purge-record":  (*handler).purgeRecord,
	// a workflow's, from its page
	"retry-step":      (*handler).retryStep,
	"cancel-workflow": (*handler).cancelWorkflow,
	// a stored schedule's, from the schedules page
	"pause-schedule":  func(h *handler, r *http.Request) (string, error) { return h.changeSchedule(r, "pause-schedule") },
	"resume-schedule": func(h *handler, r *http.Request) (string, error) { return h.changeSchedule(r, "resume-schedule") },
	"remove-schedule": func(h *handler, r *http.Request) (string, error) { return h.changeSchedule(r, "remove-schedule") },
}

// to returns the relative URL of page with query q.
func to(page string, q url.Values) string {
	if page == "" {
		page = "./"
	}
	if len(q) == 0 {
		return page
	}
	return page + "?" + q.Encode()
}

// requiredQueue reads the form's queue, which must be given.
func requiredQueue(r *http.Request) (string, error) {
	name := r.PostFormValue("queue")
	if err := queue.ValidateName(name); err != nil {
		return "", &httpError{http.StatusBadRequest, "Say which queue: the form has no valid queue."}
	}
	return name, nil
}

func (h *handler) pause(r *http.Request, pause bool) (string, error) {
	name, err := requiredQueue(r)
	if err != nil {
		return "", err
	}
	done := "resumed"
	if pause {
		err, done = h.src.Queue.Pause(r.Context(), name), "paused"
	} else {
		err = h.src.Queue.Resume(r.Context(), name)
	}
	if err != nil {
		return "", err
	}
	return to("", url.Values{"queue": {name}, "notice": {h.signNotice(url.Values{"notice": {done}, "queue": {name}})}}), nil
}

// cancel cancels the form's tasks of its queue: one, then the task's
// page shows the outcome; or several, selected in a listing, which then
// counts them.
func (h *handler) cancel(r *http.Request) (string, error) {
	name, err := requiredQueue(r)
	if err != nil {
		return "", err
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 || slices.Contains(ids, "") {
		return "", &httpError{http.StatusBadRequest, "Say which task: the form has no id."}
	}
	if len(ids) > maxLimit {
		return "", &httpError{http.StatusBadRequest, fmt.Sprintf("Select at most %d tasks.", maxLimit)}
	}
	if len(ids) == 1 {
		id := ids[0]
		out, err := h.src.Queue.Cancel(r.Context(), name, id)
		if errors.Is(err, queue.ErrNotFound) {
			return "", &httpError{http.StatusNotFound, fmt.Sprintf("No task %s on queue %s.", id, name)}
		}
		if err != nil {
			return "", err
		}
		return to("task", url.Values{"queue": {name}, "id": {id},
			"notice": {h.signNotice(url.Values{"notice": {"cancel"}, "outcome": {string(out)}})}}), nil
	}
	var done, late int
	for _, id := range ids {
		out, err := h.src.Queue.Cancel(r.Context(), name, id)
		switch {
		case errors.Is(err, queue.ErrNotFound) || err == nil && out == queue.CancelTooLate:
			late++
		case err != nil:
			return "", err
		default:
			done++
		}
	}
	return to("tasks", url.Values{"queue": {name}, "notice": {h.signNotice(url.Values{"notice": {"canceled"},
		"queue": {name}, "n": {strconv.Itoa(done)}, "kept": {strconv.Itoa(late)}})}}), nil
}

// repair requeues or purges the form's dead letters of its queue: those
// of its ids, or all with all=1.
func (h *handler) repair(r *http.Request, requeue bool) (string, error) {
	name, err := requiredQueue(r)
	if err != nil {
		return "", err
	}
	ids := r.PostForm["id"]
	all := r.PostFormValue("all") == "1"
	if len(ids) == 0 && !all || slices.Contains(ids, "") {
		return "", &httpError{http.StatusBadRequest, "Say which dead letters: an id, or all=1."}
	}
	if all {
		ids = nil
	}
	q := url.Values{"queue": {name}} // the notice's fields
	if requeue {
		done, kept, err := h.src.Queue.RequeueDead(r.Context(), name, ids...)
		if err != nil {
			return "", err
		}
		q.Set("notice", "requeued")
		q.Set("n", strconv.Itoa(len(done)))
		q.Set("kept", strconv.Itoa(len(kept)))
	} else {
		n, err := h.src.Queue.PurgeDead(r.Context(), name, ids...)
		if err != nil {
			return "", err
		}
		q.Set("notice", "purged")
		q.Set("n", strconv.Itoa(n))
	}
	if len(ids) == 1 && r.PostFormValue("back") == "task" { // from the task's page
		return to("task", url.Values{"queue": {name}, "id": {ids[0]}, "notice": {h.signNotice(q)}}), nil
	}
	return to("dead", url.Values{"queue": {name}, "notice": {h.signNotice(q)}}), nil
}

func (h *handler) breakLock(r *http.Request) (string, error) {
	if h.src.Locks == nil {
		return "", &httpError{http.StatusNotImplemented, "This backend shows no locks."}
	}
	key := r.PostFormValue("key")
	if key == "" {
		return "", &httpError{http.StatusBadRequest, "Say which lock: the form has no key."}
	}
	if err := h.src.Locks.Break(r.Context(), key); err != nil {
		return "", err
	}
	return to("locks", url.Values{"notice": {h.signNotice(url.Values{"notice": {"broken"}, "key": {key}})}}), nil
}

// purgeResults purges the records of the form's queue ("" is that of runs
// in-process), or all of them with all=1.
func (h *handler) purgeResults(r *http.Request) (string, error) {
	if h.src.Results == nil {
		return "", &httpError{http.StatusNotImplemented, "This backend has no result store."}
	}
	all := r.PostFormValue("all") == "1"
	name, has := r.PostFormValue("queue"), r.PostForm.Has("queue")
	if !all && !has {
		return "", &httpError{http.StatusBadRequest, "Say which records: a queue, or all=1."}
	}
	var queues []string
	if !all {
		queues = []string{name}
	}
	n, err := h.src.Results.Purge(r.Context(), queues...)
	if err != nil {
		return "", err
	}
	q := url.Values{"notice": {"purged-results"}, "n": {strconv.Itoa(n)}}
	if !all {
		q.Set("queue", name)
	}
	return to("results", url.Values{"notice": {h.signNotice(q)}}), nil
}

// formTask reads the form's queue and task id, both required.
func formTask(r *http.Request) (name, id string, err error) {
	if name, err = requiredQueue(r); err != nil {
		return "", "", err
	}
	if id = r.PostFormValue("id"); id == "" {
		return "", "", &httpError{http.StatusBadRequest, "Say which task: the form has no id."}
	}
	return name, id, nil
}

// retry enqueues failed or dead tasks of the form's queue again, each as
// a new task of a new ID with the same arguments and headers: one, from
// its page, then the new task's page shows it; or several, selected in a
// listing, then the ready listing counts them.
func (h *handler) retry(r *http.Request) (string, error) {
	name, err := requiredQueue(r)
	if err != nil {
		return "", err
	}
	ids := r.PostForm["id"]
	if err := checkIDs(ids); err != nil {
		return "", err
	}
	rt := &retrier{h: h, name: name}
	if len(ids) == 1 {
		id := ids[0]
		newID, err := rt.retry(r.Context(), id)
		if err != nil {
			return "", err
		}
		return to("task", url.Values{"queue": {name}, "id": {newID},
			"notice": {h.signNotice(url.Values{"notice": {"retried"}, "from": {id}})}}), nil
	}
	// Each new task is made first, then all are enqueued in one call.
	var kept int
	var ms []*queue.Message
	for _, id := range ids {
		m, err := rt.retryable(r.Context(), id)
		if _, refused := errors.AsType[*httpError](err); refused { // gone, or not failed any more
			kept++
			continue
		}
		if err != nil {
			return "", err
		}
		ms = append(ms, m)
	}
	done := 0
	if len(ms) > 0 {
		errs, err := h.src.Queue.EnqueueMany(r.Context(), ms, time.Time{})
		if err != nil {
			return "", err
		}
		for _, err := range errs {
			if err != nil {
				return "", err
			}
			done++
		}
	}
	return to("tasks", url.Values{"queue": {name}, "state": {string(queue.ReadyTasks)},
		"notice": {h.signNotice(url.Values{"notice": {"retried-tasks"}, "queue": {name},
			"n": {strconv.Itoa(done)}, "kept": {strconv.Itoa(kept)}})}}), nil
}

// retrier retries failed and dead tasks of one queue: each as a new task
// with its arguments and headers. It reads the queue's dead letters once,
// for all the dead tasks of a bulk retry.
type retrier struct {
	h    *handler
	name string
	dead []queue.DeadLetter // read on first need
	read bool
}

// retry enqueues task id again, and returns the new task's ID. A task
// that is not there or not retryable is an *httpError.
func (rt *retrier) retry(ctx context.Context, id string) (string, error) {
	m, err := rt.retryable(ctx, id)
	if err != nil {
		return "", err
	}
	if err := rt.h.src.Queue.Enqueue(ctx, m, time.Time{}); err != nil {
		return "", err
	}
	return m.ID, nil
}

// retryable returns the new task that retries task id: the task must have
// failed or died, and its message be kept.
func (rt *retrier) retryable(ctx context.Context, id string) (*queue.Message, error) {
	st, err := rt.h.src.Queue.State(ctx, rt.name, id)
	if errors.Is(err, queue.ErrNotFound) {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("No task %s on queue %s.", id, rt.name)}
	}
	if err != nil {
		return nil, err
	}
	var old *queue.Message
	switch st.Status {
	case queue.Failed:
		old, err = rt.h.message(ctx, rt.name, id, st.Status)
	case queue.Dead:
		if !rt.read {
			rt.dead, err = rt.h.src.Queue.DeadLetters(ctx, rt.name, scanLimit)
			rt.read = err == nil
		}
		old = latestLetter(rt.dead, id)
	default:
		return nil, &httpError{http.StatusConflict, fmt.Sprintf("Task %s is %s: only a failed or dead task is retried.", id, st.Status)}
	}
	if err != nil {
		return nil, err
	}
	if old == nil || old.Task == "" {
		return nil, &httpError{http.StatusConflict, fmt.Sprintf("The queue keeps no message of task %s to enqueue again.", id)}
	}
	if old.Step != nil {
		return nil, &httpError{http.StatusConflict, fmt.Sprintf("Task %s is step %s of workflow %s: retry it from the workflow's page, and the workflow resumes.",
			id, old.Step.Name, old.Step.Workflow)}
	}
	return &queue.Message{ID: randid.New(), Task: old.Task, Queue: rt.name, Payload: old.Payload, Headers: old.Headers}, nil
}

// purgeRecord deletes the stored record of the form's task.
func (h *handler) purgeRecord(r *http.Request) (string, error) {
	if h.src.Results == nil {
		return "", &httpError{http.StatusNotImplemented, "This backend has no result store."}
	}
	name, id, err := formTask(r)
	if err != nil {
		return "", err
	}
	if err := h.src.Results.Delete(r.Context(), name, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return to("task", url.Values{"queue": {name}, "id": {id},
		"notice": {h.signNotice(url.Values{"notice": {"purged-record"}})}}), nil
}

// notice is the sentence that tells what an action did, from the fields
// of its signed notice (see signNotice); "" if none.
func notice(q url.Values) string {
	n, _ := strconv.Atoi(q.Get("n"))
	switch q.Get("notice") {
	case "paused":
		return fmt.Sprintf("Paused queue %s: workers take nothing from it until it is resumed.", q.Get("queue"))
	case "resumed":
		return fmt.Sprintf("Resumed queue %s.", q.Get("queue"))
	case "cancel":
		switch queue.CancelOutcome(q.Get("outcome")) {
		case queue.CancelDone:
			return "Canceled: the task will not run."
		case queue.CancelSent:
			return "Cancel sent: the worker that holds the task was told to stop it."
		case queue.CancelTooLate:
			return "Too late: the task had ended already."
		}
	case "canceled":
		late, _ := strconv.Atoi(q.Get("kept"))
		s := fmt.Sprintf("Canceled %d tasks of queue %s, or told their workers to stop them.", n, q.Get("queue"))
		if late > 0 {
			s += fmt.Sprintf(" %d had ended already.", late)
		}
		return s
	case "requeued":
		kept, _ := strconv.Atoi(q.Get("kept"))
		s := fmt.Sprintf("Requeued %d dead letters of queue %s.", n, q.Get("queue"))
		if kept > 0 {
			s += fmt.Sprintf(" %d stayed: they cannot be read, their task is known again, or they are workflow steps (retry those on their workflow's page).", kept)
		}
		return s
	case "purged":
		return fmt.Sprintf("Purged %d dead letters of queue %s.", n, q.Get("queue"))
	case "retried":
		return fmt.Sprintf("Enqueued again as this new task, from task %s.", q.Get("from"))
	case "retried-tasks":
		kept, _ := strconv.Atoi(q.Get("kept"))
		s := fmt.Sprintf("Retried %d tasks of queue %s: each enqueued again as a new task, from attempt 1.", n, q.Get("queue"))
		if kept > 0 {
			s += fmt.Sprintf(" %d were not: they are gone, no longer failed or dead, or their arguments are not kept.", kept)
		}
		return s
	case "purged-record":
		return "Deleted the stored record of this task."
	case "broken":
		return fmt.Sprintf("Broke lock %s: its holder learns of it at its next renewal.", q.Get("key"))
	case "retried-step", "canceled-workflow":
		return workflowNotice(q)
	case "paused-schedule", "resumed-schedule", "removed-schedule":
		return scheduleNotice(q)
	case "purged-results":
		if q.Has("queue") {
			return fmt.Sprintf("Purged %d records of queue %s.", n, queueName(q.Get("queue")))
		}
		return fmt.Sprintf("Purged %d records.", n)
	}
	return ""
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
