package memorybackend

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/taskware/taskware/queue"
)

// Queue is the backend's queue.Queue: the same statuses, errors and order
// as on Redis, a state kept for the state TTL after a task ends, and
// capped dead letters.
type Queue struct {
	now      func() time.Time
	stateTTL time.Duration
	deadMax  int

	watchMu  sync.Mutex
	watchers map[*func(queue, id string)]struct{} // see WatchCancels

	mu      sync.Mutex
	queues  map[string]*memQueue
	waiters waiters[recordKey] // by queue and task ID, while someone waits
	// wfWaiters wait for workflows' ends, by home queue and workflow ID.
	wfWaiters waiters[recordKey]
	// schedules are the schedulers' publications, by scheduler.
	schedules map[string]published
	// stored are the stored schedule entries (see stored.go).
	stored stored
}

func newQueue(now func() time.Time, stateTTL time.Duration, deadMax int) *Queue {
	return &Queue{now: now, stateTTL: stateTTL, deadMax: deadMax, queues: make(map[string]*memQueue)}
}

// memQueue is one named queue: the twin of a stream with its consumer group,
// a delayed set, a dead-letter stream and the task states.
type memQueue struct {
	seq     uint64              // the last receipt handed out
	ready   []*memEntry         // not yet taken, oldest first
	pending map[string]*memPend // taken and not finished, by receipt
	delayed delayHeap           // scheduled IDs by due time; stale items are skipped
	due     map[string]int64    // the current due time (ms) of each delayed ID
	states  map[string]*memState
	dead    []queue.DeadLetter             // oldest first
	paused  bool                           // see Pause
	minutes map[int64]*queue.OutcomeCounts // outcomes by minute, for an hour (see Rates)
	// unique holds each unique key's task, until it ends or its window
	// closes.
	unique map[string]uniqueHold
	// consumers holds when each consumer was last seen: when it last took
	// from the queue or renewed its claims, until it leaves or is
	// forgotten (see Workers, Leave, Recover).
	consumers map[string]time.Time
	// arrived is closed, and dropped, when a message becomes ready; Takes
	// that wait make it.
	arrived  chan struct{}
	finished int // terminal finishes, to sweep expired states now and then
	// workflows are the records of the workflows whose home this queue is.
	workflows map[string]*memWorkflow
	// waiting holds the IDs of the queue's steps that wait for their
	// parents (Stats.Waiting): a step leaves it when released or ended.
	waiting map[string]struct{}
}

// memEntry is a ready or pending message: a stream entry.
type memEntry struct {
	seq     uint64
	receipt string
	msg     queue.Message // owned: its payload is never handed out
	// deliveries is 1 + the takeovers of its task so far, outages the
	// times it went back for an unavailable backend.
	deliveries, outages int
	// ready is when it became ready, as a stream entry's ID says on Redis.
	ready time.Time
	// ahead marks a delivery taken over (Recover): it waits ahead of those
	// never taken.
	ahead bool
}

// memPend is a taken message: a pending entry of the consumer group.
type memPend struct {
	entry    *memEntry
	consumer string
	claimed  time.Time // when last taken, reclaimed or extended
}

// memState is a task's state, with its message while the task is not
// terminal, when it expires once it is (zero: never), how often its
// deliveries were taken over, over all its attempts, and how often it went
// back for an unavailable backend.
type memState struct {
	st                queue.State
	msg               *queue.Message
	expires           time.Time
	reclaims, outages int
	unique            string // the unique key it holds, if any
	canceled          bool   // see Cancel
	// takenOver lists the receipts Recover took over: a late Finish of one
	// is superseded.
	takenOver []string
	// attempts is the task's history of runs, the last queue.MaxAttempts.
	attempts []queue.Attempt
	// failed is a failed task's message, as its last run had it, for
	// Message.
	failed *queue.Message
	// wf is a workflow step's place and inputs; nil for a plain task.
	wf *memStep
}

