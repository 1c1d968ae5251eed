package redisbackend

import "context"

// finalOp is a deferred write of this backend: a lock's release, or a
// record's SET and PUBLISH. The backend's Queue sends a release in the
// pipeline that ends the task, and writes a record of that task in the
// ending script itself, after the XACK that says the delivery is still the
// one to end it; Apply sends either on its own.
type finalOp struct {
	b   *Backend
	ops [2]op
	n   int
	// For a record: its key, encoded value, TTL and notice.
	result, notice string
	value          []byte
	ttlMs          int64
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
