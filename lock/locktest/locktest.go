package locktest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/suite"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/task"
)

// Backend is what the suite needs of a backend: its locker, made fresh
// for every subtest, with no lock held.
type Backend struct {
	// Locker is the locker under test.
	Locker Locker
	// Holder is the holder the locker records with each lock (see
	// lock.Info).
	Holder string
	// Advance moves the locker's clock d ahead: TTLs run out d sooner.
	// Nil if the locker runs on the wall clock only (a real Redis): the
	// suite then waits, with TTLs of hundreds of milliseconds.
	Advance func(d time.Duration)
}

// Locker is a locker that shows and breaks its locks.
type Locker interface {
	lock.Locker
	lock.Inspector
}

// promise is one subtest: a promise, or, with Cases, a group of them.
type promise = suite.Promise[*tester]

func promises() []promise {
	return []promise{
		{Name: "Acquire", Cases: []promise{
			{Name: "Lease", Check: acquireLease},
			{Name: "HeldByAnother", Check: heldByAnother},
			{Name: "KeysApart", Check: keysApart},
			{Name: "OwnerTask", Check: ownerTask},
			{Name: "BadArguments", Check: badArguments},
		}},
		{Name: "Release", Cases: []promise{
			{Name: "OnlyOwner", Check: onlyOwner},
			{Name: "Frees", Check: releaseFrees},
			{Name: "Twice", Check: releaseTwice},
		}},
		{Name: "TTL", Cases: []promise{
			{Name: "CrashedHolderFreed", Check: crashedHolder},
			{Name: "RefreshRenews", Check: refreshRenews},
		}},
		{Name: "Fence", Cases: []promise{
			{Name: "Increases", Check: fenceIncreases},
		}},
		{Name: "Held", Cases: []promise{
			{Name: "Lists", Check: heldLists},
		}},
		{Name: "Break", Cases: []promise{
			{Name: "FreesAndHolderLoses", Check: breakFrees},
		}},
	}
}

// Run runs every promise of lock.Locker and lock.Inspector as a subtest
// of t, each on a backend newBackend makes for it, and named after the
// promise: "Release/OnlyOwner", say.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Helper()
	suite.Run(t, promises(), func(t *testing.T) *tester {
		b := newBackend(t)
		if b.Locker == nil || b.Holder == "" {
			t.Fatal("locktest: the Backend needs a Locker, and the Holder it records")
		}
		return &tester{T: t, b: b, l: b.Locker}
	})
}

// tester is one subtest, on its own backend.
type tester struct {
	*testing.T
	b Backend
	l Locker
}

// advance moves the locker's clock d ahead, or lets d pass.
func (t *tester) advance(d time.Duration) {
	if t.b.Advance != nil {
		t.b.Advance(d)
		return
	}
	time.Sleep(d)
}

// ttl is a TTL the suite can wait out: an hour on a locker's own clock,
// 600ms in real time (room for a loaded machine at half of it).
func (t *tester) ttl() time.Duration {
	if t.b.Advance == nil {
		return 600 * time.Millisecond
	}
	return time.Hour
}

func (t *tester) acquire(key string, ttl time.Duration) *lock.Lease {
	t.Helper()
	l, err := t.l.TryAcquire(t.Context(), key, ttl)
	if err != nil {
		t.Fatalf("TryAcquire(%q, %v): %v", key, ttl, err)
	}
	return l
}

func (t *tester) release(l *lock.Lease) {
	t.Helper()
	if err := t.l.Release(t.Context(), l); err != nil {
		t.Fatalf("Release(%q): %v", l.Key, err)
	}
}

// locked fails t unless an acquire of key is refused with a *LockedError,
// and returns it.
func (t *tester) locked(key string) *lock.LockedError {
	t.Helper()
	l, err := t.l.TryAcquire(t.Context(), key, time.Minute)
	le, ok := errors.AsType[*lock.LockedError](err)
	if !ok || !errors.Is(err, lock.ErrLocked) || task.KindOf(err) != "lock.locked" {
		t.Fatalf("TryAcquire(%q) = %+v, %v; want a *lock.LockedError of kind lock.locked", key, l, err)
	}
	return le
}

// notHeld fails t unless err says the lease of key is not held.
func (t *tester) notHeld(what, key string, err error) {
	t.Helper()
	nh, ok := errors.AsType[*lock.NotHeldError](err)
	if !ok || !errors.Is(err, lock.ErrNotHeld) || nh.Key != key || task.KindOf(err) != "lock.not_held" {
		t.Fatalf("%s: %v; want a *lock.NotHeldError of %q, of kind lock.not_held", what, err, key)
	}
}

