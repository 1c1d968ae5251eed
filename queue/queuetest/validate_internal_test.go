package queuetest

import (
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/queue"
)

// Run refuses a Backend it cannot check a backend with, saying why.
func TestValidate(t *testing.T) {
	m := memorybackend.New()
	ok := Backend{Queue: m.Queue(), Store: m.Store(), Locker: m.Locker(), StateTTL: 3 * time.Second}
	advance := func(time.Duration) {}
	for _, tc := range []struct {
		name string
		edit func(b *Backend)
		want string // in the error; "" for none
	}{
		{"on the wall clock, 3s", func(*Backend) {}, ""},
		{"with a clock, a day and an hour", func(b *Backend) { b.Advance, b.StateTTL = advance, 25*time.Hour }, ""},
		{"no queue", func(b *Backend) { b.Queue = nil }, "needs a Queue"},
		{"no store", func(b *Backend) { b.Store = nil }, "needs a Queue, a Store"},
		{"no locker", func(b *Backend) { b.Locker = nil }, "a Locker"},
		{"no state TTL", func(b *Backend) { b.StateTTL = 0 }, "not the default"},
		{"the default state TTL", func(b *Backend) { b.Advance, b.StateTTL = advance, queue.DefaultStateTTL }, "not the default"},
		{"too long to wait out", func(b *Backend) { b.StateTTL = time.Minute }, "between 2s and 10s"},
		{"too short to read states", func(b *Backend) { b.StateTTL = time.Second }, "between 2s and 10s"},
	} {
		b := ok
		tc.edit(&b)
		err := b.validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: validate = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
