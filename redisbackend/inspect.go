package redisbackend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskware/taskware/queue"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/lock"
)

// Inspection: what queue.Admin show of the queues,
// and the repairs an operator makes (requeue or purge dead letters, purge
// records, look up and break a lock). None of it is on a worker's path.
// Each call says its round trips in its doc comment.

// recoverConsumer is the consumer XAUTOCLAIM claims for in recover.lua:
// it is no worker.
const recoverConsumer = "taskware:recover"

// maxCount bounds how many entries a script counts one by one (where Redis
// gives no "lag"), and how many tasks a listing returns.
const maxCount = 100_000

var (
	statsScript    = newScript(lua("lib/group.lua", "stats.lua"))
	readyScript    = newScript(lua("lib/group.lua", "ready.lua"))
	runningScript  = newScript(lua("lib/group.lua", "lib/entry.lua", "running.lua"))
	delayedScript  = newScript(lua("delayed.lua"))
	messageScript  = newScript(lua("lib/entry.lua", "message.lua"))
	finishedScript = newScript(lua("finished.lua"))
)

// Queues implements queue.Admin: the queues in the set of queues that
// this backend's producers, workers and admins add to (a queue once per
// process, see register), with one SMEMBERS (and, in the same pipeline,
// the partition counts) and a pipeline of EXISTS of their keys, so that a
// page of the web view costs no SCAN of the keyspace. A queue is listed
// while its stream, delayed set, dead letters, waiting steps or pause mark
// exists, in any of its partitions; a partitioned queue is listed once,
// by its logical name. While the set is empty (keys written before it was
// kept), the queues are found by a SCAN, as they were then.
func (q *Queue) Queues(ctx context.Context) ([]string, error) {
	names, _, err := q.listQueues(ctx)
	return names, err
}

// listQueues is Queues, with how many partitions each queue ever had
// (0 for those found by a SCAN: unknown).
func (q *Queue) listQueues(ctx context.Context) ([]string, []int, error) {
	names, parts, err := q.queueParts(ctx)
	if err != nil {
		return nil, nil, err
	}
	if names == nil {
		names, err = q.scanQueues(ctx)
		return names, make([]int, len(names)), err
	}
	k := q.b.keys
	exists := make([][]*redis.IntCmd, len(names))
	_, err = q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			exists[i] = make([]*redis.IntCmd, parts[i])
			for j := range parts[i] {
				physical := q.partitionName(name, j)
				exists[i][j] = p.Exists(ctx, k.stream(physical), k.delayed(physical), k.dead(physical), k.paused(physical), k.waiting(physical))
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("worker: list queues: %w", unavailable(ctx, err))
	}
	out, outParts := names[:0], parts[:0]
	for i, name := range names {
		for _, e := range exists[i] {
			if e.Val() > 0 {
				out, outParts = append(out, name), append(outParts, parts[i])
				break
			}
		}
	}
	return out, outParts, nil
}

// queueParts returns the logical queues in the set of queues, sorted, and
// how many partitions each ever had (high), read in one pipeline; nil
// while the set is empty.
func (q *Queue) queueParts(ctx context.Context) ([]string, []int, error) {
	var members *redis.StringSliceCmd
	var counts *redis.MapStringStringCmd
	_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		members = p.SMembers(ctx, q.b.keys.queues())
		counts = p.HGetAll(ctx, q.b.keys.partitions())
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("worker: list queues: %w", unavailable(ctx, err))
	}
	all := members.Val()
	if len(all) == 0 {
		return nil, nil, nil
	}
	names := make([]string, 0, len(all))
	for _, name := range all {
		names = append(names, logicalName(name))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	h := counts.Val()
	parts := make([]int, len(names))
	for i, name := range names {
		var fields []any
		for _, f := range partitionFields(name) {
			if v, ok := h[f]; ok {
				fields = append(fields, v)
			} else {
				fields = append(fields, nil)
			}
		}
		c, _ := parseCounts(fields)
		if c.n > 0 { // kept, so that its partitions' names are known
			c = q.keepCounts(name, c)
		}
		parts[i] = min(c.high, MaxPartitions)
	}
	return names, parts, nil
}

