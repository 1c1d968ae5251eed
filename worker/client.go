package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/taskware/taskware/internal/randid"
	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// Client enqueues tasks and reads their outcomes. It is safe for concurrent
// use.
type Client struct {
	queue      queue.Producer
	workflows  queue.Workflows // nil unless WithWorkflows
	store      store.Reader
	maxPayload int
	events     events
}

// DefaultMaxPayload caps a task's encoded arguments, in bytes: arguments
// name the work, they do not carry it. It is far below Redis's 512 MB,
// past which it resets the connection.
const DefaultMaxPayload = 1 << 20

// MaxPayloadLimit is the largest MaxPayloadSize: Redis's 512 MB for a
// string, less room for the message around the arguments.
const MaxPayloadLimit = 511 << 20

// ClientOption configures a Client.
type ClientOption interface{ applyClient(*Client) }

type clientOptionFunc func(*Client)

func (f clientOptionFunc) applyClient(c *Client) { f(c) }

// MaxPayloadSize caps a task's encoded arguments at n bytes
// (DefaultMaxPayload, at most MaxPayloadLimit): Enqueue refuses larger
// ones with an error matching task.ErrTooLarge.
func MaxPayloadSize(n int) ClientOption {
	return clientOptionFunc(func(c *Client) { c.maxPayload = n })
}

// WithWorkflows gives the client q's workflow side, with which package
// workflow enqueues workflows and follows them: pass the backend's Queue,
// the one NewClient got (or that Queue itself, if NewClient got a
// wrapper of its Producer side).
func WithWorkflows(q queue.Workflows) ClientOption {
	return clientOptionFunc(func(c *Client) { c.workflows = q })
}

// Workflows returns the workflow side that WithWorkflows gave c, or nil.
// Its EnqueueWorkflow and CancelWorkflow publish c's workflow events
// (EventWorkflowStarted, EventWorkflowCanceled).
func (c *Client) Workflows() queue.Workflows {
	if c.workflows == nil {
		return nil
	}
	return clientWorkflows{c.workflows, c}
}

// NewClient returns a Client that enqueues on q (a backend's Queue) and
// reads results from s, the store the tasks' StoreResult writes to. s may
// be nil: handles then learn only how a task ended, not its result. It
// panics with an error matching task.ErrInvalidConfig on a nil queue or a
// cap that is not positive or is over MaxPayloadLimit.
func NewClient(q queue.Producer, s store.Reader, opts ...ClientOption) *Client {
	c := &Client{queue: q, store: s, maxPayload: DefaultMaxPayload}
	for _, o := range opts {
		o.applyClient(c)
	}
	if q == nil {
		panic(configError("NewClient: nil Queue"))
	}
	if c.maxPayload <= 0 || c.maxPayload > MaxPayloadLimit {
		panic(configError("NewClient: MaxPayloadSize(%d): want 1 to MaxPayloadLimit (%d)", c.maxPayload, MaxPayloadLimit))
	}
	return c
}

// EnqueueOption configures one Enqueue.
type EnqueueOption interface{ apply(*enqueueConfig) }

type enqueueConfig struct {
	headers        map[string]string
	unique         string // the key, or uniqueArgs
	uniqueFor      time.Duration
	queue, id      string
	ids            []string
	runAt, expires time.Time
	delay, ttl     time.Duration
	group          string
	orderKey       string
}

type enqueueOptionFunc func(*enqueueConfig)

func (f enqueueOptionFunc) apply(c *enqueueConfig) { f(c) }

// OnQueue puts the task on the named queue (DefaultQueue).
func OnQueue(name string) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.queue = name })
}

// Group puts the task in group key: it waits there, with the tasks of its
// queue and task type enqueued with the same key, until a worker that
// registered the task with RegisterBatch flushes the group into a batch
// (by size, delay or grace). Without such a worker it waits for ever. A
// grouped task keeps its own handle, state, result and events.
func Group(key string) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.group = key })
}