// addAttempt records the run that o ends, at now: its worker and start
// are o's, or else the state's if the run started.
func (s *memState) addAttempt(d *queue.Delivery, o queue.Outcome, now time.Time) {
	a := queue.Attempt{Attempt: d.Attempt, Status: o.Status, Retry: o.Retry, Kind: o.Kind, Error: o.Error,
		Stack: queue.CapStack(o.Stack), FinishedAt: time.UnixMicro(now.UnixMicro())}
	switch {
	case o.Worker != "":
		a.Worker, a.StartedAt = o.Worker, time.UnixMicro(o.StartedAt.UnixMicro())
	case s.st.Status == queue.Running:
		a.Worker, a.StartedAt = s.st.Worker, s.st.StartedAt
	}
	if len(s.attempts) >= queue.MaxAttempts {
		s.attempts = slices.Delete(s.attempts, 0, len(s.attempts)-queue.MaxAttempts+1)
	}
	s.attempts = append(s.attempts, a)
}

// uniqueHold is the task holding a unique key, until when at most.
type uniqueHold struct {
	id    string
	until time.Time
}

type delayItem struct {
	ms int64
	id string
}

// delayHeap orders delayed IDs as a sorted set does: by due time, then ID.
type delayHeap []delayItem

func (h delayHeap) Len() int { return len(h) }
func (h delayHeap) Less(i, j int) bool {
	return h[i].ms < h[j].ms || h[i].ms == h[j].ms && h[i].id < h[j].id
}
func (h delayHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)   { *h = append(*h, x.(delayItem)) }
func (h *delayHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// queue returns the named queue, made if create is set and it does not
// exist. q.mu is held.
func (q *Queue) queue(name string, create bool) *memQueue {
	mq := q.queues[name]
	if mq == nil && create {
		mq = &memQueue{
			pending: make(map[string]*memPend),
			due:     make(map[string]int64),
			states:  make(map[string]*memState),
		}
		q.queues[name] = mq
	}
	return mq
}

// state returns id's state unless it has expired. q.mu is held.
func (mq *memQueue) state(id string, now time.Time) *memState {
	s := mq.states[id]
	if s != nil && !s.expires.IsZero() && !now.Before(s.expires) {
		delete(mq.states, id)
		return nil
	}
	return s
}

// sweep drops expired states, so that states nobody reads still go.
func (mq *memQueue) sweep(now time.Time) {
	for id := range mq.states {
		mq.state(id, now)
	}
	for k, u := range mq.unique {
		if !now.Before(u.until) {
			delete(mq.unique, k)
		}
	}
	for id := range mq.workflows {
		mq.workflow(id, now)
	}
}

// normalize returns m as a Redis queue hands it back: times to the
// microsecond, an empty payload as nil, and a copy of the payload.
func normalize(m queue.Message) queue.Message {
	trunc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return time.UnixMicro(t.UnixMicro())
	}
	m.EnqueuedAt, m.ExpiresAt = trunc(m.EnqueuedAt), trunc(m.ExpiresAt)
	if len(m.Payload) == 0 {
		m.Payload = nil
	} else {
		m.Payload = append([]byte(nil), m.Payload...)
	}
	m.Headers = maps.Clone(m.Headers) // the caller's map stays the caller's
	m.Step = cloneStep(m.Step)
	if len(m.Headers) == 0 {
		m.Headers = nil
	}
	return m
}

// push appends m, a normalized message of the queue's own, to the ready
// messages at now and wakes waiting Takes. Stored payloads are never
// changed in place, so the entry may share m's. q.mu is held.
func (mq *memQueue) push(m *queue.Message, deliveries, outages int, now time.Time) {
	mq.seq++
	e := &memEntry{seq: mq.seq, receipt: strconv.FormatUint(mq.seq, 10) + "-0", msg: *m, deliveries: deliveries, outages: outages,
		ready: now}
	mq.ready = append(mq.ready, e)
	if mq.arrived != nil {
		close(mq.arrived)
		mq.arrived = nil
	}
}

// moveAhead moves the newest ready entry, one taken over, ahead of those
// never taken, behind the others taken over. q.mu is held.
func (mq *memQueue) moveAhead() {
	last := len(mq.ready) - 1
	e := mq.ready[last]
	e.ahead = true
	i := 0
	for i < last && mq.ready[i].ahead {
		i++
	}
	copy(mq.ready[i+1:], mq.ready[i:last])
	mq.ready[i] = e
}