// register adds names to the set of queues (keys.queues), each once per
// Queue: a round trip the first time a process uses a queue. An add that
// fails is tried again the next time.
func (q *Queue) register(ctx context.Context, names ...string) {
	var add []any
	for _, name := range names {
		if _, ok := q.known.Load(name); !ok {
			add = append(add, name)
		}
	}
	if len(add) == 0 || q.b.client.SAdd(ctx, q.b.keys.queues(), add...).Err() != nil {
		return
	}
	for _, name := range add {
		q.known.Store(name.(string), struct{}{})
	}
}

// scanQueues finds the queues by a SCAN of the keyspace.
func (q *Queue) scanQueues(ctx context.Context) ([]string, error) {
	k := q.b.keys
	start := len(k.prefix) + len("queue:{")
	seen := map[string]bool{}
	// Keys that end in "}" (streams) or "d" (":delayed", ":dead",
	// ":paused"): one pattern for the four, and only the task states whose
	// ID ends in "d" besides, which are dropped here.
	err := q.b.scan(ctx, escapeGlob(k.prefix)+"queue:{*[}d]", func(_ context.Context, _ redis.Cmdable, keys []string) error {
		for _, key := range keys {
			if name, rest, ok := splitTagged(key[start:]); ok && (rest == "" || rest == ":delayed" || rest == ":dead" || rest == ":paused") {
				seen[logicalName(name)] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("worker: list queues: %w", unavailable(ctx, err))
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}

// Stats implements queue.Admin, in one round trip: a script that only
// reads. Ready counts the stream's entries after the group's last
// delivered one: Redis 7's "lag" where it has one, else counted (up to
// 100 000 ready, where the finished entries not yet trimmed are too many
// to count). OldestReady and the live workers are reckoned by the server's
// clock; a consumer whose idle time the server does not tell (miniredis
// gives -1) counts as live. On a partitioned queue the script runs in
// every partition, in one pipeline: the counts are summed, OldestReady is
// the oldest of any, and a worker taking from several partitions counts
// once.
func (q *Queue) Stats(ctx context.Context, name string) (*queue.Stats, error) {
	n, high, err := q.Partitions(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("worker: stats of %s: %w", name, err)
	}
	k := q.b.keys
	if high == 1 {
		res, err := q.run(ctx, statsScript, []string{k.stream(name), k.delayed(name), k.dead(name), k.waiting(name), k.grouped(name)},
			maxCount, queue.LiveWorkerWindow.Milliseconds()).Slice()
		st := &queue.Stats{Queue: name, Partitions: 1}
		if err = addStats(st, res, err, nil); err != nil {
			return nil, fmt.Errorf("worker: stats of %s: %w", name, unavailable(ctx, err))
		}
		return st, nil
	}
	ops := make([]op, high)
	for i := range ops {
		p := q.partitionName(name, i)
		ops[i] = scriptOpOf(statsScript, []string{k.stream(p), k.delayed(p), k.dead(p), k.waiting(p), k.grouped(p)},
			maxCount, queue.LiveWorkerWindow.Milliseconds(), "1")
	}
	q.b.exec(ctx, ops)
	st := &queue.Stats{Queue: name, Partitions: n}
	live := map[string]bool{}
	for _, o := range ops {
		res, err := o.cmd.(*redis.Cmd).Slice()
		if err = addStats(st, res, err, live); err != nil {
			return nil, fmt.Errorf("worker: stats of %s: %w", name, unavailable(ctx, err))
		}
	}
	st.Workers = len(live)
	return st, nil
}

// addStats adds the answer of stats.lua, res (or its error err), to st;
// with live, the live workers' names go to live, not to st.Workers.
func addStats(st *queue.Stats, res []any, err error, live map[string]bool) error {
	want := 10
	if live != nil {
		want = 11
	}
	if err == nil && len(res) != want {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		return err
	}
	st.Ready += toInt(res[0])
	st.Running += toInt(res[1])
	st.Delayed += toInt(res[2])
	st.Dead += toInt(res[3])
	st.Waiting += toInt(res[8])
	st.Grouped += toInt(res[9])
	if live == nil {
		st.Workers += int(toInt(res[5]))
	} else {
		for _, w := range luaStrings(res[10]) {
			live[w] = true
		}
	}
	if ms, ok := entryMillis(toString(res[4])); ok {
		now := time.Unix(toInt(res[6]), toInt(res[7])*1000)
		st.OldestReady = max(st.OldestReady, now.Sub(time.UnixMilli(ms)))
	}
	return nil
}

// Workers implements queue.Admin, in one round trip (XINFO
// CONSUMERS). The consumer that recovery claims for is no worker, and is
// left out. On a partitioned queue, one XINFO CONSUMERS a partition in
// one pipeline; a worker is listed once, with its pending tasks summed
// and its least idle time.
func (q *Queue) Workers(ctx context.Context, name string) ([]queue.WorkerInfo, error) {
	parts, err := q.partitionNames(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("worker: workers of %s: %w", name, err)
	}
	cmds := make([]*redis.XInfoConsumersCmd, len(parts))
	if len(parts) == 1 {
		cmds[0] = q.b.client.XInfoConsumers(ctx, q.b.keys.stream(name), group)
	} else {
		_, _ = q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, physical := range parts {
				cmds[i] = p.XInfoConsumers(ctx, q.b.keys.stream(physical), group)
			}
			return nil
		})
	}
	byName := map[string]int{}
	out := []queue.WorkerInfo{}
	for _, cmd := range cmds {
		cs, err := cmd.Result()
		if err != nil {
			if redis.HasErrorPrefix(err, "NOGROUP") || strings.Contains(err.Error(), "no such key") {
				continue
			}
			return nil, fmt.Errorf("worker: workers of %s: %w", name, unavailable(ctx, err))
		}
		for _, c := range cs {
			if c.Name == recoverConsumer {
				continue
			}
			if i, ok := byName[c.Name]; ok {
				out[i].Pending += c.Pending
				out[i].Idle = min(out[i].Idle, max(c.Idle, 0))
				continue
			}
			byName[c.Name] = len(out)
			out = append(out, queue.WorkerInfo{Name: c.Name, Queue: name, Pending: c.Pending, Idle: max(c.Idle, 0)})
		}
	}
	slices.SortFunc(out, func(a, b queue.WorkerInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Tasks implements queue.Admin. Ready, running and delayed tasks are one
// round trip each (a script that only reads), dead letters one XRANGE.
// Finished tasks are read from the queue's index of ended tasks, the
// latest first, by one script (finished.lua) that reads up to
// queue.ScanBudget of them. limit <= 0, or above 100 000, means 100 000.
// A partitioned queue is read a partition after the other (a round trip
// each), and the rows merged in the set's order: ready, running and dead
// by entry ID (the time they were added), dead by the time they died,
// delayed by due time, finished newest first.
func (q *Queue) Tasks(ctx context.Context, name string, set queue.TaskSet, limit int) ([]queue.TaskInfo, error) {
	if limit <= 0 || limit > maxCount {
		limit = maxCount
	}
	parts, err := q.partitionNames(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("worker: list %s tasks of %s: %w", set, name, err)
	}
	var out []queue.TaskInfo
	for _, physical := range parts {
		var ts []queue.TaskInfo
		switch set {
		case queue.ReadyTasks:
			ts, err = q.readyTasks(ctx, physical, limit)
		case queue.RunningTasks:
			ts, err = q.runningTasks(ctx, physical, limit)
		case queue.DelayedTasks:
			ts, err = q.delayedTasks(ctx, physical, limit)
		case queue.DeadTasks:
			ts, err = q.deadTasks(ctx, physical, limit)
		case queue.FinishedTasks:
			ts, err = q.finishedTasks(ctx, physical, limit)
		default:
			return nil, fmt.Errorf("worker: list %q tasks of %s: no such set of tasks", set, name)
		}
		if err != nil {
			return nil, fmt.Errorf("worker: list %s tasks of %s: %w", set, name, unavailable(ctx, err))
		}
		out = append(out, ts...)
	}
	if len(parts) > 1 {
		for i := range out {
			out[i].Queue = name
		}
		slices.SortStableFunc(out, taskOrder(set))
		out = out[:min(len(out), limit)]
	}
	if out == nil {
		out = []queue.TaskInfo{}
	}
	return out, nil
}

// taskOrder orders the rows of set as one partition lists them.
func taskOrder(set queue.TaskSet) func(a, b queue.TaskInfo) int {
	switch set {
	case queue.DelayedTasks:
		return func(a, b queue.TaskInfo) int { return cmp.Or(a.RunAt.Compare(b.RunAt), strings.Compare(a.ID, b.ID)) }
	case queue.FinishedTasks:
		return func(a, b queue.TaskInfo) int { return b.FinishedAt.Compare(a.FinishedAt) }
	case queue.DeadTasks: // by the µs each died, as DeadLetters: entry IDs are ms
		return func(a, b queue.TaskInfo) int {
			return cmp.Or(a.FinishedAt.Compare(b.FinishedAt), compareEntryIDs(a.Receipt, b.Receipt))
		}
	}
	return func(a, b queue.TaskInfo) int { return compareEntryIDs(a.Receipt, b.Receipt) }
}

// compareEntryIDs orders stream entry IDs, "<ms>-<seq>", by time.
func compareEntryIDs(a, b string) int {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	return cmp.Or(cmp.Compare(len(am), len(bm)), strings.Compare(am, bm), cmp.Compare(len(as), len(bs)), strings.Compare(as, bs))
}

func (q *Queue) readyTasks(ctx context.Context, name string, limit int) ([]queue.TaskInfo, error) {
	res, err := q.readyRows(ctx, name, "", limit, limit, "")
	return infos(res.rows), err
}

// readyRows lists up to limit ready tasks after entry cursor ("": from the
// first), reading at most scan entries, whose fields contain lower (in
// their lower-cased text) and each of needles: a prefilter, done by
// ready.lua.
func (q *Queue) readyRows(ctx context.Context, name, cursor string, limit, scan int, lower string, needles ...string) (rowBatch, error) {
	args := []any{limit, cursor, scan, lower}
	for _, n := range needles {
		args = append(args, n)
	}
	res, err := q.run(ctx, readyScript, []string{q.b.keys.stream(name)}, args...).Slice()
	if err == nil && len(res) != 4 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		return rowBatch{}, err
	}
	entries, _ := res[0].([]any)
	b := rowBatch{rows: make([]row, 0, len(entries)), last: toString(res[1]), more: toInt(res[2]) == 1,
		read: int(toInt(res[3]))}
	for _, e := range entries {
		id, f := luaEntry(e)
		ti, args := entryRow(name, id, f)
		ti.Status = queue.Queued
		b.rows = append(b.rows, row{info: ti, args: args, id: id})
	}
	return b, nil
}

func (q *Queue) runningTasks(ctx context.Context, name string, limit int) ([]queue.TaskInfo, error) {
	rows, err := q.runningRows(ctx, name, "", limit)
	return infos(rows), err
}

// runningRows lists up to limit running tasks after entry cursor ("": from
// the first).
func (q *Queue) runningRows(ctx context.Context, name, cursor string, limit int) ([]row, error) {
	res, err := q.run(ctx, runningScript, []string{q.b.keys.stream(name)}, limit, cursor, q.b.keys.statePrefix(name)).Slice()
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(res))
	for _, r := range res {
		p, _ := r.([]any)
		if len(p) != 6 {
			continue
		}
		id := toString(p[0])
		ti, args := entryRow(name, id, luaFields(p[3]))
		ti.Status, ti.Worker, ti.Idle = queue.Running, toString(p[1]), time.Duration(toInt(p[2]))*time.Millisecond
		ti.StartedAt = microsTime(toString(p[4]))
		if pg, _ := p[5].([]any); len(pg) == 4 && pg[3] != nil {
			ti.Progress = parseProgress(map[string]string{"pd": toString(pg[0]), "pt": toString(pg[1]), "pm": toString(pg[2]), "pa": toString(pg[3])})
		}
		out = append(out, row{info: ti, args: args, id: id})
	}
	return out, nil
}

func (q *Queue) delayedTasks(ctx context.Context, name string, limit int) ([]queue.TaskInfo, error) {
	rows, err := q.delayedRows(ctx, name, "", 0, limit)
	return infos(rows), err
}

// delayedRows lists up to limit delayed tasks after the task afterID due
// at afterMs ("": from the first).
func (q *Queue) delayedRows(ctx context.Context, name, afterID string, afterMs int64, limit int) ([]row, error) {
	k := q.b.keys
	args := []any{limit, k.statePrefix(name), "", afterID}
	if afterID != "" {
		args[2] = afterMs
	}
	for _, f := range delayedFields {
		args = append(args, f)
	}
	res, err := q.run(ctx, delayedScript, []string{k.delayed(name)}, args...).Slice()
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(res))
	for _, r := range res {
		p, _ := r.([]any)
		if len(p) != 3 {
			continue
		}
		id := toString(p[0])
		h := make([]string, len(delayedFields))
		if hs, _ := p[2].([]any); len(hs) == len(delayedFields) {
			for i, v := range hs {
				h[i] = toString(v)
			}
		}
		ti, args := delayedRow(name, id, h)
		var ms int64
		if f, err := strconv.ParseFloat(toString(p[1]), 64); err == nil {
			ms = int64(f)
			ti.RunAt = time.UnixMilli(ms)
		}
		out = append(out, row{info: ti, args: args, pos: ms, id: id})
	}
	return out, nil
}

// delayedFields are the fields of a delayed task's state that
// delayed.lua returns, in order.
var delayedFields = []string{"m", "attempt", "status", "reclaims", "outages", "lk", "le", "task", "kind", "error"}

// delayedRow reads a delayed task's state, delayedFields. The message's
// core, kept alone in the state while it waits, gets the header the
// promotion will give it.
func delayedRow(name, id string, h []string) (queue.TaskInfo, []byte) {
	core, attempt, status, reclaims, outages, lastKind, lastError, task, kind, errText := h[0], cmp.Or(h[1], "1"),
		h[2], h[3], cmp.Or(h[4], "0"), h[5], h[6], h[7], h[8], h[9]
	dlv := "1"
	if n, err := strconv.Atoi(reclaims); err == nil {
		dlv = strconv.Itoa(n + 1)
	}
	f := map[string]string{}
	if core != "" {
		b := []byte(messageVersion)
		for _, s := range []string{attempt, dlv, outages, lastKind, lastError} {
			b = appendNetstring(b, s)
		}
		f["m"] = string(append(b, core...))
	}
	ti, args := entryRow(name, "", f)
	ti.ID = id
	ti.Status = queue.Status(cmp.Or(status, string(queue.Scheduled)))
	ti.Kind, ti.Error = kind, errText
	if ti.Task == "" {
		ti.Task = task
	}
	return ti, args
}

func (q *Queue) deadTasks(ctx context.Context, name string, limit int) ([]queue.TaskInfo, error) {
	rows, err := q.deadRows(ctx, name, "", limit)
	return infos(rows), err
}

// deadRows lists up to limit dead letters after entry cursor ("": from
// the first).
func (q *Queue) deadRows(ctx context.Context, name, cursor string, limit int) ([]row, error) {
	start, n := "-", int64(limit)
	if cursor != "" {
		start, n = cursor, n+1 // inclusive, the cursor's own dropped: "(" needs Redis 6.2
	}
	msgs, err := q.b.client.XRangeN(ctx, q.b.keys.dead(name), start, "+", n).Result()
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(msgs))
	for _, m := range msgs {
		if m.ID == cursor || len(out) == limit {
			continue
		}
		f := stringFields(m.Values)
		ti, args := entryRow(name, m.ID, f)
		ti.Status, ti.Kind, ti.Error = queue.Dead, f["kind"], f["reason"]
		ti.FinishedAt = microsTime(f["at"])
		out = append(out, row{info: ti, args: args, id: m.ID})
	}
	return out, nil
}

// stateFields are the fields of a task's state that a listing of finished
// tasks reads, not its message: status, kind and task first, as
// finished.lua filters on them.
var stateFields = []string{"status", "kind", "task", "attempt", "error", "st", "wk", "fin"}

func (q *Queue) finishedTasks(ctx context.Context, queueName string, limit int) ([]queue.TaskInfo, error) {
	b, err := q.finishedRows(ctx, queueName, 0, "", limit, queue.ScanBudget, queue.TaskQuery{})
	return infos(b.rows), err
}

// finishedRows reads the queue's index of ended tasks (lib/ended.lua),
// the latest first, after the cursor (pos, after; after "" for the
// latest), in one script: up to size rows of tasks whose state still says
// ended and that may match tq, of at most scan entries read. A row's place
// is its score in the index, the negated end time in µs.
func (q *Queue) finishedRows(ctx context.Context, queueName string, pos int64, after string, size, scan int, tq queue.TaskQuery) (rowBatch, error) {
	args := make([]any, 0, 9+len(stateFields))
	var from any = ""
	if after != "" {
		from = pos
	}
	args = append(args, q.b.keys.statePrefix(queueName), size, max(scan, size), from, after,
		string(tq.Status), tq.Kind, tq.Task, asciiLower(tq.Search))
	for _, f := range stateFields {
		args = append(args, f)
	}
	res, err := q.run(ctx, finishedScript, []string{q.b.keys.ended(queueName)}, args...).Slice()
	if err != nil {
		return rowBatch{}, err
	}
	if len(res) != 5 {
		return rowBatch{}, fmt.Errorf("finished.lua answered %d values, want 5", len(res))
	}
	b := rowBatch{last: toString(res[0]), lastPos: score(res[1]), read: int(toInt(res[3])), more: toInt(res[4]) == 1}
	list, _ := res[2].([]any)
	for _, r := range list {
		p, _ := r.([]any)
		if len(p) != 3 {
			continue
		}
		vs, _ := p[2].([]any)
		if len(vs) != len(stateFields) {
			continue
		}
		h := make(map[string]string, len(stateFields))
		for j, name := range stateFields {
			h[name] = toString(vs[j])
		}
		ti := stateInfo(queueName, toString(p[0]), h)
		b.rows = append(b.rows, row{info: ti, pos: score(p[1]), id: ti.ID})
	}
	return b, nil
}

// score reads a sorted set's score, an integer of up to 2^53 that Redis
// may write in exponent form.
func score(v any) int64 {
	f, _ := strconv.ParseFloat(toString(v), 64)
	return int64(f)
}

// stateInfo reads a task's state hash.
func stateInfo(name, id string, h map[string]string) queue.TaskInfo {
	ti := queue.TaskInfo{ID: id, Task: h["task"], Queue: name, Status: queue.Status(h["status"]), Kind: h["kind"],
		Error: h["error"], Worker: h["wk"], StartedAt: microsTime(h["st"]), FinishedAt: microsTime(h["fin"])}
	ti.Attempt, _ = strconv.Atoi(h["attempt"])
	ti.Progress = parseProgress(h)
	return ti
}

// Find returns what each of queues knows of task id, from its state (and,
// for a delayed task, its due time): one pipeline, so one round trip (two
// on a Cluster whose queues lie on several masters). With no queues it
// looks in every queue Queues lists, after that SCAN. A queue that knows
// nothing of id is left out. A partitioned queue is looked up in each of
// its partitions, in the same pipeline, and answers by its logical name.
func (q *Queue) Find(ctx context.Context, id string, queues ...string) ([]queue.TaskInfo, error) {
	var parts []int
	if len(queues) == 0 {
		var err error
		if queues, parts, err = q.listQueues(ctx); err != nil {
			return nil, err
		}
	} else {
		parts = make([]int, len(queues))
	}
	for i, name := range queues {
		if parts[i] == 0 {
			_, high, err := q.Partitions(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("worker: find %s: %w", id, err)
			}
			parts[i] = high
		}
	}
	k := q.b.keys
	type look struct {
		name  string
		state *redis.MapStringStringCmd
		due   *redis.FloatCmd
	}
	var looks []look
	_, err := q.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range queues {
			for j := range parts[i] {
				physical := q.partitionName(name, j)
				looks = append(looks, look{name, p.HGetAll(ctx, k.state(physical, id)), p.ZScore(ctx, k.delayed(physical), id)})
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("worker: find %s: %w", id, unavailable(ctx, err))
	}
	out := []queue.TaskInfo{}
	for _, l := range looks {
		h := l.state.Val()
		if len(h) == 0 {
			continue
		}
		ti := stateInfo(l.name, id, h)
		if ms, err := l.due.Result(); err == nil {
			ti.RunAt = time.UnixMilli(int64(ms))
		}
		out = append(out, ti)
	}
	return out, nil
}

// Purge implements store.Store. It SCANs (on every master of a Cluster), a round trip per page,
// and deletes each page's keys in one pipeline. A queue named purges the
// records of all its partitions.
func (s *Store) Purge(ctx context.Context, queues ...string) (int, error) {
	k := s.b.keys
	patterns := []string{escapeGlob(k.prefix) + "result:{*}:*"}
	if len(queues) > 0 {
		patterns = patterns[:0]
		for _, name := range queues {
			// "{jobs}:<id>" and the partitions' "{jobs#<i>}:<id>" (a
			// queue's name has no '#' of its own).
			patterns = append(patterns, escapeGlob(k.prefix+"result:{"+name)+"[}#]*")
		}
	}
	n := 0
	for _, pattern := range patterns {
		err := s.b.scan(ctx, pattern, func(ctx context.Context, node redis.Cmdable, keys []string) error {
			cmds := make([]*redis.IntCmd, len(keys))
			_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, key := range keys { // one DEL each: on a Cluster, a page spans slots
					cmds[i] = p.Del(ctx, key)
				}
				return nil
			})
			for _, c := range cmds {
				n += int(c.Val())
			}
			return err
		})
		if err != nil {
			return n, fmt.Errorf("store: purge: %w", unavailable(ctx, err))
		}
	}
	return n, nil
}

