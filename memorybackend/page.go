package memorybackend

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/taskware/taskware/internal/pagecursor"
	"github.com/taskware/taskware/queue"
)

// pageRow is one row of a listing, with its place in the listing's order
// (pos, then id) and its encoded arguments, for ListTasks.
type pageRow struct {
	info queue.TaskInfo
	args []byte
	pos  int64
	id   string
}

func (r pageRow) compare(pos int64, id string) int {
	return cmp.Or(cmp.Compare(r.pos, pos), strings.Compare(r.id, id))
}

// ListTasks implements queue.Admin. It reads the whole set under the lock,
// so a page is never short: the scan budget does not apply. A cursor is
// the set and the last row's place: its receipt's sequence (ready,
// running), due time (delayed), death time (dead) or end time (finished,
// negated: the latest come first), and its ID. A cursor whose row is gone
// goes on at the first row after its place.
func (q *Queue) ListTasks(ctx context.Context, name string, tq queue.TaskQuery) (*queue.TaskPage, error) {
	pos, after, err := pagecursor.Parse(name, tq, nil)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	rows := q.rows(name, tq.Set)
	start := 0
	if tq.After != "" {
		// After the cursor's own row if it is there (dead letters of one
		// time keep their order, not their IDs'), else at the first row
		// past its place.
		start = slices.IndexFunc(rows, func(r pageRow) bool { return r.compare(pos, after) == 0 }) + 1
		if start == 0 {
			start = len(rows)
			if i := slices.IndexFunc(rows, func(r pageRow) bool { return r.compare(pos, after) > 0 }); i >= 0 {
				start = i
			}
		}
	}
	page := &queue.TaskPage{Tasks: []queue.TaskInfo{}}
	limit := tq.PageLimit()
	for i := start; i < len(rows); i++ {
		r := rows[i]
		if !tq.Match(r.info, r.args) {
			continue
		}
		page.Tasks = append(page.Tasks, r.info)
		if len(page.Tasks) == limit {
			if i+1 < len(rows) {
				page.Next = pagecursor.Encode(tq.Set, r.pos, r.id)
			}
			break
		}
	}
	return page, nil
}

// rows lists queue's tasks of set, in order. q.mu is held: the args are
// the queue's own.
func (q *Queue) rows(name string, set queue.TaskSet) []pageRow {
	mq := q.queue(name, false)
	if mq == nil {
		return nil
	}
	now := q.now()
	msgInfo := func(m *queue.Message, status queue.Status) queue.TaskInfo {
		return queue.TaskInfo{ID: m.ID, Task: m.Task, Queue: name, Status: status, Attempt: m.Attempt,
			EnqueuedAt: m.EnqueuedAt, Kind: m.LastKind, Error: m.LastError}
	}
	var out []pageRow
	switch set {
	case queue.ReadyTasks:
		for _, e := range mq.ready {
			ti := msgInfo(&e.msg, queue.Queued)
			ti.Receipt, ti.Deliveries = e.receipt, e.deliveries
			out = append(out, pageRow{info: ti, args: e.msg.Payload, pos: int64(e.seq)})
		}
	case queue.RunningTasks:
		for _, p := range mq.pending {
			ti := msgInfo(&p.entry.msg, queue.Running)
			ti.Receipt, ti.Deliveries = p.entry.receipt, p.entry.deliveries
			ti.Worker, ti.Idle = p.consumer, max(now.Sub(p.claimed), 0)
			if s := mq.state(p.entry.msg.ID, now); s != nil {
				ti.StartedAt, ti.Progress = s.st.StartedAt, s.st.Progress
			}
			out = append(out, pageRow{info: ti, args: p.entry.msg.Payload, pos: int64(p.entry.seq)})
		}
	case queue.DelayedTasks:
		for id, ms := range mq.due {
			ti := queue.TaskInfo{ID: id, Queue: name, Status: queue.Scheduled}
			var args []byte
			if s := mq.state(id, now); s != nil {
				if s.msg != nil {
					ti, args = msgInfo(s.msg, s.st.Status), s.msg.Payload
				}
				ti.Task, ti.Status, ti.Attempt, ti.Kind, ti.Error = s.st.Task, s.st.Status, s.st.Attempt, s.st.Kind, s.st.Error
				ti.Deliveries = 1 + s.reclaims
			}
			ti.ID, ti.RunAt = id, time.UnixMilli(ms)
			out = append(out, pageRow{info: ti, args: args, pos: ms, id: id})
		}
	case queue.DeadTasks:
		for _, dl := range mq.dead {
			ti := msgInfo(&dl.Message, queue.Dead)
			ti.Kind, ti.Error, ti.FinishedAt = dl.Kind, dl.Reason, dl.At
			out = append(out, pageRow{info: ti, args: dl.Payload, pos: dl.At.UnixMicro(), id: dl.ID})
		}
	case queue.FinishedTasks:
		for id := range mq.states {
			if s := mq.state(id, now); s != nil && s.st.Status.Terminal() {
				ti := queue.TaskInfo{ID: id, Task: s.st.Task, Queue: name, Status: s.st.Status,
					Attempt: s.st.Attempt, Kind: s.st.Kind, Error: s.st.Error, Worker: s.st.Worker,
					StartedAt: s.st.StartedAt, FinishedAt: s.st.FinishedAt}
				out = append(out, pageRow{info: ti, pos: -s.st.FinishedAt.UnixMicro(), id: id})
			}
		}
	}
	if set != queue.ReadyTasks && set != queue.DeadTasks { // those are kept in order
		slices.SortFunc(out, func(a, b pageRow) int { return a.compare(b.pos, b.id) })
	}
	return out
}
