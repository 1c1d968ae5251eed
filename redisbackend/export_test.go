package redisbackend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/taskware/taskware/internal/backoff"

	"github.com/taskware/taskware/queue"
)

// ServerInfoWithin is ServerInfo with a scan budget of budget keys.
func ServerInfoWithin(ctx context.Context, q *Queue, budget int64) (*queue.ServerInfo, error) {
	return q.serverInfo(ctx, budget)
}

// RecheckEvery sets how often b's waiters check again in case a notice
// was lost: a test sets it long to see that a notice alone wakes them.
func RecheckEvery(b *Backend, d time.Duration) { b.hub.recheck = backoff.Policy{Min: d, Max: d} }

// EnqueueIn enqueues m, a message of a logical queue, in that queue's
// partition i, whatever the routing would choose: so a test puts a task
// in a partition that is not PartitionFor(m.ID, n), as an OrderKey,
// Group or Unique key may, and the lookups must still find it.
func EnqueueIn(ctx context.Context, q *Queue, m *queue.Message, i int) error {
	if err := queue.ValidateMessage(m); err != nil {
		return err
	}
	q.register(ctx, m.Queue)
	if _, _, err := q.Partitions(ctx, m.Queue); err != nil {
		return err
	}
	name := q.partitionName(m.Queue, i)
	k := q.b.keys
	state := k.state(name, m.ID)
	keys := []string{k.stream(name), k.delayed(name), state, q.uniqueKey(name, m, state)}
	res, err := q.run(ctx, enqueueScript, keys, m.ID, m.Task, encodeMessage(m), max(m.Attempt, 1), 0, nonce(),
		q.uniqueWindow(m), m.Group, k.groups(name), time.Now().UnixMilli()).Result()
	if err != nil {
		return err
	}
	return enqueued(m, res)
}

// TakeIn takes up to n tasks of one partition (a physical queue),
// as a worker would, for a test to finish them there.
func TakeIn(ctx context.Context, q *Queue, physical, consumer string, n int) ([]*queue.Delivery, error) {
	return q.takeOne(ctx, physical, consumer, n, 0) // partition 0 alone too, not the whole queue
}

// An Ablation switches off one of the writes a task's drain makes, for
// TestAblation to weigh: Redis's CPU with it and without it. Each edits
// the source of the scripts concerned (an edit that no longer matches
// fails, so that the harness cannot weigh nothing), or skips a call.
type Ablation struct {
	Name  string
	edits []ablationEdit
	start bool   // drop the running mark (Queue.Started)
	src   string // if not "", finish's whole script
}

type ablationEdit struct{ old, new string }

// Ablations are the writes TestAblation switches off in turn, after the
// row that keeps them all.
var Ablations = []Ablation{
	{Name: "all on"},
	{Name: "running mark (start.lua)", start: true},
	{Name: "outcome counts (HINCRBY+PEXPIRE)", edits: []ablationEdit{{"local function count(counts, field, n)", "local function count() end\nlocal function count_(counts, field, n)"}}},
	{Name: "ended index (ZADD+PEXPIRE)", edits: []ablationEdit{{"local function indexended(ended, id, at, ttl)", "local function indexended() end\nlocal function indexended_(ended, id, at, ttl)"}}},
	{Name: "attempt history (its field in the end's HSET, cjson)", edits: []ablationEdit{{"  if an then\n    w[13]", "  if false then\n    w[13]"}}},
	{Name: "result record (SET)", edits: []ablationEdit{{"redis.call('SET', t.record_key, t.record, 'PX', t.record_ttl)", ""}}},
	{Name: "state TTL (PEXPIRE)", edits: []ablationEdit{{"redis.call('PEXPIRE', state, t.state_ttl)", ""}}},
	{Name: "lock release in the finish", edits: []ablationEdit{{"  release(7, 19)\n", "\n"}}},
	{Name: "finish: XACK only (the script's floor)", edits: []ablationEdit{{"local r = finish()", "local r = redis.call('XACK', KEYS[1], 'taskware', ARGV[1])"}}},
	{Name: "finish: XACK only, no library (what Redis Functions could save at most)", src: "return redis.call('XACK', KEYS[1], 'taskware', ARGV[1])"},
}

// Ablate applies a and returns what undoes it. Not safe while a backend
// runs.
func Ablate(a Ablation) (restore func(), err error) {
	old := finishScript
	src := old.src
	for _, e := range a.edits {
		if !strings.Contains(src, e.old) {
			return nil, fmt.Errorf("ablation %q: %q is not in finish's script", a.Name, e.old)
		}
		src = strings.Replace(src, e.old, e.new, 1)
	}
	if a.src != "" {
		src = a.src
	}
	finishScript = newScript(src)
	noStartMark = a.start
	return func() { finishScript, noStartMark = old, false }, nil
}

// ScriptName names the script whose SHA is sha, among those a drain runs;
// "" if none.
func ScriptName(sha string) string {
	for name, s := range map[string]script{"start.lua": startScript, "finish.lua": finishScript, "take.lua": takeScript,
		"acquire": acquireScript, "release": releaseScript, "refresh": refreshScript, "enqueue_many.lua": enqueueManyScript,
		"recover.lua": recoverScript, "promote.lua": promoteScript, "hand_back.lua": handBackScript} {
		if s.sha.(string) == sha {
			return name
		}
	}
	return ""
}