// Lookup returns key's lock if it is held, in one round trip (a GET and a
// PTTL in a pipeline).
func (l *Locker) Lookup(ctx context.Context, key string) (lock.Info, bool, error) {
	vals, err := readWithTTL(ctx, l.b.client, []string{l.b.keys.lock(key)})
	if err != nil {
		return lock.Info{}, false, fmt.Errorf("lock %q: look up: %w", key, unavailable(ctx, err))
	}
	v := vals[0]
	if !v.ok || strings.HasPrefix(v.val, "|") { // none, or released
		return lock.Info{}, false, nil
	}
	return parseLock(key, v.val, v.ttl), true, nil
}

// entryRow reads a stream entry (of the stream, or of the dead letters),
// and its encoded arguments.
func entryRow(name, receipt string, f map[string]string) (queue.TaskInfo, []byte) {
	d := parseEntry(name, receipt, f)
	ti := queue.TaskInfo{ID: d.ID, Task: d.Task, Queue: name, Attempt: d.Attempt, EnqueuedAt: d.EnqueuedAt,
		Receipt: receipt, Deliveries: d.Deliveries, Kind: d.LastKind, Error: d.LastError}
	if d.Malformed != nil {
		ti.Malformed = d.Malformed.Error()
	}
	return ti, d.Payload
}

