package redisbackend

import "context"

// finalOp is a deferred write of this backend: a lock's release, or a
// record's SET and PUBLISH. The backend's Queue sends it in the pipeline
// that ends the task; Apply sends it on its own.
type finalOp struct {
	b   *Backend
	ops [2]op
	n   int
	// result is the record's key, for a result write.
	result string
}

// Apply sends the write in one round trip, and returns its error. A
// release of a lease no longer held is not one: the lock is free.
func (f *finalOp) Apply(ctx context.Context) error {
	ops := f.ops[:f.n]
	f.b.exec(ctx, ops)
	for _, o := range ops {
		if err := o.cmd.Err(); err != nil {
			return unavailable(ctx, err)
		}
	}
	return nil
}
