package storetest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/internal/suite"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

// Backend is what the suite needs of a backend: its store, made fresh for
// every subtest, with no record in it.
type Backend struct {
	// Store is the store under test.
	Store Store
	// Advance moves the store's clock d ahead: TTLs run out d sooner. Nil
	// if the store runs on the wall clock only (a real Redis): the suite
	// then waits, with TTLs of hundreds of milliseconds.
	Advance func(d time.Duration)
}

// Store is a store that can defer a put to the end of a run.
type Store interface {
	store.Store
	store.FinalPutter
}

// promise is one subtest: a promise, or, with Cases, a group of them.
type promise = suite.Promise[*tester]

func promises() []promise {
	return []promise{
		{Name: "Put", Cases: []promise{
			{Name: "RoundTrip", Check: putRoundTrip},
			{Name: "Replaces", Check: putReplaces},
			{Name: "Refused", Check: putRefused},
			{Name: "SharesNoMemory", Check: sharesNoMemory},
			{Name: "Deferred", Check: deferredPut},
		}},
		{Name: "Get", Cases: []promise{
			{Name: "NotFound", Check: getNotFound},
			{Name: "ErrorKinds", Check: errorKinds},
			{Name: "NotFoundKindsApart", Check: notFoundKindsApart},
		}},
		{Name: "Keys", Cases: []promise{
			{Name: "SameIDOnTwoQueues", Check: sameIDOnTwoQueues},
		}},
		{Name: "Delete", Cases: []promise{
			{Name: "OneRecord", Check: deleteOne},
			{Name: "PurgeByQueue", Check: purgeByQueue},
		}},
		{Name: "TTL", Cases: []promise{
			{Name: "Expires", Check: ttlExpires},
		}},
		{Name: "List", Cases: []promise{
			{Name: "Sorted", Check: listSorted},
		}},
		{Name: "Wait", Cases: []promise{
			{Name: "StoredAtOnce", Check: waitStored},
			{Name: "WokenByPut", Check: waitWoken},
			{Name: "ManyWaiters", Check: waitMany},
			{Name: "ContextCause", Check: waitCause},
		}},
	}
}

// Run runs every promise of store.Store and store.FinalPutter as a
// subtest of t, each on a backend newBackend makes for it, and named after
// the promise: "Put/Replaces", say.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Helper()
	suite.Run(t, promises(), func(t *testing.T) *tester {
		b := newBackend(t)
		if b.Store == nil {
			t.Fatal("storetest: the Backend needs a Store")
		}
		return &tester{T: t, b: b, s: b.Store}
	})
}

// tester is one subtest, on its own backend.
type tester struct {
	*testing.T
	b Backend
	s Store
}

// advance moves the store's clock d ahead, or lets d pass.
func (t *tester) advance(d time.Duration) {
	if t.b.Advance != nil {
		t.b.Advance(d)
		return
	}
	time.Sleep(d)
}

// real reports whether the store runs on the wall clock only.
func (t *tester) real() bool { return t.b.Advance == nil }

// at has nanoseconds below the microsecond, which stores may drop.
var at = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// errExpired stands for a skip reason of some other package ("expired"):
// a sentinel of the suite's own, made once, since kinds are unique.
var errExpired = task.NewError("storetest.expired", "storetest: expired")

// same fails t unless got holds every field of want: At to the
// microsecond; ExpiresAt, which Put ignores, is not compared.
func same(t *tester, got, want *store.Record) {
	t.Helper()
	if got == nil {
		t.Fatalf("record %q/%q: got nil", want.Queue, want.ID)
	}
	if got.Queue != want.Queue || got.ID != want.ID || got.Task != want.Task || got.Status != want.Status ||
		!bytes.Equal(got.Value, want.Value) || got.Error != want.Error || got.Kind != want.Kind || got.Attempt != want.Attempt {
		t.Fatalf("record %q/%q:\n got  %+v\n want %+v", want.Queue, want.ID, *got, *want)
	}
	if got.At.UnixMicro() != want.At.UnixMicro() {
		t.Fatalf("record %q/%q: At = %v, want %v to the microsecond", want.Queue, want.ID, got.At, want.At)
	}
}

