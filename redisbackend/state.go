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
	ops, err := q.lookup(ctx, name, id, func(physical string) reads {
		return reads{op{cmd: redis.NewSliceCmd(ctx, stateReadArgs(q.b.keys.state(physical, id), "hmget")...)}}
	}, func(ops reads) bool {
		c := ops[0].cmd.(*redis.SliceCmd)
		return c.Err() != nil || len(readFields(c.Val())) > 0
	})
	if err == nil {
		err = ops[0].cmd.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("worker: state of %s: %w", id, unavailable(ctx, err))
	}
	return parseState(name, id, readFields(ops[0].cmd.(*redis.SliceCmd).Val()))
}

// stateReadArgs are the arguments of cmd ("hmget"), on key, of
// stateReadFields.
func stateReadArgs(key string, cmd any) []any {
	return append(append(make([]any, 0, 2+len(stateReadFieldsArgs)), cmd, key), stateReadFieldsArgs...)
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
// notice to it, logicalNotice), and each look finds the partition that
// holds the task as State does (lookup.go).
func (q *Queue) Wait(ctx context.Context, name, id string) (*queue.State, error) {
	var st *queue.State
	err := q.b.hub.wait(ctx, stateNotice(name, id), func(ctx context.Context) (bool, error) {
		ops, err := q.lookup(ctx, name, id, func(physical string) reads {
			return reads{scriptOpOf(waitStateScript, []string{q.b.keys.state(physical, id)}, stateReadFieldsArgs...)}
		}, func(ops reads) bool {
			res, err := ops[0].cmd.(*redis.Cmd).Slice()
			return err != nil || len(readFields(res)) > 0
		})
		var res []any
		if err == nil {
			res, err = ops[0].cmd.(*redis.Cmd).Slice()
		}
		if err != nil {
			return false, fmt.Errorf("worker: state of %s: %w", id, unavailable(ctx, err))
		}
		if st, err = parseState(name, id, readFields(res)); err != nil {
			return false, err
		}
		return st.Status.Terminal(), nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Pause implements queue.Admin: one SET. A Take reads the mark in the
// script that would read new entries (take.lua), reads none, and
// waits as if nothing were ready: no entry moves, so the ready tasks keep
// their order and their age. Tasks workers took before go on. The mark
// has no TTL: it stays until Resume. A partitioned queue's every
// partition is marked, in one pipeline.
func (q *Queue) Pause(ctx context.Context, name string) error {
	q.register(ctx, name)
	parts, err := q.partitionNames(ctx, name)
	if err == nil {
		err = q.eachPartition(ctx, parts, func(p redis.Pipeliner, physical string) {
			p.Set(ctx, q.b.keys.paused(physical), "1", 0)
		})
	}
	if err != nil {
		return fmt.Errorf("worker: pause %s: %w", name, unavailable(ctx, err))
	}
	return nil
}

// Resume implements queue.Admin: one DEL, of every partition's mark in
// one pipeline on a partitioned queue.
func (q *Queue) Resume(ctx context.Context, name string) error {
	parts, err := q.partitionNames(ctx, name)
	if err == nil {
		err = q.eachPartition(ctx, parts, func(p redis.Pipeliner, physical string) {
			p.Del(ctx, q.b.keys.paused(physical))
		})
	}
	if err != nil {
		return fmt.Errorf("worker: resume %s: %w", name, unavailable(ctx, err))
	}
	return nil
}

// eachPartition sends a command of each partition, one alone as itself,
// more in one pipeline.
func (q *Queue) eachPartition(ctx context.Context, parts []string, cmd func(p redis.Pipeliner, physical string)) error {
	_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, physical := range parts {
			cmd(p, physical)
		}
		return nil
	})
	return err
}

// Paused implements queue.Admin: one EXISTS. A partitioned queue is
// paused when its partition 0 is: Pause and Resume mark every partition
// together, and partition 0 is the one every queue has.
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
	ops, err := q.lookup(ctx, name, id, func(physical string) reads {
		return reads{op{cmd: redis.NewMapStringStringCmd(ctx, "hgetall", q.b.keys.state(physical, id))}}
	}, func(ops reads) bool {
		c := ops[0].cmd.(*redis.MapStringStringCmd)
		return c.Err() != nil || len(c.Val()) > 0
	})
	var h map[string]string
	if err == nil {
		h, err = ops[0].cmd.(*redis.MapStringStringCmd).Result()
	}
	if err != nil {
		return nil, fmt.Errorf("worker: attempts of %s: %w", id, unavailable(ctx, err))
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
