package taskotel

import (
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskware/taskware/task"
)

// ScopeName is the instrumentation scope of the tracers this package gets
// from its tracer provider.
const ScopeName = "github.com/taskware/taskware/contrib/otel"

// Option configures Producer and Middleware.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTracerProvider makes the spans with tp instead of the global
// provider (otel.GetTracerProvider). A nil tp panics, when the option is
// used, with an error matching task.ErrInvalidConfig.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp == nil {
			c.fail("WithTracerProvider: nil TracerProvider")
		}
		c.tp = tp
	})
}

// WithPropagator carries span contexts in message headers with p instead
// of the global propagator (otel.GetTextMapPropagator). Producer and
// Middleware must use the same one. A nil p panics, when the option is
// used, with an error matching task.ErrInvalidConfig.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p == nil {
			c.fail("WithPropagator: nil TextMapPropagator")
		}
		c.prop = p
	})
}

// WithAttributes adds attrs to every span made: the service's own facts,
// say. It has no effect on the attributes this package sets.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	attrs = append([]attribute.KeyValue(nil), attrs...)
	return optionFunc(func(c *config) { c.attrs = append(c.attrs, attrs...) })
}

// NewRoot makes Middleware start each consumer span as the root of a trace
// of its own, linked to the producer span, instead of as its child (the
// default). Use it when runs happen long after their enqueue (delayed or
// scheduled tasks) or when one request enqueues many tasks, so that the
// request's trace stays small. Producer ignores it.
func NewRoot() Option { return optionFunc(func(c *config) { c.newRoot = true }) }

type config struct {
	tp      trace.TracerProvider
	prop    propagation.TextMapPropagator
	attrs   []attribute.KeyValue
	newRoot bool
	err     error
}

func (c *config) fail(msg string) {
	if c.err == nil {
		c.err = newConfigError(msg)
	}
}

func newConfigError(msg string) error {
	return fmt.Errorf("%w: taskotel: %s", task.ErrInvalidConfig, msg)
}

// newConfig applies opts over the defaults, and panics with an error
// matching task.ErrInvalidConfig on a nil or invalid option.
func newConfig(caller string, opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		if o == nil {
			c.fail(caller + ": nil Option")
			continue
		}
		o.apply(c)
	}
	if c.err != nil {
		panic(c.err)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.prop == nil {
		c.prop = otel.GetTextMapPropagator()
	}
	return c
}

func (c *config) tracer() trace.Tracer { return c.tp.Tracer(ScopeName) }
