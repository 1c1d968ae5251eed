package redisbackend

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/backoff"
	"github.com/taskware/taskware/queue"
)

// partRouting is what a Queue keeps to read a split queue's partitions:
// their names, made once, and the turn that rotates which partition a
// Take asks first.
type partRouting struct {
	names sync.Map // logical queue -> []*queueNames, partitions 0..len-1
	turn  atomic.Uint32
}

// partNames returns the names of partitions 0..high-1 of queue name,
// made once per process (and again when high grows).
func (q *Queue) partNames(name string, high int) []*queueNames {
	if v, ok := q.pr.names.Load(name); ok {
		if ns := v.([]*queueNames); len(ns) == high {
			return ns
		}
	}
	ns := make([]*queueNames, high)
	for i := range ns {
		ns[i] = q.names(q.partitionName(name, i))
	}
	q.pr.names.Store(name, ns)
	return ns
}

// physicalNames returns the names of every partition name ever had
// (0..high-1), or name alone if it names a partition itself ("jobs#2"),
// or a queue never split.
func (q *Queue) physicalNames(ctx context.Context, name string) ([]*queueNames, error) {
	if _, i := queue.SplitPartition(name); i > 0 {
		return []*queueNames{q.names(name)}, nil
	}
	_, high, err := q.Partitions(ctx, name)
	if err != nil {
		return nil, err
	}
	if high <= 1 {
		return []*queueNames{q.names(name)}, nil
	}
	return q.partNames(name, high), nil
}

// partTake is one partition's part of a Take over partitions.
type partTake struct {
	names   *queueNames
	pending []redis.XStream       // consumer's pending entries past the last seen (the first round's read)
	fresh   *redis.StringSliceCmd // this round's take.lua
	want    int                   // asked of take.lua this round: -1 a peek, 0 all
	ask     bool                  // asked this round
	// what the replies made, over the rounds: out, of which the last in
	// were read in order (see sort)
	paused bool
	out    []*queue.Delivery
	in     int
	newest string // the last round's: an ID to wait after, or "+" (more may be ready)
}

// share is how many of n a Take asks of the partition it asks j-th, of
// high: n split evenly, the first n%high asked one more. The partition
// asked first turns with each Take, so that none is starved.
func share(n, high, j int) int {
	s := n / high
	if j < n%high {
		s++
	}
	return s
}

// reportMore is take.lua's report argument (see its ARGV[3]).
const reportMore = "1"