func (t *tester) held() []lock.Info {
	t.Helper()
	held, err := t.l.Held(t.Context())
	if err != nil {
		t.Fatalf("Held: %v", err)
	}
	return held
}

// near reports whether got is within a second, and a loaded machine's
// slack, of want.
func near(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -2*time.Second && d < 2*time.Second
}

// A lease names its key, a random owner token, a fence above zero, the
// TTL it was taken with, and when it was taken.
func acquireLease(t *tester) {
	before := time.Now()
	a := t.acquire("k", time.Minute)
	if a.Key != "k" || len(a.Token) < 16 || a.Fence <= 0 || a.TTL != time.Minute || !near(a.AcquiredAt, before) || a.AcquiredAt.After(time.Now()) {
		t.Fatalf("lease %+v; want key k, a random token, a fence, a TTL of 1m, taken now", a)
	}
	if !a.Task.IsZero() {
		t.Fatalf("lease %+v names a run; none was given", a)
	}
	t.release(a)
	b := t.acquire("k", time.Minute)
	if b.Token == a.Token {
		t.Fatalf("two leases share the token %q", a.Token)
	}
}

// A lock held is refused to any other owner, with an error that says who
// holds it, since when, and for how much longer.
func heldByAnother(t *tester) {
	before := time.Now()
	t.acquire("k", time.Minute)
	le := t.locked("k")
	if le.Key != "k" || le.Holder != t.b.Holder || le.Remaining <= 0 || le.Remaining > time.Minute || !near(le.Since, before) {
		t.Fatalf("LockedError %+v; want key k, holder %q, since now, up to a minute left", le, t.b.Holder)
	}
	if le.Task != (lock.TaskRef{}) {
		t.Fatalf("LockedError %+v names a run; the lock was taken outside one", le)
	}
}

// Keys are apart, whatever they hold: a lock on one leaves the others free.
func keysApart(t *tester) {
	keys := []string{"k", "k2", "a|x", "c{1}", "{c}1", "ü:*?[x]", "report:42", strings.Repeat("long", 100)}
	leases := make([]*lock.Lease, len(keys))
	for i, k := range keys {
		leases[i] = t.acquire(k, time.Minute)
	}
	for _, k := range keys {
		t.locked(k)
	}
	for i, l := range leases {
		t.release(l)
		if i+1 < len(keys) {
			t.locked(keys[i+1])
		}
	}
	if held := t.held(); len(held) != 0 {
		t.Fatalf("Held = %+v after every release; want none", held)
	}
}

// A lock taken for a task run (lock.WithOwnerTask) names that run: in its
// lease, in the LockedError another owner meets, and in Held.
func ownerTask(t *tester) {
	runs := []lock.TaskRef{
		{Queue: "default", ID: "5f0c9a"},
		{Queue: "", ID: "in-process-1"},
		{Queue: "q|1/x", ID: "id with (spaces)|and/slash %2F \"quotes\""},
	}
	for i, run := range runs {
		key := fmt.Sprint("report:", i)
		lease, err := t.l.TryAcquire(lock.WithOwnerTask(t.Context(), run.Queue, run.ID), key, time.Minute)
		if err != nil {
			t.Fatalf("TryAcquire for %+v: %v", run, err)
		}
		if lease.Task != run {
			t.Fatalf("lease names the run %+v, want %+v", lease.Task, run)
		}
		_, err = t.l.TryAcquire(lock.WithOwnerTask(t.Context(), "default", "other"), key, time.Minute)
		if le, ok := errors.AsType[*lock.LockedError](err); !ok || le.Task != run {
			t.Fatalf("the LockedError another run meets: %#v; want it to name %+v", err, run)
		}
		held := t.held()
		if len(held) != i+1 || held[i].Key != key || held[i].Task != run {
			t.Fatalf("Held = %+v; want %s held by %+v", held, key, run)
		}
	}
}

