package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/taskware/taskware/queue"

	"github.com/taskware/taskware/lock"
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

func (h *handler) cancel(r *http.Request) (string, error) {
	name, err := requiredQueue(r)
	if err != nil {
		return "", err
	}
	id := r.PostFormValue("id")
	if id == "" {
		return "", &httpError{http.StatusBadRequest, "Say which task: the form has no id."}
	}
	out, err := h.src.Queue.Cancel(r.Context(), name, id)
	if errors.Is(err, queue.ErrNotFound) {
		return "", &httpError{http.StatusNotFound, fmt.Sprintf("No task %s on queue %s.", id, name)}
	}
	if err != nil {
		return "", err
	}
	return to("task", url.Values{"queue": {name}, "id": {id}, "notice": {"cancel"}, "outcome": {string(out)}}), nil
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
	n, err := purgeRecords(r.Context(), h.src.Results, queues...)
	if err != nil {
		return "", err
	}
	q := url.Values{"notice": {"purged-results"}, "n": {strconv.Itoa(n)}}
	if !all {
		q.Set("queue", name)
	}
	return to("results", q), nil
}

// purgeRecords deletes the records of queues, or all: in bulk if s is a
// ResultPurger, else one by one.
func purgeRecords(ctx context.Context, s store.Store, queues ...string) (int, error) {
	if p, ok := s.(ResultPurger); ok {
		return p.Purge(ctx, queues...)
	}
	recs, err := s.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range recs {
		if len(queues) > 0 && !slices.Contains(queues, rec.Queue) {
			continue
		}
		if err := s.Delete(ctx, rec.Queue, rec.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
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
// ?do=break&key=K, ?do=requeue|purge&queue=Q&all=1 (or &id=ID),
// ?do=purge-results&queue=Q (or &all=1).
func (h *handler) confirm(r *http.Request) (*view, error) {
	if h.cfg.readOnly {
		return nil, &httpError{http.StatusForbidden, "This view is read-only: actions are turned off."}
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := &confirmData{Possible: true}
	switch do := q.Get("do"); do {
	case "break":
		if h.src.Locks == nil {
			return nil, &httpError{http.StatusNotImplemented, "This backend shows no locks."}
		}
		key := q.Get("key")
		if key == "" {
			return nil, &httpError{http.StatusBadRequest, "Say which lock: ?key=."}
		}
		held, err := h.src.Locks.Held(ctx)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(held, func(l lock.Info) bool { return l.Key == key })
		d.Action, d.Fields, d.Back, d.Button = "break", [][2]string{{"key", key}}, "locks", "Break the lock"
		d.Question = "Break lock " + key + "? Whoever holds it learns of it at its next renewal, as a lost lease, and another run may take it at once."
		if i < 0 {
			d.Possible = false
			d.Question = "Lock " + key + " is not held any more."
			break
		}
		l := lockRowOf(held[i])
		d.Details = [][2]string{{"Key", l.Key}, {"Holder", l.Holder}, {"Fence", strconv.FormatInt(l.Fence, 10)},
			{"Held for", l.Age()}, {"Time left", l.Left()}}
		if l.TaskID != "" {
			d.Details = append(d.Details, [2]string{"Task", queueName(l.TaskQueue) + " / " + l.TaskID})
		}
	case "requeue", "purge":
		name := q.Get("queue")
		if queue.ValidateName(name) != nil {
			return nil, &httpError{http.StatusBadRequest, "Say which queue: ?queue=."}
		}
		d.Action, d.Back = do, to("dead", url.Values{"queue": {name}})
		d.Fields = [][2]string{{"queue", name}}
		what := "all dead letters"
		if id := q.Get("id"); id != "" {
			d.Fields, what = append(d.Fields, [2]string{"id", id}), "dead letter "+id
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
	case "purge-results":
		if h.src.Results == nil {
			return nil, &httpError{http.StatusNotImplemented, "This backend has no result store."}
		}
		recs, err := h.src.Results.List(ctx)
		if err != nil {
			return nil, err
		}
		d.Action, d.Back, d.Button = do, "results", "Purge the records"
		if q.Get("all") == "1" {
			d.Fields = [][2]string{{"all", "1"}}
			d.Question = fmt.Sprintf("Purge all %d stored records, of every queue? Handles waiting on them find nothing.", len(recs))
			d.Possible = len(recs) > 0
			break
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
	default:
		return nil, &httpError{http.StatusBadRequest, "Nothing to confirm: say ?do=break, requeue, purge or purge-results."}
	}
	return &view{Title: "Confirm", Data: d, template: "confirm"}, nil
}
