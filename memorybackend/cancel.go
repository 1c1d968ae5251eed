package memorybackend

import (
	"context"
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
)

// Cancel implements queue.Producer: a task that has not run (delayed,
// ready, or a workflow step waiting for its parents) ends as canceled at
// once; one a worker holds is canceled by that worker, told through
// WatchCancels. Either way a retry of it never runs. A step's cancel fails
// its workflow as its failure would (see Workflows).
func (q *Queue) Cancel(ctx context.Context, name, id string) (queue.CancelOutcome, error) {
	q.mu.Lock()
	mq := q.queue(name, false)
	var s *memState
	if mq != nil {
		s = mq.state(id, q.now())
	}
	switch {
	case s == nil:
		q.mu.Unlock()
		return "", &queue.NotFoundError{Queue: name, ID: id}
	case s.st.Status.Terminal():
		q.mu.Unlock()
		return queue.CancelTooLate, nil
	}
	s.canceled = true
	if s.st.Status == queue.Scheduled || s.st.Status == queue.Waiting {
		delete(mq.due, id) // its heap item is stale now
		q.endCanceled(mq, s, q.now())
		q.mu.Unlock()
		return queue.CancelDone, nil
	}
	if mq.leaveGroup(id) || s.batch != "" && s.st.Status == queue.Queued {
		// waits in its group, or in a batch not started: StartBatch leaves
		// it out
		q.endCanceled(mq, s, q.now())
		q.mu.Unlock()
		return queue.CancelDone, nil
	}
	for i, e := range mq.ready {
		if e.msg.ID == id {
			mq.ready = slices.Delete(mq.ready, i, i+1)
			if e.msg.Batch != nil {
				q.cancelBatch(mq, s, e.msg.Batch, q.now())
			} else {
				q.endCanceled(mq, s, q.now())
			}
			q.mu.Unlock()
			return queue.CancelDone, nil
		}
	}
	q.mu.Unlock()
	q.tellCancels(recordKey{name, id})
	return queue.CancelSent, nil
}

// tellCancels tells the watchers of cancels (see WatchCancels) of the
// tasks of keys. q.mu is not held: a watcher may call the queue.
func (q *Queue) tellCancels(keys ...recordKey) {
	q.watchMu.Lock()
	fns := make([]func(name, id string), 0, len(q.watchers))
	for fn := range q.watchers {
		fns = append(fns, *fn)
	}
	q.watchMu.Unlock()
	for _, k := range keys {
		for _, fn := range fns {
			fn(k.queue, k.id)
		}
	}
}

// endCanceled ends s, which has not run, as canceled. q.mu is held.
func (q *Queue) endCanceled(mq *memQueue, s *memState, now time.Time) {
	s.st.Status, s.st.Kind, s.st.Error = queue.Canceled, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error()
	s.st.FinishedAt = time.UnixMicro(now.UnixMicro())
	mq.count(now, func(c *queue.OutcomeCounts) { c.Canceled++ })
	q.end(mq, s, now)
	if s.wf != nil {
		q.stepEnded(s, nil, now)
	}
}

// cancelBatch ends batch s, not taken, as canceled, and with it its
// members that have not started; the batch's own end is counted in no
// Rates, as its finish is not. q.mu is held.
func (q *Queue) cancelBatch(mq *memQueue, s *memState, members []string, now time.Time) {
	s.st.Status, s.st.Kind, s.st.Error = queue.Canceled, queue.ErrCanceled.ErrorKind(), queue.ErrCanceled.Error()
	s.st.FinishedAt = time.UnixMicro(now.UnixMicro())
	q.end(mq, s, now)
	for _, id := range members {
		if m := mq.state(id, now); m != nil && m.batch == s.st.ID && m.st.Status == queue.Queued {
			m.canceled, m.batch = true, ""
			q.endCanceled(mq, m, now)
		}
	}
}

// WatchCancels implements queue.Consumer.
func (q *Queue) WatchCancels(fn func(name, id string)) (stop func()) {
	q.watchMu.Lock()
	defer q.watchMu.Unlock()
	if q.watchers == nil {
		q.watchers = make(map[*func(name, id string)]struct{})
	}
	key := &fn
	q.watchers[key] = struct{}{}
	return func() {
		q.watchMu.Lock()
		defer q.watchMu.Unlock()
		delete(q.watchers, key)
	}
}
