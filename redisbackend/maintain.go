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
// of those whose state has expired.
func (q *Queue) Recover(ctx context.Context, name string, minIdle time.Duration, n int) (int, error) {
	if err := q.ensureGroup(ctx, name, false); err != nil {
		return 0, fmt.Errorf("worker: recover on %s: %w", name, err)
	}
	k := q.b.keys
	expired := -(time.Now().Add(-q.b.stateTTL).UnixMicro())
	moved, err := q.run(ctx, recoverScript, []string{k.stream(name), k.ahead(name), k.ended(name)}, minIdle.Milliseconds(), max(n, 1),
		k.statePrefix(name), (100 * minIdle).Milliseconds(), expired).Int()
	if err != nil {
		return 0, fmt.Errorf("worker: recover on %s: %w", name, unavailable(ctx, err))
	}
	return moved, nil
}

// Leave implements queue.Consumer.
func (q *Queue) Leave(ctx context.Context, name, consumer string) error {
	q.mu.Lock()
	delete(q.seen, seenKey{name, consumer})
	q.mu.Unlock()
	err := q.run(ctx, leaveScript, []string{q.b.keys.stream(name)}, consumer).Err()
	if err != nil && !redis.HasErrorPrefix(err, "NOGROUP") {
		return fmt.Errorf("worker: leave %s: %w", name, unavailable(ctx, err))
	}
	return nil
}

// Extend implements queue.Consumer in one round trip: one XCLAIM ...
// JUSTID for all of them, which resets their idle time and answers with
// those still pending (a finished or taken-over entry is not: it was
// acknowledged), and, while a worker watches for cancels, an HGET of each
// one's cancel mark beside it in the pipeline (see WatchCancels), and of
// each member's of a batch.
func (q *Queue) Extend(ctx context.Context, name, consumer string, ds []*queue.Delivery) ([]*queue.Delivery, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.Receipt
	}
	watchers := q.cancelWatchers()
	var claim *redis.StringSliceCmd
	var flags []*redis.StringCmd
	var flagged []string // the task each flag is of: a delivery's, or a batch member's
	_, _ = q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		claim = p.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.b.keys.stream(name), Group: group, Consumer: consumer, Messages: ids})
		if len(watchers) > 0 { // a cancel notice may have been lost: read the mark it left
			mark := func(id string) {
				flags, flagged = append(flags, p.HGet(ctx, q.b.keys.state(name, id), "cx")), append(flagged, id)
			}
			for _, d := range ds {
				mark(d.ID)
				for _, id := range d.Batch { // a member canceled while its batch runs
					mark(id)
				}
			}
		}
		return nil
	})
	if err := claim.Err(); err != nil {
		return nil, fmt.Errorf("worker: extend on %s: %w", name, unavailable(ctx, err))
	}
	for i, f := range flags {
		if f.Val() == "1" {
			for _, fn := range watchers {
				fn(name, flagged[i])
			}
		}
	}
	return lostOf(ds, claim.Val()), nil
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

// Promote implements queue.Consumer, in one round trip.
func (q *Queue) Promote(ctx context.Context, name string, now time.Time, n int) (int, error) {
	names := q.names(name)
	nowUs := now.UnixMicro()
	moved, err := q.run(ctx, promoteScript, []string{names.stream, names.delayed, *q.counts(names, nowUs), names.ended},
		now.UnixMilli(), n, names.statePrefix, q.b.stateTTLArg, q.b.channelArg, names.tag, nowUs, q.b.prefixArg).Int()
	if err != nil {
		return 0, fmt.Errorf("worker: promote on %s: %w", name, unavailable(ctx, err))
	}
	return moved, nil
}
