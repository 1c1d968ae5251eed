package redisbackend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// DefaultPrefix starts every key the backend writes, unless told otherwise.
const DefaultPrefix = "taskware:"

// Backend is a Locker, a Store and a Queue on one Redis client and key
// prefix. Create it with New.
type Backend struct {
	client   redis.UniversalClient
	keys     keys
	holder   any // boxed once: it is a script argument on every acquire
	stateTTL time.Duration
	// defaultPartitions is the count a queue first used with none
	// stored is given (DefaultPartitions).
	defaultPartitions int
	deadMax           int64
	hub               *hub
	batch             batcher
	marks             marks // the running marks, sent together (Queue.Started)
	// oneNode says all keys are on one server: a script may then touch
	// keys of any hash slot, such as a task's locks with its queue.
	oneNode bool
	// Script arguments of every finish, boxed once.
	stateTTLArg, channelArg, deadMaxArg, prefixArg any

	locker Locker
	store  Store
	queue  Queue
}

// Option configures a Backend.
type Option interface{ apply(*Backend) }

type optionFunc func(*Backend)

func (f optionFunc) apply(b *Backend) { f(b) }

// Prefix sets the key prefix, DefaultPrefix by default. It must not
// contain '{' or '}', which would break the keys' Cluster hash tags.
func Prefix(p string) Option { return optionFunc(func(b *Backend) { b.keys.prefix = p }) }

// Holder sets the holder recorded with each lock, lock.DefaultHolder()
// by default.
func Holder(h string) Option { return optionFunc(func(b *Backend) { b.holder = h }) }

// StateTTL sets how long a finished task's state is kept
// (queue.DefaultStateTTL): its outcome for handles, and the window in
// which its ID counts as a duplicate.
func StateTTL(d time.Duration) Option { return optionFunc(func(b *Backend) { b.stateTTL = d }) }

// DeadLetterMax caps each queue's dead letters at about n
// (queue.DefaultDeadLetterMax), the oldest going first.
func DeadLetterMax(n int) Option {
	return optionFunc(func(b *Backend) { b.deadMax = int64(n) })
}

// New returns a Backend on client. It panics with an error matching
// task.ErrInvalidConfig on a nil client, a prefix with a brace, an empty
// holder, or a state TTL or dead-letter cap that is not positive.
func New(client redis.UniversalClient, opts ...Option) *Backend {
	b := &Backend{client: client, keys: keys{prefix: DefaultPrefix}, holder: lock.DefaultHolder(),
		stateTTL: queue.DefaultStateTTL, deadMax: queue.DefaultDeadLetterMax}
	for _, o := range opts {
		o.apply(b)
	}
	switch h, _ := b.holder.(string); {
	case client == nil:
		panic(configError("nil client"))
	case strings.ContainsAny(b.keys.prefix, "{}"):
		panic(configError("prefix %q contains a brace", b.keys.prefix))
	case h == "":
		panic(configError("empty holder"))
	case b.stateTTL <= 0 || b.deadMax <= 0:
		panic(configError("the state TTL and the dead-letter cap must be positive"))
	case b.defaultPartitions < 0 || b.defaultPartitions > MaxPartitions:
		panic(configError("%d default partitions; want 1 to %d", b.defaultPartitions, MaxPartitions))
	}
	b.hub = &hub{client: client, channel: b.keys.channel(), waiters: make(map[string][]chan struct{}),
		recheck: backoff.Policy{Min: 250 * time.Millisecond, Max: 5 * time.Second}}
	b.locker.b, b.store.b, b.queue.b, b.batch.b = b, b, b, b
	switch client.(type) {
	case *redis.ClusterClient, *redis.Ring:
	default:
		b.oneNode = true
	}
	b.stateTTLArg, b.channelArg, b.deadMaxArg, b.prefixArg = b.stateTTL.Milliseconds(), b.keys.channel(), b.deadMax, b.keys.prefix
	return b
}

// Locker returns the backend's locker.
func (b *Backend) Locker() *Locker { return &b.locker }

// Store returns the backend's result store.
func (b *Backend) Store() *Store { return &b.store }

// Queue returns the backend's queues.
func (b *Backend) Queue() *Queue { return &b.queue }

// Client returns the client the backend was made on.
func (b *Backend) Client() redis.UniversalClient { return b.client }

// Prefix returns the backend's key prefix.
func (b *Backend) Prefix() string { return b.keys.prefix }

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: redisbackend.New: %s", task.ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// Purge deletes every key under the backend's prefix, on every master of a
// Cluster: locks, records, queues, task states and dead letters alike. It
// returns how many keys it deleted. It is for tests, demos and operators
// who mean it.
func (b *Backend) Purge(ctx context.Context) (int, error) {
	n := 0
	err := b.scan(ctx, escapeGlob(b.keys.prefix)+"*", func(ctx context.Context, node redis.Cmdable, keys []string) error {
		// One DEL per key: on a Cluster, the keys of a batch span slots.
		_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		})
		if err == nil {
			n += len(keys)
		}
		return err
	})
	if err != nil {
		return n, fmt.Errorf("redisbackend: purge %s*: %w", b.keys.prefix, err)
	}
	return n, nil
}