// takeParts is Take from queue name split into high partitions (0..high-1,
// those it has and those it had: see SetPartitions). One pipeline holds,
// for every partition, the read of consumer's pending entries (see Take)
// and take.lua, asked for its share of n (share), or, where its share is
// 0, for a peek, which reads nothing (take.lua): a COUNT 0 would read all.
// So a Take is one round trip on one Redis; on a Cluster, go-redis sends
// the pipeline to each master at once. Only when fewer than n came and a
// partition says more may be ready (it filled its share, or its peek saw
// entries) does a next round ask those partitions for the rest: a queue
// whose tasks sit in one partition still hands out n at once. It hands
// out at most n in all: beyond, a lost reply's entries go back (as
// Take's do). Each delivery keeps its partition's name in Delivery.Queue,
// by which its finish, extension and the rest route.
//
// When none is ready, it waits for an entry newer than what each
// partition's script saw (see waitParts), taking nothing, and takes again.
// A partition that is paused is passed over; if all the partitions asked
// are, the queue is paused: the Take waits as a paused queue's does.
func (q *Queue) takeParts(ctx context.Context, name, consumer string, n int, wait time.Duration, high int) ([]*queue.Delivery, error) {
	limit := n // n <= 0 is all
	if n <= 0 {
		limit = math.MaxInt
	}
	parts := q.partNames(name, high)
	for _, p := range parts {
		if err := q.ensureGroup(ctx, p.name, false); err != nil {
			return nil, fmt.Errorf("worker: take from %s: %w", p.name, err)
		}
	}
	sctx := context.WithoutCancel(ctx) // as in takeOne: only the wait heeds ctx
	ts := make([]partTake, high)
	for try := 0; ; try++ {
		start := int(q.pr.turn.Add(1) % uint32(high))
		for j := range ts {
			ts[j] = partTake{names: parts[(start+j)%high], want: max(n, 0), ask: true}
			if n > 0 {
				if ts[j].want = share(n, high, j); ts[j].want == 0 {
					ts[j].want = -1
				}
			}
		}
		retry, err := q.takeRound(ctx, sctx, consumer, ts, true)
		if retry && try == 0 {
			continue
		}
		if err != nil {
			return nil, err
		}
		allPaused, got := true, 0
		for j := range ts {
			allPaused = allPaused && ts[j].paused
			got += len(ts[j].out)
		}
		if allPaused { // Pause: the caller waits as if nothing were ready
			_ = backoff.Sleep(ctx, wait)
			return nil, nil
		}
		// Fewer than n: ask again those that may have more, for the rest.
		for round := 1; got < limit && round < high+1; round++ {
			var more []*partTake
			for j := range ts {
				if t := &ts[j]; !t.paused && t.newest == "+" {
					more = append(more, t)
				}
			}
			if len(more) == 0 {
				break
			}
			for j := range ts {
				ts[j].ask = false
			}
			for j, t := range more {
				t.want, t.ask, t.newest = 0, true, ""
				if n > 0 {
					t.want = share(limit-got, len(more), j)
					t.ask = t.want > 0
				}
			}
			before := got
			if _, err := q.takeRound(ctx, sctx, consumer, ts, false); err != nil {
				return nil, err
			}
			got = 0
			for j := range ts {
				got += len(ts[j].out)
			}
			if got == before {
				break
			}
		}
		if got > 0 || try > 0 || wait <= 0 {
			var out []*queue.Delivery
			if got > 0 {
				out = make([]*queue.Delivery, 0, min(got, limit))
			}
			budget := limit
			for j := range ts {
				t := &ts[j]
				if t.paused {
					continue
				}
				if len(t.out) > budget { // a lost reply's entries, beside new ones
					_ = q.handBack(sctx, t.names.stream, t.out[budget:])
					t.in = max(t.in-(len(t.out)-budget), 0)
					t.out = t.out[:budget]
				}
				budget -= len(t.out)
				q.saw(t.names.name, consumer, t.pending, t.out, t.in)
				out = append(out, t.out...)
			}
			return out, nil
		}
		came, err := q.waitParts(ctx, ts, wait)
		if err != nil {
			return nil, fmt.Errorf("worker: take from %s: %w", name, unavailable(ctx, err))
		}
		if !came {
			return nil, nil
		}
	}
}