// expiresAbout fails t unless rec expires ttl after a moment in [from, to],
// give or take a second.
func expiresAbout(t *tester, rec *store.Record, ttl time.Duration, from, to time.Time) {
	t.Helper()
	lo, hi := from.Add(ttl-time.Second), to.Add(ttl+time.Second)
	if rec.ExpiresAt.Before(lo) || rec.ExpiresAt.After(hi) {
		t.Fatalf("record %q/%q: ExpiresAt = %v, want within [%v, %v] (now+%v)", rec.Queue, rec.ID, rec.ExpiresAt, lo, hi, ttl)
	}
}

func (t *tester) put(rec *store.Record, ttl time.Duration) {
	t.Helper()
	if err := t.s.Put(t.Context(), rec, ttl); err != nil {
		t.Fatalf("Put(%q/%q, %v): %v", rec.Queue, rec.ID, ttl, err)
	}
}

func (t *tester) get(name, id string) *store.Record {
	t.Helper()
	rec, err := t.s.Get(t.Context(), name, id)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", name, id, err)
	}
	return rec
}

// notFound fails t unless Get of queue and id finds nothing, with a
// *store.NotFoundError that names them.
func (t *tester) notFound(name, id string) {
	t.Helper()
	rec, err := t.s.Get(t.Context(), name, id)
	nf, ok := errors.AsType[*store.NotFoundError](err)
	if !errors.Is(err, store.ErrNotFound) || !ok || rec != nil {
		t.Fatalf("Get(%q, %q) = %+v, %v; want nil and a *store.NotFoundError", name, id, rec, err)
	}
	if nf.Queue != name || nf.ID != id {
		t.Fatalf("Get(%q, %q): NotFoundError{%q, %q} names another record", name, id, nf.Queue, nf.ID)
	}
	if errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get(%q, %q) = %v matches queue.ErrNotFound", name, id, err)
	}
}

func (t *tester) list() []*store.Record {
	t.Helper()
	list, err := t.s.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return list
}

// A record comes back as it was put: every field, binary values, odd
// queues and IDs, At to the microsecond (stamped by Put if zero), and an
// ExpiresAt of its TTL.
func putRoundTrip(t *tester) {
	recs := []*store.Record{
		{Queue: "emails", ID: "ok", Task: "resize", Status: store.Succeeded, Value: []byte("{\"w\":640}\x00\xff\r\n"), Attempt: 1, At: at},
		{Queue: "emails", ID: "failed", Task: "resize", Status: store.Failed, Error: `lock "img:7": held by another owner`, Kind: "lock.locked", Attempt: 3, At: at.Add(time.Microsecond)},
		{Queue: "", ID: "skipped", Task: "report", Status: store.Skipped, Error: "task: skipped: expired", Kind: "middleware.expired", Attempt: 2, At: at.Local()},
		{Queue: "reports", ID: "run 42/ü*?[x]", Task: "odd id, zero time", Status: store.Succeeded, Value: []byte("null")},
		{Queue: "odd:queue*?[x]", ID: "}{:", Task: "odd queue", Status: store.Succeeded, Value: []byte("1"), At: at},
		{Queue: "q", ID: "empty", Status: store.Succeeded},
		{Queue: "q", ID: "large", Task: "t", Status: store.Succeeded, Value: bytes.Repeat([]byte{0, 1, 2, 0xff}, 64<<10), At: at},
	}
	const ttl = time.Hour
	for _, want := range recs {
		before := time.Now()
		t.put(want, ttl)
		got := t.get(want.Queue, want.ID)
		if want.At.IsZero() { // Put stamps it
			if got.At.Before(before.Add(-time.Second)) || got.At.After(time.Now().Add(time.Second)) {
				t.Fatalf("record %q: zero At was stamped %v, not the time of the Put", want.ID, got.At)
			}
			stamped := *want
			stamped.At = got.At
			want = &stamped
		}
		same(t, got, want)
		expiresAbout(t, got, ttl, before, time.Now())
	}
}

