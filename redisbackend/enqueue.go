package redisbackend

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/queue"
)

var (
	enqueueScript     = newScript(lua("lib/entry.lua", "lib/groups.lua", "lib/enqueue.lua", "enqueue.lua"))
	enqueueManyScript = newScript(lua("lib/entry.lua", "lib/groups.lua", "lib/enqueue.lua", "enqueue_many.lua"))
)

// nonce returns a fresh nonce for one call of a script.
func nonce() string {
	var b [randid.Len]byte
	randid.Fill(&b)
	return string(b[:16])
}

// Enqueue implements queue.Producer, in one round trip. On a queue split
// into partitions, m goes to the partition its RouteKey hashes to, of the
// count producers route over (see SetPartitions): its keys are that
// partition's. m itself is not changed (its Queue is not in what is
// stored: a delivery takes its queue from the stream it came from).
func (q *Queue) Enqueue(ctx context.Context, m *queue.Message, runAt time.Time) error {
	if err := queue.ValidateMessage(m); err != nil { // m.Queue is the logical name
		return err
	}
	name, err := q.routeName(ctx, m)
	if err != nil {
		return fmt.Errorf("worker: enqueue %s: %w", m.ID, err)
	}
	var runAtMs int64
	if runAt.After(time.Now()) {
		runAtMs = runAt.UnixMilli()
	}
	q.register(ctx, m.Queue)
	k := q.b.keys
	state := k.state(name, m.ID)
	keys := []string{k.stream(name), k.delayed(name), state, q.uniqueKey(name, m, state)}
	res, err := q.run(ctx, enqueueScript, keys, m.ID, m.Task, encodeMessage(m), max(m.Attempt, 1), runAtMs, nonce(),
		q.uniqueWindow(m), m.Group, k.groups(name), time.Now().UnixMilli()).Result()
	if err != nil {
		return fmt.Errorf("worker: enqueue %s: %w", m.ID, unavailable(ctx, err))
	}
	return enqueued(m, res)
}

// uniqueKey is m's unique key in queue name (m's partition), or, if it
// has none, state: a key of the same hash tag, for a script to be given
// but not to use.
func (q *Queue) uniqueKey(name string, m *queue.Message, state string) string {
	if m.Unique == "" {
		return state
	}
	return q.b.keys.unique(name, m.Unique)
}

// uniqueWindow is how long m's unique key holds, in ms: UniqueFor, or
// the backend's state TTL, so that no key outlives its use; 0 if m has no
// key.
func (q *Queue) uniqueWindow(m *queue.Message) int64 {
	if m.Unique == "" {
		return 0
	}
	if m.UniqueFor > 0 {
		return max(m.UniqueFor.Milliseconds(), 1)
	}
	return q.b.stateTTL.Milliseconds()
}

// enqueued reads enqueue's answer for m: added, a duplicate of its ID, or
// of the task holding its unique key.
func enqueued(m *queue.Message, res any) error {
	switch v := res.(type) {
	case int64:
		if v == 1 {
			return nil
		}
		return &queue.DuplicateError{Queue: m.Queue, ID: m.ID, Existing: m.ID}
	case string:
		return &queue.DuplicateError{Queue: m.Queue, ID: m.ID, Existing: v}
	}
	return fmt.Errorf("worker: enqueue %s: unexpected reply %v", m.ID, res)
}

// enqueueChunk is the most tasks one script enqueues: Redis runs nothing
// else meanwhile.
const enqueueChunk = 256

// EnqueueMany implements queue.Producer: one script per queue (per
// partition of a split queue, each message routed as Enqueue routes it)
// and chunk of 256 tasks, all in one pipeline, so one round trip for the
// call (on a Cluster, go-redis sends the pipeline to each master at once).
func (q *Queue) EnqueueMany(ctx context.Context, ms []*queue.Message, runAt time.Time) ([]error, error) {
	for _, m := range ms {
		if err := queue.ValidateMessage(m); err != nil {
			return nil, err
		}
	}
	var runAtMs int64
	now := time.Now()
	if runAt.After(now) {
		runAtMs = runAt.UnixMilli()
	}
	nowMs := now.UnixMilli()
	// The tasks of each physical queue, in order, by their place in ms.
	byQueue := map[string][]int{}
	var order []string
	var split map[string][]string // a split queue's partitions' names, of the count routed over
	for i, m := range ms {
		name := m.Queue
		parts, seen := split[name]
		if !seen {
			if _, seen = byQueue[name]; !seen { // a queue not met yet in ms
				n, _, err := q.Partitions(ctx, name)
				if err != nil {
					return nil, fmt.Errorf("worker: enqueue %d tasks: %w", len(ms), err)
				}
				if n > 1 {
					parts = make([]string, n)
					for p := range parts {
						parts[p] = q.partitionName(name, p)
					}
					if split == nil {
						split = map[string][]string{}
					}
					split[name] = parts
				}
			}
		}
		if parts != nil {
			name = parts[queue.PartitionFor(m.RouteKey(), len(parts))]
		}
		if _, ok := byQueue[name]; !ok {
			order = append(order, name)
		}
		byQueue[name] = append(byQueue[name], i)
	}
	if split == nil {
		q.register(ctx, order...)
	} else {
		logical := make([]string, 0, len(order))
		for _, name := range order {
			if l, _ := queue.SplitPartition(name); !slices.Contains(logical, l) {
				logical = append(logical, l)
			}
		}
		q.register(ctx, logical...)
	}
	var ops []op
	var chunks [][]int // each op's tasks, by their place in ms
	states, uniques, msgs := make([]string, len(ms)), make([]string, len(ms)), make([]string, len(ms))
	for _, name := range order {
		n := q.names(name)
		all := byQueue[name]
		for len(all) > 0 {
			idx := all[:min(len(all), enqueueChunk)]
			all = all[len(idx):]
			args := make([]any, 0, 5+2*len(idx)+4+6*len(idx))
			args = append(args, argEvalSHA, enqueueManyScript.sha, 2+2*len(idx), &n.stream, &n.delayed)
			for _, i := range idx {
				states[i] = n.statePrefix + ms[i].ID
				uniques[i] = q.uniqueKey(name, ms[i], states[i])
				args = append(args, &states[i], &uniques[i])
			}
			args = append(args, runAtMs, nonce(), &n.groups, nowMs)
			for _, i := range idx {
				m := ms[i]
				msgs[i] = encodeMessage(m)
				args = append(args, &m.ID, &m.Task, &msgs[i], max(m.Attempt, 1), q.uniqueWindow(m), &m.Group)
			}
			ops = append(ops, scriptOp(enqueueManyScript, args))
			chunks = append(chunks, idx)
		}
	}
	q.b.exec(ctx, ops)
	errs := make([]error, len(ms))
	for c, o := range ops {
		res, err := o.cmd.(*redis.Cmd).Slice()
		if err == nil && len(res) != len(chunks[c]) {
			err = fmt.Errorf("unexpected reply %v", res)
		}
		if err != nil {
			return nil, fmt.Errorf("worker: enqueue %d tasks: %w", len(ms), unavailable(ctx, err))
		}
		for j, i := range chunks[c] {
			errs[i] = enqueued(ms[i], res[j])
		}
	}
	return errs, nil
}
