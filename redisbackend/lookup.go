package redisbackend

import (
	"context"
	"strings"

	"github.com/taskware/taskware/queue"
)

// Per-task calls on a partitioned queue. A task lives whole in one
// partition (its state, record, dead letter and counts), and a caller
// names it by its logical queue and ID. Most tasks are routed by their ID
// (queue.Message.RouteKey), so a call looks first in partition
// PartitionFor(id, n), then, if that one does not know the task, in every
// other partition the queue ever had (0..high-1) in one pipeline: one
// round trip, two for a task routed by an OrderKey, Group or Unique key.
// On a queue never split, a call costs what it always did.

// partitionsOf returns the physical queue in which task id of queue name
// is looked for first, and the others it may be in: (name, nil) for a
// queue never split, without allocating. A queue of no name ("", a run
// in-process) has no partitions.
func (q *Queue) partitionsOf(ctx context.Context, name, id string) (first string, rest []string, err error) {
	if name == "" {
		return name, nil, nil
	}
	n, high, err := q.Partitions(ctx, name)
	if err != nil || high <= 1 {
		return name, nil, err
	}
	p := queue.PartitionFor(id, n)
	first = queue.PartitionName(name, p)
	rest = make([]string, 0, high-1)
	for i := range high {
		if i != p {
			rest = append(rest, queue.PartitionName(name, i))
		}
	}
	return first, rest, nil
}

// scriptOpOf is the op of an EVALSHA of s on keys with args.
func scriptOpOf(s script, keys []string, args ...any) op {
	return op{cmd: s.evalSHA(keys, args...), src: s.src}
}

// logicalNotice maps the notice of a task of a partition, "t{jobs#2}<id>",
// to that of its logical queue, "t{jobs}<id>", which waiters wait on: a
// waiter names the task by its logical queue, whichever partition holds
// it. Other notices are returned as they are, without allocating.
func logicalNotice(p string) string {
	if len(p) < 2 || p[1] != '{' {
		return p
	}
	tag, rest, ok := splitTagged(p[2:])
	if !ok || strings.IndexByte(tag, '#') < 0 {
		return p
	}
	name, _ := queue.SplitPartition(tag)
	return p[:2] + name + "}" + rest
}

// logicalName is the logical queue of the physical queue of a key's tag.
func logicalName(physical string) string {
	if strings.IndexByte(physical, '#') < 0 {
		return physical
	}
	name, _ := queue.SplitPartition(physical)
	return name
}
