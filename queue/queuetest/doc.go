// Package queuetest is the conformance suite of queue.Queue: every promise
// of the contract, checked on one backend. Both of taskware's backends
// pass it (memorybackend, and redisbackend on miniredis and on a real
// Redis), and a backend of your own is ready when it does too: implement
// the one interface, queue.Queue, and call [Run] from a test:
//
//	func TestConformance(t *testing.T) {
//		queuetest.Run(t, func(t *testing.T) queuetest.Backend {
//			b := mybackend.New(mybackend.StateTTL(90 * time.Minute))
//			return queuetest.Backend{Queue: b.Queue(), Store: b.Store(), Locker: b.Locker(),
//				StateTTL: 90 * time.Minute, Advance: b.Clock().Advance}
//		})
//	}
//
// Each promise is a subtest with a stable name, "Finish/RetryKeepsFailureRecord"
// or "ExpiresAt/Before1970", so that a backend fails at a named point:
// `go test -run 'TestConformance/ExpiresAt'` runs that part alone.
//
// The suite covers what a user relies on: a message comes back as it went
// in (its deadline too, whenever it is); every status, kind and count
// reads the same; Finish makes a run's deferred writes (a result record, a
// lock release) whatever the outcome, one that sends the task back to wait
// included, and the state says the result is stored; TTLs follow the
// backend's state TTL, for states and for unique keys without a window of
// their own.
//
// # As if sent once
//
// A backend may run a call whose reply it lost, and run it again. The
// suite checks, at the contract, that a call made twice answers as if it
// was made once:
//
//   - Enqueue: the second is a duplicate of the first (queue.ErrDuplicate,
//     naming the task), and adds nothing. So is each message of an
//     EnqueueMany sent again.
//   - Take: what a Take handed out stays taken by its consumer, though
//     the reply never arrived: it is counted and listed as running, never
//     handed to another Take, and recovered when its claim goes idle.
//     Nothing is lost, nothing handed out twice.
//   - Finish: the second returns no error and changes nothing: not the
//     state, the counts, the delayed set or the dead letters, and its
//     result writes are not made. (A finish of a delivery that Recover
//     took over changes nothing either, but returns an error matching
//     queue.ErrSuperseded: it was not this delivery's finish that ended
//     the task.)
//   - Cancel: the second says too late (the first ended the task) or sent
//     (a worker still holds it), never an error, and the cancel counts once.
//   - RequeueDead and PurgeDead: the second finds nothing more to do and
//     returns nothing requeued, nothing purged.
//   - Pause and Resume: the second changes nothing.
//   - PutSchedule of the entry stored already, and PauseSchedule of an
//     entry paused (or resumed) already: the second changes nothing, not
//     the entry's Since, not the version. ScheduleSince answers the same.
//   - RemoveSchedule: a second remove of the caller's finds nothing
//     (queue.ErrNotFound); the Redis backend tells the remove it sent
//     again apart by its nonce, and answers it nil.
//
// For Cancel, RequeueDead and PurgeDead, a second call of the caller's is
// not the first sent again: the first gets the answer of a single call
// ("canceled", the IDs requeued, the count deleted), the second the
// answers above. A backend that may send a call again tells the two apart
// (the Redis backend by a nonce per call, kept with the answer) and gives
// the call sent again the first answer. The suite cannot lose a reply: it
// checks the two calls; the fault suite (TestFaultResentCalls) checks the
// call sent again, on Redis.
//
// # Workflows
//
// The Workflow group enqueues workflows that it builds by hand (chains, a
// diamond, a fan-in of 25) and plays the worker: it takes each step
// released, and finishes it with the outcome a promise needs. Each take
// must hand out exactly the steps expected, so a step released twice, or
// before its last parent ended, fails at once. It checks that a finish
// sent again, or superseded, releases nothing and counts no parent twice;
// that a failure cancels the steps not started, and a retry reopens them;
// that skips follow each child's policy; and that an ended workflow's
// record and steps follow the state TTL.
//
// # Time
//
// A backend with a clock of its own gives Advance, and the suite moves it
// past TTLs at once. One on the wall clock (a real Redis) leaves it nil,
// with a state TTL of a few seconds: the suite then sleeps through it.
// Claims are timed on the wall clock in any case, with idle times of
// about a second.
//
// The suite imports only the contracts (queue, task, store, lock): no
// backend, and not the executor.
package queuetest