// OrderKey keeps the task in order with the other tasks of key: on a
// queue split into partitions (redisbackend.Queue.SetPartitions), the
// tasks of one key go to one partition, and are handed out in the order
// they were enqueued, as every task of an unsplit queue is. Tasks of
// different keys, or of none, are handed out in no set order between
// them. (Handed out in order, they run in order on a worker of
// concurrency 1; several runners may run them side by side.) It costs
// nothing on a queue of one partition.
func OrderKey(key string) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.orderKey = key })
}

// ID gives the task the caller's ID instead of a random one. An ID the
// queue already knows is refused with ErrDuplicate: enqueueing is then
// idempotent.
func ID(id string) EnqueueOption { return enqueueOptionFunc(func(c *enqueueConfig) { c.id = id }) }

// IDs gives the tasks of an EnqueueMany the caller's IDs, one per task,
// in order: each ID the queue already knows is refused with ErrDuplicate.
func IDs(ids ...string) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.ids = ids })
}

// Headers sets the task's metadata, which middlewares read as
// task.Invocation.Headers: a tenant, a trace context (the OpenTelemetry
// module sets that one itself). The map is copied.
func Headers(h map[string]string) EnqueueOption {
	h = maps.Clone(h)
	return enqueueOptionFunc(func(c *enqueueConfig) { c.headers = keepReserved(c.headers, h) })
}

// UniqueKey makes the task unique by key on its queue: while a task
// enqueued with the same key has not ended, and for at most window (the
// state TTL if 0), the enqueue is refused with a *DuplicateError, and
// returns a handle on the task that holds the key, to follow its outcome
// instead. The key is let go as soon as that task ends, whatever its
// outcome: a success, a failure, a skip, a dead letter.
func UniqueKey(key string, window time.Duration) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.unique, c.uniqueFor = key, window })
}

// uniqueArgs marks UniqueArgs: the key is made of the task and its
// encoded arguments.
const uniqueArgs = "\x00args"

// UniqueArgs is UniqueKey with a key made of the task's name and its
// encoded arguments: one task per set of arguments at a time.
func UniqueArgs(window time.Duration) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.unique, c.uniqueFor = uniqueArgs, window })
}

// Delay runs the task no sooner than d from now.
func Delay(d time.Duration) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.delay = d })
}

// RunAt runs the task no sooner than t.
func RunAt(t time.Time) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.runAt = t })
}

// ExpiresIn makes the task expire if it has not started within d of being
// enqueued (Huey's expires=): middleware.Expires then skips it.
func ExpiresIn(d time.Duration) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.ttl = d })
}

// ExpiresAt makes the task expire if it has not started by t.
func ExpiresAt(t time.Time) EnqueueOption {
	return enqueueOptionFunc(func(c *enqueueConfig) { c.expires = t })
}

// Enqueue puts a run of t with args on c's queue and returns a handle on its
// outcome. The arguments are encoded with t's codec. A duplicate (an ID
// the queue knows, or a unique key another task holds) is refused with a
// *DuplicateError, which matches ErrDuplicate, and the handle returned
// with it follows the task that stands.
func Enqueue[A, R any](ctx context.Context, c *Client, t *task.Task[A, R], args A, opts ...EnqueueOption) (*Handle[R], error) {
	cfg := newEnqueueConfig(opts)
	if cfg.ids != nil {
		return nil, configError("Enqueue: IDs is for EnqueueMany; use ID")
	}
	now := time.Now()
	m, err := message(c, t, &cfg, args, cfg.id, now)
	if err != nil {
		return nil, err
	}
	runAt := cfg.runAtFrom(now)
	if err := c.queue.Enqueue(ctx, m, runAt); err != nil {
		if dup, ok := errors.AsType[*queue.DuplicateError](err); ok && dup.Existing != "" {
			// The task that stands: follow it instead.
			return &Handle[R]{ID: dup.Existing, Queue: m.Queue, client: c, codec: t.Codec()}, err
		}
		return nil, err
	}
	c.enqueued(m, runAt)
	return &Handle[R]{ID: m.ID, Queue: m.Queue, client: c, codec: t.Codec()}, nil
}

