package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/lock"
	"github.com/taskware/taskware/memorybackend"
	"github.com/taskware/taskware/middleware"
	"github.com/taskware/taskware/store"
	"github.com/taskware/taskware/task"
)

func TestMisconfigurationPanicsAtBuild(t *testing.T) {
	l, s := memorybackend.New().Locker(), memorybackend.New().Store()
	tests := map[string]struct {
		build func()
		says  string
	}{
		"WithLock nil locker":      {func() { middleware.WithLock(nil, "k") }, "nil Locker"},
		"WithLock empty key":       {func() { middleware.WithLock(l, "") }, "empty key"},
		"WithLock zero TTL":        {func() { middleware.WithLock(l, "k", lock.TTL(0)) }, "TTL must be positive"},
		"WithLock renew >= TTL":    {func() { middleware.WithLock(l, "k", lock.TTL(time.Second), lock.RenewEvery(time.Hour)) }, "RenewEvery"},
		"WithLockFunc nil key":     {func() { middleware.WithLockFunc(l, nil) }, "nil KeyFunc"},
		"SkipLocked nil hook":      {func() { middleware.SkipLocked(nil) }, "nil hook"},
		"Expires negative":         {func() { middleware.Expires(-time.Second) }, "negative"},
		"StoreResult nil store":    {func() { middleware.StoreResult(nil) }, "nil store"},
		"StoreResult zero TTL":     {func() { middleware.StoreResult(s, middleware.ResultTTL(0)) }, "TTLs must be positive"},
		"StoreResult negative TTL": {func() { middleware.StoreResult(s, middleware.ErrorTTL(-time.Hour)) }, "TTLs must be positive"},
		"IgnoreErrors nil":         {func() { middleware.StoreResult(s, middleware.IgnoreErrors(nil)) }, "IgnoreErrors(nil)"},
		"IgnoreErrorsFunc nil":     {func() { middleware.StoreResult(s, middleware.IgnoreErrorsFunc(nil)) }, "IgnoreErrorsFunc(nil)"},
		"StoreSkips zero TTL":      {func() { middleware.StoreResult(s, middleware.StoreSkips(0)) }, "StoreSkips TTL"},
		"MaxResultSize past Redis": {func() { middleware.StoreResult(s, middleware.MaxResultSize(middleware.MaxResultLimit+1)) }, "at most"},
		"MaxResultSize zero":       {func() { middleware.StoreResult(s, middleware.MaxResultSize(0)) }, "MaxResultSize"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, task.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.says) {
					t.Fatalf("panic %v, want ErrInvalidConfig saying %q", err, tt.says)
				}
			}()
			tt.build()
		})
	}
}

// run invokes fn, wrapped in mws, once.
func run(mws []task.Middleware, fn task.Func, inv *task.Invocation) (any, error) {
	if inv.ID == "" {
		inv.ID = "id-1"
	}
	return task.Chain(mws...)(fn)(context.Background(), inv)
}

func returns(v any, err error) task.Func {
	return func(context.Context, *task.Invocation) (any, error) { return v, err }
}