// schedule puts id in the delayed set, due at ms. q.mu is held.
func (mq *memQueue) schedule(id string, ms int64) {
	mq.due[id] = ms
	heap.Push(&mq.delayed, delayItem{ms: ms, id: id})
}

// end makes s terminal, lets its unique key go, and wakes its waiters.
// q.mu is held.
func (q *Queue) end(mq *memQueue, s *memState, now time.Time) {
	s.msg = nil
	delete(mq.waiting, s.st.ID)
	if u, ok := mq.unique[s.unique]; ok && u.id == s.st.ID {
		delete(mq.unique, s.unique)
	}
	s.expires = now.Add(q.stateTTL)
	q.waiters.wake(recordKey{s.st.Queue, s.st.ID})
	if mq.finished++; mq.finished%1024 == 0 {
		mq.sweep(now)
	}
}

func (e *memEntry) delivery(name string) *queue.Delivery {
	d := &queue.Delivery{Message: e.msg, Receipt: e.receipt, Deliveries: e.deliveries, Outages: e.outages}
	d.Queue = name
	d.Payload = append([]byte(nil), e.msg.Payload...)
	if len(d.Payload) == 0 {
		d.Payload = nil
	}
	d.Headers = maps.Clone(e.msg.Headers)
	return d
}

// Enqueue implements queue.Producer.
func (q *Queue) Enqueue(ctx context.Context, m *queue.Message, runAt time.Time) error {
	if err := queue.ValidateMessage(m); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.enqueue(m, runAt)
}

