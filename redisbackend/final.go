package redisbackend

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// finalOp is a deferred write of this backend: a lock's release, or a
// record's SET and PUBLISH. The backend's Queue makes a release in the
// script that ends the task (beside it, on a Cluster), and writes a record
// of that task in the script itself, after the XACK that says the delivery
// is still the one to end it; Apply sends either on its own.
type finalOp struct {
	b *Backend
	// For a release: the lock's key and the lease's token.
	lockKey, token *string
	// For a record: its task, encoded value and TTL.
	queue, id, value string
	ttlMs            int64
}

// Apply sends the write in one round trip, and returns its error. A
// release of a lease no longer held is not one: the lock is free.
func (f *finalOp) Apply(ctx context.Context) error {
	var ops []op
	if f.lockKey != nil {
		ops = []op{scriptOp(releaseScript, []any{argEvalSHA, releaseScript.sha, argOneKey, f.lockKey, f.token})}
	} else {
		ops = []op{
			{cmd: redis.NewStatusCmd(context.Background(), "set", f.b.keys.result(f.queue, f.id), &f.value, "px", &f.ttlMs)},
			{cmd: redis.NewIntCmd(context.Background(), "publish", f.b.channelArg, resultNotice(f.queue, f.id))},
		}
	}
	if err := f.b.batch.do(ctx, ops); err != nil {
		return err
	}
	for _, o := range ops {
		if err := o.cmd.Err(); err != nil {
			return unavailable(ctx, err)
		}
	}
	return nil
}
