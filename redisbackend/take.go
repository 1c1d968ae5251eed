package redisbackend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/queue"
)

var (
	handBackScript = newScript(lua("hand_back.lua"))
	takeScript     = newScript(lua("lib/group.lua", "take.lua"))
)

// ensureGroup creates queue's consumer group (and stream) once per process.
func (q *Queue) ensureGroup(ctx context.Context, name string, force bool) error {
	if _, ok := q.groups.Load(name); ok && !force {
		return nil
	}
	logical, _ := queue.SplitPartition(name)
	q.register(ctx, logical)
	err := q.b.client.XGroupCreateMkStream(ctx, q.b.keys.stream(name), group, "0").Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return unavailable(ctx, err)
	}
	q.groups.Store(name, struct{}{})
	return nil
}

// Take implements queue.Consumer: one round trip for up to n messages,
// two XREADGROUPs in one pipeline. The first reads consumer's own
// pending entries past the last one this Queue read for it in order: those
// it handed out and holds (see taken), and any an earlier read took
// whose reply was lost after Redis ran it (go-redis sends a pipeline again
// after a cut connection); those are handed out now, and beyond n go back
// to the stream. The second, a script (take.lua),
// reads new entries, those taken over (Recover) first, unless the queue
// is paused: a paused queue's entries are never read, so they keep their
// places.
// When none is ready, XREAD BLOCK waits for one newer than the stream's
// newest entry (which the script names when it reads none), taking
// nothing, and then it takes again. (So a consumer's Takes must not overlap: one worker, one
// name.)
//
// A queue split into partitions (SetPartitions) is taken from as one: see
// takeParts. One of a single partition costs what it did before.
func (q *Queue) Take(ctx context.Context, name, consumer string, n int, wait time.Duration) ([]*queue.Delivery, error) {
	_, high, err := q.Partitions(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("worker: take from %s: %w", name, err)
	}
	if high > 1 {
		return q.takeParts(ctx, name, consumer, n, wait, high)
	}
	return q.takeOne(ctx, name, consumer, n, wait)
}

// takeOne is Take from one physical queue.
func (q *Queue) takeOne(ctx context.Context, name, consumer string, n int, wait time.Duration) ([]*queue.Delivery, error) {
	limit := n // n <= 0 is all: so is COUNT 0
	if n <= 0 {
		limit = math.MaxInt
	}
	if err := q.ensureGroup(ctx, name, false); err != nil {
		return nil, fmt.Errorf("worker: take from %s: %w", name, err)
	}
	names := q.names(name)
	// The reads are not cut short when ctx ends: what they took would stay
	// pending, unseen, until the next Take. Only the wait heeds ctx.
	sctx := context.WithoutCancel(ctx)
	// The first read has no COUNT: it must read every entry past the last
	// one, or it would skip some next time. There are few, if any.
	read := func(pipe redis.Pipeliner, from string, count int) *redis.XStreamSliceCmd {
		return pipe.XReadGroup(sctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer,
			Streams: []string{names.stream, from}, Count: int64(count), Block: -1}) // -1: no BLOCK
	}
	for try := 0; ; try++ {
		pipe := q.b.client.Pipeline()
		lostRead := read(pipe, q.lastSeen(name, consumer), 0)
		freshRead := takeNew(sctx, pipe, names, consumer, max(n, 0), false)
		_, _ = pipe.Exec(sctx)
		if noScript(freshRead) {
			freshRead = takeNew(sctx, nil, names, consumer, max(n, 0), true)
			_ = q.b.client.Process(sctx, freshRead)
		}
		reads := []redis.Cmder{lostRead, freshRead}
		paused := freshRead.Err() != nil && redis.HasErrorPrefix(freshRead.Err(), "PAUSED")
		if paused {
			reads = reads[:1]
		}
		err := cmdsErr(reads...)
		if err != nil && redis.HasErrorPrefix(err, "NOGROUP") && try == 0 { // the stream was deleted under us
			if err = q.ensureGroup(ctx, name, true); err == nil {
				continue
			}
		}
		if err != nil {
			return nil, fmt.Errorf("worker: take from %s: %w", name, unavailable(ctx, err))
		}
		pending, fresh := lostRead.Val(), []string(nil)
		if !paused {
			fresh = freshRead.Val()
		}
		out, in, newest, err := q.sort(name, consumer, pending, fresh)
		if err != nil {
			return nil, fmt.Errorf("worker: take from %s: %w", name, err)
		}
		if paused {
			// Paused (Pause): the caller waits as if nothing were ready.
			// Only a lost reply's entries were read: they go back, unrun.
			if len(out) > 0 {
				_ = q.handBack(sctx, names.stream, out)
			}
			q.saw(name, consumer, pending, nil, 0)
			_ = backoff.Sleep(ctx, wait)
			return nil, nil
		}
		if len(out) > 0 || try > 0 || wait <= 0 {
			if len(out) > limit { // a lost reply's entries, beside new ones
				// If the hand back fails, they stay pending, not seen:
				// the next Take reads them again.
				_ = q.handBack(sctx, names.stream, out[limit:])
				in = max(in-(len(out)-limit), 0)
				out = out[:limit]
			}
			q.saw(name, consumer, pending, out, in)
			if len(out) == 0 {
				return nil, nil
			}
			return out, nil
		}
		// Nothing ready: wait for a newer entry without taking it (a read
		// cut short by ctx then takes nothing), and take again.
		after := cmp.Or(newest, "0-0")
		err = q.b.client.XRead(ctx, &redis.XReadArgs{Streams: []string{names.stream, after}, Count: 1, Block: max(wait, time.Millisecond)}).Err()
		if errors.Is(err, redis.Nil) {
			return nil, nil // nothing came
		}
		if err != nil {
			return nil, fmt.Errorf("worker: take from %s: %w", name, unavailable(ctx, err))
		}
	}
}

