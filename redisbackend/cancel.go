package redisbackend

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

var cancelScript = newScript(lua("lib/entry.lua", "lib/count.lua", "lib/ended.lua", "lib/cancel.lua", "lib/flow.lua", "lib/groups.lua", "cancel.lua"))

// Cancel implements queue.Producer, in one round trip: a script that
// ends a task that has not run (delayed, or ready and not taken: its
// entry is deleted), or tells the workers, on the backend's channel, to
// cancel the run of one they hold. Either way the state keeps the cancel,
// so that a retry of the run never runs. A Cancel sent again (its reply
// lost) finds its nonce in the state, and answers as the first time. A
// workflow step that has not started (waiting too) ends canceled, which
// fails its workflow in the same script (see queue.Workflows).
//
// On a partitioned queue (see lookup.go), the script runs in the
// partition PartitionFor(id, n), and, if the task is missing there, in
// each other partition in one pipeline, under the same nonce: only the
// partition that holds the task has its state, so only that one cancels,
// and a pipeline sent again answers as the first.
func (q *Queue) Cancel(ctx context.Context, name, id string) (queue.CancelOutcome, error) {
	at := time.Now().UnixMicro()
	call := nonce()
	ops, err := q.lookup(ctx, name, id, func(physical string) reads {
		n := q.names(physical)
		return reads{scriptOpOf(cancelScript, []string{n.statePrefix + id, n.delayed, n.stream, *q.counts(n, at), n.ended},
			id, q.b.channelArg, n.tag, q.b.stateTTLArg, at, call, q.b.prefixArg)}
	}, func(ops reads) bool {
		res, err := ops[0].cmd.(*redis.Cmd).Text()
		return err != nil || res != "missing"
	})
	var res string
	if err == nil {
		res, err = ops[0].cmd.(*redis.Cmd).Text()
	}
	if err != nil {
		return "", fmt.Errorf("worker: cancel %s: %w", id, unavailable(ctx, err))
	}
	switch res {
	case "missing":
		return "", &queue.NotFoundError{Queue: name, ID: id}
	case "ended":
		return queue.CancelTooLate, nil
	case "canceled":
		return queue.CancelDone, nil
	}
	return queue.CancelSent, nil
}

// WatchCancels implements queue.Consumer: a subscription of its own
// to the backend's channel, for as long as the worker runs, that calls fn
// with each task canceled while a worker held it. go-redis subscribes
// again after a cut, and a notice published meanwhile is lost: so Extend
// also reads the mark a Cancel leaves on each task it extends, and calls
// fn for a canceled one. A lost notice is made up for within a third of
// the worker's visibility timeout, in a round trip the worker makes anyway.
// fn is given the task's logical queue, as Cancel was, whichever
// partition holds the task.
func (q *Queue) WatchCancels(fn func(name, id string)) (stop func()) {
	key := &fn
	q.watchMu.Lock()
	if q.watchers == nil {
		q.watchers = make(map[*func(name, id string)]struct{})
	}
	q.watchers[key] = struct{}{}
	q.watchMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	ps := q.b.client.Subscribe(ctx, q.b.keys.channel())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range ps.Channel() {
			p := msg.Payload
			if len(p) < 2 || p[0] != 'x' || p[1] != '{' {
				continue
			}
			if name, id, ok := splitTagged(p[2:]); ok {
				fn(logicalName(name), id) // the notice names the task's partition
			}
		}
	}()
	return func() {
		q.watchMu.Lock()
		delete(q.watchers, key)
		q.watchMu.Unlock()
		cancel()
		_ = ps.Close()
		<-done
	}
}

// cancelWatchers returns the functions WatchCancels was given, and is
// still to call.
func (q *Queue) cancelWatchers() []func(name, id string) {
	q.watchMu.Lock()
	defer q.watchMu.Unlock()
	fns := make([]func(name, id string), 0, len(q.watchers))
	for fn := range q.watchers {
		fns = append(fns, *fn)
	}
	return fns
}