// EnqueuePayload puts a run of the task named taskName on c's queue, with
// its arguments encoded already: payload, what the task's codec made of
// them (worker.Enqueue's encoding, as a stored schedule entry keeps it).
// It takes Enqueue's options, and returns the task's ID; a duplicate is
// refused with a *DuplicateError, which matches ErrDuplicate. Enqueue is
// the typed call: use this one where only the task's name is known.
func (c *Client) EnqueuePayload(ctx context.Context, taskName string, payload []byte, opts ...EnqueueOption) (string, error) {
	cfg := newEnqueueConfig(opts)
	switch {
	case cfg.ids != nil:
		return "", configError("EnqueuePayload: IDs is for EnqueueMany; use ID")
	case taskName == "":
		return "", configError("EnqueuePayload: no task name")
	}
	now := time.Now()
	m, err := payloadMessage(c, taskName, &cfg, payload, cfg.id, now)
	if err != nil {
		return "", err
	}
	runAt := cfg.runAtFrom(now)
	if err := c.queue.Enqueue(ctx, m, runAt); err != nil {
		return "", err
	}
	c.enqueued(m, runAt)
	return m.ID, nil
}

// EnqueueMany puts a run of t for each of args on c's queue, as Enqueue
// does with the same options, in one round trip per batch of the backend
// (a script per few hundred tasks, on Redis), and returns a handle for
// each. Give the tasks IDs of your own with IDs.
//
// If some tasks are refused (a duplicate ID), the error is a *ManyError
// whose Errs[i] is the error of args[i], nil for those enqueued, and
// handles[i] follows, for a duplicate, the task that stands. An error that is not a ManyError
// (arguments that do not encode, the backend unavailable) is the whole
// call's, with nil handles: if the backend failed, some tasks may have been
// enqueued, and enqueueing them again under their IDs is safe.
func EnqueueMany[A, R any](ctx context.Context, c *Client, t *task.Task[A, R], args []A, opts ...EnqueueOption) ([]*Handle[R], error) {
	cfg := newEnqueueConfig(opts)
	if cfg.id != "" {
		return nil, configError("EnqueueMany: ID is for Enqueue; use IDs")
	}
	if cfg.ids != nil && len(cfg.ids) != len(args) {
		return nil, configError("EnqueueMany: %d IDs for %d tasks", len(cfg.ids), len(args))
	}
	if len(args) == 0 {
		return []*Handle[R]{}, nil
	}
	now := time.Now()
	ms := make([]*queue.Message, len(args))
	for i, a := range args {
		id := ""
		if cfg.ids != nil {
			id = cfg.ids[i]
		}
		m, err := message(c, t, &cfg, a, id, now)
		if err != nil {
			return nil, fmt.Errorf("task %d: %w", i, err)
		}
		ms[i] = m
	}
	runAt := cfg.runAtFrom(now)
	errs, err := c.queue.EnqueueMany(ctx, ms, runAt)
	if err != nil {
		return nil, err
	}
	hs := make([]*Handle[R], len(ms))
	failed := false
	for i, m := range ms {
		if i < len(errs) && errs[i] != nil {
			failed = true
			if dup, ok := errors.AsType[*queue.DuplicateError](errs[i]); ok && dup.Existing != "" {
				hs[i] = &Handle[R]{ID: dup.Existing, Queue: m.Queue, client: c, codec: t.Codec()}
			}
			continue
		}
		c.enqueued(m, runAt)
		hs[i] = &Handle[R]{ID: m.ID, Queue: m.Queue, client: c, codec: t.Codec()}
	}
	if failed {
		return hs, &ManyError{Errs: errs}
	}
	return hs, nil
}

// ManyError is the outcome of an EnqueueMany that refused some tasks:
// Errs[i] is the error of the i-th, nil if it was enqueued. errors.Is
// matches any of them (ErrDuplicate, say).
type ManyError struct{ Errs []error }

// Error counts the tasks refused and names the first reason.
func (e *ManyError) Error() string {
	n, first := 0, error(nil)
	for _, err := range e.Errs {
		if err != nil {
			if n++; first == nil {
				first = err
			}
		}
	}
	return fmt.Sprintf("worker: %d of %d tasks not enqueued; the first: %v", n, len(e.Errs), first)
}

