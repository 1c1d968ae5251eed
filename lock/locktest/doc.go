// Package locktest is the conformance suite of lock.Locker and
// lock.Inspector: every promise a locker makes, checked on one backend.
// Both of taskware's backends pass it (memorybackend, and redisbackend on
// miniredis and on a real Redis); call [Run] from a test of your own
// locker's package:
//
//	func TestLockerConformance(t *testing.T) {
//		locktest.Run(t, func(t *testing.T) locktest.Backend {
//			l := mylocker.New(mylocker.Holder("test"))
//			return locktest.Backend{Locker: l, Holder: "test", Advance: l.Clock().Advance}
//		})
//	}
//
// Each promise is a subtest with a stable name ("Release/OnlyOwner",
// "TTL/CrashedHolderFreed"), on a locker of its own: a lease is owned (only
// the holder of its whole token releases or refreshes it), expires with
// its TTL unless refreshed, carries a fence that grows with every lease of
// its key, names the task run it was taken for, and shows in Held until it
// is released, broken or expired. A release sent again by its owner
// succeeds, as a call resent after a lost reply must.
//
// A locker on its own clock gives Advance, and the suite moves it past
// TTLs at once; one on the wall clock (a real Redis) leaves it nil, and
// the suite waits out TTLs of hundreds of milliseconds.
//
// The suite imports only the contracts (lock, task): no backend.
package locktest
