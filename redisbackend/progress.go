package redisbackend

import (
	"context"
	"strconv"
	"time"

	"github.com/taskware/taskware/queue"
)

var progressScript = newScript(lua("progress.lua"))

// Progress implements queue.Consumer: progress.lua writes p into the
// task's state, if d still holds the task, in a pipeline shared with other
// calls, without waiting for Redis (see batcher.post). A write that is
// lost loses that report only; the worker throttles them (one a second
// per task at most), so they cost no round trip of their own.
func (q *Queue) Progress(_ context.Context, d *queue.Delivery, p queue.Progress) error {
	if err := queue.ValidateProgress(p); err != nil {
		return err
	}
	if p.At.IsZero() {
		p.At = time.Now()
	}
	w := &progressWrite{key: q.names(d.Queue).statePrefix + d.ID, entry: d.Receipt,
		done: p.Done, total: p.Total, msg: p.Message, at: p.At.UnixMicro()}
	w.args = [9]any{argEvalSHA, progressScript.sha, argOneKey, &w.key, &w.entry, &w.done, &w.total, &w.msg, &w.at}
	w.ops[0] = scriptOp(progressScript, w.args[:])
	q.b.batch.post(w.ops[:])
	return nil
}

// progressWrite is one Progress call: its command's arguments point into
// it, so that they need no allocation of their own.
type progressWrite struct {
	key, entry, msg string
	done, total, at int64
	args            [9]any
	ops             [1]op
}

// parseProgress reads the progress fields of a state, as progress.lua
// writes them; nil if there are none.
func parseProgress(h map[string]string) *queue.Progress {
	at, ok := h["pa"]
	if !ok {
		return nil
	}
	p := &queue.Progress{Message: h["pm"], At: microsTime(at)}
	p.Done, _ = strconv.ParseInt(h["pd"], 10, 64)
	p.Total, _ = strconv.ParseInt(h["pt"], 10, 64)
	return p
}
