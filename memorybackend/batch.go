package memorybackend

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// groupKey names a group of a queue: its task and key.
type groupKey struct{ task, key string }

// memGroup is a group's waiting messages, oldest first, each with when it
// joined.
type memGroup struct {
	ids    []string
	joined []time.Time
}

// memBatch is a batch message's record: its members, and the receipts
// Recover took over (a late FinishBatch of one is superseded). Once the
// batch is finished, it is kept until expires, as a task's state is.
type memBatch struct {
	members   []string
	reclaims  int
	takenOver []string
	expires   time.Time
}

// join puts s, a grouped message due now, in its group. q.mu is held.
func (mq *memQueue) join(s *memState, now time.Time) {
	k := groupKey{s.msg.Task, s.msg.Group}
	if mq.groups == nil {
		mq.groups = make(map[groupKey]*memGroup)
		mq.grouped = make(map[string]groupKey)
	}
	g := mq.groups[k]
	if g == nil {
		g = &memGroup{}
		mq.groups[k] = g
	}
	g.ids = append(g.ids, s.st.ID)
	g.joined = append(g.joined, now)
	mq.grouped[s.st.ID] = k
	s.st.Status = queue.Queued
}

// leaveGroup takes id out of the group it waits in, if any, and reports
// whether it was there. q.mu is held.
func (mq *memQueue) leaveGroup(id string) bool {
	k, ok := mq.grouped[id]
	if !ok {
		return false
	}
	delete(mq.grouped, id)
	g := mq.groups[k]
	i := slices.Index(g.ids, id)
	g.ids = slices.Delete(g.ids, i, i+1)
	g.joined = slices.Delete(g.joined, i, i+1)
	if len(g.ids) == 0 {
		delete(mq.groups, k)
	}
	return true
}

