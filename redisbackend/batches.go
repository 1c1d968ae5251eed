package redisbackend

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

var (
	flushGroupsScript = newScript(lua("lib/entry.lua", "lib/groups.lua", "flush_groups.lua"))
	startBatchScript  = newScript(lua("lib/entry.lua", "start_batch.lua"))
	finishBatchScript = newScript(lua("lib/entry.lua", "lib/count.lua", "lib/superseded.lua", "lib/attempt.lua", "lib/ended.lua",
		"lib/finish.lua", "lib/requeue.lua", "finish_batch.lua"))
)

// flushBudget is the most batches one FlushGroups makes, and
// flushMemberBudget the members past which it starts no other: Redis runs
// nothing else meanwhile. A worker's next call makes the rest.
const (
	flushBudget       = 64
	flushMemberBudget = 10_000
)

// FlushGroups implements queue.Batches, in one script (flush_groups.lua):
// a grouped message waits in its group, a list of its queue's keys, and
// each task's groups are indexed by their oldest and newest members' times
// and by their sizes, so that the script finds the groups due without
// looking at the others. A batch is a message of its own in the stream,
// its members' IDs in its core, with a state of its own, so that it is
// taken, extended, recovered and finished as any message is. A call that
// made batches keeps its answer a minute under its nonce: sent again after
// a lost reply, it returns it.
func (q *Queue) FlushGroups(ctx context.Context, name string, policies []queue.GroupPolicy, now time.Time) (int, error) {
	if err := queue.ValidateName(name); err != nil {
		return 0, err
	}
	if err := queue.ValidateGroupPolicies(policies); err != nil {
		return 0, err
	}
	if len(policies) == 0 {
		return 0, nil
	}
	parts, err := q.physicalNames(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("worker: flush groups of %s: %w", name, err)
	}
	// A split queue's groups live in the partitions their members were
	// routed to (by Group): a script per partition, in one pipeline.
	ops := make([]op, len(parts))
	for i, n := range parts {
		keys := make([]string, 0, 3+3*len(policies))
		keys = append(keys, n.stream, q.b.keys.batchSeq(n.name), q.b.keys.reply(n.name, nonce()))
		stem := "batch-"
		if _, p := queue.SplitPartition(n.name); p > 0 {
			stem += strconv.Itoa(p) + "-" // batch IDs unique over the partitions
		}
		args := make([]any, 0, 6+4*len(policies))
		args = append(args, now.UnixMilli(), now.UnixMicro(), n.groups, flushBudget, flushMemberBudget, stem)
		for _, p := range policies {
			keys = append(keys, n.groups+"gfirst:"+p.Task, n.groups+"glast:"+p.Task, n.groups+"gsize:"+p.Task)
			args = append(args, p.Task, p.Size, p.Delay.Milliseconds(), p.Grace.Milliseconds())
		}
		ops[i] = op{cmd: flushGroupsScript.evalSHA(keys, args...), src: flushGroupsScript.src}
	}
	made, err := q.sumOps(ctx, ops)
	if err != nil {
		return made, fmt.Errorf("worker: flush groups of %s: %w", name, err)
	}
	return made, nil
}

// StartBatch implements queue.Batches, in one script (start_batch.lua),
// which reads the members' states, where their messages wait, and marks
// those still the batch's running.
func (q *Queue) StartBatch(ctx context.Context, d *queue.Delivery, worker string, at time.Time) ([]*queue.Message, error) {
	if d.Batch == nil {
		return nil, fmt.Errorf("%w: queue: delivery %s is no batch", task.ErrInvalidConfig, d.ID)
	}
	n := q.names(d.Queue)
	args := make([]any, 0, 4+len(d.Batch))
	args = append(args, n.statePrefix, d.ID, worker, at.UnixMicro())
	for _, id := range d.Batch {
		args = append(args, id)
	}
	res, err := q.run(ctx, startBatchScript, []string{n.statePrefix + d.ID}, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("worker: start batch %s: %w", d.ID, unavailable(ctx, err))
	}
	ms := make([]*queue.Message, 0, len(res))
	for _, r := range res {
		f := luaStrings(r)
		if len(f) != 7 {
			return nil, fmt.Errorf("worker: start batch %s: unexpected reply %v", d.ID, r)
		}
		ms = append(ms, memberMessage(d.Queue, f))
	}
	return ms, nil
}

