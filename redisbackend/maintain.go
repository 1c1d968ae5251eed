package redisbackend

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

var (
	recoverScript = newScript(lua("lib/entry.lua", "recover.lua"))
	promoteScript = newScript(lua("lib/entry.lua", "lib/count.lua", "lib/ended.lua", "lib/cancel.lua", "lib/flow.lua", "lib/groups.lua", "promote.lua"))
	leaveScript   = newScript(lua("leave.lua"))
)

// Recover implements queue.Consumer, in one round trip: a script claims
// the idle entries, adds each back at the stream's end, counting the
// takeover, and lists it to be taken ahead of the entries never taken
// (see Take). It also forgets consumers with nothing pending that have
// been idle a hundred times minIdle, and trims the index of ended tasks
// of those whose state has expired. On a queue split into partitions, the
// script runs for each partition it ever had, up to n each, all in one
// pipeline, and the counts add up.
func (q *Queue) Recover(ctx context.Context, name string, minIdle time.Duration, n int) (int, error) {
	parts, err := q.physicalNames(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("worker: recover on %s: %w", name, err)
	}
	expired := -(time.Now().Add(-q.b.stateTTL).UnixMicro())
	ops := make([]op, len(parts))
	for i, p := range parts {
		if err := q.ensureGroup(ctx, p.name, false); err != nil {
			return 0, fmt.Errorf("worker: recover on %s: %w", p.name, err)
		}
		ops[i] = op{cmd: recoverScript.evalSHA([]string{p.stream, p.ahead, p.ended}, minIdle.Milliseconds(), max(n, 1),
			p.statePrefix, (100 * minIdle).Milliseconds(), expired), src: recoverScript.src}
	}
	moved, err := q.sumOps(ctx, ops)
	if err != nil {
		return moved, fmt.Errorf("worker: recover on %s: %w", name, err)
	}
	return moved, nil
}

// sumOps sends ops, scripts that each answer a count, in one pipeline
// (or one command, if one), and adds their counts up. The first error
// ends the sum (the counts before it are returned too).
func (q *Queue) sumOps(ctx context.Context, ops []op) (int, error) {
	q.b.exec(ctx, ops)
	sum := 0
	for _, o := range ops {
		v, err := o.cmd.(*redis.Cmd).Int()
		if err != nil {
			return sum, unavailable(ctx, err)
		}
		sum += v
	}
	return sum, nil
}

// Leave implements queue.Consumer: for each partition of a split queue,
// in one pipeline.
func (q *Queue) Leave(ctx context.Context, name, consumer string) error {
	parts, err := q.physicalNames(ctx, name)
	if err != nil {
		return fmt.Errorf("worker: leave %s: %w", name, err)
	}
	ops := make([]op, len(parts))
	q.mu.Lock()
	for i, p := range parts {
		delete(q.seen, seenKey{p.name, consumer})
		ops[i] = op{cmd: leaveScript.evalSHA([]string{p.stream}, consumer), src: leaveScript.src}
	}
	q.mu.Unlock()
	q.b.exec(ctx, ops)
	for _, o := range ops {
		if err := o.cmd.Err(); err != nil && !redis.HasErrorPrefix(err, "NOGROUP") {
			return fmt.Errorf("worker: leave %s: %w", name, unavailable(ctx, err))
		}
	}
	return nil
}

// Extend implements queue.Consumer in one round trip: one XCLAIM ...
// JUSTID for all of them (one per partition they came from: each
// delivery's Queue names it, so ds may span a split queue's partitions),
// which resets their idle time and answers with those still pending (a
// finished or taken-over entry is not: it was acknowledged), and, while a
// worker watches for cancels, an HGET of each one's cancel mark beside it
// in the pipeline (see WatchCancels), and of each member's of a batch.
func (q *Queue) Extend(ctx context.Context, name, consumer string, ds []*queue.Delivery) ([]*queue.Delivery, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	// The receipts of each physical queue, in order met: mostly one.
	type claim struct {
		queue string
		ids   []string
		cmd   *redis.StringSliceCmd
	}
	claims := make([]claim, 0, 1)
	queueOf := func(d *queue.Delivery) string {
		if d.Queue == "" { // a delivery made by hand
			return name
		}
		return d.Queue
	}
	for _, d := range ds {
		qn := queueOf(d)
		at := len(claims) - 1
		for at >= 0 && claims[at].queue != qn {
			at--
		}
		if at < 0 {
			claims, at = append(claims, claim{queue: qn, ids: make([]string, 0, len(ds))}), len(claims)
		}
		claims[at].ids = append(claims[at].ids, d.Receipt)
	}
	watchers := q.cancelWatchers()
	var flags []*redis.StringCmd
	var flagged, flaggedIn []string // the task each flag is of (a delivery's, or a batch member's), and its queue
	_, _ = q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range claims {
			c := &claims[i]
			c.cmd = p.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.b.keys.stream(c.queue), Group: group, Consumer: consumer, Messages: c.ids})
		}
		if len(watchers) > 0 { // a cancel notice may have been lost: read the mark it left
			for _, d := range ds {
				qn := queueOf(d)
				mark := func(id string) {
					flags, flagged, flaggedIn = append(flags, p.HGet(ctx, q.b.keys.state(qn, id), "cx")), append(flagged, id), append(flaggedIn, qn)
				}
				mark(d.ID)
				for _, id := range d.Batch { // a member canceled while its batch runs
					mark(id)
				}
			}
		}
		return nil
	})
	var held []string
	for i := range claims {
		if err := claims[i].cmd.Err(); err != nil {
			return nil, fmt.Errorf("worker: extend on %s: %w", claims[i].queue, unavailable(ctx, err))
		}
		if len(claims) == 1 {
			held = claims[i].cmd.Val()
		} else {
			held = append(held, claims[i].cmd.Val()...)
		}
	}
	for i, f := range flags {
		if f.Val() == "1" {
			for _, fn := range watchers {
				fn(logicalName(flaggedIn[i]), flagged[i]) // as WatchCancels does
			}
		}
	}
	return lostOf(ds, held), nil
}

// lostOf returns those of ds whose receipts are not among held, the IDs
// an XCLAIM answered with, in their order.
func lostOf(ds []*queue.Delivery, held []string) []*queue.Delivery {
	if len(held) == len(ds) {
		return nil
	}
	in := make(map[string]struct{}, len(held))
	for _, id := range held {
		in[id] = struct{}{}
	}
	var lost []*queue.Delivery
	for _, d := range ds {
		if _, ok := in[d.Receipt]; !ok {
			lost = append(lost, d)
		}
	}
	return lost
}

// Promote implements queue.Consumer, in one round trip: one script per
// partition of a split queue (up to n each), in one pipeline.
func (q *Queue) Promote(ctx context.Context, name string, now time.Time, n int) (int, error) {
	parts, err := q.physicalNames(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("worker: promote on %s: %w", name, err)
	}
	nowUs := now.UnixMicro()
	ops := make([]op, len(parts))
	for i, p := range parts {
		ops[i] = op{cmd: promoteScript.evalSHA([]string{p.stream, p.delayed, *q.counts(p, nowUs), p.ended},
			now.UnixMilli(), n, p.statePrefix, q.b.stateTTLArg, q.b.channelArg, p.tag, nowUs, q.b.prefixArg), src: promoteScript.src}
	}
	moved, err := q.sumOps(ctx, ops)
	if err != nil {
		return moved, fmt.Errorf("worker: promote on %s: %w", name, err)
	}
	return moved, nil
}