// FlushGroups implements queue.Batches. Batch IDs are "batch-" and a
// sequence number of the queue, passing over an ID a task holds, as on
// Redis.
func (q *Queue) FlushGroups(ctx context.Context, name string, policies []queue.GroupPolicy, now time.Time) (int, error) {
	if err := queue.ValidateGroupPolicies(policies); err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	if mq == nil || len(mq.groups) == 0 {
		return 0, nil
	}
	clock := q.now()
	made := 0
	for _, p := range policies {
		var keys []groupKey
		for k := range mq.groups {
			if k.task == p.Task {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, func(a, b groupKey) int { return cmp.Compare(a.key, b.key) })
		for _, k := range keys {
			g := mq.groups[k]
			for len(g.ids) >= p.Size {
				q.makeBatch(mq, name, k, p.Size, clock)
				made++
			}
			if len(g.ids) == 0 {
				continue
			}
			due := now.Sub(g.joined[0]) >= p.Delay || p.Grace > 0 && now.Sub(g.joined[len(g.joined)-1]) >= p.Grace
			for due && len(g.ids) > 0 {
				q.makeBatch(mq, name, k, min(p.Size, len(g.ids)), clock)
				made++
			}
		}
	}
	return made, nil
}

// makeBatch makes a batch of the n oldest messages of group k, ready at
// now. q.mu is held.
func (q *Queue) makeBatch(mq *memQueue, name string, k groupKey, n int, now time.Time) {
	g := mq.groups[k]
	ids := slices.Clone(g.ids[:n])
	var id string
	for id == "" || mq.state(id, now) != nil { // an ID a task holds is passed over
		mq.batchSeq++
		id = "batch-" + strconv.FormatUint(mq.batchSeq, 10)
	}
	for _, m := range ids {
		mq.leaveGroup(m)
		mq.states[m].batch = id
	}
	if mq.batches == nil {
		mq.batches = make(map[string]*memBatch)
	}
	mq.batches[id] = &memBatch{members: ids}
	msg := queue.Message{ID: id, Task: k.task, Queue: name, EnqueuedAt: time.UnixMicro(now.UnixMicro()), Attempt: 1, Batch: ids}
	// The batch has a state of its own, as a task's: Queued, Running from
	// its start, Succeeded once finished (or Canceled before it is taken).
	mq.states[id] = &memState{st: queue.State{ID: id, Task: k.task, Queue: name, Status: queue.Queued, Attempt: 1}, msg: &msg}
	mq.push(&msg, 1, 0, now)
}

// StartBatch implements queue.Batches. No member is ever malformed here:
// the memory queue keeps messages as they were enqueued.
func (q *Queue) StartBatch(ctx context.Context, d *queue.Delivery, worker string, at time.Time) ([]*queue.Message, error) {
	if d.Batch == nil {
		return nil, fmt.Errorf("%w: memorybackend: StartBatch of %s, no batch", task.ErrInvalidConfig, d.ID)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(d.Queue, false)
	if mq == nil {
		return nil, nil
	}
	now := q.now()
	var out []*queue.Message
	for _, id := range d.Batch {
		s := mq.state(id, now)
		if s == nil || s.batch != d.ID || s.st.Status.Terminal() || s.msg == nil {
			continue
		}
		s.st.Status, s.st.StartedAt, s.st.Worker = queue.Running, time.UnixMicro(at.UnixMicro()), worker
		m := normalize(*s.msg)
		m.Queue = d.Queue
		out = append(out, &m)
	}
	if s := mq.state(d.ID, now); s != nil && (s.st.Status == queue.Queued || s.st.Status == queue.Running) {
		s.st.Status, s.st.StartedAt, s.st.Worker = queue.Running, time.UnixMicro(at.UnixMicro()), worker
	}
	return out, nil
}

// FinishBatch implements queue.Batches. It makes every member's releases
// first, then, if d is still pending, the result writes of the members
// still running in it, and ends them and d under one lock.
func (q *Queue) FinishBatch(ctx context.Context, d *queue.Delivery, members []*queue.Message, outcomes []queue.Outcome) error {
	if err := queue.ValidateBatchOutcomes(d, members, outcomes); err != nil {
		return err
	}
	for _, o := range outcomes {
		if o.Final != nil {
			o.Final.ApplyReleases(ctx)
		}
	}
	q.mu.Lock()
	mq := q.queue(d.Queue, true)
	if _, pending := mq.pending[d.Receipt]; !pending {
		b := mq.batches[d.ID]
		q.mu.Unlock()
		if b != nil && slices.Contains(b.takenOver, d.Receipt) {
			return fmt.Errorf("memorybackend: finish batch %s: %w", d.ID, queue.ErrSuperseded)
		}
		return nil
	}
	delete(mq.pending, d.Receipt) // this call ends it: nobody can take it over now
	now := q.now()
	live := make([]bool, len(members))
	for i, m := range members {
		s := mq.state(m.ID, now)
		live[i] = s != nil && s.batch == d.ID && !s.st.Status.Terminal()
	}
	q.mu.Unlock()
	results := make([]queue.ResultStatus, len(members))
	for i, o := range outcomes {
		if f := o.Final; live[i] && f != nil && len(f.Results) > 0 {
			results[i] = queue.ResultStored
			if err := f.Apply(ctx); err != nil {
				results[i] = queue.ResultLost
			}
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now = q.now()
	for i, m := range members {
		s := mq.state(m.ID, now)
		if !live[i] || s == nil || s.batch != d.ID || s.st.Status.Terminal() {
			continue // ended meanwhile: its end stands
		}
		o := outcomes[i]
		if s.canceled { // canceled while it ran: so it ends, whatever the handler said
			o.Status, o.Kind, o.Error, o.Retry = queue.Canceled, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error(), false
		}
		s.batch = ""
		s.st.Progress = nil
		md := &queue.Delivery{Message: *s.msg}
		md.Queue = d.Queue
		q.endRun(mq, md, *s.msg, o, results[i], now)
	}
	if b := mq.batches[d.ID]; b != nil {
		b.expires = now.Add(q.stateTTL)
	}
	if s := mq.state(d.ID, now); s != nil && !s.st.Status.Terminal() {
		// Its own end is counted in no Rates: its members' ends are.
		s.st.Status, s.st.FinishedAt = queue.Succeeded, time.UnixMicro(now.UnixMicro())
		q.end(mq, s, now)
	}
	return nil
}

// batchRecovered puts the running members of batch id back to Queued, as
// its delivery goes back to the ready messages, and returns its takeovers
// so far. q.mu is held.
func (mq *memQueue) batchRecovered(id, receipt string, now time.Time) int {
	b := mq.batches[id]
	if b == nil {
		return 1
	}
	b.reclaims++
	b.takenOver = append(b.takenOver, receipt)
	if s := mq.state(id, now); s != nil && s.st.Status == queue.Running {
		s.st.Status = queue.Queued
	}
	for _, m := range b.members {
		if s := mq.state(m, now); s != nil && s.batch == id && s.st.Status == queue.Running {
			s.st.Status = queue.Queued
		}
	}
	return b.reclaims
}
