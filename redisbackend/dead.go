package redisbackend

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

var (
	requeueDeadScript = newScript(lua("lib/entry.lua", "lib/groups.lua", "requeue_dead.lua"))
	purgeDeadScript   = newScript(lua("lib/entry.lua", "purge_dead.lua"))
)

// replyTTL is how long RequeueDead and PurgeDead keep their answers for a
// call sent again: far longer than go-redis takes to send it again after
// a lost reply (its retries, each after a read timeout of 3s by default).
const replyTTL = time.Minute

var argReplyTTL any = replyTTL.Milliseconds()

// DeadLetters implements queue.Queue: one XRANGE, oldest first. On a
// partitioned queue, one XRANGE a partition in one pipeline, merged
// oldest first (by the time each letter died) and capped at n.
func (q *Queue) DeadLetters(ctx context.Context, name string, n int) ([]queue.DeadLetter, error) {
	if n <= 0 {
		return []queue.DeadLetter{}, nil // XRANGE COUNT 0 replies nil on Redis, everything on miniredis
	}
	parts, err := q.partitionNames(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("worker: dead letters of %s: %w", name, err)
	}
	cmds := make([]*redis.XMessageSliceCmd, len(parts))
	if len(parts) == 1 {
		cmds[0] = q.b.client.XRangeN(ctx, q.b.keys.dead(name), "-", "+", int64(n))
	} else {
		_, _ = q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, physical := range parts {
				cmds[i] = p.XRangeN(ctx, q.b.keys.dead(physical), "-", "+", int64(n))
			}
			return nil
		})
	}
	type letter struct {
		entry string
		dl    queue.DeadLetter
	}
	var all []letter
	for _, cmd := range cmds {
		msgs, err := cmd.Result()
		if err != nil {
			return nil, fmt.Errorf("worker: dead letters of %s: %w", name, unavailable(ctx, err))
		}
		for _, m := range msgs {
			f := stringFields(m.Values)
			d := parseEntry(name, m.ID, f)
			all = append(all, letter{m.ID, queue.DeadLetter{Message: d.Message, Kind: f["kind"], Reason: f["reason"], At: microsTime(f["at"])}})
		}
	}
	if len(parts) > 1 {
		// By the µs each died: entry IDs are ms, and two partitions' letters
		// of one ms would fall in partition order.
		slices.SortStableFunc(all, func(a, b letter) int { return cmp.Or(a.dl.At.Compare(b.dl.At), compareEntryIDs(a.entry, b.entry)) })
		all = all[:min(len(all), n)]
	}
	out := make([]queue.DeadLetter, len(all))
	for i, l := range all {
		out[i] = l.dl
	}
	return out, nil
}

// RequeueDead moves queue's dead letters of the given IDs (task IDs, or
// the dead letters' entry IDs), or all of them if none is given, back to
// the ready tasks as fresh deliveries: attempt 1, delivery 1, no last
// failure, the task's state queued again (made anew if it expired). One
// script, so one round trip, that looks at up to 100 000 dead letters. It
// returns the IDs of the tasks requeued; a dead letter it cannot read, or
// whose task is known again under another status (enqueued anew since),
// stays where it is, and its entry ID is in the second list. Called twice,
// it requeues nothing the second time; sent again after a lost reply, it
// returns the first answer, kept a minute under the call's nonce. The task runs with the deadline it
// was enqueued with: one past it is skipped as expired.
//
// On a partitioned queue the script runs in every partition with all the
// IDs, in one pipeline (each partition requeues those of its letters it
// holds, into its own stream: a task stays in its partition), under one
// nonce, so a pipeline sent again answers as the first did. An entry ID
// names a letter of every partition that has one of that ID: name dead
// letters by task ID there.
func (q *Queue) RequeueDead(ctx context.Context, name string, ids ...string) (requeued, kept []string, err error) {
	parts, err := q.partitionNames(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("worker: requeue dead letters of %s: %w", name, err)
	}
	k := q.b.keys
	call := nonce()
	ops := make([]op, len(parts))
	for i, physical := range parts {
		args := make([]any, 0, 5+len(ids))
		args = append(args, k.statePrefix(physical), maxCount, argReplyTTL, k.groups(physical), time.Now().UnixMilli())
		for _, id := range ids {
			args = append(args, id)
		}
		keys := []string{k.stream(physical), k.dead(physical), k.delayed(physical), k.reply(physical, call)}
		ops[i] = scriptOpOf(requeueDeadScript, keys, args...)
	}
	q.b.exec(ctx, ops)
	for _, o := range ops {
		res, err := o.cmd.(*redis.Cmd).Slice()
		if err == nil && len(res) != 2 {
			err = fmt.Errorf("unexpected reply %v", res)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("worker: requeue dead letters of %s: %w", name, unavailable(ctx, err))
		}
		requeued, kept = append(requeued, luaStrings(res[0])...), append(kept, luaStrings(res[1])...)
	}
	if requeued == nil {
		requeued = []string{}
	}
	if kept == nil {
		kept = []string{}
	}
	return requeued, kept, nil
}

// PurgeDead deletes queue's dead letters of the given IDs (task IDs, or
// entry IDs), or all of them if none is given, and returns how many it
// deleted: one script, so one round trip, that looks at up to 100 000
// dead letters (for all, it deletes the stream). The tasks' states stay
// "dead" until they expire. Sent again after a lost reply, it returns the
// first count, kept a minute under the call's nonce. On a partitioned
// queue, the script runs in every partition, as RequeueDead's does, and
// the counts are summed.
func (q *Queue) PurgeDead(ctx context.Context, name string, ids ...string) (int, error) {
	parts, err := q.partitionNames(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("worker: purge dead letters of %s: %w", name, err)
	}
	k := q.b.keys
	args := make([]any, 0, 2+len(ids))
	args = append(args, maxCount, argReplyTTL)
	for _, id := range ids {
		args = append(args, id)
	}
	call := nonce()
	ops := make([]op, len(parts))
	for i, physical := range parts {
		ops[i] = scriptOpOf(purgeDeadScript, []string{k.dead(physical), k.reply(physical, call)}, args...)
	}
	q.b.exec(ctx, ops)
	total := 0
	for _, o := range ops {
		n, err := o.cmd.(*redis.Cmd).Int()
		if err != nil {
			return 0, fmt.Errorf("worker: purge dead letters of %s: %w", name, unavailable(ctx, err))
		}
		total += n
	}
	return total, nil
}
