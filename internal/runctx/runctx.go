package runctx

import "context"

// Key is the context key under which a run's invocation is found.
type Key struct{}

// Context is a context that carries Inv under Key: its parent with Inv on
// top. Use it by pointer (a value in a context.Context interface is a
// copy, and an allocation). Deadlines, cancellation, causes and every
// other value come from Context, which must not be nil; contexts derived
// from it (context.WithValue, WithCancel, WithTimeout, WithoutCancel) keep
// Inv, without a goroutine of their own.
type Context[T any] struct {
	context.Context
	Inv T
}

// Value returns c.Inv for Key, and asks the parent for any other key.
func (c *Context[T]) Value(key any) any {
	if _, ok := key.(Key); ok {
		return c.Inv
	}
	return c.Context.Value(key)
}
