package web

import (
	"net/http"

	"github.com/taskware/taskware/internal/rows"
)

// workersData is the workers page, and api/workers.
type workersData struct {
	Workers []rows.Worker `json:"workers"`
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
	d := &workersData{Live: map[string]int{}, liveData: liveData{Rows: []string{}}}
	if d.Workers, err = rows.ReadWorkers(ctx, h.src.Queue, queues); err != nil {
		return nil, err
	}
	for _, w := range d.Workers {
		if w.Live {
			d.Live[w.Queue]++
		}
		d.Rows = append(d.Rows, w.Queue+"/"+w.Name)
		d.set(w.Pending, "worker", w.Queue, w.Name, "pending")
		d.set(w.Idle(), "worker", w.Queue, w.Name, "idle")
		d.set(w.LiveText(), "worker", w.Queue, w.Name, "live")
	}
	return &view{Title: "Workers", Nav: "workers", Data: d, API: "api/workers?" + r.URL.RawQuery, template: "workers"}, nil
}
