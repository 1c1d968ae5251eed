package memorybackend

import (
	"context"
	"time"

	"github.com/taskware/taskware/queue"
)

// Progress implements queue.Consumer: it records p in the task's state
// while d is still pending, its task running (or queued: not yet marked
// started); otherwise it changes nothing.
func (q *Queue) Progress(_ context.Context, d *queue.Delivery, p queue.Progress) error {
	if err := queue.ValidateProgress(p); err != nil {
		return err
	}
	if p.At.IsZero() {
		p.At = time.Now()
	}
	p.At = time.UnixMicro(p.At.UnixMicro())
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(d.Queue, false)
	if mq == nil || mq.pending[d.Receipt] == nil {
		return nil
	}
	if s := mq.state(d.ID, q.now()); s != nil && (s.st.Status == queue.Running || s.st.Status == queue.Queued) {
		s.st.Progress = &p // replaced, never changed: a State read before keeps its own
	}
	return nil
}