// memberMessage reads a member as start_batch.lua returns it: ID, task,
// core, attempt, last kind and error, group key. A core that cannot be
// read gives the member its ID, Task, Queue and Group alone, and Attempt
// 0, as queue.Batches says: the worker ends it dead.
func memberMessage(name string, f []string) *queue.Message {
	var b []byte
	b = append(b, messageVersion...)
	for _, h := range []string{f[3], "1", "0", f[4], f[5]} {
		b = appendNetstring(b, h)
	}
	b = append(b, f[2]...)
	md := &queue.Delivery{}
	var p entryParser
	p.message(md, string(b))
	if md.ID != f[0] {
		p.bad = append(p.bad, "a core of another task")
	}
	md.Receipt = f[0]
	p.finish(md, name)
	if md.Malformed != nil {
		return &queue.Message{ID: f[0], Task: f[1], Queue: name, Group: f[6], Attempt: 0}
	}
	m := md.Message
	m.Group = f[6]
	return &m
}

// FinishBatch implements queue.Batches, in one script (finish_batch.lua)
// that acknowledges the batch's delivery and, only if that acknowledged
// it, ends each member as finish.lua ends a task, and the batch itself.
// A member's own records (its StoreResult's, on this backend) are written
// by the script; its lock releases go beside it, in its pipeline (as on a
// Cluster for any task); any other deferred write is made first, on its
// own, as Finish makes it.
func (q *Queue) FinishBatch(ctx context.Context, d *queue.Delivery, members []*queue.Message, outcomes []queue.Outcome) error {
	if err := queue.ValidateBatchOutcomes(d, members, outcomes); err != nil {
		return err
	}
	n := q.names(d.Queue)
	at := time.Now().UnixMicro()
	keys := make([]string, 0, 6+2*len(members))
	keys = append(keys, n.stream, n.dead, n.delayed, n.statePrefix+d.ID, *q.counts(n, at), n.ended)
	args := make([]any, 0, 7+15*len(members))
	args = append(args, d.Receipt, d.ID, q.b.stateTTLArg, q.b.channelArg, n.tag, at, q.b.deadMaxArg)
	var ops []op
	for i, m := range members {
		o := outcomes[i]
		state := n.statePrefix + m.ID
		recordKey, record, recordTTL, result := state, "", int64(0), ""
		if o.Final != nil {
			f := &finish{o: o, names: n}
			f.locks = f.lockBuf[:0]
			f.final(ctx, q.b, o.Final, &queue.Delivery{Message: *m})
			for _, l := range f.locks { // made by finish.lua for a task of its own
				f.ops = append(f.ops, scriptOp(releaseScript, []any{argEvalSHA, releaseScript.sha, argOneKey, l.lockKey, l.token}))
			}
			ops = append(ops, f.ops...)
			if f.rec != nil {
				recordKey, record, recordTTL = n.recordPrefix+m.ID, f.rec.value, f.rec.ttlMs
			}
			result = f.result
		}
		var started int64
		if !o.StartedAt.IsZero() {
			started = o.StartedAt.UnixMicro()
		}
		var runAt int64
		if o.Status == queue.Scheduled {
			runAt = o.RunAt.UnixMilli()
		}
		keys = append(keys, state, recordKey)
		args = append(args, m.ID, string(o.Status), o.Kind, o.Error, o.Attempt, result, record, recordTTL, runAt,
			flag(o.Retry), flag(o.Outage), max(m.Attempt, 1), queue.CapStack(o.Stack), o.Worker, started)
	}
	cmd := finishBatchScript.evalSHA(keys, args...)
	ops = append(ops, op{cmd: cmd, src: finishBatchScript.src})
	q.b.exec(ctx, ops)
	cmd = ops[len(ops)-1].cmd.(*redis.Cmd)
	v, err := cmd.Int()
	if err != nil {
		return fmt.Errorf("worker: finish batch %s: %w", d.ID, unavailable(ctx, err))
	}
	if v == finishSuperseded {
		return fmt.Errorf("worker: finish batch %s: %w", d.ID, queue.ErrSuperseded)
	}
	return nil
}