func TestStoreResult(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		opts       []middleware.StoreOption
		fn         task.Func
		wantErr    error
		wantStatus store.Status // "" for nothing stored
		wantValue  string
		wantKind   string
		wantTTL    time.Duration
	}{
		{"success", nil, returns(map[string]int{"n": 1}, nil), nil, store.Succeeded, `{"n":1}`, "", middleware.DefaultResultTTL},
		{"failure", []middleware.StoreOption{middleware.ErrorTTL(time.Hour)}, returns(nil, boom), boom, store.Failed, "", "error", time.Hour},
		{"failure keeps its kind", nil, returns(nil, &lock.LockedError{Key: "k"}), lock.ErrLocked, store.Failed, "", "lock.locked", middleware.DefaultResultTTL},
		{"ignored error", []middleware.StoreOption{middleware.IgnoreErrors(lock.ErrLocked)}, returns(nil, fmt.Errorf("x: %w", lock.ErrLocked)), lock.ErrLocked, "", "", "", 0},
		{"ignored by func", []middleware.StoreOption{middleware.IgnoreErrorsFunc(func(err error) bool { return err == boom })}, returns(nil, boom), boom, "", "", "", 0},
		{"not ignored", []middleware.StoreOption{middleware.IgnoreErrors(lock.ErrLocked)}, returns(nil, boom), boom, store.Failed, "", "error", middleware.DefaultResultTTL},
		{"nil result stored", nil, returns(nil, nil), nil, store.Succeeded, "", "", middleware.DefaultResultTTL},
		{"nil result skipped", []middleware.StoreOption{middleware.SkipNilResults()}, returns(nil, nil), nil, "", "", "", 0},
		{"requeue not stored", nil, returns(nil, task.Requeue(time.Second, true, boom)), task.ErrRequeued, "", "", "", 0},
		{"skip not stored", nil, returns(nil, task.Skip(lock.ErrLocked)), task.ErrSkipped, "", "", "", 0},
		{"skip stored when asked", []middleware.StoreOption{middleware.StoreSkips(time.Minute)}, returns(nil, task.Skip(&lock.LockedError{Key: "k"})), task.ErrSkipped, store.Skipped, "", "lock.locked", time.Minute},
		{"result that does not encode", nil, returns(func() {}, nil), nil, store.Failed, "", "error", middleware.DefaultResultTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memorybackend.New().Store()
			inv := &task.Invocation{ID: "r", Name: "t", Attempt: 3}
			start := time.Now()
			_, err := run([]task.Middleware{middleware.StoreResult(s, tt.opts...)}, tt.fn, inv)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("outcome %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && tt.wantStatus == store.Succeeded && err != nil {
				t.Fatalf("outcome %v", err)
			}
			rec, gerr := s.Get(context.Background(), "", "r")
			if tt.wantStatus == "" {
				if !errors.Is(gerr, store.ErrNotFound) {
					t.Fatalf("stored %+v, want nothing", rec)
				}
				return
			}
			if gerr != nil {
				t.Fatal(gerr)
			}
			if rec.Status != tt.wantStatus || string(rec.Value) != tt.wantValue || rec.Kind != tt.wantKind ||
				rec.Task != "t" || rec.Attempt != 3 || rec.At.Before(start) {
				t.Fatalf("stored %+v", rec)
			}
			if ttl := rec.ExpiresAt.Sub(start); ttl < tt.wantTTL-time.Second || ttl > tt.wantTTL+time.Second {
				t.Fatalf("TTL %v, want %v", ttl, tt.wantTTL)
			}
			if tt.name == "result that does not encode" && (err == nil || !strings.Contains(rec.Error, "does not encode")) {
				t.Fatalf("an unencodable result is a failure: outcome %v, stored %q", err, rec.Error)
			}
			if rec.Status == store.Skipped && !(errors.Is(rec.Err(), task.ErrSkipped) && errors.Is(rec.Err(), lock.ErrLocked)) {
				t.Fatalf("stored skip reads back as %v", rec.Err())
			}
		})
	}
}

// brokenStore fails every Put, like a store whose connection died.
type brokenStore struct{ store.Store }

var errDown = errors.New("store down")

func (brokenStore) Put(context.Context, *store.Record, time.Duration) error { return errDown }

func TestStoreResultReportsLostWrites(t *testing.T) {
	mw := []task.Middleware{middleware.StoreResult(brokenStore{memorybackend.New().Store()})}
	res, err := run(mw, returns(42, nil), &task.Invocation{})
	if res != 42 || !errors.Is(err, store.ErrNotStored) || !errors.Is(err, errDown) {
		t.Fatalf("success: %v, %v", res, err)
	}
	boom := errors.New("boom")
	_, err = run(mw, returns(nil, boom), &task.Invocation{})
	if !errors.Is(err, boom) || !errors.Is(err, store.ErrNotStored) {
		t.Fatalf("failure: %v", err)
	}
}

// StoreResult writes even when the task's ctx has ended (a timeout).
func TestStoreResultAfterCancel(t *testing.T) {
	s := memorybackend.New().Store()
	ctx, cancel := context.WithCancel(context.Background())
	fn := func(ctx context.Context, _ *task.Invocation) (any, error) { cancel(); return nil, ctx.Err() }
	_, err := middleware.StoreResult(s)(fn)(ctx, &task.Invocation{ID: "c"})
	rec, gerr := s.Get(context.Background(), "", "c")
	if !errors.Is(err, context.Canceled) || gerr != nil || rec.Kind != task.KindCanceled {
		t.Fatalf("outcome %v, stored %+v, %v", err, rec, gerr)
	}
}

