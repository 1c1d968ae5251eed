package memorybackend_test

import (
	"testing"

	"github.com/taskware/taskware/lock/locktest"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/store/storetest"
)

// The memory locker keeps every promise of lock.Locker and lock.Inspector.
func TestLockerConformance(t *testing.T) {
	locktest.Run(t, func(t *testing.T) locktest.Backend {
		b, c := newBackend(memorybackend.Holder("conformance"))
		return locktest.Backend{Locker: b.Locker(), Holder: "conformance", Advance: c.Advance}
	})
}

// The memory store keeps every promise of store.Store.
func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		b, c := newBackend()
		return storetest.Backend{Store: b.Store(), Advance: c.Advance}
	})
}
