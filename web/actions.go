package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/taskware/taskware/queue"
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
	return to("", url.Values{"notice": {done}, "queue": {name}}), nil
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
		return to("task", url.Values{"queue": {name}, "id": {id}, "notice": {"cancel"}, "outcome": {string(out)}}), nil
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
	return to("tasks", url.Values{"queue": {name}, "notice": {"canceled"}, "n": {strconv.Itoa(done)},
		"kept": {strconv.Itoa(late)}}), nil
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
	q := url.Values{"queue": {name}}
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
	return to("dead", q), nil
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
	return to("locks", url.Values{"notice": {"broken"}, "key": {key}}), nil
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
	return to("results", q), nil
}

// notice is the sentence that tells what an action did, from the query
// it redirected with; "" if none. Only numbers and known words are taken
// as they come; names are shown as text.
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
			s += fmt.Sprintf(" %d stayed: they cannot be read, or their task is known again.", kept)
		}
		return s
	case "purged":
		return fmt.Sprintf("Purged %d dead letters of queue %s.", n, q.Get("queue"))
	case "broken":
		return fmt.Sprintf("Broke lock %s: its holder learns of it at its next renewal.", q.Get("key"))
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
