package redisbackend

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

var waitStateScript = newScript(lua("wait_state.lua"))

// State implements queue.Producer: one HMGET (see lookup.go for a
// partitioned queue).
func (q *Queue) State(ctx context.Context, name, id string) (*queue.State, error) {
	first, rest, err := q.partitionsOf(ctx, name, id)
	if err != nil {
		return nil, fmt.Errorf("worker: state of %s: %w", id, err)
	}
	v, err := q.b.client.HMGet(ctx, q.b.keys.state(first, id), stateReadFields...).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: state of %s: %w", id, unavailable(ctx, err))
	}
	h := readFields(v)
	if len(h) == 0 && len(rest) > 0 {
		cmds := make([]*redis.SliceCmd, len(rest))
		_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, physical := range rest {
				cmds[i] = p.HMGet(ctx, q.b.keys.state(physical, id), stateReadFields...)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("worker: state of %s: %w", id, unavailable(ctx, err))
		}
		for _, c := range cmds {
			if h = readFields(c.Val()); len(h) > 0 {
				break
			}
		}
	}
	return parseState(name, id, h)
}

// stateReadFields are the fields of a task's state that State and Wait
// read: not its message, nor its history of runs (Attempts).
var stateReadFields = []string{"task", "status", "attempt", "kind", "error", "result", "st", "wk", "fin", "pd", "pt", "pm", "pa"}

// stateReadFieldsArgs are stateReadFields, as a script's arguments.
var stateReadFieldsArgs = func() []any {
	a := make([]any, len(stateReadFields))
	for i, f := range stateReadFields {
		a[i] = f
	}
	return a
}()

// readFields maps the values of stateReadFields, as HMGET returns them,
// to their names, leaving out those the hash has not.
func readFields(v []any) map[string]string {
	h := make(map[string]string, len(stateReadFields))
	for i, name := range stateReadFields {
		if i < len(v) {
			if s, ok := v[i].(string); ok {
				h[name] = s
			}
		}
	}
	return h
}

func parseState(name, id string, h map[string]string) (*queue.State, error) {
	if len(h) == 0 {
		return nil, &queue.NotFoundError{Queue: name, ID: id}
	}
	st := &queue.State{ID: id, Task: h["task"], Queue: name, Status: queue.Status(h["status"]), Kind: h["kind"],
		Error: h["error"], Result: queue.ResultStatus(h["result"])}
	st.Attempt, _ = strconv.Atoi(h["attempt"])
	st.StartedAt, st.FinishedAt, st.Worker = microsTime(h["st"]), microsTime(h["fin"]), h["wk"]
	st.Progress = parseProgress(h)
	return st, nil
}

