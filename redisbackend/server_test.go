package redisbackend_test

import (
	"testing"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/taskwaretest"
)

// ServerInfo reads the server's INFO and counts the backend's keys by
// kind; a scan whose budget runs out says its counts are partial.
func TestServerInfo(t *testing.T) {
	rqEach(t, func(t *testing.T, b *taskwaretest.Backend) {
		q := b.Queue
		rqEnqueue(t, q, rqMsg("srv", "a"), time.Time{})
		rqEnqueue(t, q, rqMsg("srv", "b"), time.Now().Add(time.Hour))
		rqFinish(t, q, rqTake(t, q, "srv", 1)[0], queue.Outcome{Status: queue.Dead, Attempt: 1, Kind: "error", Error: "x"})
		si, err := q.ServerInfo(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if si.Kind != "redis" || si.Prefix != b.Prefix() || si.Partial || si.Clients < 1 {
			t.Errorf("ServerInfo = %+v; want redis, its clients, prefix %q, whole counts", si, b.Prefix())
		}
		if b.Real && (si.Version == "" || si.Mode == "" || si.UsedMemory <= 0 || si.PeakMemory < si.UsedMemory/2 || si.Clients < 1 || si.Uptime <= 0 || len(si.Keyspace) == 0) {
			t.Errorf("ServerInfo of a real Redis = %+v; want its mode, memory, clients, uptime and keyspace", si)
		}
		for kind, want := range map[string]int64{"stream": 1, "delayed": 1, "dead": 1, "state": 2, "rate": 1} {
			if si.Keys[kind] != want {
				t.Errorf("%s keys: %d, want %d (all: %v)", kind, si.Keys[kind], want, si.Keys)
			}
		}
		part, err := redisbackend.ServerInfoWithin(t.Context(), b.Redis.Queue(), 2)
		var n int64
		for _, c := range part.Keys {
			n += c
		}
		if err != nil || !part.Partial || n != 2 {
			t.Errorf("ServerInfo within 2 keys: %+v, %v; want 2 counted, partial", part, err)
		}
	})
}
