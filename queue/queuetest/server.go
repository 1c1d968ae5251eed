package queuetest

import (
	"errors"
	"time"

	"github.com/taskware/taskware/queue"
)

func serverPromises() []promise {
	return []promise{
		{Name: "Info", Check: serverInfo},
	}
}

// ServerInfo either says the backend has no server, or counts the keys of
// what the queue holds.
func serverInfo(t *tester) {
	t.enqueue(msg("srv", "a"), time.Time{})
	si, err := t.q.ServerInfo(t.Context())
	if errors.Is(err, queue.ErrNotSupported) {
		return
	}
	if err != nil {
		t.Fatalf("ServerInfo: %v", err)
	}
	var n int64
	for _, c := range si.Keys {
		n += c
	}
	if si.Kind == "" || n < 1 || si.Keys == nil {
		t.Fatalf("ServerInfo = %+v; want its kind, and the queue's keys counted", si)
	}
}
