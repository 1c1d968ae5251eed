package memorybackend

import (
	"context"
	"time"

	"github.com/taskware/taskware/queue"
)

// count counts an outcome at now in its minute. q.mu is held.
func (mq *memQueue) count(now time.Time, add func(*queue.OutcomeCounts)) {
	m := now.Unix() / 60
	if mq.minutes == nil {
		mq.minutes = make(map[int64]*queue.OutcomeCounts)
	}
	c := mq.minutes[m]
	if c == nil {
		c = &queue.OutcomeCounts{Minute: time.Unix(m*60, 0)}
		mq.minutes[m] = c
		for old := range mq.minutes { // kept a day and an hour, as on Redis
			if old < m-25*60 {
				delete(mq.minutes, old)
			}
		}
	}
	add(c)
}

// Rates implements queue.Admin.
func (q *Queue) Rates(ctx context.Context, name string, since time.Time) ([]queue.OutcomeCounts, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	first, last := since.Unix()/60, q.now().Unix()/60
	first = max(first, last-int64(queue.RatesKept/time.Minute)+1)
	out := make([]queue.OutcomeCounts, 0, last-first+1)
	mq := q.queue(name, false)
	for m := first; m <= last; m++ {
		c := queue.OutcomeCounts{Minute: time.Unix(m*60, 0)}
		if mq != nil && mq.minutes[m] != nil {
			c = mq.minutes[m].Clone()
		}
		out = append(out, c)
	}
	return out, nil
}
