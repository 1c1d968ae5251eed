package task

import (
	"context"
	"fmt"
	"time"

	"github.com/taskware/taskware/internal/randid"
)

// Task is a typed function with its middleware chain, built once by New.
// A Task is safe for concurrent use.
type Task[A, R any] struct {
	name  string
	codec Codec
	mws   []Middleware
	inner Func // fn, untyped, without the chain
	run   Func
}

// Option configures a task beyond its name, function and middlewares.
type Option interface{ apply(*config) }

type config struct {
	codec Codec
	mws   []Middleware
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithCodec encodes the task's arguments and results with c instead of JSON.
func WithCodec(c Codec) Option { return optionFunc(func(cfg *config) { cfg.codec = c }) }

// WithMiddleware sets the task's chain, the first outermost.
func WithMiddleware(mws ...Middleware) Option {
	return optionFunc(func(cfg *config) { cfg.mws = append(cfg.mws, mws...) })
}

// New defines a task named name that runs fn through the chain mws, the first
// middleware outermost. The chain is built here, once. New panics with an
// error matching ErrInvalidConfig if name is empty or fn is nil: that is a
// wiring mistake, caught at start-up.
func New[A, R any](name string, fn func(context.Context, A) (R, error), mws ...Middleware) *Task[A, R] {
	return NewWithOptions(name, fn, WithMiddleware(mws...))
}

// NewWithOptions is New with options: a codec other than JSON, say.
func NewWithOptions[A, R any](name string, fn func(context.Context, A) (R, error), opts ...Option) *Task[A, R] {
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	if name == "" {
		panic(fmt.Errorf("%w: task.New: empty name", ErrInvalidConfig))
	}
	if fn == nil {
		panic(fmt.Errorf("%w: task.New(%q): nil function", ErrInvalidConfig, name))
	}
	t := &Task[A, R]{name: name, codec: cfg.codec, mws: cfg.mws}
	if t.codec == nil {
		t.codec = JSON
	}
	t.inner = func(ctx context.Context, inv *Invocation) (any, error) {
		a, ok := inv.Args.(A)
		if !ok {
			// Args was set by someone other than bind, to the wrong type.
			return nil, &PayloadError{Task: name, Err: fmt.Errorf("arguments are %T, want %T", inv.Args, a)}
		}
		return fn(ctx, a)
	}
	t.run = t.FuncWith(cfg.mws...)
	return t
}

// Middleware returns the task's own chain, as given to New.
func (t *Task[A, R]) Middleware() []Middleware { return t.mws }

// FuncWith builds the task's function with mws instead of its own chain:
// how a worker applies its default chain to a task that has none. Call it
// once, when registering, not per run.
func (t *Task[A, R]) FuncWith(mws ...Middleware) Func {
	return t.bind(Chain(mws...)(t.inner))
}

// bind is outermost: it decodes the payload (or, for a workflow step,
// builds the arguments from its inputs) and sets the codec before any
// middleware runs, so that middlewares can see the arguments.
func (t *Task[A, R]) bind(next Func) Func {
	return func(ctx context.Context, inv *Invocation) (any, error) {
		if inv.Codec == nil {
			inv.Codec = t.codec
		}
		if inv.Args == nil {
			var a A
			if inv.Bind != BindNone { // a workflow step: from its parents' outcomes
				if err := bindInputs(inv, &a); err != nil {
					return nil, &PayloadError{Task: t.name, Err: err}
				}
			} else if len(inv.Payload) > 0 {
				if err := inv.Codec.Unmarshal(inv.Payload, &a); err != nil {
					return nil, &PayloadError{Task: t.name, Err: err}
				}
			}
			inv.Args = a
		}
		return next(ctx, inv)
	}
}

// Name returns the task's name.
func (t *Task[A, R]) Name() string { return t.name }

// Codec returns the codec of the task's arguments and results.
func (t *Task[A, R]) Codec() Codec { return t.codec }

// Func returns the composed, untyped chain. It decodes inv.Payload into an A
// unless inv.Args is already set. Workers run tasks through it.
func (t *Task[A, R]) Func() Func { return t.run }

// Call runs the task in-process through its chain, as a new invocation with a
// fresh ID, enqueued now, attempt 1, on the wall clock. Nothing requeues
// it (its CanRequeue is false), even when ctx is a worker's run's: a retry
// policy waits and runs it again in-process.
func (t *Task[A, R]) Call(ctx context.Context, args A) (R, error) {
	ctx, inv := newInProcess(ctx, Invocation{
		ID:         randid.New(),
		Name:       t.name,
		EnqueuedAt: time.Now(),
		Attempt:    1,
		Args:       args,
	})
	return t.invoke(ctx, inv)
}

// Invoke runs inv through the task's chain and returns the typed result. It
// sets inv.Name to the task's name. Use it when the caller chooses the ID,
// the enqueue time or the clock, or honours a requeue (CanRequeue); Call
// fills in the first two, and does not requeue.
func (t *Task[A, R]) Invoke(ctx context.Context, inv *Invocation) (R, error) {
	inv.Name = t.name
	return t.invoke(WithInvocation(ctx, inv), inv)
}

// invoke runs inv under ctx, which carries it (InvocationFrom).
func (t *Task[A, R]) invoke(ctx context.Context, inv *Invocation) (R, error) {
	v, err := t.run(ctx, inv)
	r, _ := v.(R)
	return r, err
}

// Encode encodes args with the task's codec, for a payload.
func (t *Task[A, R]) Encode(args A) ([]byte, error) { return t.codec.Marshal(args) }
