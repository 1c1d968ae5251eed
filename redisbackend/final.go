package redisbackend

import "context"

// finalOp is a deferred write of this backend: a lock's release, or a
// record's SET and PUBLISH. The backend's Queue makes a release in the
// script that ends the task (beside it, on a Cluster), and writes a record
// of that task in the script itself, after the XACK that says the delivery
// is still the one to end it; Apply sends either on its own.
type finalOp struct {
	b   *Backend
	ops [2]op
	n   int
	// For a release: the lock's key and the lease's token.
	lockKey, token *string
	// For a record: its task, its key, encoded value and TTL.
	queue, id, result, value string
	ttlMs                    int64
}

// Apply sends the write in one round trip, and returns its error. A
// release of a lease no longer held is not one: the lock is free.
func (f *finalOp) Apply(ctx context.Context) error {
	ops := f.ops[:f.n]
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