// Wait implements queue.Producer. Waiters share the backend's one Pub/Sub
// subscription. Each look at the state marks it as waited for, in the
// same script: the task's end is announced only then, so that a finish
// publishes nothing when nobody waits. On a partitioned queue the waiter
// waits for the notice of its logical queue (the hub maps a partition's
// notice to it, logicalNotice), and its looks find the partition that
// holds the task as State does, then look only there.
func (q *Queue) Wait(ctx context.Context, name, id string) (*queue.State, error) {
	first, rest, err := q.partitionsOf(ctx, name, id)
	if err != nil {
		return nil, fmt.Errorf("worker: state of %s: %w", id, err)
	}
	var st *queue.State
	key := q.b.keys.state(first, id)
	err = q.b.hub.wait(ctx, stateNotice(name, id), func(ctx context.Context) (bool, error) {
		res, err := q.run(ctx, waitStateScript, []string{key}, stateReadFieldsArgs...).Slice()
		if err != nil {
			return false, fmt.Errorf("worker: state of %s: %w", id, unavailable(ctx, err))
		}
		h := readFields(res)
		if len(h) == 0 && len(rest) > 0 {
			if h, err = q.waitLookRest(ctx, id, rest, &key); err != nil {
				return false, err
			}
		}
		if st, err = parseState(name, id, h); err != nil {
			return false, err
		}
		return st.Status.Terminal(), nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// waitLookRest is Wait's look in the partitions rest, in one pipeline: it
// returns the state it found, and sets *key to that state's key, for the
// looks to come.
func (q *Queue) waitLookRest(ctx context.Context, id string, rest []string, key *string) (map[string]string, error) {
	ops := make([]op, len(rest))
	for i, physical := range rest {
		ops[i] = scriptOpOf(waitStateScript, []string{q.b.keys.state(physical, id)}, stateReadFieldsArgs...)
	}
	q.b.exec(ctx, ops)
	for i, o := range ops {
		res, err := o.cmd.(*redis.Cmd).Slice()
		if err != nil {
			return nil, fmt.Errorf("worker: state of %s: %w", id, unavailable(ctx, err))
		}
		if h := readFields(res); len(h) > 0 {
			*key = q.b.keys.state(rest[i], id)
			return h, nil
		}
	}
	return map[string]string{}, nil
}

// Pause implements queue.Admin: one SET. A Take reads the mark in the
// script that would read new entries (take.lua), reads none, and
// waits as if nothing were ready: no entry moves, so the ready tasks keep
// their order and their age. Tasks workers took before go on. The mark
// has no TTL: it stays until Resume.
func (q *Queue) Pause(ctx context.Context, name string) error {
	q.register(ctx, name)
	if err := q.b.client.Set(ctx, q.b.keys.paused(name), "1", 0).Err(); err != nil {
		return fmt.Errorf("worker: pause %s: %w", name, unavailable(ctx, err))
	}
	return nil
}

// Resume implements queue.Admin: one DEL.
func (q *Queue) Resume(ctx context.Context, name string) error {
	if err := q.b.client.Del(ctx, q.b.keys.paused(name)).Err(); err != nil {
		return fmt.Errorf("worker: resume %s: %w", name, unavailable(ctx, err))
	}
	return nil
}

// Paused implements queue.Admin: one EXISTS.
func (q *Queue) Paused(ctx context.Context, name string) (bool, error) {
	n, err := q.b.client.Exists(ctx, q.b.keys.paused(name)).Result()
	if err != nil {
		return false, fmt.Errorf("worker: paused %s: %w", name, unavailable(ctx, err))
	}
	return n == 1, nil
}

// Attempts implements queue.Admin: the history lives in the task's state
// hash (lib/attempt.lua), read with it in one HGETALL (see lookup.go for
// a partitioned queue).
func (q *Queue) Attempts(ctx context.Context, name, id string) ([]queue.Attempt, error) {
	first, rest, err := q.partitionsOf(ctx, name, id)
	if err != nil {
		return nil, fmt.Errorf("worker: attempts of %s: %w", id, err)
	}
	h, err := q.b.client.HGetAll(ctx, q.b.keys.state(first, id)).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: attempts of %s: %w", id, unavailable(ctx, err))
	}
	if len(h) == 0 && len(rest) > 0 {
		cmds := make([]*redis.MapStringStringCmd, len(rest))
		_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, physical := range rest {
				cmds[i] = p.HGetAll(ctx, q.b.keys.state(physical, id))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("worker: attempts of %s: %w", id, unavailable(ctx, err))
		}
		for _, c := range cmds {
			if h = c.Val(); len(h) > 0 {
				break
			}
		}
	}
	return parseAttempts(h), nil
}

// storedAttempt is one run as lib/attempt.lua encodes it: numbers that
// came from Redis as strings stay strings.
type storedAttempt struct {
	Attempt    json.Number `json:"a"`
	Status     string      `json:"s"`
	Retry      bool        `json:"r"`
	Kind       string      `json:"k"`
	Error      string      `json:"e"`
	Stack      string      `json:"x"`
	Worker     string      `json:"w"`
	StartedAt  json.Number `json:"st"`
	FinishedAt json.Number `json:"f"`
}

// parseAttempts reads the runs of a state hash, "a<n>", oldest first; a
// field that cannot be read is left out.
func parseAttempts(h map[string]string) []queue.Attempt {
	n, _ := strconv.Atoi(h["an"])
	var out []queue.Attempt
	for i := max(1, n-queue.MaxAttempts+1); i <= n; i++ {
		v, ok := h["a"+strconv.Itoa(i)]
		if !ok {
			continue
		}
		var s storedAttempt
		if json.Unmarshal([]byte(v), &s) != nil {
			continue
		}
		a := queue.Attempt{Status: queue.Status(s.Status), Retry: s.Retry, Kind: s.Kind, Error: s.Error,
			Stack: s.Stack, Worker: s.Worker, StartedAt: microsTime(s.StartedAt.String()),
			FinishedAt: microsTime(s.FinishedAt.String())}
		a.Attempt, _ = strconv.Atoi(s.Attempt.String())
		out = append(out, a)
	}
	return out
}
