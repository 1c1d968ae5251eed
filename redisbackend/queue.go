package redisbackend

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/queue"
)

// group is the consumer group every worker reads a queue's stream with.
const group = "taskware"

// Queue is the backend's queue.Queue, on Redis streams with a consumer
// group: XADD to enqueue, XREADGROUP to take several messages in one round
// trip, XACK to finish, XAUTOCLAIM to put the deliveries of a worker that
// died back in the stream, and a sorted set for what waits to be due. Its
// keys are named in keys.go; its scripts are in lua/, a file each, named
// after the operation, which a Go file of the same name sends: enqueue,
// take, finish, maintain (recover, extend, promote), cancel, rates,
// state, inspect, dead and workflow (whose steps end in finish_step.lua,
// which finish.go sends).
//
// A payload is stored once: in the stream entry while the task is ready or
// taken, in its state while it waits in the delayed set.
//
// go-redis sends a command again when its reply is lost, after Redis ran
// it, so each script answers the same the second time. An enqueue keeps a
// nonce of its call in the state: finding its own, it succeeds. A Take
// first reads its consumer's pending entries past the last it handed out:
// what a lost reply took is handed out by the next read. A finish, dead
// letter or requeue starts with the XACK of its entry, and does nothing if
// that acknowledged nothing: the entry was finished already, by this call
// or by a worker that took it over.
type Queue struct {
	b      *Backend
	groups sync.Map // queue name -> struct{}: its group exists
	known  sync.Map // queue name -> struct{}: it is in the set of queues (keys.queues)

	mu     sync.RWMutex
	byName map[string]*queueNames
	seen   map[seenKey]taken // what each consumer's Takes handed out (see taken)

	parts partitionCache // each queue's partition counts, for a second
	pr    partRouting    // split queues' partition names, and the turn of their Takes

	watchMu  sync.Mutex
	watchers map[*func(queue, id string)]struct{} // see WatchCancels
}

// run sends an EVALSHA of s with keys and args in one round trip (two if
// the server lost its script cache).
func (q *Queue) run(ctx context.Context, s script, keys []string, args ...any) *redis.Cmd {
	return q.b.run(ctx, s, s.evalSHA(keys, args...))
}

// queueNames are a queue's keys and script arguments, made once.
type queueNames struct {
	name                                            string
	stream, delayed, dead, paused, statePrefix, tag string
	ahead, early                                    string                       // see take.lua
	ended                                           string                       // see lib/ended.lua
	groups                                          string                       // see lib/groups.lua
	recordPrefix                                    string                       // a record's key, but for the ID
	minute                                          atomic.Pointer[minuteCounts] // the last minute's counts key
}

// minuteCounts is the key of a minute's outcome counts.
type minuteCounts struct {
	minute int64
	key    string
}

// names returns queue's names, from a cache of the first few hundred
// queues seen.
func (q *Queue) names(name string) *queueNames {
	q.mu.RLock()
	n := q.byName[name]
	q.mu.RUnlock()
	if n != nil {
		return n
	}
	k := q.b.keys
	n = &queueNames{name: name, stream: k.stream(name), delayed: k.delayed(name), dead: k.dead(name),
		paused: k.paused(name), statePrefix: k.statePrefix(name), recordPrefix: k.result(name, ""), tag: "{" + name + "}",
		ahead: k.ahead(name), early: k.early(name), ended: k.ended(name), groups: k.groups(name)}
	q.mu.Lock()
	if q.byName == nil {
		q.byName = make(map[string]*queueNames)
	}
	if len(q.byName) < 512 {
		q.byName[name] = n
	}
	q.mu.Unlock()
	return n
}

// counts returns the key of the queue's outcome counts of the minute of
// atUs (µs since 1970), made once a minute.
func (q *Queue) counts(n *queueNames, atUs int64) *string {
	m := atUs / 60_000_000
	if c := n.minute.Load(); c != nil && c.minute == m {
		return &c.key
	}
	c := &minuteCounts{minute: m, key: q.b.keys.counts(n.name, m)}
	n.minute.Store(c)
	return &c.key
}

// The whole contract, checked by the compiler.
var _ queue.Queue = (*Queue)(nil)
