// Package storetest is the conformance suite of store.Store and
// store.FinalPutter: every promise a result store makes, checked on one
// backend. Both of taskware's backends pass it (memorybackend, and
// redisbackend on miniredis and on a real Redis); call [Run] from a test
// of your own store's package:
//
//	func TestStoreConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Backend {
//			s := mystore.New()
//			return storetest.Backend{Store: s, Advance: s.Clock().Advance}
//		})
//	}
//
// Each promise is a subtest with a stable name ("Put/Replaces",
// "TTL/Expires"), on a store of its own: a record comes back as it was
// put, keyed by queue and ID; a Put replaces it whole; every record
// expires with its TTL; a failure keeps its kind; List is sorted; Wait
// returns when the record is put, and a deferred put writes nothing until
// it is applied.
//
// A store on its own clock gives Advance, and the suite moves it past
// TTLs at once; one on the wall clock (a real Redis) leaves it nil, and
// the suite waits out TTLs of hundreds of milliseconds.
//
// The suite imports only the contracts (store, queue, lock, task): no
// backend.
package storetest
