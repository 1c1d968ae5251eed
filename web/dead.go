package web

import (
	"net/http"

	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// deadQueue is one queue's dead letters.
type deadQueue struct {
	Queue   string      `json:"queue"`
	Count   int64       `json:"count"`
	Letters []rows.Task `json:"letters"`
}

// deadData is the dead letters page, and api/dead.
type deadData struct {
	// Queue is the queue asked for, "" for all.
	Queue  string      `json:"queue,omitempty"`
	Queues []deadQueue `json:"queues"`
	Total  int64       `json:"total"`
	Limit  int         `json:"limit"`
	liveData
}

func (h *handler) dead(r *http.Request) (*view, error) {
	ctx := r.Context()
	queueName, err := queueParam(r)
	if err != nil {
		return nil, err
	}
	queues, err := h.queuesOf(ctx, queueName)
	if err != nil {
		return nil, err
	}
	d := &deadData{Queue: queueName, Queues: []deadQueue{}, Limit: defaultLimit,
		liveData: liveData{Rows: []string{}}}
	for _, name := range queues {
		st, err := h.src.Queue.Stats(ctx, name)
		if err != nil {
			return nil, err
		}
		if st.Dead == 0 && queueName == "" {
			continue
		}
		ts, err := h.src.Queue.Tasks(ctx, name, queue.DeadTasks, defaultLimit)
		if err != nil {
			return nil, err
		}
		dq := deadQueue{Queue: name, Count: st.Dead, Letters: rows.TasksOf(ts)}
		for _, l := range dq.Letters {
			d.Rows = append(d.Rows, name+"/"+l.Key())
		}
		d.Queues = append(d.Queues, dq)
		d.Total += st.Dead
		d.set(st.Dead, "dead", name, "count")
	}
	d.set(d.Total, "dead", "total")
	return &view{Title: "Dead letters", Nav: "dead", Data: d, API: "api/dead?" + r.URL.RawQuery, template: "dead"}, nil
}
