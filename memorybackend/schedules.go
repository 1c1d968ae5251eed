package memorybackend

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
)

// published is one scheduler's entries, until expires.
type published struct {
	entries []queue.ScheduleEntry
	expires time.Time
}

// PublishSchedules implements queue.Schedules.
func (q *Queue) PublishSchedules(ctx context.Context, scheduler string, entries []queue.ScheduleEntry, ttl time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(entries) == 0 {
		delete(q.schedules, scheduler)
		return nil
	}
	if q.schedules == nil {
		q.schedules = make(map[string]published)
	}
	es := slices.Clone(entries)
	for i := range es {
		es[i].Scheduler = scheduler
	}
	q.schedules[scheduler] = published{entries: es, expires: q.now().Add(ttl)}
	return nil
}

// Schedules implements queue.Schedules.
func (q *Queue) Schedules(ctx context.Context) ([]queue.ScheduleEntry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	out := []queue.ScheduleEntry{}
	for name, p := range q.schedules {
		if !p.expires.After(now) {
			delete(q.schedules, name)
			continue
		}
		out = append(out, p.entries...)
	}
	sortSchedules(out)
	return out, nil
}

func sortSchedules(es []queue.ScheduleEntry) {
	slices.SortFunc(es, func(a, b queue.ScheduleEntry) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Scheduler, b.Scheduler))
	})
}