// A Put replaces the record whole: no field of the last stays, and the
// TTL is the new one.
func putReplaces(t *tester) {
	steps := []struct {
		rec *store.Record
		ttl time.Duration
	}{
		{&store.Record{Queue: "q", ID: "r", Task: "sync", Status: store.Failed, Value: []byte("partial"), Error: `lock "k": held by another owner`, Kind: "lock.locked", Attempt: 1, At: at}, time.Hour},
		{&store.Record{Queue: "q", ID: "r", Task: "sync", Status: store.Succeeded, Value: []byte(`{"n":2}`), Attempt: 2, At: at.Add(time.Second)}, 10 * time.Minute},
		{&store.Record{Queue: "q", ID: "r", Task: "sync2", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 3, At: at.Add(2 * time.Second)}, 3 * time.Hour},
		{&store.Record{Queue: "q", ID: "r", Status: store.Skipped}, time.Minute}, // zero fields replace set ones
	}
	for i, s := range steps {
		before := time.Now()
		t.put(s.rec, s.ttl)
		got := t.get("q", "r")
		want := *s.rec
		if want.At.IsZero() {
			if got.At.Before(before.Add(-time.Second)) {
				t.Fatalf("Put %d: At %v is not from this Put", i+1, got.At)
			}
			want.At = got.At
		}
		same(t, got, &want)
		expiresAbout(t, got, s.ttl, before, time.Now())
	}
	if list := t.list(); len(list) != 1 {
		t.Fatalf("List after replacing Puts = %v; want one record", list)
	}
}

// A Put of no record, no ID, a TTL that is not positive, or a queue with a
// brace is refused, as a deferred put is when made; nothing is written.
func putRefused(t *tester) {
	rec := func(id string) *store.Record {
		return &store.Record{Queue: "q", ID: id, Task: "t", Status: store.Succeeded, Value: []byte("1"), At: at}
	}
	cases := []struct {
		name       string
		rec        *store.Record
		ttl        time.Duration
		wantConfig bool // the error matches task.ErrInvalidConfig
	}{
		{"nil record", nil, time.Hour, false},
		{"empty ID", rec(""), time.Hour, false},
		{"zero TTL", rec("zero-ttl"), 0, true},
		{"negative TTL", rec("negative-ttl"), -time.Second, true},
		{"brace in queue", &store.Record{Queue: "a}b", ID: "x", Status: store.Succeeded, At: at}, time.Hour, true},
		{"opening brace in queue", &store.Record{Queue: "{a", ID: "x", Status: store.Succeeded, At: at}, time.Hour, true},
	}
	for _, c := range cases {
		err := t.s.Put(t.Context(), c.rec, c.ttl)
		if err == nil || c.wantConfig && !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("%s: Put = %v; want an error (matching task.ErrInvalidConfig: %v)", c.name, err, c.wantConfig)
		}
		if w, err := t.s.FinalPut(c.rec, c.ttl); err == nil || w != nil || c.wantConfig && !errors.Is(err, task.ErrInvalidConfig) {
			t.Errorf("%s: FinalPut = %v, %v; want nil and an error (matching task.ErrInvalidConfig: %v)", c.name, w, err, c.wantConfig)
		}
		if c.rec != nil {
			t.notFound(c.rec.Queue, c.rec.ID)
		}
	}
	if list := t.list(); len(list) != 0 {
		t.Fatalf("List after refused Puts = %v; want no records", list)
	}
}

