package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// TaskQueue is one task-queue library, set up on Redis with a no-op task
// that takes an int. Each run of the task reports its argument to the ran
// func of the worker that runs it.
type TaskQueue interface {
	// Enqueue adds a run of the task for each argument 0..n-1, as fast as
	// the library allows: on many goroutines, in batches where it can.
	Enqueue(ctx context.Context, n int) error
	// EnqueueSerial adds a run of the task for each argument from..to-1,
	// from the caller's goroutine alone: in calls of up to batch tasks
	// where the library has a call for many tasks (taskware's
	// EnqueueMany), else, or if batch is 1, one call per task.
	EnqueueSerial(ctx context.Context, from, to, batch int) error
	// Start starts a worker that calls ran(i) from the run of argument i.
	// stop stops it cleanly: it waits for the runs under way.
	Start(ran func(i int)) (stop func() error, err error)
	// Close frees what the TaskQueue holds beyond the clients it was given,
	// and deletes every key it wrote.
	Close() error
}

// Env is what a TaskQueue is opened on.
type Env struct {
	// Client is the Redis for taskware, which writes only keys under Prefix.
	Client *redis.Client
	// AsynqClient is the same Redis on a logical DB that is asynq's alone:
	// asynq takes no key prefix. It must be empty when asynq opens.
	AsynqClient *redis.Client
	Prefix      string
	// Concurrency is how many tasks a worker runs at once; 0 leaves it to
	// the library's default (taskware's worker.DefaultConcurrency, asynq's
	// the number of CPUs).
	Concurrency int
}

// QueueLib names a task-queue library and opens it as a TaskQueue.
type QueueLib struct {
	Name string
	// Peer is true for the libraries taskware is compared with.
	Peer bool
	// Pair names the peer of QueueLibs that does the same work, which the
	// contender's ratio is computed against; a peer's Pair is its own name.
	Pair string
	Open func(env Env) (TaskQueue, error)
}

// QueueLibs lists the contenders of the end-to-end benchmark, taskware
// first, each paired with the asynq that does the same work: lock+store
// keeps a result, as "asynq" does; bare keeps none, as "asynq bare" does.
var QueueLibs = []QueueLib{
	{Name: "taskware lock+store", Pair: "asynq", Open: openTaskwareQueue(true, false)},
	{Name: "taskware lock+store, autopipeline", Pair: "asynq", Open: openTaskwareQueue(true, true)},
	{Name: "taskware bare", Pair: "asynq bare", Open: openTaskwareQueue(false, false)},
	{Name: "taskware bare, autopipeline", Pair: "asynq bare", Open: openTaskwareQueue(false, true)},
	{Name: "asynq", Peer: true, Pair: "asynq", Open: openAsynq(true)},
	{Name: "asynq bare", Peer: true, Pair: "asynq bare", Open: openAsynq(false)},
}

const noopName = "bench:noop"

// QueueLibNamed returns the contender of QueueLibs named name.
func QueueLibNamed(name string) (QueueLib, bool) {
	for _, lib := range QueueLibs {
		if lib.Name == name {
			return lib, true
		}
	}
	return QueueLib{}, false
}

// setupBatch is how many tasks taskware's Enqueue puts in one EnqueueMany.
const setupBatch = 1000