// cmdsErr is the first error of cmds that is not redis.Nil (an empty
// reply).
func cmdsErr(cmds ...redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// takeNew is an EVALSHA of take.lua (an EVAL if eval) for consumer and up
// to n new entries (n <= 0: all), those taken over first, added to pipe
// unless pipe is nil. Its reply is flat (see appendFlat): go-redis reads
// it as strings, without the map per entry an XREADGROUP reply costs.
//
// With more (a Take over partitions), n may be -1, a peek, and the reply
// says whether more entries may be ready (see take.lua's report).
func takeNew(ctx context.Context, pipe redis.Pipeliner, names *queueNames, consumer string, n int, eval bool, more ...any) *redis.StringSliceCmd {
	var cmd *redis.StringSliceCmd
	switch {
	case len(more) > 0 && eval:
		cmd = redis.NewStringSliceCmd(ctx, "eval", takeScript.src, 4, names.stream, names.ahead, names.early, names.paused, consumer, n, more[0])
	case len(more) > 0:
		cmd = redis.NewStringSliceCmd(ctx, argEvalSHA, takeScript.sha, 4, names.stream, names.ahead, names.early, names.paused, consumer, n, more[0])
	case eval:
		cmd = redis.NewStringSliceCmd(ctx, "eval", takeScript.src, 4, names.stream, names.ahead, names.early, names.paused, consumer, n)
	default:
		cmd = redis.NewStringSliceCmd(ctx, argEvalSHA, takeScript.sha, 4, names.stream, names.ahead, names.early, names.paused, consumer, n)
	}
	cmd.SetFirstKeyPos(3)
	if pipe != nil {
		_ = pipe.Process(ctx, cmd)
	}
	return cmd
}

// appendEntries appends the entries of an XREADGROUP reply to out. An
// entry deleted while pending has no fields: it is handed out malformed.
func appendEntries(out []*queue.Delivery, name string, streams []redis.XStream) []*queue.Delivery {
	for _, st := range streams {
		for _, m := range st.Messages {
			d := &queue.Delivery{Receipt: m.ID}
			var p entryParser
			if v, ok := m.Values["m"].(string); ok && len(m.Values) == 1 {
				p.message(d, v) // the usual entry: no map to make
			} else {
				p.fields(d, stringFields(m.Values))
			}
			p.finish(d, name)
			out = append(out, d)
		}
	}
	return out
}

// errTakeReply is a reply of take.lua that does not read as flat lays it out.
var errTakeReply = errors.New("unreadable reply of the take script")

// appendFlat appends the entries of take.lua's reply past its first two
// strings (see flat in take.lua: each an ID, the number of its field and
// value strings, and those) to out, and returns how many it appended.
func appendFlat(out []*queue.Delivery, name string, reply []string) ([]*queue.Delivery, int, error) {
	n := 0
	for len(reply) > 0 {
		if len(reply) < 2 {
			return out, n, errTakeReply
		}
		id := reply[0]
		size, err := strconv.Atoi(reply[1])
		if err != nil || size < 0 || size%2 != 0 || size > len(reply)-2 {
			return out, n, errTakeReply
		}
		fields := reply[2 : 2+size]
		reply = reply[2+size:]
		d := &queue.Delivery{Receipt: id}
		var p entryParser
		if size == 2 && fields[0] == "m" {
			p.message(d, fields[1]) // the usual entry: no map to make
		} else {
			f := make(map[string]string, size/2)
			for i := 0; i < size; i += 2 {
				f[fields[i]] = fields[i+1]
			}
			p.fields(d, f)
		}
		p.finish(d, name)
		out = append(out, d)
		n++
	}
	return out, n, nil
}

// taken is what a consumer's Takes handed out, as far as its next Take's
// first read (its pending entries past last) must know: last is the last
// entry read in order, and held the entries past last handed out, so
// that the read hands out only what a lost reply took. Entries taken
// over (Recover) are claimed ahead of the group's cursor: were last to
// move past them, it would skip the entries between, which a lost reply
// may have taken. So they are held instead.
type taken struct {
	last string
	held map[string]struct{}
}

// lastSeen is the last entry a Take read in order for consumer, or "0-0".
func (q *Queue) lastSeen(name, consumer string) string {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if t, ok := q.seen[seenKey{name, consumer}]; ok {
		return t.last
	}
	return "0-0"
}

// sort makes the deliveries of one Take, from its read of consumer's
// pending entries past the last one and the reply of take.lua: first
// what a lost reply took (pending, but not held), then what the script
// claimed, then what it read in order, of which there are in; and, if the
// script read none, the stream's newest entry's ID. fresh is empty when
// the script did not run (paused).
func (q *Queue) sort(name, consumer string, pending []redis.XStream, fresh []string) (out []*queue.Delivery, in int, newest string, err error) {
	q.mu.RLock()
	held := q.seen[seenKey{name, consumer}].held
	var lost []redis.XMessage
	for _, st := range pending {
		for _, m := range st.Messages {
			if _, ok := held[m.ID]; !ok {
				lost = append(lost, m)
			}
		}
	}
	q.mu.RUnlock()
	// The usual entry is 4 strings: its ID, 2, "m" and the message.
	out = make([]*queue.Delivery, 0, len(lost)+len(fresh)/4)
	out = appendEntries(out, name, []redis.XStream{{Messages: lost}})
	if len(fresh) == 0 {
		return out, 0, "", nil
	}
	if len(fresh) < 2 {
		return nil, 0, "", errTakeReply
	}
	claimed, err := strconv.Atoi(fresh[0])
	if err != nil || claimed < 0 {
		return nil, 0, "", errTakeReply
	}
	out, n, err := appendFlat(out, name, fresh[2:])
	if err != nil || n < claimed {
		return nil, 0, "", errTakeReply
	}
	return out, n - claimed, fresh[1], nil
}

// saw notes what a Take of consumer handed out: out, whose last in
// entries the script read in order (any beyond were handed back), given
// pending, its read of consumer's pending entries past the last one.
// Held entries no longer pending are forgotten (finished or taken over),
// as are those the new last passes.
func (q *Queue) saw(name, consumer string, pending []redis.XStream, out []*queue.Delivery, in int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := seenKey{name, consumer}
	t := q.seen[k]
	if t.last == "" {
		t.last = "0-0"
	}
	if ordered := out[max(len(out)-in, 0):]; len(ordered) > 0 {
		t.last = ordered[len(ordered)-1].Receipt
	}
	var held map[string]struct{} // nil, the usual case, makes no map
	hold := func(id string) {
		if held == nil {
			held = make(map[string]struct{})
		}
		held[id] = struct{}{}
	}
	for _, st := range pending {
		for _, m := range st.Messages {
			if _, ok := t.held[m.ID]; ok && streamIDAfter(m.ID, t.last) {
				hold(m.ID)
			}
		}
	}
	for _, d := range out[:max(len(out)-in, 0)] {
		if streamIDAfter(d.Receipt, t.last) {
			hold(d.Receipt)
		}
	}
	t.held = held
	if q.seen == nil {
		q.seen = make(map[seenKey]taken)
	}
	q.seen[k] = t
}

// streamIDAfter reports whether stream entry ID a comes after b.
func streamIDAfter(a, b string) bool {
	am, as := splitStreamID(a)
	bm, bs := splitStreamID(b)
	return am > bm || am == bm && as > bs
}

func splitStreamID(id string) (ms, seq uint64) {
	m, s, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}

// handBack puts ds, read but not to be handed out, back at the stream's
// end, unrun, for any consumer: one round trip, safe to run twice.
func (q *Queue) handBack(ctx context.Context, stream string, ds []*queue.Delivery) error {
	n := q.names(ds[0].Queue)
	keys := make([]string, 1+len(ds))
	args := make([]any, len(ds))
	keys[0] = stream
	for i, d := range ds {
		keys[1+i], args[i] = stream, d.Receipt
		if d.ID != "" {
			keys[1+i] = n.statePrefix + d.ID
		}
	}
	if err := q.run(ctx, handBackScript, keys, args...).Err(); err != nil {
		return unavailable(ctx, err)
	}
	return nil
}

type seenKey struct{ queue, consumer string }
