package web

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
)

// redisData is the Redis page, and api/redis: the server behind the
// backend, and taskware's keys on it by kind.
type redisData struct {
	// Supported is false for a backend without a server (in-process).
	Supported bool              `json:"supported"`
	Server    *queue.ServerInfo `json:"server,omitempty"`
	liveData
}

// keyCount is a kind of key, and how many there are.
type keyCount struct {
	Kind  string
	Count int64
}

// KeyKinds lists the counted kinds of key, by name.
func (d *redisData) KeyKinds() []keyCount {
	if d.Server == nil {
		return nil
	}
	var out []keyCount
	for _, k := range slices.Sorted(maps.Keys(d.Server.Keys)) {
		out = append(out, keyCount{k, d.Server.Keys[k]})
	}
	return out
}

func (h *handler) redis(r *http.Request) (*view, error) {
	si, err := h.src.Queue.ServerInfo(r.Context())
	d := &redisData{Server: si, Supported: err == nil, liveData: liveData{Rows: []string{}}}
	if errors.Is(err, queue.ErrNotSupported) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if si != nil {
		d.set(si.Clients, "redis", "clients")
		d.set(si.OpsPerSec, "redis", "ops")
		d.set(byteSize(si.UsedMemory), "redis", "used")
		d.set(duration(si.Uptime), "redis", "uptime")
	}
	// Slow: it SCANs the prefix.
	return &view{Title: "Redis", Nav: "redis", Data: d, API: "api/redis", Slow: true, template: "redis"}, nil
}

// byteSize shows n bytes in binary units: "1.5 MiB".
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}

// uptimeText shows a server's uptime in days once it is that long.
func uptimeText(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return duration(d)
}