// enqueueAll calls enqueue for 0..n-1 on 32 goroutines.
func enqueueAll(ctx context.Context, n int, enqueue func(ctx context.Context, i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		next  int
		first error
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		i := next
		next++
		return i, i < n && first == nil
	}
	for range 32 {
		wg.Go(func() {
			for i, ok := take(); ok; i, ok = take() {
				if err := enqueue(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// taskware: a worker on the Redis backend. Its queue, and the locker and
// result store of the lock+store chain, are one backend (so that the worker
// sends the lock release and the result write with its acknowledgement): on
// a plain client, or go-redis's AutoPipeliner in full-duplex mode, which
// sends the commands of concurrent callers in one write.

type taskwareQueue struct {
	queue  *redisbackend.Queue
	client *worker.Client
	noop   *task.Task[int, int]
	conc   int
	// name is the queue the tasks go on; "" for queue.Default.
	name   string
	ran    func(int) // set by Start, before the worker runs
	closer interface{ Close() error }
	keys   redis.UniversalClient // to delete the keys under prefix
	prefix string
}

func openTaskwareQueue(lockStore, auto bool) func(Env) (TaskQueue, error) {
	return func(env Env) (TaskQueue, error) {
		var c redis.UniversalClient = env.Client
		var closer interface{ Close() error } = nopCloser{}
		if auto {
			ap, err := env.Client.AutoPipelineWithOptions(&redis.AutoPipelineOptions{FullDuplex: true})
			if err != nil {
				return nil, err
			}
			c, closer = ap, ap
		}
		t := newTaskwareQueue(c, env.Client, env.Prefix, env.Concurrency, lockStore)
		t.closer = closer
		return t, nil
	}
}

// newTaskwareQueue sets taskware up on c, with its keys under prefix,
// which Close deletes through keys (c itself, or the client c pipelines
// on).
func newTaskwareQueue(c, keys redis.UniversalClient, prefix string, conc int, lockStore bool, opts ...redisbackend.Option) *taskwareQueue {
	b := redisbackend.New(c, append([]redisbackend.Option{redisbackend.Prefix(prefix)}, opts...)...)
	t := &taskwareQueue{queue: b.Queue(), conc: conc, closer: nopCloser{}, keys: keys, prefix: prefix}
	t.client = worker.NewClient(t.queue, nil)
	var chain []task.Middleware
	if lockStore {
		byID := func(inv *task.Invocation) (string, error) { return inv.ID, nil }
		chain = []task.Middleware{middleware.StoreResult(b.Store()), middleware.WithLockFunc(b.Locker(), byID)}
	}
	t.noop = task.New(noopName, func(_ context.Context, i int) (int, error) {
		t.ran(i)
		return i, nil
	}, chain...)
	return t
}

// onQueue returns the enqueue options that put a task on t's queue.
func (t *taskwareQueue) onQueue() []worker.EnqueueOption {
	if t.name == "" {
		return nil
	}
	return []worker.EnqueueOption{worker.OnQueue(t.name)}
}

func (t *taskwareQueue) Enqueue(ctx context.Context, n int) error {
	batches := (n + setupBatch - 1) / setupBatch
	return enqueueAll(ctx, batches, func(ctx context.Context, b int) error {
		from := b * setupBatch
		return t.EnqueueSerial(ctx, from, min(from+setupBatch, n), setupBatch)
	})
}

func (t *taskwareQueue) EnqueueSerial(ctx context.Context, from, to, batch int) error {
	if batch <= 1 {
		for i := from; i < to; i++ {
			if _, err := worker.Enqueue(ctx, t.client, t.noop, i, t.onQueue()...); err != nil {
				return err
			}
		}
		return nil
	}
	args := make([]int, 0, min(batch, max(to-from, 0)))
	for i := from; i < to; i += batch {
		args = args[:0]
		for j := i; j < min(i+batch, to); j++ {
			args = append(args, j)
		}
		if _, err := worker.EnqueueMany(ctx, t.client, t.noop, args, t.onQueue()...); err != nil {
			return err
		}
	}
	return nil
}

func (t *taskwareQueue) Start(ran func(int)) (func() error, error) {
	t.ran = ran
	var opts []worker.Option
	if t.name != "" {
		opts = append(opts, worker.Queues(t.name))
	}
	return runWorker(t.queue, t.conc, func(w *worker.Worker) { worker.Register(w, t.noop) }, opts...), nil
}

// runWorker runs a worker of conc slots (the default if 0) on q, with
// the tasks register gives it and options opts, until the stop it returns
// is called; stop returns what the worker reported, joined.
func runWorker(q queue.Queue, conc int, register func(*worker.Worker), opts ...worker.Option) (stop func() error) {
	var mu sync.Mutex
	var errs []error
	opts = append(opts, worker.OnError(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}))
	if conc > 0 {
		opts = append(opts, worker.Concurrency(conc))
	}
	w := worker.New(q, opts...)
	register(w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() error {
		cancel()
		err := <-done
		mu.Lock()
		defer mu.Unlock()
		return errors.Join(append(errs, err)...)
	}
}

func (t *taskwareQueue) Close() error {
	err := t.closer.Close()
	_, derr := DeletePrefixEverywhere(context.Background(), t.keys, t.prefix)
	return errors.Join(err, derr)
}

// asynq: a server and a client on a client of the Redis we are given (so
// that its round trips are counted as taskware's are). With results, the
// handler writes its result with the task's ResultWriter, and tasks are
// enqueued with a retention so that the result is kept, as taskware's
// store keeps it; without, neither, as bare taskware keeps nothing. Each
// kind has an asynq queue of its own ("default", "bare"), so that both
// can hold tasks at once in the one asynq DB. The handler
// reports its run first, as taskware's task does before its worker's
// finish (and its lock+store chain's result write): so that, for Latency,
// a run has started when it reports.

type asynqQueue struct {
	rdb     *redis.Client
	client  *asynq.Client
	conc    int
	results bool   // write and keep each task's result
	queue   string // asynq's queue name
}

func openAsynq(results bool) func(Env) (TaskQueue, error) {
	return func(env Env) (TaskQueue, error) {
		if err := checkAsynqDB(context.Background(), env); err != nil {
			return nil, err
		}
		q := &asynqQueue{rdb: env.AsynqClient, client: asynq.NewClientFromRedisClient(env.AsynqClient),
			conc: env.Concurrency, results: results, queue: "default"}
		if !results {
			q.queue = "bare"
		}
		return q, nil
	}
}

// checkAsynqDB fails unless env's asynq DB is another than taskware's, and
// empty.
func checkAsynqDB(ctx context.Context, env Env) error {
	db := env.AsynqClient.Options().DB
	if db == env.Client.Options().DB {
		return fmt.Errorf("asynq needs a Redis DB of its own, not taskware's (%d)", db)
	}
	n, err := env.AsynqClient.DBSize(ctx).Result()
	if err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("the asynq DB %d holds %d keys: asynq takes no key prefix, so it needs an empty DB", db, n)
	}
	return nil
}

func (a *asynqQueue) Enqueue(ctx context.Context, n int) error {
	return enqueueAll(ctx, n, a.enqueue)
}

// EnqueueSerial enqueues one task per call whatever batch is: asynq has no
// call that enqueues many tasks.
func (a *asynqQueue) EnqueueSerial(ctx context.Context, from, to, _ int) error {
	for i := from; i < to; i++ {
		if err := a.enqueue(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

func (a *asynqQueue) enqueue(ctx context.Context, i int) error {
	opts := []asynq.Option{asynq.Queue(a.queue)}
	if a.results {
		opts = append(opts, asynq.Retention(middleware.DefaultResultTTL))
	}
	_, err := a.client.EnqueueContext(ctx, asynq.NewTask(noopName, strconv.AppendInt(nil, int64(i), 10)), opts...)
	return err
}

func (a *asynqQueue) Start(ran func(int)) (func() error, error) {
	srv := asynq.NewServerFromRedisClient(a.rdb, asynq.Config{Concurrency: a.conc, LogLevel: asynq.WarnLevel,
		Queues: map[string]int{a.queue: 1}})
	err := srv.Start(asynq.HandlerFunc(func(_ context.Context, t *asynq.Task) error {
		i, err := strconv.Atoi(string(t.Payload()))
		if err != nil {
			return err
		}
		ran(i) // as taskware's task reports before its worker's finish
		if a.results {
			_, err = t.ResultWriter().Write(t.Payload())
		}
		return err
	}))
	if err != nil {
		return nil, err
	}
	return func() error { srv.Shutdown(); return nil }, nil
}

// Close deletes asynq's keys, and only those, from its DB. (asynq's client
// has nothing to close: on a client it was given, its Close only fails.)
func (a *asynqQueue) Close() error {
	_, err := DeletePrefix(context.Background(), a.rdb, "asynq:")
	return err
}