// takeRound sends, in one pipeline, take.lua for each partition of ts
// asked this round (ask; see takeParts), and, in the first round, the read of consumer's pending entries of each. It
// adds what each hands out to its out. retry says a stream was deleted
// under it: its group is made again, and the Take should begin again.
func (q *Queue) takeRound(ctx, sctx context.Context, consumer string, ts []partTake, first bool) (retry bool, err error) {
	pipe := q.b.client.Pipeline()
	lost := make([]*redis.XStreamSliceCmd, len(ts))
	for j := range ts {
		t := &ts[j]
		if !t.ask {
			continue
		}
		if first {
			lost[j] = pipe.XReadGroup(sctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer,
				Streams: []string{t.names.stream, q.lastSeen(t.names.name, consumer)}, Block: -1})
		}
		t.fresh = takeNew(sctx, pipe, t.names, consumer, t.want, false, reportMore)
	}
	_, _ = pipe.Exec(sctx)
	var nogroup bool
	for j := range ts {
		t := &ts[j]
		if !t.ask {
			continue
		}
		if noScript(t.fresh) {
			t.fresh = takeNew(sctx, nil, t.names, consumer, t.want, true, reportMore)
			_ = q.b.client.Process(sctx, t.fresh)
		}
		paused := t.fresh.Err() != nil && redis.HasErrorPrefix(t.fresh.Err(), "PAUSED")
		if !first && paused { // paused since the first round: it has no more
			t.ask, t.newest = false, ""
			continue
		}
		t.paused = paused
		reads := []redis.Cmder{t.fresh}
		if t.paused {
			reads = nil
		}
		if first {
			reads = append(reads, lost[j])
		}
		if e := cmdsErr(reads...); e != nil {
			nogroup = nogroup || redis.HasErrorPrefix(e, "NOGROUP")
			err = orErr(err, fmt.Errorf("worker: take from %s: %w", t.names.name, unavailable(ctx, e)))
		}
	}
	if nogroup && first { // a stream was deleted under us
		for j := range ts {
			if e := q.ensureGroup(ctx, ts[j].names.name, true); e != nil {
				return false, fmt.Errorf("worker: take from %s: %w", ts[j].names.name, e)
			}
		}
		return true, err
	}
	if err != nil {
		return false, err
	}
	for j := range ts {
		t := &ts[j]
		if !t.ask {
			continue
		}
		var pending []redis.XStream
		if first {
			pending = lost[j].Val()
			t.pending = pending
		}
		var fresh []string
		if !t.paused {
			fresh = t.fresh.Val()
		}
		out, in, newest, err := q.sort(t.names.name, consumer, pending, fresh)
		if err != nil {
			return false, fmt.Errorf("worker: take from %s: %w", t.names.name, err)
		}
		if t.paused {
			// Only a lost reply's entries were read: they go back, unrun.
			if len(out) > 0 {
				_ = q.handBack(sctx, t.names.stream, out)
			}
			q.saw(t.names.name, consumer, pending, nil, 0)
			continue
		}
		t.newest = newest
		if len(t.out) == 0 {
			t.out, t.in = out, in
			continue
		}
		// A later round's: those read out of order (taken over) join the
		// earlier ones', ahead of all those read in order, so that the
		// last in are still the ordered ones (see saw).
		merged := make([]*queue.Delivery, 0, len(t.out)+len(out))
		merged = append(merged, t.out[:len(t.out)-t.in]...)
		merged = append(merged, out[:len(out)-in]...)
		merged = append(merged, t.out[len(t.out)-t.in:]...)
		t.out, t.in = append(merged, out[len(out)-in:]...), t.in+in
	}
	return false, nil
}

// orErr is a, or b if a is nil.
func orErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// waitParts waits up to wait for an entry in any partition of ts (paused
// ones aside) newer than its script named (its newest entry, or for a
// peek the group's cursor), taking none, and reports whether one came.
// On one Redis that is one XREAD BLOCK over every stream. On a Cluster,
// where one command cannot read keys of several slots (CROSSSLOT), it is
// one XREAD BLOCK per partition, each in a goroutine: the first to see an
// entry ends the wait. go-redis does not cut a blocked read short when its
// context ends, so the others run out by their own BLOCK, within wait,
// and end then.
func (q *Queue) waitParts(ctx context.Context, ts []partTake, wait time.Duration) (bool, error) {
	block := max(wait, time.Millisecond)
	var streams, after []string
	for j := range ts {
		if !ts[j].paused {
			streams = append(streams, ts[j].names.stream)
			after = append(after, ts[j].newest)
			if a := after[len(after)-1]; a == "" || a == "+" { // "+": entries may be ready
				after[len(after)-1] = "0-0"
			}
		}
	}
	read := func(ctx context.Context, streams []string) (bool, error) {
		err := q.b.client.XRead(ctx, &redis.XReadArgs{Streams: streams, Count: 1, Block: block}).Err()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		return err == nil, err
	}
	if q.b.oneNode {
		return read(ctx, append(streams, after...))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		came bool
		err  error
	}
	answers := make(chan answer, len(streams)) // never blocks a reader that ends late
	for i := range streams {
		go func() {
			came, err := read(ctx, []string{streams[i], after[i]})
			answers <- answer{came, err}
		}()
	}
	for range streams {
		a := <-answers
		if a.came || a.err != nil {
			return a.came, a.err
		}
	}
	return false, nil
}