// Unwrap returns the errors of the tasks refused.
func (e *ManyError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func newEnqueueConfig(opts []EnqueueOption) enqueueConfig {
	cfg := enqueueConfig{queue: queue.Default}
	for _, o := range opts {
		o.apply(&cfg)
	}
	return cfg
}

// QueueOf returns the queue a task enqueued with opts goes to:
// queue.Default unless OnQueue names another.
func QueueOf(opts ...EnqueueOption) string { return newEnqueueConfig(opts).queue }

// runAtFrom is when a task enqueued now runs, by the options.
func (cfg *enqueueConfig) runAtFrom(now time.Time) time.Time {
	runAt := cfg.runAt
	if cfg.delay > 0 && now.Add(cfg.delay).After(runAt) {
		runAt = now.Add(cfg.delay)
	}
	return runAt
}

// message makes the message of a run of t with args, enqueued now.
func message[A, R any](c *Client, t *task.Task[A, R], cfg *enqueueConfig, args A, id string, now time.Time) (*queue.Message, error) {
	payload, err := t.Encode(args)
	if err != nil {
		return nil, fmt.Errorf("worker: enqueue %s: arguments do not encode: %w", t.Name(), err)
	}
	return payloadMessage(c, t.Name(), cfg, payload, id, now)
}

// payloadMessage makes the message of a run of the task named name with
// its arguments encoded as payload, enqueued now.
func payloadMessage(c *Client, name string, cfg *enqueueConfig, payload []byte, id string, now time.Time) (*queue.Message, error) {
	if len(payload) > c.maxPayload {
		return nil, fmt.Errorf("worker: enqueue: %w", &task.TooLargeError{What: "arguments of " + name, Size: len(payload), Max: c.maxPayload})
	}
	m := &queue.Message{ID: id, Task: name, Queue: cfg.queue, Payload: payload, EnqueuedAt: now, ExpiresAt: cfg.expires, Attempt: 1,
		Headers: cfg.headers, Unique: cfg.unique, UniqueFor: cfg.uniqueFor, Group: cfg.group,
		OrderKey: cfg.orderKey}
	if cfg.unique == uniqueArgs {
		sum := sha256.Sum256(payload)
		m.Unique = name + ":" + hex.EncodeToString(sum[:16])
	}
	if m.ID == "" {
		m.ID = randid.New()
	}
	if cfg.ttl > 0 && (m.ExpiresAt.IsZero() || now.Add(cfg.ttl).Before(m.ExpiresAt)) {
		m.ExpiresAt = now.Add(cfg.ttl)
	}
	return m, nil
}

// enqueued publishes the EventEnqueued of m.
func (c *Client) enqueued(m *queue.Message, runAt time.Time) {
	if c.events.on() {
		c.events.publish(&Event{Kind: EventEnqueued, Task: m.Task, Queue: m.Queue, ID: m.ID, Attempt: 1,
			At: m.EnqueuedAt, RunAt: runAt})
	}
}

// HandleOf returns a handle on the task of t with the given ID on queue:
// to read an outcome from another process than the one that enqueued it.
func HandleOf[A, R any](c *Client, t *task.Task[A, R], queueName, id string) *Handle[R] {
	return &Handle[R]{ID: id, Queue: queueName, client: c, codec: t.Codec()}
}

// Handle is a task's outcome, to come. It is safe for concurrent use.
type Handle[R any] struct {
	ID, Queue string
	client    *Client
	codec     task.Codec
}

// Get waits for the task's outcome and returns its result, or its error: a
// failure matches its kind (lock.ErrLocked, context.DeadlineExceeded, ...),
// a skip matches task.ErrSkipped and its reason's kind
// (middleware.ErrExpired, say), and a dead letter matches ErrDeadLettered
// and the kind of its reason.
//
// Get waits for the task to end in its queue: every run a worker ends
// leaves the task's state there, stored result or not, so a task that
// stores nothing (a skip, a filtered error, a chain without StoreResult)
// ends Get too, with a zero result. The state says whether a result was
// stored, and the worker wrote it before the state, so Get then reads it
// without waiting. If the worker's write of the result failed, Get returns
// an error matching store.ErrNotStored (and the task's failure, if it
// failed); if the record has expired since, one matching
// store.ErrNotFound. Get never waits for a task that has ended, nor for an
// ID the queue does not know; it waits, while ctx lets it, for one that has
// not ended.
func (h *Handle[R]) Get(ctx context.Context) (R, error) {
	st, err := h.client.queue.Wait(ctx, h.Queue, h.ID)
	if err != nil {
		var zero R
		return zero, err
	}
	return h.outcome(ctx, st)
}

// TryGet returns the outcome if the task has one, and an error matching
// ErrNotReady if not, without waiting.
func (h *Handle[R]) TryGet(ctx context.Context) (R, error) {
	st, err := h.client.queue.State(ctx, h.Queue, h.ID)
	if err != nil {
		var zero R
		return zero, err
	}
	if !st.Status.Terminal() {
		var zero R
		return zero, fmt.Errorf("worker: task %s is %s: %w", h.ID, st.Status, ErrNotReady)
	}
	return h.outcome(ctx, st)
}

// outcome is the result of an ended task: its stored record, if the state
// says there is one, or else the state's own outcome.
func (h *Handle[R]) outcome(ctx context.Context, st *queue.State) (R, error) {
	var zero R
	switch {
	case st.Result == queue.ResultLost:
		lost := fmt.Errorf("worker: the outcome of %s was not stored: %w", h.ID, store.ErrNotStored)
		return zero, errors.Join(st.Err(), lost)
	case h.client.store == nil || st.Result == queue.NoResult && st.Status != queue.Succeeded:
		return zero, st.Err()
	}
	rec, err := h.client.store.Get(ctx, h.Queue, h.ID)
	if st.Result == queue.NoResult && errors.Is(err, store.ErrNotFound) {
		// A success with nothing stored (SkipNilResults, no StoreResult).
		// A store that cannot defer its writes (store.FinalPutter) wrote
		// during the run, unbeknown to the queue: hence the look.
		return zero, nil
	}
	if err != nil {
		return zero, err
	}
	if err := rec.Err(); err != nil {
		if st.Status == queue.Dead {
			return zero, &queue.DeadLetterError{ID: h.ID, Reason: err}
		}
		return zero, err
	}
	var r R
	if len(rec.Value) == 0 {
		return r, nil
	}
	if err := h.codec.Unmarshal(rec.Value, &r); err != nil {
		return r, fmt.Errorf("worker: result of %s does not decode: %w", h.ID, err)
	}
	return r, nil
}

// State returns what the queue knows of the task now.
func (h *Handle[R]) State(ctx context.Context) (*queue.State, error) {
	return h.client.queue.State(ctx, h.Queue, h.ID)
}

// Cancel cancels task id of queue name: one that has not run (delayed, or
// ready) never runs; one a worker holds has its run's context cancelled
// with cause queue.ErrCanceled, across processes, and ends as canceled if
// the run stops for it; either way it is not retried. Its handles then
// return an error matching queue.ErrCanceled. A task that has ended is left
// as it ended (queue.CancelTooLate); an unknown one is an error matching
// queue.ErrNotFound.
func (c *Client) Cancel(ctx context.Context, name, id string) (queue.CancelOutcome, error) {
	out, err := c.queue.Cancel(ctx, name, id)
	if err == nil && out == queue.CancelDone && c.events.on() {
		e := Event{Kind: EventCanceled, Queue: name, ID: id, Attempt: 1, At: time.Now(), Err: queue.ErrCanceled}
		if st, err := c.queue.State(ctx, name, id); err == nil {
			e.Task, e.Attempt = st.Task, max(st.Attempt, 1)
		}
		c.events.publish(&e)
	}
	return out, err
}

// Cancel cancels the task (see Client.Cancel).
func (h *Handle[R]) Cancel(ctx context.Context) (queue.CancelOutcome, error) {
	return h.client.Cancel(ctx, h.Queue, h.ID)
}
