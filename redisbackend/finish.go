package redisbackend

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

var (
	startScript  = newScript(lua("start.lua"))
	finishScript = newScript(releaseLua + lua("lib/entry.lua", "lib/count.lua", "lib/superseded.lua", "lib/attempt.lua", "lib/ended.lua", "lib/finish.lua", "finish.lua"))
	// finishStepScript ends a workflow step: finish.lua's work, then the
	// step's end in its workflow, in the same run.
	finishStepScript = newScript(releaseLua + lua("lib/entry.lua", "lib/count.lua", "lib/superseded.lua", "lib/attempt.lua", "lib/ended.lua",
		"lib/finish.lua", "lib/flow.lua", "finish_step.lua"))
	requeueScript = newScript(releaseLua + lua("lib/entry.lua", "lib/count.lua", "lib/superseded.lua", "lib/attempt.lua", "lib/requeue.lua", "requeue.lua"))
)

// Started implements queue.Consumer: it marks the task running, since at,
// on worker, without waiting for Redis. Marks made while others are in
// flight go together, one script per queue (see marks), in a pipeline
// shared with other calls. A mark that is lost leaves the task "queued"
// until it ends.
func (q *Queue) Started(_ context.Context, d *queue.Delivery, name string, at time.Time) {
	if noStartMark {
		return
	}
	prefix := q.names(d.Queue).statePrefix
	q.b.marks.add(q.b, mark{prefix: prefix, key: prefix + d.ID, at: at.UnixMicro(), worker: name})
}

// noStartMark, set only by a test (export_test.go), drops the running
// mark, so that the ablation of issue 21 can weigh what it costs Redis.
var noStartMark bool

// Finish implements queue.Consumer, in one script: finish.lua for a task
// that ends, requeue.lua for a run scheduled again. Either releases the
// locks in o.Final that this backend took, acknowledges the delivery,
// and, only if that acknowledged it, writes the record of the run's own
// StoreResult and the task's state. If it acknowledged nothing, the
// task's state tells whether Recover took the delivery over
// (queue.ErrSuperseded) or this finish ran already. On a Cluster, where a lock's key and
// the queue's keys lie apart, the releases go beside the script, in its
// pipeline. The call shares its pipeline with the finishes, acquires and
// releases of other tasks that end at the same time (see batcher). Any
// other deferred write is made first, on its own; if one of them fails,
// the state of a task that ends says queue.ResultLost.
//
// A workflow step that ends (d.Step set) ends in finish_step.lua, which
// does finish.lua's work and, only if that acknowledged the delivery, the
// step's end in its workflow: its children's inputs and release, or the
// workflow's failure (see queue.Workflows). A finish sent again, or
// superseded, releases nothing. A delivery whose message could not be
// read (d.Malformed), its Step unknown, is looked up first (unreadStep):
// a step ends in its workflow all the same, so that the workflow fails
// rather than waits for ever. The script says whether it ended the
// workflow, and how: d.WorkflowEnd.
func (q *Queue) Finish(ctx context.Context, d *queue.Delivery, o queue.Outcome) error {
	if err := queue.ValidateOutcome(d, o); err != nil {
		return err
	}
	f := &finish{o: o, status: string(o.Status), names: q.names(d.Queue), stack: queue.CapStack(o.Stack)}
	f.locks, f.ops = f.lockBuf[:0], f.opBuf[:0]
	f.final(ctx, q.b, o.Final, d)
	n := f.names
	f.state, f.at = f.key(n.statePrefix, d.ID), time.Now().UnixMicro()
	if !o.StartedAt.IsZero() {
		f.started = o.StartedAt.UnixMicro()
	}
	recordKey, record, recordTTL := &f.state, argEmpty, argZero
	if f.rec != nil {
		f.recordKey = f.key(n.recordPrefix, d.ID)
		recordKey, record, recordTTL = &f.recordKey, &f.rec.value, &f.rec.ttlMs
	}
	step := d.Step
	if d.Malformed != nil && step == nil && o.Status != queue.Scheduled {
		var err error
		if step, err = q.unreadStep(ctx, d); err != nil {
			return err
		}
	}
	counts := q.counts(n, f.at)
	var args []any
	if o.Status == queue.Scheduled {
		f.runAt = o.RunAt.UnixMilli()
		args = f.begin(requeueScript, &n.stream, &n.delayed, &f.state, recordKey, counts)
		args = append(args, &d.Receipt, &f.runAt, &f.o.Attempt, &f.o.Kind, &f.o.Error, &d.ID, flag(o.Retry),
			flag(o.Outage), record, recordTTL, q.b.channelArg, &n.tag, &f.result, &d.Attempt, &f.stack, &f.at, &f.o.Worker, &f.started)
	} else {
		s := finishScript
		if step != nil {
			s = finishStepScript
		}
		args = f.begin(s, &n.stream, &n.dead, &f.state, recordKey, counts, &n.ended)
		args = append(args, &d.Receipt, &f.status, &f.o.Kind, &f.o.Error, &f.o.Attempt, &f.result, q.b.stateTTLArg,
			q.b.channelArg, &d.ID, &f.at, q.b.deadMaxArg, record, recordTTL, &n.tag, &d.Attempt, &f.stack, &f.o.Worker, &f.started)
	}
	for _, l := range f.locks {
		args = append(args, l.token)
	}
	if step != nil && o.Status != queue.Scheduled {
		args = append(args, q.b.prefixArg, &step.Workflow, &step.Home, &step.Name, f.o.Result)
	}
	f.ops = append(f.ops, scriptOp(f.script, args))
	if err := q.b.batch.do(ctx, f.ops); err != nil {
		return fmt.Errorf("worker: finish %s: %w", d.ID, err)
	}
	cmd := f.ops[len(f.ops)-1].cmd.(*redis.Cmd)
	if err := cmd.Err(); err != nil {
		return fmt.Errorf("worker: finish %s: %w", d.ID, unavailable(ctx, err))
	}
	switch v := cmd.Val().(type) {
	case int64:
		if v == finishSuperseded {
			return fmt.Errorf("worker: finish %s: %w", d.ID, queue.ErrSuperseded)
		}
	case []any: // finish_step.lua: {1, status}, this finish ended the workflow
		if len(v) == 2 {
			d.WorkflowEnd = queue.Status(toString(v[1]))
		}
	}
	return nil
}

