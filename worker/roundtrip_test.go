package worker_test

import (
	"context"
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

// what names a command: the first words of an EVAL's script, else its name.
func what(cmd redis.Cmder) string {
	args := cmd.Args()
	if name := cmd.Name(); name == "eval" && len(args) > 1 {
		src, _ := args[1].(string)
		return "eval:" + strings.Join(strings.Fields(src)[:3], " ")
	} else if name == "evalsha" {
		return "evalsha"
	} else {
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
			var finish []string
			for _, trip := range rec.trips {
				for _, c := range trip {
					if strings.Contains(c, "XACK") {
						finish = trip
					}
				}
			}
			// The release script starts "local v =", the result write
			// "redis.call('DEL', KEYS[1])", the finish "redis.call('XACK'".
			if len(finish) != 3 || finish[0] != "eval:local v =" ||
				!strings.HasPrefix(finish[1], "eval:redis.call('DEL', KEYS[1])") || !strings.Contains(finish[2], "XACK") {
				t.Fatalf("the finishing round trip was %q; every trip: %q", finish, rec.trips)
			}
		})
	}
}