// EnqueueMany implements queue.Producer.
func (q *Queue) EnqueueMany(ctx context.Context, ms []*queue.Message, runAt time.Time) ([]error, error) {
	for _, m := range ms {
		if err := queue.ValidateMessage(m); err != nil {
			return nil, err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	errs := make([]error, len(ms))
	for i, m := range ms {
		errs[i] = q.enqueue(m, runAt)
	}
	return errs, nil
}

// enqueue adds m. q.mu is held.
func (q *Queue) enqueue(m *queue.Message, runAt time.Time) error {
	now := q.now()
	mq := q.queue(m.Queue, true)
	if m.Unique != "" {
		if u, ok := mq.unique[m.Unique]; ok && u.id != m.ID && now.Before(u.until) {
			return &queue.DuplicateError{Queue: m.Queue, ID: m.ID, Existing: u.id}
		}
	}
	if mq.state(m.ID, now) != nil {
		return &queue.DuplicateError{Queue: m.Queue, ID: m.ID, Existing: m.ID}
	}
	msg := normalize(*m)
	msg.Attempt = max(msg.Attempt, 1)
	msg.Unique, msg.UniqueFor = "", 0 // kept apart, as on Redis
	s := &memState{st: queue.State{ID: m.ID, Task: m.Task, Queue: m.Queue, Status: queue.Queued, Attempt: msg.Attempt}, msg: &msg}
	mq.states[m.ID] = s
	if m.Unique != "" {
		window := m.UniqueFor
		if window <= 0 {
			window = q.stateTTL
		}
		if mq.unique == nil {
			mq.unique = make(map[string]uniqueHold)
		}
		mq.unique[m.Unique] = uniqueHold{id: m.ID, until: now.Add(window)}
		s.unique = m.Unique
	}
	if runAt.After(now) {
		s.st.Status = queue.Scheduled
		mq.schedule(m.ID, runAt.UnixMilli())
		return nil
	}
	mq.push(&msg, 1, 0, now)
	return nil
}

// take hands consumer up to n ready messages (all if n <= 0), none while
// the queue is paused. q.mu is held.
func (q *Queue) take(mq *memQueue, name, consumer string, n int) []*queue.Delivery {
	if mq == nil || len(mq.ready) == 0 || mq.paused {
		return nil
	}
	if n <= 0 || n > len(mq.ready) {
		n = len(mq.ready)
	}
	now := q.now()
	out := make([]*queue.Delivery, n)
	for i, e := range mq.ready[:n] {
		mq.pending[e.receipt] = &memPend{entry: e, consumer: consumer, claimed: now}
		out[i] = e.delivery(name)
		if e.msg.Step != nil {
			mq.stepDelivery(out[i], now)
		}
		mq.ready[i] = nil
	}
	mq.ready = mq.ready[n:]
	if len(mq.ready) == 0 {
		mq.ready = nil
	}
	return out
}

// Take implements queue.Consumer. A Take that waits is woken by the Enqueue or
// Promote that makes a message ready; it returns context.Cause(ctx) if ctx
// ends first.
func (q *Queue) Take(ctx context.Context, name, consumer string, n int, wait time.Duration) ([]*queue.Delivery, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	var timeout <-chan time.Time
	for {
		q.mu.Lock()
		mq := q.queue(name, true)
		mq.saw(consumer, q.now())
		if out := q.take(mq, name, consumer, n); out != nil || wait <= 0 {
			q.mu.Unlock()
			return out, nil
		}
		if mq.arrived == nil {
			mq.arrived = make(chan struct{})
		}
		arrived := mq.arrived
		q.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-arrived:
		case <-timeout:
			return nil, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// Recover implements queue.Consumer, as XAUTOCLAIM does: the oldest
// deliveries idle for minIdle, at most n (100 if n <= 0), go back to the
// ready messages, behind those taken over before and ahead of the others,
// each takeover counted. Consumers that hold
// nothing and were not seen for 100 times minIdle are forgotten, as on
// Redis.
func (q *Queue) Recover(ctx context.Context, name string, minIdle time.Duration, n int) (int, error) {
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	if minIdle < 0 {
		return 0, fmt.Errorf("worker: recover on %s: negative minimum idle time %v", name, minIdle)
	}
	if n <= 0 {
		n = 100
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	if mq == nil {
		return 0, nil
	}
	now := q.now()
	defer func() {
		for c, seen := range mq.consumers {
			if now.Sub(seen) > 100*minIdle && !mq.holds(c) {
				delete(mq.consumers, c)
			}
		}
	}()
	ps := make([]*memPend, 0, len(mq.pending))
	for _, p := range mq.pending {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *memPend) int { return cmp.Compare(a.entry.seq, b.entry.seq) })
	moved := 0
	for _, p := range ps {
		if moved == n {
			break
		}
		if now.Sub(p.claimed) < minIdle {
			continue
		}
		delete(mq.pending, p.entry.receipt)
		reclaims := 1
		if s := mq.state(p.entry.msg.ID, now); s != nil {
			s.reclaims++
			reclaims = s.reclaims
			s.st.Progress = nil
			if s.st.Status == queue.Running {
				s.st.Status = queue.Queued
			}
		}
		if s := mq.state(p.entry.msg.ID, now); s != nil {
			s.takenOver = append(s.takenOver, p.entry.receipt)
		}
		mq.push(&p.entry.msg, 1+reclaims, p.entry.outages, now)
		mq.moveAhead()
		moved++
	}
	return moved, nil
}

// Started implements queue.Consumer.
func (q *Queue) Started(_ context.Context, d *queue.Delivery, name string, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s := q.state(d.Queue, d.ID); s != nil && (s.st.Status == queue.Queued || s.st.Status == queue.Running) {
		s.st.Status, s.st.StartedAt, s.st.Worker = queue.Running, time.UnixMicro(at.UnixMicro()), name
	}
}

// Leave implements queue.Consumer: consumer is forgotten, unless it still
// holds deliveries, which would be lost with it.
func (q *Queue) Leave(ctx context.Context, name, consumer string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if mq := q.queue(name, false); mq != nil && !mq.holds(consumer) {
		delete(mq.consumers, consumer)
	}
	return nil
}

// saw notes that consumer took from the queue, or renewed its claims, at
// now. q.mu is held.
func (mq *memQueue) saw(consumer string, now time.Time) {
	if mq.consumers == nil {
		mq.consumers = make(map[string]time.Time)
	}
	mq.consumers[consumer] = now
}

// holds reports whether consumer holds deliveries. q.mu is held.
func (mq *memQueue) holds(consumer string) bool {
	for _, p := range mq.pending {
		if p.consumer == consumer {
			return true
		}
	}
	return false
}

// Extend implements queue.Consumer, as XCLAIM does: each delivery still pending is
// consumer's from now on, as if just taken, without counting a delivery;
// the others (finished, or taken over) are lost.
func (q *Queue) Extend(ctx context.Context, name, consumer string, ds []*queue.Delivery) ([]*queue.Delivery, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	if mq == nil {
		return ds, nil
	}
	now := q.now()
	mq.saw(consumer, now)
	var lost []*queue.Delivery
	for _, d := range ds {
		if p := mq.pending[d.Receipt]; p != nil {
			p.consumer, p.claimed = consumer, now
		} else {
			lost = append(lost, d)
		}
	}
	return lost, nil
}

// Promote implements queue.Consumer. n <= 0 moves none, n < 0 all that are due, as
// ZRANGEBYSCORE's LIMIT does.
func (q *Queue) Promote(ctx context.Context, name string, now time.Time, n int) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	if mq == nil {
		return 0, nil
	}
	clock, limit := q.now(), now.UnixMilli()
	moved := 0
	for mq.delayed.Len() > 0 && n != moved {
		top := mq.delayed[0]
		if due, ok := mq.due[top.id]; !ok || due != top.ms {
			heap.Pop(&mq.delayed) // stale: promoted, or rescheduled since
			continue
		}
		if top.ms > limit {
			break
		}
		heap.Pop(&mq.delayed)
		delete(mq.due, top.id)
		moved++
		if s := mq.state(top.id, clock); s != nil && s.msg != nil && s.st.Status == queue.Scheduled {
			if s.canceled { // its run was canceled: its retry never runs
				q.endCanceled(mq, s, clock)
				continue
			}
			s.st.Status = queue.Queued
			mq.push(s.msg, 1+s.reclaims, s.outages, clock)
		}
	}
	return moved, nil
}

// Finish implements queue.Consumer. It makes o.Final's releases, then, if
// the delivery is still pending (the one to end its task), its result
// writes, and ends the task; the state says whether a result was stored. A
// delivery no longer pending (finished already, or taken over: then
// queue.ErrSuperseded) stays as it is, and its result is not written over
// the one that stands.
func (q *Queue) Finish(ctx context.Context, d *queue.Delivery, o queue.Outcome) error {
	if err := queue.ValidateOutcome(d, o); err != nil {
		return err
	}
	if o.Final != nil {
		o.Final.ApplyReleases(ctx)
	}
	q.mu.Lock()
	mq := q.queue(d.Queue, true)
	p, pending := mq.pending[d.Receipt]
	if !pending {
		// Finished already: by this call, or by the worker that took the
		// delivery over. That one's outcome stands.
		s := mq.state(d.ID, q.now())
		q.mu.Unlock()
		if s != nil && slices.Contains(s.takenOver, d.Receipt) {
			return fmt.Errorf("worker: finish %s: %w", d.ID, queue.ErrSuperseded)
		}
		return nil
	}
	delete(mq.pending, d.Receipt) // this call ends it: nobody can take it over now
	if s := mq.state(d.ID, q.now()); s != nil {
		s.st.Progress = nil // the run's progress ends with it
	}
	q.mu.Unlock()
	result := queue.NoResult
	if f := o.Final; f != nil && len(f.Results) > 0 {
		result = queue.ResultStored
		if err := f.Apply(ctx); err != nil {
			result = queue.ResultLost
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	s := mq.state(d.ID, now)
	if o.Status == queue.Scheduled {
		// A task that ended meanwhile (it was delivered twice) stays ended.
		if s == nil || s.st.Status.Terminal() {
			return nil
		}
		s.addAttempt(d, o, now)
		s.st.Status, s.st.Attempt, s.st.Kind, s.st.Error, s.st.Result = queue.Scheduled, o.Attempt, o.Kind, o.Error, result
		msg := p.entry.msg
		msg.Attempt = o.Attempt
		if o.Retry {
			msg.LastKind, msg.LastError = o.Kind, o.Error
		}
		if o.Outage {
			s.outages++
		}
		s.msg = &msg
		mq.schedule(d.ID, o.RunAt.UnixMilli())
		mq.count(now, func(c *queue.OutcomeCounts) { c.Count(o.Status, o.Kind, o.Retry) })
		return nil
	}
	if s == nil { // expired meanwhile: the outcome makes a new state
		s = &memState{st: queue.State{ID: d.ID, Queue: d.Queue}}
		mq.states[d.ID] = s
	}
	s.addAttempt(d, o, now)
	s.st.Status, s.st.Attempt, s.st.Kind, s.st.Error, s.st.Result = o.Status, o.Attempt, o.Kind, o.Error, result
	s.st.FinishedAt = time.UnixMicro(now.UnixMicro())
	mq.count(now, func(c *queue.OutcomeCounts) { c.Count(o.Status, o.Kind, false) })
	if o.Status == queue.Dead {
		m := normalize(d.Message)
		m.Queue, m.Attempt = d.Queue, o.Attempt
		mq.dead = append(mq.dead, queue.DeadLetter{Message: m, Kind: o.Kind, Reason: o.Error, At: time.UnixMicro(now.UnixMicro())})
		if extra := len(mq.dead) - q.deadMax; extra > 0 {
			clear(mq.dead[:extra])
			mq.dead = mq.dead[extra:]
		}
	}
	q.end(mq, s, now)
	if o.Status == queue.Failed {
		m := normalize(p.entry.msg)
		m.Queue = d.Queue
		s.failed = &m
	}
	if s.wf != nil {
		if end := q.stepEnded(s, o.Result, now); end != "" {
			d.WorkflowEnd = end // written only by the one finish that ends it: finishes of d may race
		}
	}
	return nil
}

// State implements queue.Producer.
func (q *Queue) State(ctx context.Context, name, id string) (*queue.State, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s := q.state(name, id); s != nil {
		st := s.st
		return &st, nil
	}
	return nil, &queue.NotFoundError{Queue: name, ID: id}
}

// Attempts implements queue.Admin.
func (q *Queue) Attempts(ctx context.Context, name, id string) ([]queue.Attempt, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s := q.state(name, id); s != nil {
		return slices.Clone(s.attempts), nil
	}
	return nil, nil
}

// state returns the live state of queue's task id, or nil. q.mu is held.
func (q *Queue) state(name, id string) *memState {
	if mq := q.queue(name, false); mq != nil {
		return mq.state(id, q.now())
	}
	return nil
}

// Wait implements queue.Producer: it is woken by the Finish that ends the
// task.
func (q *Queue) Wait(ctx context.Context, name, id string) (*queue.State, error) {
	return wait(ctx, &q.mu, &q.waiters, recordKey{name, id}, func() (*queue.State, bool, error) {
		s := q.state(name, id)
		if s == nil {
			return nil, false, &queue.NotFoundError{Queue: name, ID: id}
		}
		st := s.st
		return &st, st.Status.Terminal(), nil
	})
}

// DeadLetters implements queue.Queue.
func (q *Queue) DeadLetters(ctx context.Context, name string, n int) ([]queue.DeadLetter, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var dead []queue.DeadLetter
	if mq := q.queue(name, false); mq != nil {
		dead = mq.dead
	}
	dead = dead[:min(max(n, 0), len(dead))]
	out := make([]queue.DeadLetter, len(dead))
	for i, dl := range dead {
		out[i] = dl
		out[i].Step = cloneStep(dl.Step)
		out[i].Payload = append([]byte(nil), dl.Payload...)
		if len(dl.Payload) == 0 {
			out[i].Payload = nil
		}
	}
	return out, nil
}

// Pause implements queue.Admin.
func (q *Queue) Pause(ctx context.Context, name string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue(name, true).paused = true
	return nil
}

// Resume implements queue.Admin, and wakes the Takes that wait.
func (q *Queue) Resume(ctx context.Context, name string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if mq := q.queue(name, false); mq != nil && mq.paused {
		mq.paused = false
		if mq.arrived != nil && len(mq.ready) > 0 {
			close(mq.arrived)
			mq.arrived = nil
		}
	}
	return nil
}

// Paused implements queue.Admin.
func (q *Queue) Paused(ctx context.Context, name string) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	mq := q.queue(name, false)
	return mq != nil && mq.paused, nil
}

// The whole contract, checked by the compiler.
var _ queue.Queue = (*Queue)(nil)
