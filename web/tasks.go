package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// tasksData is the tasks page, and api/tasks.
type tasksData struct {
	// Queue and State say what is listed; with no queue, nothing is, and
	// the page offers the queues.
	Queue  string      `json:"queue"`
	State  string      `json:"state"`
	Limit  int         `json:"limit"`
	Tasks  []rows.Task `json:"tasks"`
	Queues []string    `json:"queues"`
	// Counts are the queue's counts by state (not "finished", which the
	// queue does not count).
	Counts map[string]int64 `json:"counts"`
	States []string         `json:"-"`
	liveData
}

// tasksParams reads ?queue=, ?state= and ?limit=.
func tasksParams(r *http.Request) (name, state string, limit int, err error) {
	if name, err = queueParam(r); err != nil {
		return "", "", 0, err
	}
	state = cmp.Or(r.FormValue("state"), string(queue.ReadyTasks))
	if !slices.Contains(queue.TaskSets, queue.TaskSet(state)) {
		return "", "", 0, &httpError{http.StatusBadRequest, "Bad state: say ready, running, delayed, dead or finished."}
	}
	limit = defaultLimit
	if s := r.FormValue("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxLimit {
			return "", "", 0, &httpError{http.StatusBadRequest, fmt.Sprintf("Bad limit: say 1 to %d.", maxLimit)}
		}
	}
	return name, state, limit, nil
}

func (h *handler) tasks(r *http.Request) (*view, error) {
	name, state, limit, err := tasksParams(r)
	if err != nil {
		return nil, err
	}
	d := &tasksData{Queue: name, State: state, Limit: limit, Tasks: []rows.Task{}, liveData: liveData{Rows: []string{}}}
	for _, s := range queue.TaskSets {
		d.States = append(d.States, string(s))
	}
	if d.Queues, err = h.src.Queue.Queues(r.Context()); err != nil {
		return nil, err
	}
	title := "Tasks"
	if name != "" {
		if err := h.listTasks(r, d); err != nil {
			return nil, err
		}
		title = "Tasks " + state + " of " + name
	}
	return &view{Title: title, Nav: "tasks", Data: d, API: "api/tasks?" + r.URL.RawQuery, template: "tasks",
		Slow: state == string(queue.FinishedTasks)}, nil
}

// listTasks fills d with the tasks of its queue and state, and the
// queue's counts.
func (h *handler) listTasks(r *http.Request, d *tasksData) error {
	ctx := r.Context()
	ts, err := h.src.Queue.Tasks(ctx, d.Queue, queue.TaskSet(d.State), d.Limit)
	if err != nil {
		return err
	}
	d.Tasks = rows.TasksOf(ts)
	for _, t := range d.Tasks {
		d.Rows = append(d.Rows, t.Key())
		if f := t.RunningFor(); f != "" {
			d.set(f, "task", t.Key(), "running_for")
		}
	}
	st, err := h.src.Queue.Stats(ctx, d.Queue)
	if err != nil {
		return err
	}
	d.Counts = map[string]int64{"ready": st.Ready, "running": st.Running, "delayed": st.Delayed, "dead": st.Dead}
	for k, v := range d.Counts {
		d.set(v, "count", k)
	}
	d.set(len(d.Tasks), "listed")
	return nil
}
