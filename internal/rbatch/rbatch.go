// Package rbatch lets the last writes of a task run share one round trip.
//
// A worker puts a Batch in the run's context. Redis-backed packages that
// find a Batch for their own client add their final command to it instead
// of sending it (the lock's release, the result's write), and the worker
// sends them in one pipeline with its acknowledgement of the task.
// Deferred commands are sent as EVAL, with the script's body, so that a
// server that lost its script cache cannot fail them.
package rbatch

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Kind says what a deferred command does, so that the worker can tell them
// apart (it drops result writes of a run cut short by shutdown).
type Kind int

const (
	// Release frees a lock.
	Release Kind = iota
	// Result writes a task's outcome.
	Result
)

// Op is one deferred command.
type Op struct {
	Kind Kind
	Cmd  redis.Cmder
}

// Batch collects the deferred commands of one run. It belongs to the run.
type Batch struct {
	client redis.UniversalClient
	Ops    []Op
}

// New returns an empty batch for commands meant for client.
func New(client redis.UniversalClient) *Batch { return &Batch{client: client} }

// Client is the client the batch's commands are for.
func (b *Batch) Client() redis.UniversalClient { return b.client }

// Has reports whether the batch holds a command of kind k.
func (b *Batch) Has(k Kind) bool {
	for _, op := range b.Ops {
		if op.Kind == k {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// With returns ctx carrying b.
func With(ctx context.Context, b *Batch) context.Context { return context.WithValue(ctx, ctxKey{}, b) }

// Wants reports whether ctx has a batch for client.
func Wants(ctx context.Context, client redis.UniversalClient) bool {
	b, _ := ctx.Value(ctxKey{}).(*Batch)
	return b != nil && b.client == client
}

// Defer adds cmd to ctx's batch if it has one for client, and reports
// whether it did. The caller then must not wait for cmd's reply.
func Defer(ctx context.Context, client redis.UniversalClient, k Kind, cmd redis.Cmder) bool {
	b, _ := ctx.Value(ctxKey{}).(*Batch)
	if b == nil || b.client != client {
		return false
	}
	b.Ops = append(b.Ops, Op{Kind: k, Cmd: cmd})
	return true
}

// From returns ctx's batch, or nil.
func From(ctx context.Context) *Batch {
	b, _ := ctx.Value(ctxKey{}).(*Batch)
	return b
}