// An empty key or a TTL that is not positive is refused, with an error
// matching task.ErrInvalidConfig, and changes nothing.
func badArguments(t *tester) {
	for _, c := range []struct {
		key string
		ttl time.Duration
	}{{"", time.Second}, {"k", 0}, {"k", -time.Second}} {
		if l, err := t.l.TryAcquire(t.Context(), c.key, c.ttl); !errors.Is(err, task.ErrInvalidConfig) || l != nil {
			t.Fatalf("TryAcquire(%q, %v) = %+v, %v; want an error matching task.ErrInvalidConfig", c.key, c.ttl, l, err)
		}
	}
	if held := t.held(); len(held) != 0 {
		t.Fatalf("Held = %+v after refused acquires; want none", held)
	}
	lease := t.acquire("k", time.Minute)
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := t.l.Refresh(t.Context(), lease, ttl); !errors.Is(err, task.ErrInvalidConfig) {
			t.Fatalf("Refresh(%v): %v; want an error matching task.ErrInvalidConfig", ttl, err)
		}
	}
	if held := t.held(); len(held) != 1 || held[0].Remaining > time.Minute || held[0].Remaining < 30*time.Second {
		t.Fatalf("a refused refresh changed the lock: %+v", held)
	}
}

// Only the owner of a lease, the holder of its whole token, releases or
// refreshes it: another token, a prefix of it, or none proves nothing.
func onlyOwner(t *tester) {
	mine := t.acquire("k", time.Minute)
	for _, token := range []string{"00000000000000000000000000000000", mine.Token[:len(mine.Token)/2], mine.Token + "0", ""} {
		thief := *mine
		thief.Token = token
		t.notHeld(fmt.Sprintf("Release with token %q", token), "k", t.l.Release(t.Context(), &thief))
		t.notHeld(fmt.Sprintf("Refresh with token %q", token), "k", t.l.Refresh(t.Context(), &thief, time.Hour))
	}
	t.locked("k")
	if held := t.held(); len(held) != 1 || held[0].Remaining > time.Minute {
		t.Fatalf("Held = %+v; want k as it was, a minute at most left", held)
	}
	if err := t.l.Refresh(t.Context(), mine, 2*time.Minute); err != nil {
		t.Fatalf("owner's Refresh: %v", err)
	}
	t.release(mine)
}

// A release frees the lock: the next owner gets it, with a new token and
// a larger fence, and the released lease refreshes nothing.
func releaseFrees(t *tester) {
	a := t.acquire("k", time.Minute)
	t.release(a)
	if held := t.held(); len(held) != 0 {
		t.Fatalf("Held = %+v after the release; want none", held)
	}
	t.notHeld("Refresh of a released lease", "k", t.l.Refresh(t.Context(), a, time.Minute))
	b := t.acquire("k", time.Minute)
	if b.Fence <= a.Fence || b.Token == a.Token {
		t.Fatalf("the next lease %+v after %+v; want a larger fence and another token", b, a)
	}
	t.notHeld("Release of the earlier lease", "k", t.l.Release(t.Context(), a))
	t.locked("k")
}

// A release sent again by its owner (a reply lost, the call resent)
// succeeds, and frees nothing it should not: another owner's lease taken
// since stays.
func releaseTwice(t *tester) {
	a := t.acquire("k", time.Minute)
	t.release(a)
	t.release(a)
	b := t.acquire("k", time.Minute)
	t.notHeld("the first lease's Release, once another holds the key", "k", t.l.Release(t.Context(), a))
	t.locked("k")
	t.release(b)
	t.release(b)
}

// A holder that crashes never releases: its lock frees itself after its
// TTL, and the crashed holder can refresh nothing once another holds it.
func crashedHolder(t *tester) {
	ttl := t.ttl()
	crashed := t.acquire("k", ttl)
	t.advance(ttl / 2)
	t.locked("k")
	t.advance(ttl/2 + max(ttl/10, 100*time.Millisecond))
	next, err := t.l.TryAcquire(t.Context(), "k", ttl)
	if err != nil {
		t.Fatalf("TryAcquire after the TTL %v: %v; want the lock freed", ttl, err)
	}
	if next.Fence <= crashed.Fence {
		t.Fatalf("fence went from %d to %d", crashed.Fence, next.Fence)
	}
	t.notHeld("the crashed holder's Refresh", "k", t.l.Refresh(t.Context(), crashed, ttl))
	t.notHeld("the crashed holder's Release", "k", t.l.Release(t.Context(), crashed))
	t.locked("k")
}

