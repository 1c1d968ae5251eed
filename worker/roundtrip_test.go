package worker_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/testkit"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// recorder is a go-redis hook that records each round trip: a command, or
// a pipeline, by the Lua of its scripts' bodies (for EVAL) or its names.
type recorder struct {
	mu    sync.Mutex
	trips [][]string
}

func (r *recorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *recorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.add([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (r *recorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.add(cmds)
		return next(ctx, cmds)
	}
}

// what names a command by its name and, if it has one, its first key.
func what(cmd redis.Cmder) string {
	args := cmd.Args()
	switch name := cmd.Name(); name {
	case "eval", "evalsha":
		if len(args) > 3 {
			if p, ok := args[3].(*string); ok { // the locker passes its key by pointer
				return name + " " + *p
			}
			return fmt.Sprint(name, " ", args[3])
		}
		return name
	case "set", "publish":
		return fmt.Sprint(name, " ", args[1])
	default:
		return name
	}
}

func (r *recorder) add(cmds []redis.Cmder) {
	trip := make([]string, len(cmds))
	for i, c := range cmds {
		trip[i] = what(c)
	}
	r.mu.Lock()
	r.trips = append(r.trips, trip)
	r.mu.Unlock()
}

// A run's lock release, its result write and the acknowledgement of its
// task share one round trip.
func TestFinishSharesOneRoundTrip(t *testing.T) {
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) {
			b := testkit.New(t, name)
			ctx := context.Background()
			tk := task.New("locked", func(ctx context.Context, s string) (string, error) { return s, nil },
				middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "k"))
			w := worker.New(b.Queue, fast()...)
			worker.Register(w, tk)
			c := worker.NewClient(b.Queue, b.Store)
			h, err := worker.Enqueue(ctx, c, tk, "x")
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			b.Client.AddHook(rec)
			start(t, w)
			if _, err := getWithin(t, h, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			// The trip that writes the result also releases the lock and
			// finishes the task (its stream key is queue:{default}), and does
			// nothing else. (On a fresh server the scripts then go again as
			// EVAL, once.)
			var finish []string
			for _, trip := range rec.trips {
				for _, c := range trip {
					if strings.HasPrefix(c, "set ") {
						finish = trip
					}
				}
			}
			want := []string{"evalsha " + b.Prefix + "lock:{k}", "set " + b.Prefix + "result:{" + h.ID + "}",
				"publish " + b.Prefix + "result:done", "evalsha " + b.Prefix + "queue:{default}"}
			if fmt.Sprint(finish) != fmt.Sprint(want) {
				t.Fatalf("the finishing round trip was %q, want %q; every trip: %q", finish, want, rec.trips)
			}
		})
	}
}

// Batched scripts go by SHA; a server that lost its script cache gets their
// bodies instead, and nothing is lost. miniredis only: flushing a shared
// server's script cache would disturb others.
func TestFinishAfterScriptFlush(t *testing.T) {
	b := testkit.New(t, "miniredis")
	ctx := context.Background()
	tk := task.New("locked", func(ctx context.Context, s string) (string, error) { return s, nil },
		middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "k"))
	w := worker.New(b.Queue, fast()...)
	worker.Register(w, tk)
	start(t, w)
	c := worker.NewClient(b.Queue, b.Store)
	for i, flush := range []bool{false, true, true} {
		if flush {
			if err := b.Client.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		h, err := worker.Enqueue(ctx, c, tk, fmt.Sprint("run ", i))
		if err != nil {
			t.Fatal(err)
		}
		if s, err := getWithin(t, h, 5*time.Second); err != nil || s != fmt.Sprint("run ", i) {
			t.Fatalf("run %d: %q, %v", i, s, err)
		}
		if held, _ := b.Locker.Held(ctx); len(held) != 0 {
			t.Fatalf("run %d left its lock held: %+v", i, held)
		}
	}
}