// A record shares no memory with its callers: not the one put, nor those
// Get and List return; a deferred put copies its record when made.
func sharesNoMemory(t *tester) {
	value := []byte("original")
	t.put(&store.Record{Queue: "q", ID: "r", Status: store.Succeeded, Value: value, At: at}, time.Hour)
	copy(value, "CHANGED!")
	got := t.get("q", "r")
	if string(got.Value) != "original" {
		t.Fatalf("after the caller changed the slice it put, Get returned %q", got.Value)
	}
	copy(got.Value, "CHANGED!")
	if again := t.get("q", "r"); string(again.Value) != "original" {
		t.Fatalf("after a caller changed the Value Get returned, Get returned %q", again.Value)
	}
	list := t.list()
	if len(list) != 1 {
		t.Fatalf("List = %v; want one record", list)
	}
	copy(list[0].Value, "CHANGED!")
	if again := t.get("q", "r"); string(again.Value) != "original" {
		t.Fatalf("after a caller changed the Value List returned, Get returned %q", again.Value)
	}
	later := &store.Record{Queue: "q", ID: "final", Status: store.Succeeded, Value: []byte("original"), At: at}
	w, err := t.s.FinalPut(later, time.Hour)
	if err != nil {
		t.Fatalf("FinalPut: %v", err)
	}
	copy(later.Value, "CHANGED!")
	later.ID = "changed"
	if err := w.Apply(t.Context()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := t.get("q", "final"); string(got.Value) != "original" {
		t.Fatalf("after the caller changed the record it deferred, Get returned %q", got.Value)
	}
	t.notFound("q", "changed")
}

// A deferred put writes nothing until applied; applied, it is a Put: the
// record with its TTL, its waiters woken.
func deferredPut(t *tester) {
	rec := &store.Record{Queue: "q", ID: "later", Task: "t", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 2, At: at}
	w, err := t.s.FinalPut(rec, 2*time.Hour)
	if err != nil {
		t.Fatalf("FinalPut: %v", err)
	}
	t.notFound("q", "later")
	done := goWait(t, "q", "later")
	settle()
	before := time.Now()
	if err := w.Apply(t.Context()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := t.get("q", "later")
	same(t, got, rec)
	expiresAbout(t, got, 2*time.Hour, before, time.Now())
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Wait: %v", r.err)
		}
		same(t, r.rec, rec)
	case <-time.After(5 * time.Second):
		t.Fatal("the applied put did not wake its waiter within 5s")
	}
}

// Get of a record never put, or put under another queue, finds nothing.
func getNotFound(t *tester) {
	t.put(&store.Record{Queue: "emails", ID: "ok", Status: store.Succeeded, At: at}, time.Hour)
	t.put(&store.Record{Queue: "", ID: "mine", Status: store.Succeeded, At: at}, time.Hour)
	t.notFound("emails", "never-put")
	t.notFound("", "never-put")
	t.notFound("", "ok")
	t.notFound("reports", "ok")
	t.notFound("emails", "mine")
}

