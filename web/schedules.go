package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// schedulesData is the schedules page, and api/schedules: the entries
// stored in the backend (queue.ScheduleDef), which Stored schedulers run,
// and the entries the running schedulers publish (schedule.Publish).
type schedulesData struct {
	Stored []rows.StoredSchedule `json:"stored"`
	// StoredUnsupported says the backend stores no entries.
	StoredUnsupported bool                  `json:"stored_unsupported,omitempty"`
	Entries           []queue.ScheduleEntry `json:"entries"`
	liveData
}

func (h *handler) schedules(r *http.Request) (*view, error) {
	ctx := r.Context()
	es, err := h.src.Queue.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	d := &schedulesData{Entries: es, liveData: liveData{Rows: []string{}}}
	defs, _, err := h.src.Queue.ScheduleDefs(ctx)
	switch {
	case errors.Is(err, queue.ErrNotSupported):
		d.StoredUnsupported = true
	case err != nil:
		return nil, err
	}
	d.Stored = rows.StoredSchedulesOf(defs, es, h.now())
	for _, s := range d.Stored {
		key := "stored/" + s.Name
		d.Rows = append(d.Rows, key)
		d.set(storedNext(s), "stored", s.Name, "next")
	}
	for _, e := range es {
		key := e.Name + "@" + e.Scheduler
		d.Rows = append(d.Rows, key)
		d.set(until(e.Next), "schedule", key, "next")
		d.set(ago(e.Last), "schedule", key, "last")
		d.set(e.Missed, "schedule", key, "missed")
	}
	return &view{Title: "Schedules", Nav: "schedules", Data: d, API: "api/schedules", template: "schedules"}, nil
}

// storedNext shows a stored entry's next tick: "-" while paused, "not
// known" if no scheduler publishes it and its spec does not say.
func storedNext(s rows.StoredSchedule) string {
	switch {
	case s.Paused:
		return "-"
	case s.NextFrom == "":
		return "not known: no scheduler publishes it"
	}
	return until(s.Next)
}

// confirmSchedule asks before pausing, resuming or removing (do) the
// stored entry ?name=.
func (h *handler) confirmSchedule(ctx context.Context, do string, q url.Values) (*confirmData, error) {
	name := q.Get("name")
	if queue.ValidateScheduleName(name) != nil {
		return nil, &httpError{http.StatusBadRequest, "Say which stored schedule: ?name=."}
	}
	defs, _, err := h.src.Queue.ScheduleDefs(ctx)
	if err != nil {
		return nil, err
	}
	d := &confirmData{Action: do, Fields: [][2]string{{"name", name}}, Back: "schedules"}
	i := slices.IndexFunc(defs, func(d queue.ScheduleDef) bool { return d.Name == name })
	if i < 0 {
		d.Question = fmt.Sprintf("There is no stored schedule %s any more.", name)
		return d, nil
	}
	def := defs[i]
	state := "running"
	if def.Paused {
		state = "paused"
	}
	d.Details = [][2]string{{"Entry", def.Name}, {"Schedule", def.Spec}, {"Task", def.Task}, {"Queue", def.Queue},
		{"Arguments", payloadText(def.Args)}, {"State", state}}
	d.Possible = true
	switch do {
	case "pause-schedule":
		d.Button = "Pause the schedule"
		d.Question = fmt.Sprintf("Pause schedule %s? No tick of it is enqueued until it is resumed, and the ticks while paused never are.", name)
		if def.Paused {
			d.Possible, d.Question = false, fmt.Sprintf("Schedule %s is paused already.", name)
		}
	case "resume-schedule":
		d.Button = "Resume the schedule"
		d.Question = fmt.Sprintf("Resume schedule %s? Its next tick is enqueued; the ticks missed while paused are not.", name)
		if !def.Paused {
			d.Possible, d.Question = false, fmt.Sprintf("Schedule %s is not paused.", name)
		}
	case "remove-schedule":
		d.Button = "Remove the schedule"
		d.Question = fmt.Sprintf("Remove schedule %s? The schedulers enqueue no more ticks of it; the tasks it enqueued stay.", name)
	}
	return d, nil
}

// changeSchedule pauses, resumes or removes (do) the form's stored entry.
func (h *handler) changeSchedule(r *http.Request, do string) (string, error) {
	name := r.PostFormValue("name")
	if queue.ValidateScheduleName(name) != nil {
		return "", &httpError{http.StatusBadRequest, "Say which stored schedule: the form has no valid name."}
	}
	var err error
	notice := map[string]string{"pause-schedule": "paused-schedule", "resume-schedule": "resumed-schedule",
		"remove-schedule": "removed-schedule"}[do]
	switch do {
	case "remove-schedule":
		err = h.src.Queue.RemoveSchedule(r.Context(), name)
	default: // at the backend's now, which every scheduler reads alike
		err = h.src.Queue.PauseSchedule(r.Context(), name, do == "pause-schedule", time.Time{})
	}
	if errors.Is(err, queue.ErrNotFound) {
		return "", &httpError{http.StatusNotFound, fmt.Sprintf("There is no stored schedule %s.", name)}
	}
	if err != nil {
		return "", err
	}
	return to("schedules", url.Values{"notice": {h.signNotice(url.Values{"notice": {notice}, "name": {name}})}}), nil
}

// scheduleNotice is the sentence of a stored schedule's action, "" if q
// is none.
func scheduleNotice(q url.Values) string {
	name := q.Get("name")
	switch q.Get("notice") {
	case "paused-schedule":
		return fmt.Sprintf("Paused schedule %s: the schedulers enqueue none of its ticks until it is resumed.", name)
	case "resumed-schedule":
		return fmt.Sprintf("Resumed schedule %s: it ticks again from its next tick.", name)
	case "removed-schedule":
		return fmt.Sprintf("Removed schedule %s.", name)
	}
	return ""
}
