package web

import (
	"net/http"

	"github.com/taskware/taskware/queue"
)

// schedulesData is the schedules page, and api/schedules: the entries the
// running schedulers publish (schedule.Publish).
type schedulesData struct {
	Entries []queue.ScheduleEntry `json:"entries"`
	liveData
}

func (h *handler) schedules(r *http.Request) (*view, error) {
	es, err := h.src.Queue.Schedules(r.Context())
	if err != nil {
		return nil, err
	}
	d := &schedulesData{Entries: es, liveData: liveData{Rows: []string{}}}
	for _, e := range es {
		key := e.Name + "@" + e.Scheduler
		d.Rows = append(d.Rows, key)
		d.set(until(e.Next), "schedule", key, "next")
		d.set(ago(e.Last), "schedule", key, "last")
		d.set(e.Missed, "schedule", key, "missed")
	}
	return &view{Title: "Schedules", Nav: "schedules", Data: d, API: "api/schedules", template: "schedules"}, nil
}