// Delete removes one record, under its own queue only; deleting what is
// not there is no error.
func deleteOne(t *tester) {
	keep := &store.Record{Queue: "emails", ID: "keep", Task: "t", Status: store.Succeeded, Value: []byte("v"), Attempt: 1, At: at}
	t.put(keep, time.Hour)
	t.put(&store.Record{Queue: "emails", ID: "gone", Status: store.Failed, Error: "x", At: at}, time.Hour)
	t.put(&store.Record{Queue: "other", ID: "keep", Status: store.Succeeded, At: at}, time.Hour)
	if err := t.s.Delete(t.Context(), "emails", "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	t.notFound("emails", "gone")
	for _, c := range [][2]string{{"emails", "gone"}, {"reports", "keep"}, {"", "keep"}} {
		if err := t.s.Delete(t.Context(), c[0], c[1]); err != nil {
			t.Fatalf("Delete(%q, %q) of a missing record: %v, want nil", c[0], c[1], err)
		}
	}
	same(t, t.get("emails", "keep"), keep)
	t.get("other", "keep")
	if list := t.list(); len(list) != 2 {
		t.Fatalf("List = %v; want the two records kept", list)
	}
}

// A record lives for its TTL, and then it is gone: from Get, from List,
// and for Wait, which waits for a new one.
func ttlExpires(t *tester) {
	rec := &store.Record{Queue: "q", ID: "short-lived", Task: "t", Status: store.Failed, Error: "boom", Kind: task.KindError, Attempt: 1, At: at}
	ttl, margin := time.Hour, time.Minute
	if t.real() {
		ttl, margin = 600*time.Millisecond, 200*time.Millisecond
	}
	t.put(rec, ttl)
	t.put(&store.Record{Queue: "q", ID: "long-lived", Status: store.Succeeded, At: at}, 10*ttl)
	same(t, t.get(rec.Queue, rec.ID), rec)
	t.advance(ttl - 2*margin)
	same(t, t.get(rec.Queue, rec.ID), rec)
	t.advance(3 * margin)
	t.notFound(rec.Queue, rec.ID)
	if list := t.list(); len(list) != 1 || list[0].ID != "long-lived" {
		t.Fatalf("List after the TTL = %v; want the long-lived record alone", list)
	}
	ctx, cancel := timeout(t, 50*time.Millisecond)
	defer cancel()
	if got, err := t.s.Wait(ctx, rec.Queue, rec.ID); got != nil || err == nil {
		t.Fatalf("Wait after the TTL = %+v, %v; want it to wait until ctx ends", got, err)
	}
}

// List returns the records stored now, sorted by queue (the in-process ""
// first), then ID, each with its ExpiresAt; expired ones are left out.
func listSorted(t *tester) {
	short, advance := time.Minute, 2*time.Minute
	if t.real() {
		short, advance = 300*time.Millisecond, 500*time.Millisecond
	}
	recs := map[string]*store.Record{}
	for _, key := range []string{"reports/c", "/c", "emails/a", "/a", "emails/b:1", "emails/b", "reports/a"} {
		name, id, _ := strings.Cut(key, "/")
		recs[key] = &store.Record{Queue: name, ID: id, Task: "t-" + id, Status: store.Succeeded, Value: []byte("v-" + key), Attempt: 1, At: at}
		t.put(recs[key], time.Hour)
	}
	order := []string{"/a", "/c", "emails/a", "emails/b", "emails/b:1", "reports/a", "reports/c"}
	t.put(&store.Record{Queue: "emails", ID: "aa-expires", Status: store.Failed, Error: "x", At: at}, short)
	t.put(&store.Record{ID: "0-expires", Status: store.Failed, Error: "x", At: at}, short)

	t.advance(advance)
	got := t.list()
	var keys []string
	for _, r := range got {
		keys = append(keys, r.Queue+"/"+r.ID)
	}
	if !slices.Equal(keys, order) {
		t.Fatalf("List = %q, want %q", keys, order)
	}
	if !slices.IsSortedFunc(got, store.Compare) {
		t.Fatalf("List = %q is not in store.Compare's order", keys)
	}
	for i := range got {
		same(t, got[i], recs[order[i]])
		if got[i].ExpiresAt.IsZero() {
			t.Fatalf("List: record %q has no ExpiresAt", keys[i])
		}
	}
}

// Purge deletes the records of the queues it is given ("" names runs made
// in-process, not every queue) and counts them; given none, it deletes
// every record.
func purgeByQueue(t *tester) {
	for _, key := range []string{"emails/a", "emails/b", "reports/a", "/a", "/b", "logs/a"} {
		name, id, _ := strings.Cut(key, "/")
		t.put(&store.Record{Queue: name, ID: id, Status: store.Succeeded, Attempt: 1, At: at}, time.Hour)
	}
	keys := func() []string {
		var out []string
		for _, r := range t.list() {
			out = append(out, r.Queue+"/"+r.ID)
		}
		return out
	}
	if n, err := t.s.Purge(t.Context(), "emails", ""); err != nil || n != 4 {
		t.Fatalf("Purge(emails, \"\") = %d, %v; want 4", n, err)
	}
	if got, want := keys(), []string{"logs/a", "reports/a"}; !slices.Equal(got, want) {
		t.Fatalf("after Purge(emails, \"\"): List = %q, want %q", got, want)
	}
	if n, err := t.s.Purge(t.Context(), "nothing-here"); err != nil || n != 0 {
		t.Fatalf("Purge of a queue with no records = %d, %v; want 0", n, err)
	}
	if n, err := t.s.Purge(t.Context()); err != nil || n != 2 {
		t.Fatalf("Purge() = %d, %v; want 2, every record", n, err)
	}
	if got := keys(); len(got) != 0 {
		t.Fatalf("after Purge(): List = %q, want none", got)
	}
}
