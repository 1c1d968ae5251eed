package redisbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

// The scripts of the stored schedule entries (queue.ScheduleDef). Their
// keys share the {schedule} hash tag (see keys.go), so that each script's
// keys sit in one Cluster slot.
var (
	putScheduleScript    = newScript(lua("lib/version.lua", "put_schedule.lua"))
	removeScheduleScript = newScript(lua("lib/version.lua", "remove_schedule.lua"))
	pauseScheduleScript  = newScript(lua("lib/version.lua", "pause_schedule.lua"))
	scheduleDefsScript   = newScript(lua("schedule_defs.lua"))
	scheduleSinceScript  = newScript(lua("schedule_since.lua"))
)

// defBody is the part of a stored entry that a put replaces, as JSON in
// the defs hash.
type defBody struct {
	Spec  string `json:"spec"`
	Task  string `json:"task"`
	Queue string `json:"queue"`
	Args  []byte `json:"args,omitempty"`
}

// PutSchedule implements queue.Schedules, in one script.
func (q *Queue) PutSchedule(ctx context.Context, def queue.ScheduleDef) error {
	if err := queue.ValidateScheduleDef(def); err != nil {
		return err
	}
	body, err := json.Marshal(defBody{Spec: def.Spec, Task: def.Task, Queue: def.Queue, Args: def.Args})
	if err != nil {
		return fmt.Errorf("worker: put schedule %s: %w", def.Name, err)
	}
	k := q.b.keys
	err = q.run(ctx, putScheduleScript, []string{k.scheduleDefs(), k.scheduleVersion(), k.scheduleRemoved()},
		def.Name, flag(def.Paused), msOrZero(def.Since), msOrZero(def.Updated), body).Err()
	if err != nil {
		return fmt.Errorf("worker: put schedule %s: %w", def.Name, unavailable(ctx, err))
	}
	return nil
}

// RemoveSchedule implements queue.Schedules, in one script, with a nonce
// that makes the call sent again answer as the first.
func (q *Queue) RemoveSchedule(ctx context.Context, name string) error {
	if err := queue.ValidateScheduleName(name); err != nil {
		return err
	}
	k := q.b.keys
	n, err := q.run(ctx, removeScheduleScript, []string{k.scheduleDefs(), k.scheduleVersion(), k.scheduleRemoved()},
		name, nonce()).Int()
	if err != nil {
		return fmt.Errorf("worker: remove schedule %s: %w", name, unavailable(ctx, err))
	}
	if n == 0 {
		return queue.ScheduleNotFound(name)
	}
	return nil
}

// PauseSchedule implements queue.Schedules, in one script.
func (q *Queue) PauseSchedule(ctx context.Context, name string, paused bool, at time.Time) error {
	if err := errors.Join(queue.ValidateScheduleName(name), queue.ValidatePauseTime(at)); err != nil {
		return err
	}
	k := q.b.keys
	n, err := q.run(ctx, pauseScheduleScript, []string{k.scheduleDefs(), k.scheduleVersion()},
		name, flag(paused), msOrZero(at)).Int()
	if err != nil {
		return fmt.Errorf("worker: pause schedule %s: %w", name, unavailable(ctx, err))
	}
	if n == 0 {
		return queue.ScheduleNotFound(name)
	}
	return nil
}

// ScheduleDefs implements queue.Schedules, in one script. An entry it
// cannot read (written by hand) is left out.
func (q *Queue) ScheduleDefs(ctx context.Context) ([]queue.ScheduleDef, int64, error) {
	k := q.b.keys
	res, err := q.run(ctx, scheduleDefsScript, []string{k.scheduleDefs(), k.scheduleVersion()}).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("worker: schedule defs: %w", unavailable(ctx, err))
	}
	version, _ := res[0].(int64)
	defs := make([]queue.ScheduleDef, 0, len(res)/2)
	for i := 1; i+1 < len(res); i += 2 {
		name, _ := res[i].(string)
		v, _ := res[i+1].(string)
		if def, ok := parseDef(name, v); ok {
			defs = append(defs, def)
		}
	}
	slices.SortFunc(defs, func(a, b queue.ScheduleDef) int { return strings.Compare(a.Name, b.Name) })
	return defs, version, nil
}

// parseDef reads the defs hash's field of the entry name.
func parseDef(name, v string) (queue.ScheduleDef, bool) {
	parts := strings.SplitN(v, " ", 4)
	if len(parts) != 4 {
		return queue.ScheduleDef{}, false
	}
	since, err1 := strconv.ParseInt(parts[1], 10, 64)
	updated, err2 := strconv.ParseInt(parts[2], 10, 64)
	var b defBody
	if err := errors.Join(err1, err2, json.Unmarshal([]byte(parts[3]), &b)); err != nil {
		return queue.ScheduleDef{}, false
	}
	return queue.ScheduleDef{Name: name, Spec: b.Spec, Task: b.Task, Queue: b.Queue, Args: b.Args,
		Paused: parts[0] == "1", Since: time.UnixMilli(since).UTC(), Updated: time.UnixMilli(updated).UTC()}, true
}

// ScheduleVersion implements queue.Schedules: one GET.
func (q *Queue) ScheduleVersion(ctx context.Context) (int64, error) {
	v, err := q.b.client.Get(ctx, q.b.keys.scheduleVersion()).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("worker: schedule version: %w", unavailable(ctx, err))
	}
	return v, nil
}

// ScheduleSince implements queue.Schedules, in one script.
func (q *Queue) ScheduleSince(ctx context.Context, names []string, now time.Time) ([]time.Time, error) {
	if len(names) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(names)+1)
	args = append(args, now.UnixMilli())
	for _, n := range names {
		args = append(args, n)
	}
	ms, err := q.run(ctx, scheduleSinceScript, []string{q.b.keys.scheduleSince()}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("worker: schedule since: %w", unavailable(ctx, err))
	}
	out := make([]time.Time, len(ms))
	for i, m := range ms {
		out[i] = time.UnixMilli(m).UTC()
	}
	return out, nil
}

// msOrZero is t in Unix ms, 0 for a zero t.
func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