// A refresh sets the remaining TTL anew: renewed before its TTL ran out,
// a lease outlives it, and expires a TTL after its last refresh.
func refreshRenews(t *tester) {
	ttl := t.ttl()
	lease := t.acquire("k", ttl)
	for range 3 { // renewed at a half, the way a Hold renews at a third
		t.advance(ttl / 2)
		if err := t.l.Refresh(t.Context(), lease, ttl); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
	}
	t.locked("k") // held for 1.5 TTLs now
	if lease.TTL != ttl {
		t.Fatalf("lease TTL %v after refreshes to %v", lease.TTL, ttl)
	}
	if err := t.l.Refresh(t.Context(), lease, 2*ttl); err != nil {
		t.Fatalf("Refresh(2×TTL): %v", err)
	}
	if held := t.held(); len(held) != 1 || held[0].Remaining <= ttl || held[0].Remaining > 2*ttl || lease.TTL != 2*ttl {
		t.Fatalf("Held = %+v, lease TTL %v after a refresh to %v; want that much left", held, lease.TTL, 2*ttl)
	}
	t.advance(2*ttl + max(ttl/10, 100*time.Millisecond))
	t.notHeld("Refresh after the TTL", "k", t.l.Refresh(t.Context(), lease, ttl))
	t.acquire("k", ttl)
}

// Fences grow with every lease of a key: after a release, a break, or an
// expiry alike.
func fenceIncreases(t *tester) {
	var last int64
	next := func(how string) *lock.Lease {
		t.Helper()
		l := t.acquire("k", t.ttl())
		if l.Fence <= last {
			t.Fatalf("fence %d after %d, %s", l.Fence, last, how)
		}
		if held := t.held(); len(held) != 1 || held[0].Fence != l.Fence {
			t.Fatalf("Held = %+v; want the lease's fence %d", held, l.Fence)
		}
		last = l.Fence
		return l
	}
	l := next("first")
	t.release(l)
	l = next("after a release")
	if err := t.l.Break(t.Context(), "k"); err != nil {
		t.Fatalf("Break: %v", err)
	}
	next("after a break")
	t.advance(t.ttl() + max(t.ttl()/10, 100*time.Millisecond))
	next("after an expiry")
	other := t.acquire("other", time.Minute)
	if other.Fence <= 0 {
		t.Fatalf("fence %d of another key", other.Fence)
	}
}

// Held lists the locks held now, sorted by key: by whom, with which fence,
// since when, and for how much longer. Released and expired ones are gone.
func heldLists(t *tester) {
	if held := t.held(); len(held) != 0 {
		t.Fatalf("Held of a new locker = %+v; want none", held)
	}
	before := time.Now()
	leases := map[string]*lock.Lease{}
	for _, k := range []string{"b", "a|x", "c{1}", "d"} {
		leases[k] = t.acquire(k, time.Minute)
	}
	t.release(leases["c{1}"])
	held := t.held()
	if len(held) != 3 || held[0].Key != "a|x" || held[1].Key != "b" || held[2].Key != "d" {
		t.Fatalf("Held = %+v; want a|x, b and d, in that order", held)
	}
	for _, h := range held {
		want := leases[h.Key]
		if h.Fence != want.Fence || h.Holder != t.b.Holder || h.Remaining <= 0 || h.Remaining > time.Minute || !near(h.Since, before) {
			t.Fatalf("Held: %+v; want fence %d, holder %q, since now, a minute at most left", h, want.Fence, t.b.Holder)
		}
	}
	short := t.acquire("e", t.ttl())
	t.advance(t.ttl() + max(t.ttl()/10, 100*time.Millisecond))
	for _, h := range t.held() {
		if h.Key == short.Key {
			t.Fatalf("Held lists %+v past its TTL", h)
		}
	}
}

// Break removes a lock whoever holds it: the key is free, and its holder
// learns of it at its next refresh or release. A free key breaks too.
func breakFrees(t *tester) {
	lease := t.acquire("k", time.Minute)
	if err := t.l.Break(t.Context(), "k"); err != nil {
		t.Fatalf("Break: %v", err)
	}
	if held := t.held(); len(held) != 0 {
		t.Fatalf("Held = %+v after Break; want none", held)
	}
	t.notHeld("the holder's Refresh after Break", "k", t.l.Refresh(t.Context(), lease, time.Minute))
	t.notHeld("the holder's Release after Break", "k", t.l.Release(t.Context(), lease))
	t.acquire("k", time.Minute)
	if err := t.l.Break(t.Context(), "free"); err != nil {
		t.Fatalf("Break of a free key: %v", err)
	}
	if err := t.l.Break(t.Context(), "k"); err != nil {
		t.Fatalf("Break again: %v", err)
	}
}