func TestSkipLocked(t *testing.T) {
	var seen []error
	hook := func(ctx context.Context, inv *task.Invocation, err error) { seen = append(seen, err) }
	mw := []task.Middleware{middleware.SkipLocked(hook, hook)}
	boom := errors.New("boom")
	locked := &lock.LockedError{Key: "k"}
	for _, tt := range []struct {
		in       error
		wantSkip bool
	}{
		{nil, false},
		{boom, false},
		{locked, true},
		{fmt.Errorf("inner lock.Do: %w", locked), true},
		{task.Skip(locked), true}, // already a skip: passed on, not hooked again
		{lock.ErrLeaseLost, false},
	} {
		seen = nil
		_, err := run(mw, returns(nil, tt.in), &task.Invocation{})
		if task.IsSkipped(err) != tt.wantSkip || (tt.in != nil && !errors.Is(err, tt.in)) {
			t.Errorf("%v became %v", tt.in, err)
		}
		wantHooks := 0
		if tt.wantSkip && !task.IsSkipped(tt.in) {
			wantHooks = 2
		}
		if len(seen) != wantHooks {
			t.Errorf("%v: hooks saw %d, want %d", tt.in, len(seen), wantHooks)
		}
	}
}

func TestExpires(t *testing.T) {
	now := time.Now()
	called := 0
	fn := func(context.Context, *task.Invocation) (any, error) { called++; return "ran", nil }
	for _, tt := range []struct {
		name    string
		maxWait time.Duration
		inv     task.Invocation
		expired bool
	}{
		{"fresh", time.Minute, task.Invocation{EnqueuedAt: now.Add(-time.Second)}, false},
		{"too old", time.Minute, task.Invocation{EnqueuedAt: now.Add(-2 * time.Minute)}, true},
		{"unknown enqueue time runs", time.Minute, task.Invocation{}, false},
		{"deadline passed", time.Hour, task.Invocation{EnqueuedAt: now, ExpiresAt: now.Add(-time.Millisecond)}, true},
		{"deadline ahead", time.Hour, task.Invocation{EnqueuedAt: now, ExpiresAt: now.Add(time.Hour)}, false},
		{"deadline only", 0, task.Invocation{EnqueuedAt: now.Add(-24 * time.Hour), ExpiresAt: now.Add(-time.Second)}, true},
		{"no limit at all", 0, task.Invocation{EnqueuedAt: now.Add(-24 * time.Hour)}, false},
	} {
		called = 0
		inv := tt.inv
		res, err := run([]task.Middleware{middleware.Expires(tt.maxWait)}, fn, &inv)
		if tt.expired {
			if !task.IsSkipped(err) || !errors.Is(err, middleware.ErrExpired) || called != 0 || task.KindOf(errors.Unwrap(err)) != "middleware.expired" {
				t.Errorf("%s: %v, %v, called %d", tt.name, res, err, called)
			}
		} else if err != nil || res != "ran" || called != 1 {
			t.Errorf("%s: %v, %v, called %d", tt.name, res, err, called)
		}
	}
}

func TestWithLockKeyErrors(t *testing.T) {
	l := memorybackend.New().Locker()
	type Args struct{ ID string }
	tests := []struct {
		name string
		key  middleware.KeyFunc
		args any
		want string
	}{
		{"key func error", func(*task.Invocation) (string, error) { return "", errors.New("no key") }, nil, "no key"},
		{"empty derived key", middleware.KeyFromArgs(func(a Args) string { return a.ID }), Args{}, "empty lock key"},
		{"wrong args type", middleware.KeyFromArgs(func(a Args) string { return a.ID }), "str", "want middleware_test.Args"},
	}
	for _, tt := range tests {
		called := false
		fn := func(context.Context, *task.Invocation) (any, error) { called = true; return nil, nil }
		_, err := run([]task.Middleware{middleware.WithLockFunc(l, tt.key)}, fn, &task.Invocation{Args: tt.args})
		if err == nil || !strings.Contains(err.Error(), tt.want) || called {
			t.Errorf("%s: %v (called %v)", tt.name, err, called)
		}
	}
}

// A failure's stored text is capped; so is a skip's reason.
func TestStoreResultCapsErrorText(t *testing.T) {
	s := memorybackend.New().Store()
	huge := errors.New(strings.Repeat("x", 1<<20))
	for _, err := range []error{huge, task.Skip(huge)} {
		inv := &task.Invocation{ID: "capped", Queue: "q", Name: "t", Attempt: 1}
		if _, got := run([]task.Middleware{middleware.StoreResult(s, middleware.StoreSkips(time.Minute))}, returns(nil, err), inv); got != err {
			t.Fatalf("outcome changed: %.100v", got)
		}
		rec, gerr := s.Get(context.Background(), "q", "capped")
		if gerr != nil || len(rec.Error) > task.MaxErrorText+len("…") || !strings.HasPrefix(rec.Error, "xxx") {
			t.Fatalf("%T: stored %d bytes of error, %v", err, len(rec.Error), gerr)
		}
	}
}
