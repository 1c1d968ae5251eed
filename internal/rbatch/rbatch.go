// Package rbatch lets the last writes of a task run share one round trip.
//
// A worker puts a Batch in the run's context. Redis-backed packages that
// find a Batch for their own client add their final command to it instead
// of sending it (the lock's release, the result's write), and the worker
// sends them in one pipeline with its acknowledgement of the task.
// Deferred scripts go as EVALSHA with their body alongside: Exec sends
// those that the server no longer has cached again, as EVAL.
package rbatch

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/taskware/taskware/internal/rscript"
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
	// Src is the script's body, if Cmd is an EVALSHA.
	Src string
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

// Defer adds op to ctx's batch if it has one for client, and reports
// whether it did. The caller then must not wait for the command's reply.
func Defer(ctx context.Context, client redis.UniversalClient, op Op) bool {
	b, _ := ctx.Value(ctxKey{}).(*Batch)
	if b == nil || b.client != client {
		return false
	}
	b.Ops = append(b.Ops, op)
	return true
}

// Exec sends ops to client in one pipeline, then sends again, as EVAL, any
// EVALSHA the server did not have cached, replacing its Cmd. Read each op's
// outcome from its Cmd.
func Exec(ctx context.Context, client redis.UniversalClient, ops []Op) {
	pipe := client.Pipeline()
	for _, op := range ops {
		_ = pipe.Process(ctx, op.Cmd)
	}
	_, _ = pipe.Exec(ctx)
	for i, op := range ops {
		if op.Src != "" && rscript.NoScript(op.Cmd) {
			cmd := rscript.AsEval(ctx, op.Src, op.Cmd)
			_ = client.Process(ctx, cmd)
			ops[i].Cmd = cmd
		}
	}
}

// From returns ctx's batch, or nil.
func From(ctx context.Context) *Batch {
	b, _ := ctx.Value(ctxKey{}).(*Batch)
	return b
}
