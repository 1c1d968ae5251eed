package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/hibiken/asynq"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// MemoryLib is a task-queue library that enqueues tasks of a given
// payload, not to be run: to measure what they take in Redis while queued.
type MemoryLib struct {
	Name string
	Peer bool
	// Fill enqueues n tasks, each of payload, on env (each library with
	// its defaults: no option at enqueue). clear deletes every key that
	// Fill wrote.
	Fill func(ctx context.Context, env Env, n int, payload []byte) (clear func() error, err error)
}

// MemoryLibs lists the libraries whose queued tasks are compared.
var MemoryLibs = []MemoryLib{
	{Name: "taskware", Fill: fillTaskware},
	{Name: "asynq", Peer: true, Fill: fillAsynq},
}

// Payload returns a payload of size bytes (at least 2), the same at every
// call: a JSON string of letters and digits, drawn from a fixed seed. It is
// what taskware's JSON codec makes of a string argument of its letters
// (which need no escape), byte for byte, so that both libraries store the
// same payload: taskware as the encoded string argument, asynq as the
// task's payload.
func Payload(size int) []byte {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, max(size, 2))
	p[0], p[len(p)-1] = '"', '"'
	for i := 1; i < len(p)-1; i++ {
		p[i] = alnum[r.IntN(len(alnum))]
	}
	return p
}

// QueuedMemory measures what n tasks of payload take in Redis while
// queued: the rise of the server's used_memory (INFO memory) from before
// lib enqueues them to after. It then deletes them. The server may be
// shared: whatever else it stores or frees meanwhile counts too.
func QueuedMemory(ctx context.Context, lib MemoryLib, env Env, n int, payload []byte) (delta int64, err error) {
	before, err := UsedMemory(ctx, env.Client)
	if err != nil {
		return 0, err
	}
	clear, err := lib.Fill(ctx, env, n, payload)
	if clear != nil {
		defer func() { err = errors.Join(err, clear()) }()
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", lib.Name, err)
	}
	after, err := UsedMemory(ctx, env.Client)
	if err != nil {
		return 0, err
	}
	return after - before, nil
}

// padName is the task of QueuedMemory: never run.
const padName = "bench:pad"

func fillTaskware(ctx context.Context, env Env, n int, payload []byte) (func() error, error) {
	clear := func() error {
		_, err := DeletePrefix(context.Background(), env.Client, env.Prefix)
		return err
	}
	t := task.New(padName, func(context.Context, string) (int, error) { return 0, nil })
	if len(payload) < 2 || payload[0] != '"' || payload[len(payload)-1] != '"' {
		return clear, fmt.Errorf("payload is not a JSON string (see Payload)")
	}
	arg := string(payload[1 : len(payload)-1])
	if enc, err := t.Encode(arg); err != nil || !bytes.Equal(enc, payload) {
		return clear, fmt.Errorf("the codec makes %d bytes of the argument, not the payload's %d (err %v)", len(enc), len(payload), err)
	}
	c := worker.NewClient(redisbackend.New(env.Client, redisbackend.Prefix(env.Prefix)).Queue(), nil)
	args := make([]string, 0, setupBatch)
	for i := 0; i < n; i += setupBatch {
		args = args[:0]
		for range min(setupBatch, n-i) {
			args = append(args, arg)
		}
		if _, err := worker.EnqueueMany(ctx, c, t, args); err != nil {
			return clear, err
		}
	}
	return clear, nil
}

func fillAsynq(ctx context.Context, env Env, n int, payload []byte) (func() error, error) {
	if err := checkAsynqDB(ctx, env); err != nil {
		return nil, err
	}
	clear := func() error {
		_, err := DeletePrefix(context.Background(), env.AsynqClient, "asynq:")
		return err
	}
	c := asynq.NewClientFromRedisClient(env.AsynqClient)
	return clear, enqueueAll(ctx, n, func(ctx context.Context, _ int) error {
		_, err := c.EnqueueContext(ctx, asynq.NewTask(padName, payload))
		return err
	})
}