// unreadStep returns the place of d, a delivery whose message could not
// be read, in its workflow, as its state says: nil for a plain task, or a
// message whose ID is unknown. It costs a round trip, on this rare path
// only.
func (q *Queue) unreadStep(ctx context.Context, d *queue.Delivery) (*queue.Step, error) {
	if d.ID == "" {
		return nil, nil
	}
	h, err := q.b.client.HMGet(ctx, q.names(d.Queue).statePrefix+d.ID, "wf", "wq").Result()
	if err != nil {
		return nil, fmt.Errorf("worker: finish %s: %w", d.ID, unavailable(ctx, err))
	}
	wf, _ := h[0].(string)
	home, _ := h[1].(string)
	name, ok := strings.CutPrefix(d.ID, wf+":")
	if wf == "" || home == "" || !ok {
		return nil, nil
	}
	return &queue.Step{Workflow: wf, Home: home, Name: name}, nil
}

// finishSuperseded is what finish.lua and requeue.lua answer for a
// delivery taken over before it finished (lib/superseded.lua).
const finishSuperseded = 2

// finish is one Finish: the command's arguments point into it, so that
// they need no allocation of their own.
type finish struct {
	o                        queue.Outcome
	status, state, recordKey string
	stack                    string // the run's panic stack, capped
	started                  int64  // the run's start, µs, 0 if unknown
	result                   string // of writes made apart: "", "stored" or "lost"
	at, runAt                int64
	names                    *queueNames
	rec                      *finalOp   // the run's own record, written by the script
	locks                    []*finalOp // the run's releases, made by the script
	lockBuf                  [2]*finalOp
	ops                      []op // releases sent beside the script (Cluster), then the script
	opBuf                    [1]op
	script                   script
	keyBuf                   [256]byte // holds the state's and record's keys, if they fit
	keyLen                   int
}

// key returns prefix+id, made in f.keyBuf if it fits: a finish's keys
// need no allocation of their own.
func (f *finish) key(prefix, id string) string {
	n := len(prefix) + len(id)
	var b []byte
	if f.keyLen+n <= len(f.keyBuf) {
		b = f.keyBuf[f.keyLen:f.keyLen]
		f.keyLen += n
	} else {
		b = make([]byte, 0, n)
	}
	b = append(append(b, prefix...), id...)
	return unsafe.String(unsafe.SliceData(b), n) // that part of keyBuf is never written again
}

// final sorts a run's deferred writes. This backend's releases are made by
// the script (or, on a Cluster, beside it), and its record of the task by
// the script; any other write is made now.
func (f *finish) final(ctx context.Context, b *Backend, w *task.FinalWrites, d *queue.Delivery) {
	if w == nil {
		return
	}
	own := func(w task.FinalWrite) *finalOp {
		if fo, ok := w.(*finalOp); ok && fo.b == b {
			return fo
		}
		return nil
	}
	for _, r := range w.Releases {
		switch fo := own(r); {
		case fo != nil && b.oneNode:
			f.locks = append(f.locks, fo)
		case fo != nil:
			f.ops = append(f.ops, scriptOp(releaseScript, []any{argEvalSHA, releaseScript.sha, argOneKey, fo.lockKey, fo.token}))
		default:
			_ = r.Apply(ctx) // a release that fails expires with its TTL
		}
	}
	// A record names the task's logical queue (store.Record.Queue), a
	// delivery its partition (d.Queue): the script writes the record of
	// the task it ends, under the partition's key, where Store.Get finds it.
	for _, r := range w.Results {
		if fo := own(r); fo != nil && logicalName(fo.queue) == logicalName(d.Queue) && fo.id == d.ID {
			f.rec = fo // the last one wins, as it would applied in order
		} else if err := r.Apply(ctx); err != nil {
			f.result = string(queue.ResultLost)
		} else if f.result == "" {
			f.result = string(queue.ResultStored)
		}
	}
}

// begin starts the arguments of an EVALSHA of s, with its fixed keys and
// then the locks to release.
func (f *finish) begin(s script, keys ...*string) []any {
	f.script = s
	args := make([]any, 0, 3+len(keys)+len(f.locks)+18+len(f.locks))
	args = append(args, argEvalSHA, s.sha, len(keys)+len(f.locks))
	for _, k := range keys {
		args = append(args, k)
	}
	for _, l := range f.locks {
		args = append(args, l.lockKey)
	}
	return args
}

func flag(b bool) any {
	if b {
		return argOne
	}
	return argZero
}
