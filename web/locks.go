package web

import (
	"net/http"

	"github.com/taskware/taskware/internal/rows"
)

// locksData is the locks page, and api/locks.
type locksData struct {
	// Available says whether the Source shows locks at all.
	Available bool        `json:"available"`
	Locks     []rows.Lock `json:"locks"`
	liveData
}

func (h *handler) locks(r *http.Request) (*view, error) {
	d := &locksData{Available: h.src.Locks != nil, Locks: []rows.Lock{}, liveData: liveData{Rows: []string{}}}
	if d.Available {
		held, err := h.src.Locks.Held(r.Context())
		if err != nil {
			return nil, err
		}
		d.Locks = rows.LocksOf(held)
		for _, l := range d.Locks {
			d.Rows = append(d.Rows, l.Key)
			d.set(l.Holder, "lock", l.Key, "holder")
			d.set(l.Fence, "lock", l.Key, "fence")
			d.set(age(l.Since), "lock", l.Key, "age")
			d.set(l.Left(), "lock", l.Key, "left")
		}
	}
	d.set(len(d.Locks), "locks", "count")
	return &view{Title: "Locks", Nav: "locks", Data: d, API: "api/locks", template: "locks"}, nil
}
