package redisbackend

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

var publishSchedulesScript = newScript(lua("publish_schedules.lua"))

// schedules is the hash the schedulers publish to (see
// lua/publish_schedules.lua).
func (k keys) schedules() string { return k.prefix + "schedules" }

// PublishSchedules implements queue.Schedules, in one script.
func (q *Queue) PublishSchedules(ctx context.Context, scheduler string, entries []queue.ScheduleEntry, ttl time.Duration) error {
	var value string
	if len(entries) > 0 {
		b, err := json.Marshal(entries)
		if err != nil {
			return fmt.Errorf("worker: publish schedules of %s: %w", scheduler, err)
		}
		value = string(b)
	}
	err := q.run(ctx, publishSchedulesScript, []string{q.b.keys.schedules()}, scheduler, value, max(ttl.Milliseconds(), 1)).Err()
	if err != nil {
		return fmt.Errorf("worker: publish schedules of %s: %w", scheduler, unavailable(ctx, err))
	}
	return nil
}

// Schedules implements queue.Schedules, in one pipeline: the server's
// time, to leave out what expired, and the hash.
func (q *Queue) Schedules(ctx context.Context) ([]queue.ScheduleEntry, error) {
	var now *redis.TimeCmd
	var all *redis.MapStringStringCmd
	_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		now = p.Time(ctx)
		all = p.HGetAll(ctx, q.b.keys.schedules())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("worker: schedules: %w", unavailable(ctx, err))
	}
	nowMs := now.Val().UnixMilli()
	out := []queue.ScheduleEntry{}
	for scheduler, v := range all.Val() {
		exp, body, _ := strings.Cut(v, " ")
		if ms, err := strconv.ParseInt(exp, 10, 64); err != nil || ms <= nowMs {
			continue
		}
		var es []queue.ScheduleEntry
		if json.Unmarshal([]byte(body), &es) != nil {
			continue
		}
		for i := range es {
			es[i].Scheduler = scheduler
		}
		out = append(out, es...)
	}
	slices.SortFunc(out, func(a, b queue.ScheduleEntry) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Scheduler, b.Scheduler))
	})
	return out, nil
}
