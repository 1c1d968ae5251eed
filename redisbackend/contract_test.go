package redisbackend_test

import (
	"testing"

	"github.com/taskware/taskware/lock/locktest"
	"github.com/taskware/taskware/redisbackend"
	"github.com/taskware/taskware/store/storetest"
	"github.com/taskware/taskware/taskwaretest"
)

// eachKit runs fn over the kit's Redis backends, a real Redis skipped at
// once without one (unless TASKWARE_REQUIRE_REDIS=1).
func eachKit(t *testing.T, fn func(t *testing.T, name string)) {
	for _, name := range []string{"miniredis", "redis"} {
		t.Run(name, func(t *testing.T) {
			if name == "redis" {
				taskwaretest.Redis(t)
			}
			fn(t, name)
		})
	}
}

// The Redis locker keeps every promise of lock.Locker and lock.Inspector.
func TestLockerConformance(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		locktest.Run(t, func(t *testing.T) locktest.Backend {
			kb := taskwaretest.New(t, name)
			b := redisbackend.New(kb.Client, redisbackend.Prefix(kb.Prefix()), redisbackend.Holder("conformance"))
			lb := locktest.Backend{Locker: b.Locker(), Holder: "conformance"}
			if !kb.Real {
				lb.Advance = kb.Advance
			}
			return lb
		})
	})
}

// The Redis store keeps every promise of store.Store.
func TestStoreConformance(t *testing.T) {
	eachKit(t, func(t *testing.T, name string) {
		storetest.Run(t, func(t *testing.T) storetest.Backend {
			kb := taskwaretest.New(t, name)
			sb := storetest.Backend{Store: kb.Redis.Store()}
			if !kb.Real {
				sb.Advance = kb.Advance
			}
			return sb
		})
	})
}
