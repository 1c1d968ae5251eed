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
		ns[i] = q.names(queue.PartitionName(name, i))
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
	names *queueNames
	lost  *redis.XStreamSliceCmd // consumer's pending entries past the last seen
	fresh *redis.StringSliceCmd  // take.lua
	want  int                    // asked of take.lua: -1 a peek, 0 all
	// what the replies made
	paused bool
	out    []*queue.Delivery
	in     int
	newest string
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

// takeParts is Take from queue name split into high partitions (0..high-1,
// those it has and those it had: see SetPartitions). One pipeline holds,
// for every partition, the read of consumer's pending entries (see Take)
// and take.lua, asked for its share of n (share), or, where its share is
// 0, for a peek, which reads nothing (take.lua): a COUNT 0 would read all.
// So a Take is one round trip on one Redis; on a Cluster, go-redis sends
// the pipeline to each master at once. It hands out at most n in all:
// beyond, a lost reply's entries go back (as Take's do). Each delivery
// keeps its partition's name in Delivery.Queue, by which its finish,
// extension and the rest route.
//
// When none is ready, it waits for an entry newer than what each
// partition's script saw (see waitParts), taking nothing, and takes again,
// asking the partitions in the next turn. A partition that is paused is
// passed over; if all the partitions asked are, the queue is paused: the
// Take waits as a paused queue's does.
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
		pipe := q.b.client.Pipeline()
		for j := range ts {
			p := parts[(start+j)%high]
			t := &ts[j]
			*t = partTake{names: p, want: max(n, 0)}
			if n > 0 {
				if t.want = share(n, high, j); t.want == 0 {
					t.want = -1
				}
			}
			t.lost = pipe.XReadGroup(sctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer,
				Streams: []string{p.stream, q.lastSeen(p.name, consumer)}, Block: -1})
			t.fresh = takeNew(sctx, pipe, p, consumer, t.want, false)
		}
		_, _ = pipe.Exec(sctx)
		var nogroup bool
		var err error
		for j := range ts {
			t := &ts[j]
			if noScript(t.fresh) {
				t.fresh = takeNew(sctx, nil, t.names, consumer, t.want, true)
				_ = q.b.client.Process(sctx, t.fresh)
			}
			t.paused = t.fresh.Err() != nil && redis.HasErrorPrefix(t.fresh.Err(), "PAUSED")
			reads := []redis.Cmder{t.lost, t.fresh}
			if t.paused {
				reads = reads[:1]
			}
			if e := cmdsErr(reads...); e != nil {
				nogroup = nogroup || redis.HasErrorPrefix(e, "NOGROUP")
				err = orErr(err, fmt.Errorf("worker: take from %s: %w", t.names.name, unavailable(ctx, e)))
			}
		}
		if nogroup && try == 0 { // a stream was deleted under us
			for _, p := range parts {
				if err = q.ensureGroup(ctx, p.name, true); err != nil {
					return nil, fmt.Errorf("worker: take from %s: %w", p.name, err)
				}
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		allPaused, got := true, 0
		for j := range ts {
			t := &ts[j]
			var fresh []string
			if !t.paused {
				fresh = t.fresh.Val()
				allPaused = false
			}
			if t.out, t.in, t.newest, err = q.sort(t.names.name, consumer, t.lost.Val(), fresh); err != nil {
				return nil, fmt.Errorf("worker: take from %s: %w", t.names.name, err)
			}
			if t.paused {
				// Only a lost reply's entries were read: they go back, unrun.
				if len(t.out) > 0 {
					_ = q.handBack(sctx, t.names.stream, t.out)
				}
				q.saw(t.names.name, consumer, t.lost.Val(), nil, 0)
				t.out = nil
			}
			got += len(t.out)
		}
		if allPaused { // Pause: the caller waits as if nothing were ready
			_ = backoff.Sleep(ctx, wait)
			return nil, nil
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
				q.saw(t.names.name, consumer, t.lost.Val(), t.out, t.in)
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
			if after[len(after)-1] == "" {
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
