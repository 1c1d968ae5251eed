package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// tasksData is the tasks page, and api/tasks.
type tasksData struct {
	// Queue and State say what is listed; with no queue, nothing is, and
	// the page offers the queues.
	Queue string      `json:"queue"`
	State string      `json:"state"`
	Limit int         `json:"limit"`
	Find  findParams  `json:"find"`
	Page  pageLinks   `json:"page"`
	Tasks []rows.Task `json:"tasks"`
	// Queues are the queues to choose from; Tabs link to each state's
	// listing, the search kept.
	Queues []string `json:"queues"`
	Tabs   []tab    `json:"-"`
	// Counts are the queue's counts by state (not "finished", which the
	// queue does not count).
	Counts map[string]int64 `json:"counts"`
	// Partitions is how many partitions the queue is split into (1: not
	// split).
	Partitions int      `json:"partitions"`
	States     []string `json:"-"`
	Statuses   []string `json:"-"`
	liveData
}

// tab links to one state's listing of a queue.
type tab struct {
	State, URL string
	Count      int64
	Counted    bool
}

// statuses are the task statuses a listing can filter by.
var statuses = []queue.Status{queue.Queued, queue.Running, queue.Scheduled, queue.Succeeded, queue.Failed,
	queue.Skipped, queue.Dead, queue.Canceled}

// Bulk tells which bulk actions fit the listed state: cancel for tasks
// that wait or run; requeue, purge and retry for dead letters; retry for
// finished tasks, if the page lists a failed or dead one.
func (d *tasksData) Bulk() string {
	switch queue.TaskSet(d.State) {
	case queue.ReadyTasks, queue.RunningTasks, queue.DelayedTasks:
		return "cancel"
	case queue.DeadTasks:
		return "dead"
	case queue.FinishedTasks:
		if slices.ContainsFunc(d.Tasks, retryableRow) {
			return "retry"
		}
	}
	return ""
}

// Selectable says whether row t can be selected for the bulk actions:
// every row but, among finished tasks, those neither failed nor dead,
// which nothing retries.
func (d *tasksData) Selectable(t rows.Task) bool {
	return queue.TaskSet(d.State) != queue.FinishedTasks || retryableRow(t)
}

// retryableRow says whether a listed task can be enqueued again: it
// failed or died, and has an ID to find its message by.
func retryableRow(t rows.Task) bool {
	return t.ID != "" && (t.Status == string(queue.Failed) || t.Status == string(queue.Dead))
}

// tasksParams reads ?queue= and ?state=.
func tasksParams(r *http.Request) (name, state string, err error) {
	if name, err = queueParam(r); err != nil {
		return "", "", err
	}
	state = cmp.Or(r.FormValue("state"), string(queue.ReadyTasks))
	if !slices.Contains(queue.TaskSets, queue.TaskSet(state)) {
		return "", "", &httpError{http.StatusBadRequest, "Bad state: say ready, running, delayed, dead or finished."}
	}
	return name, state, nil
}

func (h *handler) tasks(r *http.Request) (*view, error) {
	name, state, err := tasksParams(r)
	if err != nil {
		return nil, err
	}
	find, tq, err := findParamsOf(r, queue.TaskSet(state))
	if err != nil {
		return nil, err
	}
	d := &tasksData{Queue: name, State: state, Limit: find.Limit, Find: find, Tasks: []rows.Task{},
		liveData: liveData{Rows: []string{}}}
	for _, s := range queue.TaskSets {
		d.States = append(d.States, string(s))
	}
	for _, s := range statuses {
		d.Statuses = append(d.Statuses, string(s))
	}
	if d.Queues, err = h.src.Queue.Queues(r.Context()); err != nil {
		return nil, err
	}
	title := "Tasks"
	if name != "" {
		if err := h.listTasks(r, d, tq); err != nil {
			return nil, err
		}
		title = "Tasks " + state + " of " + name
	}
	return &view{Title: title, Nav: "tasks", Data: d, API: "api/tasks?" + r.URL.RawQuery, template: "tasks",
		Slow: state == string(queue.FinishedTasks)}, nil
}

// listTasks fills d with a page of the tasks of its queue and state, and
// the queue's counts.
func (h *handler) listTasks(r *http.Request, d *tasksData, tq queue.TaskQuery) error {
	ctx := r.Context()
	page, err := h.src.Queue.ListTasks(ctx, d.Queue, tq)
	if err != nil {
		return badCursor(err)
	}
	d.Tasks = rows.TasksOf(page.Tasks)
	for _, t := range d.Tasks {
		d.Rows = append(d.Rows, t.Key())
		if f := t.RunningFor(); f != "" {
			d.set(f, "task", t.Key(), "running_for")
		}
		d.bar(t.Progress, "task", t.Key(), "progress")
	}
	d.Page = linksOf("tasks", url.Values{"queue": {d.Queue}, "state": {d.State}}, d.Find, page.Next)
	st, err := h.src.Queue.Stats(ctx, d.Queue)
	if err != nil {
		return err
	}
	d.Counts = map[string]int64{"ready": st.Ready, "running": st.Running, "delayed": st.Delayed, "dead": st.Dead}
	d.Partitions = max(st.Partitions, 1)
	for k, v := range d.Counts {
		d.set(v, "count", k)
	}
	keep := findParams{Search: d.Find.Search, Task: d.Find.Task, Limit: d.Find.Limit}
	for _, s := range d.States {
		c, counted := d.Counts[s]
		d.Tabs = append(d.Tabs, tab{State: s, Count: c, Counted: counted,
			URL: listURL("tasks", url.Values{"queue": {d.Queue}, "state": {s}}, keep, "", nil)})
	}
	d.set(len(d.Tasks), "listed")
	return nil
}
