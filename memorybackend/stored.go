package memorybackend

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/taskware/taskware/queue"
)

// stored are the stored schedule entries (queue.ScheduleDef), under
// Queue.mu. A memory queue's calls are never sent twice, so none needs a
// nonce.
type stored struct {
	defs    map[string]queue.ScheduleDef
	version int64
	since   map[string]time.Time // first seen, by entry name
}

// PutSchedule implements queue.Schedules.
func (q *Queue) PutSchedule(ctx context.Context, def queue.ScheduleDef) error {
	if err := queue.ValidateScheduleDef(def); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if old, ok := q.stored.defs[def.Name]; ok && sameDef(old, def) {
		return nil
	}
	now := q.now()
	def.Args = bytes.Clone(def.Args)
	if def.Since.IsZero() {
		def.Since = now
	}
	if def.Updated.IsZero() {
		def.Updated = now
	}
	if q.stored.defs == nil {
		q.stored.defs = make(map[string]queue.ScheduleDef)
	}
	q.stored.defs[def.Name] = def
	q.stored.version++
	return nil
}

// sameDef says whether a put of b changes nothing of a.
func sameDef(a, b queue.ScheduleDef) bool {
	return a.Spec == b.Spec && a.Task == b.Task && a.Queue == b.Queue && bytes.Equal(a.Args, b.Args) && a.Paused == b.Paused
}

// RemoveSchedule implements queue.Schedules.
func (q *Queue) RemoveSchedule(ctx context.Context, name string) error {
	if err := queue.ValidateScheduleName(name); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.stored.defs[name]; !ok {
		return queue.ScheduleNotFound(name)
	}
	delete(q.stored.defs, name)
	q.stored.version++
	return nil
}

// PauseSchedule implements queue.Schedules.
func (q *Queue) PauseSchedule(ctx context.Context, name string, paused bool, at time.Time) error {
	if err := errors.Join(queue.ValidateScheduleName(name), queue.ValidatePauseTime(at)); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if at.IsZero() {
		at = q.now()
	}
	def, ok := q.stored.defs[name]
	switch {
	case !ok:
		return queue.ScheduleNotFound(name)
	case def.Paused == paused:
		return nil
	}
	def.Paused, def.Updated = paused, at
	if !paused {
		def.Since = at
	}
	q.stored.defs[name] = def
	q.stored.version++
	return nil
}

// ScheduleDefs implements queue.Schedules.
func (q *Queue) ScheduleDefs(ctx context.Context) ([]queue.ScheduleDef, int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]queue.ScheduleDef, 0, len(q.stored.defs))
	for _, name := range slices.Sorted(maps.Keys(q.stored.defs)) {
		def := q.stored.defs[name]
		def.Args = bytes.Clone(def.Args)
		out = append(out, def)
	}
	return out, q.stored.version, nil
}

// ScheduleVersion implements queue.Schedules.
func (q *Queue) ScheduleVersion(ctx context.Context) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stored.version, nil
}

// ScheduleSince implements queue.Schedules.
func (q *Queue) ScheduleSince(ctx context.Context, names []string, now time.Time) ([]time.Time, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stored.since == nil {
		q.stored.since = make(map[string]time.Time)
	}
	out := make([]time.Time, len(names))
	for i, name := range names {
		first, ok := q.stored.since[name]
		if !ok {
			first = now
			q.stored.since[name] = now
		}
		out[i] = first
	}
	return out, nil
}