// entryMillis reads the time of a stream entry ID, "<ms>-<seq>".
func entryMillis(id string) (int64, bool) {
	ms, _, ok := strings.Cut(id, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	return n, err == nil
}

// microsTime reads a time the scripts wrote, in µs since 1970; zero if
// absent.
func microsTime(s string) time.Time {
	if us, err := strconv.ParseInt(s, 10, 64); err == nil && us > 0 {
		return time.UnixMicro(us)
	}
	return time.Time{}
}

func stringFields(vals map[string]any) map[string]string {
	f := make(map[string]string, len(vals))
	for k, v := range vals {
		f[k], _ = v.(string)
	}
	return f
}

// luaEntry reads an entry of an XRANGE made in a script: {id, {field,
// value, ...}}.
func luaEntry(v any) (string, map[string]string) {
	e, _ := v.([]any)
	if len(e) != 2 {
		return "", map[string]string{}
	}
	return toString(e[0]), luaFields(e[1])
}

func luaFields(v any) map[string]string {
	fs, _ := v.([]any)
	f := make(map[string]string, len(fs)/2)
	for i := 0; i+1 < len(fs); i += 2 {
		f[toString(fs[i])] = toString(fs[i+1])
	}
	return f
}

func luaStrings(v any) []string {
	vs, _ := v.([]any)
	out := make([]string, 0, len(vs))
	for _, s := range vs {
		out = append(out, toString(s))
	}
	return out
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

func toInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// Message returns the message of task id of queue (its arguments and
// headers) while it waits: delayed, ready or taken. One round trip (see
// lookup.go for a partitioned queue). It returns an error matching
// queue.ErrNotFound for a task that has ended, or that the queue does not
// know: a dead one's message is in DeadLetters.
func (q *Queue) Message(ctx context.Context, name, id string) (*queue.Message, error) {
	ops, err := q.lookup(ctx, name, id, func(physical string) reads {
		n := q.names(physical)
		return reads{scriptOpOf(messageScript, []string{n.statePrefix + id, n.stream})}
	}, func(ops reads) bool {
		res, err := ops[0].cmd.(*redis.Cmd).Slice()
		return err != nil || len(res) > 0
	})
	var res []any
	if err == nil {
		res, err = ops[0].cmd.(*redis.Cmd).Slice()
	}
	if err != nil {
		return nil, fmt.Errorf("worker: message of %s: %w", id, unavailable(ctx, err))
	}
	if len(res) == 0 {
		return nil, &queue.NotFoundError{Queue: name, ID: id}
	}
	d := parseEntry(name, "", luaFields(res))
	if d.Malformed != nil {
		return nil, fmt.Errorf("worker: message of %s: %w", id, d.Malformed)
	}
	return &d.Message, nil
}
