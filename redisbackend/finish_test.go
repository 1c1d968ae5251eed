package redisbackend_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/taskwaretest"
	"github.com/taskware/taskware/worker"
)

// finWorker returns a worker on b's queue with short waits, running tk
// until the test ends.
func finWorker[A, R any](t *testing.T, b *taskwaretest.Backend, tk *task.Task[A, R]) {
	t.Helper()
	w := worker.New(b.Queue, worker.Concurrency(4), worker.PollWait(50*time.Millisecond),
		worker.PromoteEvery(10*time.Millisecond), worker.Grace(2*time.Second), worker.Visibility(2*time.Second))
	worker.Register(w, tk)
	taskwaretest.StartWorker(t, w)
}

// finGet waits up to 5s for h's outcome.
func finGet[R any](h *worker.Handle[R]) (R, error) { return taskwaretest.Get(h, 5*time.Second) }

// finRecorder is a go-redis hook that records each round trip: a command,
// or a pipeline, by the names of its commands and their first keys.
type finRecorder struct {
	mu    sync.Mutex
	trips [][]string
}

func (r *finRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *finRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.add([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (r *finRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.add(cmds)
		return next(ctx, cmds)
	}
}

// finWhat names a command by its name and, for a script, a SET or a
// PUBLISH, its first key or its channel.
func finWhat(cmd redis.Cmder) string {
	args := cmd.Args()
	switch name := cmd.Name(); name {
	case "eval", "evalsha":
		// The name, then every key.
		out := name
		n, _ := strconv.Atoi(fmt.Sprint(args[2]))
		for i := 3; i < 3+n && i < len(args); i++ {
			if p, ok := args[i].(*string); ok { // keys may go by pointer
				out += " " + *p
			} else {
				out += fmt.Sprint(" ", args[i])
			}
		}
		return out
	case "set", "publish":
		return fmt.Sprint(name, " ", args[1])
	default:
		return name
	}
}

func (r *finRecorder) add(cmds []redis.Cmder) {
	trip := make([]string, len(cmds))
	for i, c := range cmds {
		trip[i] = finWhat(c)
	}
	r.mu.Lock()
	r.trips = append(r.trips, trip)
	r.mu.Unlock()
}

// A run's lock release, its result write and the end of its task are one
// script, in one round trip, and the task's state then says the result was stored.
func TestFinishSharesOneRoundTrip(t *testing.T) {
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) {
			b := taskwaretest.New(t, name)
			ctx := context.Background()
			tk := task.New("locked", func(ctx context.Context, s string) (string, error) { return s, nil },
				middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "k"))
			c := worker.NewClient(b.Queue, b.Store)
			h, err := worker.Enqueue(ctx, c, tk, "x")
			if err != nil {
				t.Fatal(err)
			}
			rec := &finRecorder{}
			b.Client.AddHook(rec)
			finWorker(t, b, tk)
			if s, err := finGet(h); err != nil || s != "x" {
				t.Fatalf("Get = %q, %v", s, err)
			}
			if st, err := h.State(ctx); err != nil || st.Status != queue.Succeeded || st.Result != queue.ResultStored {
				t.Fatalf("state %+v, %v; want succeeded, its result stored", st, err)
			}
			b.RequireNoLocks(t)
			rec.mu.Lock()
			defer rec.mu.Unlock()
			// One script ends the run: it releases the lock, acknowledges
			// the task, writes its record and its state. No SET of the
			// record and no release goes on its own: the script writes the
			// record only if this delivery is still the one to end the
			// task. (On a fresh server the script then goes again as EVAL,
			// once.)
			// Its keys: the queue's stream and dead letters, the task's
			// state and record, the minute's outcome counts, the index of
			// ended tasks, the lock.
			p := b.Prefix()
			minute := regexp.QuoteMeta(p+"queue:{default}:rate:") + `\d+`
			want := regexp.MustCompile("^" + regexp.QuoteMeta("evalsha "+p+"queue:{default} "+p+"queue:{default}:dead "+
				p+"queue:{default}:task:"+h.ID+" "+p+"result:{default}:"+h.ID+" ") + minute + regexp.QuoteMeta(" "+p+"queue:{default}:ended "+p+"lock:{k}") + "$")
			var finish [][]string
			for _, trip := range rec.trips {
				for _, c := range trip {
					if strings.HasPrefix(c, "set ") {
						t.Errorf("a SET went on its own: %q", trip)
					}
					if strings.HasPrefix(c, "evalsha ") && strings.HasSuffix(c, " "+p+"lock:{k}") && !strings.HasPrefix(c, "evalsha "+p+"lock:") {
						finish = append(finish, trip)
					}
				}
			}
			if len(finish) != 1 || len(finish[0]) != 1 || !want.MatchString(finish[0][0]) {
				t.Fatalf("the round trips that released the lock were %q, want one: %q; every trip: %q", finish, want, rec.trips)
			}
		})
	}
}

// Batched scripts go by SHA; a server that lost its script cache gets their
// bodies instead, and nothing is lost. miniredis only: flushing a shared
// server's script cache would disturb others.
func TestFinishAfterScriptFlush(t *testing.T) {
	b := taskwaretest.New(t, "miniredis")
	ctx := context.Background()
	tk := task.New("locked", func(ctx context.Context, s string) (string, error) { return s, nil },
		middleware.StoreResult(b.Store), middleware.WithLock(b.Locker, "k"))
	finWorker(t, b, tk)
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
		if s, err := finGet(h); err != nil || s != fmt.Sprint("run ", i) {
			t.Fatalf("run %d: %q, %v", i, s, err)
		}
		if st, err := h.State(ctx); err != nil || st.Status != queue.Succeeded || st.Result != queue.ResultStored {
			t.Fatalf("run %d: state %+v, %v; want succeeded, its result stored", i, st, err)
		}
		if held, _ := b.Locker.Held(ctx); len(held) != 0 {
			t.Fatalf("run %d left its lock held: %+v", i, held)
		}
	}
}
