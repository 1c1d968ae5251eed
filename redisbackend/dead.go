package redisbackend

import (
	"context"
	"fmt"
	"time"

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

// DeadLetters implements queue.Queue.
func (q *Queue) DeadLetters(ctx context.Context, name string, n int) ([]queue.DeadLetter, error) {
	if n <= 0 {
		return []queue.DeadLetter{}, nil // XRANGE COUNT 0 replies nil on Redis, everything on miniredis
	}
	msgs, err := q.b.client.XRangeN(ctx, q.b.keys.dead(name), "-", "+", int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: dead letters of %s: %w", name, unavailable(ctx, err))
	}
	out := make([]queue.DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		f := stringFields(m.Values)
		d := parseEntry(name, m.ID, f)
		out = append(out, queue.DeadLetter{Message: d.Message, Kind: f["kind"], Reason: f["reason"], At: microsTime(f["at"])})
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
func (q *Queue) RequeueDead(ctx context.Context, name string, ids ...string) (requeued, kept []string, err error) {
	k := q.b.keys
	args := make([]any, 0, 5+len(ids))
	args = append(args, k.statePrefix(name), maxCount, argReplyTTL, k.groups(name), time.Now().UnixMilli())
	for _, id := range ids {
		args = append(args, id)
	}
	keys := []string{k.stream(name), k.dead(name), k.delayed(name), k.reply(name, nonce())}
	res, err := q.run(ctx, requeueDeadScript, keys, args...).Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("worker: requeue dead letters of %s: %w", name, unavailable(ctx, err))
	}
	return luaStrings(res[0]), luaStrings(res[1]), nil
}

// PurgeDead deletes queue's dead letters of the given IDs (task IDs, or
// entry IDs), or all of them if none is given, and returns how many it
// deleted: one script, so one round trip, that looks at up to 100 000
// dead letters (for all, it deletes the stream). The tasks' states stay
// "dead" until they expire. Sent again after a lost reply, it returns the
// first count, kept a minute under the call's nonce.
func (q *Queue) PurgeDead(ctx context.Context, name string, ids ...string) (int, error) {
	k := q.b.keys
	args := make([]any, 0, 2+len(ids))
	args = append(args, maxCount, argReplyTTL)
	for _, id := range ids {
		args = append(args, id)
	}
	n, err := q.run(ctx, purgeDeadScript, []string{k.dead(name), k.reply(name, nonce())}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("worker: purge dead letters of %s: %w", name, unavailable(ctx, err))
	}
	return n, nil
}
