package redisbackend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

// serverScanBudget bounds the keys ServerInfo counts: beyond it, the
// counts are lower bounds (ServerInfo.Partial).
const serverScanBudget = 100_000

var errBudgetSpent = errors.New("scan budget spent")

// ServerInfo implements queue.Server: one INFO, then a SCAN of the prefix
// (a round trip per 256 keys, on every master of a Cluster) that stops
// after serverScanBudget keys.
func (q *Queue) ServerInfo(ctx context.Context) (*queue.ServerInfo, error) {
	return q.serverInfo(ctx, serverScanBudget)
}

func (q *Queue) serverInfo(ctx context.Context, budget int64) (*queue.ServerInfo, error) {
	text, err := q.b.client.Info(ctx).Result() // the default sections: server, clients, memory, stats, keyspace...
	if err != nil {
		return nil, fmt.Errorf("worker: server info: %w", unavailable(ctx, err))
	}
	si := parseInfo(text)
	si.Prefix, si.Keys = q.b.keys.prefix, map[string]int64{}
	var seen int64
	err = q.b.scan(ctx, escapeGlob(q.b.keys.prefix)+"*", func(_ context.Context, _ redis.Cmdable, keys []string) error {
		for _, k := range keys {
			if seen >= budget {
				return errBudgetSpent
			}
			seen++
			si.Keys[keyKind(strings.TrimPrefix(k, q.b.keys.prefix))]++
		}
		return nil
	})
	if errors.Is(err, errBudgetSpent) {
		si.Partial, err = true, nil
	}
	if err != nil {
		return nil, fmt.Errorf("worker: server info: scan: %w", unavailable(ctx, err))
	}
	return si, nil
}

// keyKind names the kind of a key of the backend, without its prefix (see
// keys.go).
func keyKind(k string) string {
	switch {
	case strings.HasPrefix(k, "lock:{"):
		return "lock"
	case strings.HasPrefix(k, "sem:{"):
		return "semaphore"
	case strings.HasPrefix(k, "result:{"):
		return "result"
	case k == "schedules":
		return "schedules"
	case strings.HasPrefix(k, "queue:{"):
		_, rest, ok := splitTagged(k[len("queue:{"):])
		if !ok {
			return "other"
		}
		if rest == "" {
			return "stream"
		}
		kind, _, _ := strings.Cut(rest[1:], ":")
		switch kind {
		case "task":
			return "state"
		case "delayed", "dead", "ahead", "early", "paused", "reply", "unique", "rate":
			return kind
		}
	}
	return "other"
}

// parseInfo reads the fields of INFO the page shows.
func parseInfo(text string) *queue.ServerInfo {
	si := &queue.ServerInfo{Kind: "redis"}
	num := func(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }
	for line := range strings.Lines(text) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "redis_version":
			si.Version = v
		case "redis_mode":
			si.Mode = v
		case "uptime_in_seconds":
			si.Uptime = time.Duration(num(v)) * time.Second
		case "used_memory":
			si.UsedMemory = num(v)
		case "used_memory_peak":
			si.PeakMemory = num(v)
		case "maxmemory":
			si.MaxMemory = num(v)
		case "connected_clients":
			si.Clients = num(v)
		case "instantaneous_ops_per_sec":
			si.OpsPerSec = num(v)
		default:
			if strings.HasPrefix(k, "db") { // db0:keys=3,expires=1,avg_ttl=0
				db := queue.KeyspaceDB{DB: k}
				for f := range strings.SplitSeq(v, ",") {
					name, n, _ := strings.Cut(f, "=")
					switch name {
					case "keys":
						db.Keys = num(n)
					case "expires":
						db.Expires = num(n)
					}
				}
				si.Keyspace = append(si.Keyspace, db)
			}
		}
	}
	slices.SortFunc(si.Keyspace, func(a, b queue.KeyspaceDB) int { return strings.Compare(a.DB, b.DB) })
	return si
}
