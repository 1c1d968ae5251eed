package memorybackend

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"
)

// Queues implements queue.Admin: the queues with ready, taken,
// delayed or dead tasks, paused, or with tasks' states kept, sorted by
// name.
func (q *Queue) Queues(ctx context.Context) ([]string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := []string{}
	for name, mq := range q.queues {
		if len(mq.ready) > 0 || len(mq.pending) > 0 || len(mq.due) > 0 || len(mq.dead) > 0 || mq.paused || len(mq.states) > 0 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Stats implements queue.Admin. OldestReady is the time since the oldest
// ready task became ready (enqueued, promoted, recovered or requeued), as
// on Redis. Workers counts the consumers that took from the queue, or
// renewed their claims, within queue.LiveWorkerWindow.
func (q *Queue) Stats(ctx context.Context, name string) (*queue.Stats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	// A memory queue is never split: its one lock needs no spreading.
	st := &queue.Stats{Queue: name, Partitions: 1}
	mq := q.queue(name, false)
	if mq == nil {
		return st, nil
	}
	now := q.now()
	st.Ready, st.Running, st.Delayed, st.Dead = int64(len(mq.ready)), int64(len(mq.pending)), int64(len(mq.due)), int64(len(mq.dead))
	st.Waiting = int64(len(mq.waiting))
	st.Grouped = int64(len(mq.grouped))
	if len(mq.ready) > 0 {
		st.OldestReady = max(now.Sub(mq.ready[0].ready), 0)
	}
	for _, w := range mq.workers(name, now) {
		if w.Idle < queue.LiveWorkerWindow {
			st.Workers++
		}
	}
	return st, nil
}

// Workers implements queue.Admin: the consumers that took from queue,
// until they leave or are forgotten (see Leave, Recover), each with the
// deliveries it holds and the time since it last took or renewed its
// claims.
func (q *Queue) Workers(ctx context.Context, name string) ([]queue.WorkerInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	if mq == nil {
		return []queue.WorkerInfo{}, nil
	}
	return mq.workers(name, q.now()), nil
}

// workers lists the consumers, with their pending deliveries. q.mu is
// held.
func (mq *memQueue) workers(name string, now time.Time) []queue.WorkerInfo {
	by := make(map[string]*queue.WorkerInfo, len(mq.consumers))
	for c, seen := range mq.consumers {
		by[c] = &queue.WorkerInfo{Name: c, Queue: name, Idle: max(now.Sub(seen), 0)}
	}
	for _, p := range mq.pending {
		w := by[p.consumer]
		if w == nil { // not seen: cannot be, as taking or extending is being seen
			w = &queue.WorkerInfo{Name: p.consumer, Queue: name, Idle: max(now.Sub(p.claimed), 0)}
			by[p.consumer] = w
		}
		w.Pending++
	}
	out := make([]queue.WorkerInfo, 0, len(by))
	for _, w := range by {
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b queue.WorkerInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Tasks implements queue.Admin, in the order the Redis backend lists
// them. Dead letters have no receipt here. limit <= 0 lists all.
func (q *Queue) Tasks(ctx context.Context, name string, set queue.TaskSet, limit int) ([]queue.TaskInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !slices.Contains(queue.TaskSets, set) {
		return nil, fmt.Errorf("worker: list %q tasks of %s: no such set of tasks", set, name)
	}
	out := []queue.TaskInfo{}
	mq := q.queue(name, false)
	if mq == nil {
		return out, nil
	}
	now := q.now()
	msgInfo := func(m *queue.Message, status queue.Status) queue.TaskInfo {
		return queue.TaskInfo{ID: m.ID, Task: m.Task, Queue: name, Status: status, Attempt: m.Attempt,
			EnqueuedAt: m.EnqueuedAt, Kind: m.LastKind, Error: m.LastError}
	}
	switch set {
	case queue.ReadyTasks:
		for _, e := range mq.ready {
			ti := msgInfo(&e.msg, queue.Queued)
			ti.Receipt, ti.Deliveries = e.receipt, e.deliveries
			out = append(out, ti)
		}
	case queue.RunningTasks:
		ps := make([]*memPend, 0, len(mq.pending))
		for _, p := range mq.pending {
			ps = append(ps, p)
		}
		slices.SortFunc(ps, func(a, b *memPend) int { return cmp.Compare(a.entry.seq, b.entry.seq) })
		for _, p := range ps {
			ti := msgInfo(&p.entry.msg, queue.Running)
			ti.Receipt, ti.Deliveries = p.entry.receipt, p.entry.deliveries
			ti.Worker, ti.Idle = p.consumer, max(now.Sub(p.claimed), 0)
			if s := mq.state(p.entry.msg.ID, now); s != nil {
				ti.StartedAt, ti.Progress = s.st.StartedAt, s.st.Progress
			}
			out = append(out, ti)
		}
	case queue.DelayedTasks:
		for id, ms := range mq.due {
			ti := queue.TaskInfo{ID: id, Queue: name, Status: queue.Scheduled}
			if s := mq.state(id, now); s != nil {
				if s.msg != nil {
					ti = msgInfo(s.msg, s.st.Status)
				}
				ti.Task, ti.Status, ti.Attempt, ti.Kind, ti.Error = s.st.Task, s.st.Status, s.st.Attempt, s.st.Kind, s.st.Error
				ti.Deliveries = 1 + s.reclaims
			}
			ti.ID, ti.RunAt = id, time.UnixMilli(ms)
			out = append(out, ti)
		}
		slices.SortFunc(out, func(a, b queue.TaskInfo) int {
			return cmp.Or(a.RunAt.Compare(b.RunAt), strings.Compare(a.ID, b.ID))
		})
	case queue.DeadTasks:
		for _, dl := range mq.dead {
			ti := msgInfo(&dl.Message, queue.Dead)
			ti.Kind, ti.Error, ti.FinishedAt = dl.Kind, dl.Reason, dl.At
			out = append(out, ti)
		}
	case queue.FinishedTasks:
		for id := range mq.states {
			if s := mq.state(id, now); s != nil && s.st.Status.Terminal() {
				out = append(out, queue.TaskInfo{ID: id, Task: s.st.Task, Queue: name, Status: s.st.Status,
					Attempt: s.st.Attempt, Kind: s.st.Kind, Error: s.st.Error, Worker: s.st.Worker,
					StartedAt: s.st.StartedAt, FinishedAt: s.st.FinishedAt})
			}
		}
		slices.SortFunc(out, func(a, b queue.TaskInfo) int {
			return cmp.Or(b.FinishedAt.Compare(a.FinishedAt), strings.Compare(a.ID, b.ID))
		})
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Message returns the message of task id of queue (its arguments and
// headers) while it waits: delayed, ready or taken. A task that ended, or
// that the queue does not know, is an error matching queue.ErrNotFound.
func (q *Queue) Message(ctx context.Context, name, id string) (*queue.Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	if mq != nil {
		if s := mq.state(id, q.now()); s != nil && s.msg != nil {
			m := normalize(*s.msg)
			return &m, nil
		} else if s != nil && s.failed != nil && s.st.Status == queue.Failed {
			m := normalize(*s.failed)
			return &m, nil
		}
		for _, e := range mq.ready {
			if e.msg.ID == id {
				m := normalize(e.msg)
				return &m, nil
			}
		}
		for _, p := range mq.pending {
			if p.entry.msg.ID == id {
				m := normalize(p.entry.msg)
				return &m, nil
			}
		}
	}
	return nil, &queue.NotFoundError{Queue: name, ID: id}
}

// RequeueDead implements queue.Admin: it moves queue's dead
// letters of the given task IDs, or all of them if none is given, back to
// the ready tasks as fresh deliveries (attempt 1, no last failure), the
// task's state queued again. A dead letter whose task is known again
// under another status (enqueued anew since) stays where it is, and its
// task ID is in the second list: dead letters here have no entry IDs.
func (q *Queue) RequeueDead(ctx context.Context, name string, ids ...string) (requeued, kept []string, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	if mq == nil {
		return nil, nil, nil
	}
	now := q.now()
	left := mq.dead[:0]
	for _, dl := range mq.dead {
		if len(ids) > 0 && !slices.Contains(ids, dl.ID) {
			left = append(left, dl)
			continue
		}
		if s := mq.state(dl.ID, now); dl.ID == "" || dl.Task == "" || dl.Step != nil || s != nil && s.st.Status != queue.Dead {
			kept = append(kept, dl.ID)
			left = append(left, dl)
			continue
		}
		m := dl.Message
		m.Attempt, m.LastKind, m.LastError = 1, "", ""
		fresh := &memState{st: queue.State{ID: m.ID, Task: m.Task, Queue: name, Status: queue.Queued, Attempt: 1}, msg: &m}
		if s := mq.state(m.ID, now); s != nil {
			fresh.attempts = s.attempts // the history outlives a requeue, as on Redis
		}
		mq.states[m.ID] = fresh
		delete(mq.due, m.ID) // a stale heap item is skipped
		if m.Group != "" {   // back in its group, to run in a batch
			mq.join(fresh, now)
		} else {
			mq.push(&m, 1, 0, now)
		}
		requeued = append(requeued, m.ID)
	}
	clear(mq.dead[len(left):])
	mq.dead = left
	return requeued, kept, nil
}

// PurgeDead implements queue.Admin: it deletes queue's dead
// letters of the given task IDs, or all of them if none is given, and
// returns how many it deleted. The tasks' states stay "dead" until they
// expire.
func (q *Queue) PurgeDead(ctx context.Context, name string, ids ...string) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	if mq == nil {
		return 0, nil
	}
	n := len(mq.dead)
	left := mq.dead[:0]
	for _, dl := range mq.dead {
		if len(ids) > 0 && !slices.Contains(ids, dl.ID) {
			left = append(left, dl)
		}
	}
	clear(mq.dead[len(left):])
	mq.dead = left
	return n - len(left), nil
}

// Find returns what each of queues (every queue the backend knows, sorted,
// if none is given: those whose tasks all ended too) knows of task id,
// from its state and, for a delayed task, its due time. A queue that knows
// nothing of id is left out.
func (q *Queue) Find(ctx context.Context, id string, queues ...string) ([]queue.TaskInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(queues) == 0 {
		queues = slices.Sorted(maps.Keys(q.queues))
	}
	out := []queue.TaskInfo{}
	now := q.now()
	for _, name := range queues {
		mq := q.queue(name, false)
		if mq == nil {
			continue
		}
		s := mq.state(id, now)
		if s == nil {
			continue
		}
		ti := queue.TaskInfo{ID: id, Task: s.st.Task, Queue: name, Status: s.st.Status, Attempt: s.st.Attempt,
			Kind: s.st.Kind, Error: s.st.Error, Worker: s.st.Worker, StartedAt: s.st.StartedAt, FinishedAt: s.st.FinishedAt,
			Progress: s.st.Progress}
		if ms, ok := mq.due[id]; ok {
			ti.RunAt = time.UnixMilli(ms)
		}
		out = append(out, ti)
	}
	return out, nil
}
