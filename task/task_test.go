package task_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/taskware/taskware/task"
)

func TestChainSkipsNilAndBuildsOnce(t *testing.T) {
	built := 0
	mw := func(next task.Func) task.Func {
		built++
		return next
	}
	tk := task.New("t", func(ctx context.Context, n int) (int, error) { return n * 2, nil }, mw, nil, mw)
	if built != 2 {
		t.Fatalf("chain built %d middlewares at definition, want 2", built)
	}
	for i := range 3 {
		if got, err := tk.Call(context.Background(), i); err != nil || got != 2*i {
			t.Fatalf("Call(%d) = %d, %v", i, got, err)
		}
	}
	if built != 2 {
		t.Fatalf("chain rebuilt per call: %d builds", built)
	}
}

func TestCallFillsInvocation(t *testing.T) {
	var seen *task.Invocation
	spy := func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			seen = inv
			return next(ctx, inv)
		}
	}
	tk := task.New("spy", func(ctx context.Context, s string) (string, error) { return s, nil }, spy)
	if _, err := tk.Call(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if seen.ID == "" || len(seen.ID) != 32 || seen.Name != "spy" || seen.Attempt != 1 || seen.EnqueuedAt.IsZero() {
		t.Fatalf("invocation not filled in: %+v", seen)
	}
	if a, ok := task.ArgsOf[string](seen); !ok || a != "x" {
		t.Fatalf("ArgsOf = %q, %v", a, ok)
	}
	if seen.CodecOrJSON() != task.JSON {
		t.Fatal("codec not set to the task's")
	}
	first := seen.ID
	_, _ = tk.Call(context.Background(), "y")
	if seen.ID == first {
		t.Fatal("two calls share an ID")
	}
}

func TestPayloadDecoding(t *testing.T) {
	type Args struct {
		User string `json:"user"`
	}
	var sawArgs Args
	tk := task.New("p", func(ctx context.Context, a Args) (string, error) { return "hi " + a.User, nil },
		func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				sawArgs, _ = task.ArgsOf[Args](inv) // middlewares see decoded args
				return next(ctx, inv)
			}
		})
	tests := []struct {
		name    string
		payload string
		want    any
		wantErr error
	}{
		{"decodes", `{"user":"ada"}`, "hi ada", nil},
		{"empty payload is the zero value", ``, "hi ", nil},
		{"malformed", `{"user":`, nil, task.ErrBadPayload},
		{"wrong type", `{"user":7}`, nil, task.ErrBadPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sawArgs = Args{}
			res, err := tk.Func()(context.Background(), &task.Invocation{ID: "1", Payload: []byte(tt.payload)})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if res != tt.want {
				t.Fatalf("res = %v, want %v", res, tt.want)
			}
			if tt.wantErr != nil {
				if task.KindOf(err) != "task.bad_payload" || !strings.Contains(err.Error(), "task p") {
					t.Fatalf("error %q (kind %q) does not name the task and kind", err, task.KindOf(err))
				}
			} else if "hi "+sawArgs.User != tt.want {
				t.Fatalf("middleware saw args %+v", sawArgs)
			}
		})
	}
}

func TestWrongArgsType(t *testing.T) {
	tk := task.New("n", func(ctx context.Context, n int) (int, error) { return n, nil })
	_, err := tk.Func()(context.Background(), &task.Invocation{ID: "1", Args: "not an int"})
	if !errors.Is(err, task.ErrBadPayload) {
		t.Fatalf("err = %v, want ErrBadPayload", err)
	}
}

// upper is a codec that proves a task uses its own codec, not JSON.
type upper struct{}

func (upper) Marshal(v any) ([]byte, error) { return []byte(strings.ToUpper(fmt.Sprint(v))), nil }
func (upper) Encode(w io.Writer, v any) error {
	_, err := io.WriteString(w, strings.ToUpper(fmt.Sprint(v)))
	return err
}
func (upper) Unmarshal(data []byte, v any) error {
	*(v.(*string)) = strings.ToLower(string(data))
	return nil
}

func TestCustomCodec(t *testing.T) {
	var codec task.Codec
	tk := task.NewWithOptions("c", func(ctx context.Context, s string) (string, error) { return s + "!", nil },
		task.WithCodec(upper{}), task.WithMiddleware(func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				codec = inv.CodecOrJSON()
				return next(ctx, inv)
			}
		}))
	p, _ := tk.Encode("abc")
	if string(p) != "ABC" {
		t.Fatalf("Encode = %q", p)
	}
	res, err := tk.Func()(context.Background(), &task.Invocation{ID: "1", Payload: p})
	if err != nil || res != "abc!" {
		t.Fatalf("res = %v, %v", res, err)
	}
	if _, ok := codec.(upper); !ok || tk.Codec() != codec {
		t.Fatalf("middleware saw codec %T", codec)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	fn := func(ctx context.Context, n int) (int, error) { return n, nil }
	for name, build := range map[string]func(){
		"empty name": func() { task.New("", fn) },
		"nil func":   func() { task.New[int, int]("x", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, task.ErrInvalidConfig) {
					t.Fatalf("panic %v, want ErrInvalidConfig", err)
				}
			}()
			build()
		})
	}
}

// Sentinels of the tests, made once: kinds are unique.
var (
	errTestLocked  = task.NewError("task_test.locked", "locked")
	errTestExpired = task.NewError("task_test.expired", "expired")
)

func TestKindOf(t *testing.T) {
	errLocked := errTestLocked
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("boom"), task.KindError},
		{errLocked, "task_test.locked"},
		{fmt.Errorf("wrapped: %w", errLocked), "task_test.locked"},
		{task.Skip(errLocked), "task.skipped"},
		{task.Permanent(errLocked), "task_test.locked"},
		{task.Permanent(errors.New("x")), task.KindError},
		{context.DeadlineExceeded, task.KindTimeout},
		{fmt.Errorf("x: %w", context.Canceled), task.KindCanceled},
		{&task.Failure{Kind: "task_test.expired", Message: "m"}, "task_test.expired"},
	}
	for _, tt := range tests {
		if got := task.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestSkipAndFailure(t *testing.T) {
	reason := errTestLocked
	s := task.Skip(reason)
	if !task.IsSkipped(s) || !errors.Is(s, reason) || errors.Is(s, task.ErrInvalidConfig) {
		t.Fatalf("Skip(%v) matches wrongly", reason)
	}
	if task.IsSkipped(reason) || task.IsSkipped(nil) {
		t.Fatal("a plain error is not a skip")
	}
	if !task.IsSkipped(task.Skip(nil)) || task.Skip(nil).Error() != "task: skipped" {
		t.Fatal("Skip(nil) is a bare skip")
	}
	f := &task.Failure{Kind: "task_test.locked", Message: "m"}
	if !errors.Is(f, reason) || errors.Is(f, task.ErrSkipped) || errors.Is(f, context.Canceled) || errors.Is(f, errTestExpired) {
		t.Fatal("Failure matches by kind only")
	}
	timeout := &task.Failure{Kind: task.KindTimeout, Message: "deadline"}
	if !errors.Is(timeout, context.DeadlineExceeded) {
		t.Fatal("a stored timeout matches context.DeadlineExceeded")
	}
	plain := &task.Failure{Kind: task.KindError, Message: "boom"}
	if errors.Is(plain, errors.New("boom")) || errors.Is(plain, reason) {
		t.Fatal("a failure of no kind matches nothing else")
	}
}

func noop(next task.Func) task.Func {
	return func(ctx context.Context, inv *task.Invocation) (any, error) { return next(ctx, inv) }
}

// BenchmarkChain8Noop proves a chain costs nothing per call beyond the
// calls themselves: 0 allocs/op.
func BenchmarkChain8Noop(b *testing.B) {
	run := task.Chain(noop, noop, noop, noop, noop, noop, noop, noop)(
		func(ctx context.Context, inv *task.Invocation) (any, error) { return nil, nil })
	ctx := context.Background()
	inv := &task.Invocation{ID: "1", Name: "noop"}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = run(ctx, inv)
	}
}

func TestChainAllocatesNothing(t *testing.T) {
	run := task.Chain(noop, noop, noop, noop, noop, noop, noop, noop)(
		func(ctx context.Context, inv *task.Invocation) (any, error) { return nil, nil })
	ctx := context.Background()
	inv := &task.Invocation{ID: "1"}
	if n := testing.AllocsPerRun(1000, func() { _, _ = run(ctx, inv) }); n != 0 {
		t.Fatalf("a chain of 8 no-op middlewares allocates %v per call, want 0", n)
	}
}

// Two sentinels never share a kind, and a failure read back matches only
// its own.
func TestKindsAreUnique(t *testing.T) {
	for _, kind := range []string{"task_test.locked", "", task.KindError, task.KindTimeout, task.KindCanceled} {
		func() {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, task.ErrInvalidConfig) {
					t.Errorf("NewError(%q) again: panic %v, want ErrInvalidConfig", kind, err)
				}
			}()
			task.NewError(kind, "again")
		}()
	}
}

func TestPermanent(t *testing.T) {
	boom := errors.New("boom")
	err := task.Permanent(boom)
	if !errors.Is(err, task.ErrPermanent) || !errors.Is(err, boom) || err.Error() != "boom" {
		t.Fatalf("Permanent(boom) = %v", err)
	}
	bad := &task.PayloadError{Task: "t", Err: boom}
	if !errors.Is(bad, task.ErrPermanent) || !errors.Is(bad, task.ErrBadPayload) {
		t.Fatal("a bad payload is permanent")
	}
}

// A panic's message is one line, bounded; its stack is kept apart, bounded.
func TestPanicErrorIsOneLine(t *testing.T) {
	var perr *task.PanicError
	func() {
		defer func() { perr = task.Recovered(recover()) }()
		panic("line one\nline two\n" + strings.Repeat("x", 5000))
	}()
	msg := perr.Error()
	if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "task panicked: line one line two x") {
		t.Fatalf("message %q", msg[:min(len(msg), 80)])
	}
	if len(msg) > task.MaxPanicMessage+64 {
		t.Fatalf("message of %d bytes", len(msg))
	}
	if !strings.Contains(string(perr.Stack), "TestPanicErrorIsOneLine") || len(perr.Stack) > task.MaxPanicStack+8 {
		t.Fatalf("stack of %d bytes: %.200s", len(perr.Stack), perr.Stack)
	}
	if !errors.Is(perr, task.ErrPanic) || task.KindOf(perr) != "task.panic" {
		t.Fatalf("kind %q", task.KindOf(perr))
	}
}

// A run's clock is the wall clock unless its invocation has one.
func TestClock(t *testing.T) {
	if d := time.Since((&task.Invocation{}).Now()); d < 0 || d > time.Second {
		t.Fatalf("Now without a clock is %v off", d)
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	inv := &task.Invocation{Clock: func() time.Time { return at }}
	if !inv.Now().Equal(at) {
		t.Fatalf("Now = %v", inv.Now())
	}
}

// Only whoever runs an invocation says it can requeue: a task called
// in-process from a run that can (a sub-task under a worker) cannot, so
// its retry policy waits in-process instead of handing the caller a
// requeue.
func TestCallCannotRequeue(t *testing.T) {
	var seen []bool
	spy := func(next task.Func) task.Func {
		return func(ctx context.Context, inv *task.Invocation) (any, error) {
			seen = append(seen, inv.CanRequeue)
			return next(ctx, inv)
		}
	}
	sub := task.New("sub", func(ctx context.Context, n int) (int, error) { return n, nil }, spy)
	parent := task.New("parent", func(ctx context.Context, n int) (int, error) { return sub.Call(ctx, n) }, spy)
	if _, err := parent.Invoke(context.Background(), &task.Invocation{ID: "p", Attempt: 1, CanRequeue: true}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || !seen[0] || seen[1] {
		t.Fatalf("CanRequeue seen by the parent and the sub-task: %v, want [true false]", seen)
	}
}

// IsOutcome tells the errors that already decide what becomes of a run,
// wrapped or not, from the failures a policy may still act on.
func TestIsOutcome(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{boom, false},
		{context.Canceled, false},
		{&task.Failure{Kind: task.KindError, Message: "boom"}, false},
		{task.Skip(boom), true},
		{fmt.Errorf("wrapped: %w", task.Skip(boom)), true},
		{task.Requeue(time.Second, true, boom), true},
		{task.Permanent(boom), true},
		{&task.PayloadError{Task: "t", Err: boom}, true},
		{task.AfterFailure(task.Skip(boom), boom), true},
		{task.Unavailable(boom), true},
		{errors.Join(boom, task.Unavailable(boom)), true},
		{&task.Failure{Kind: "task.skipped", Message: "stored skip"}, true},
		{task.Recovered("oops"), false},
	} {
		if got := task.IsOutcome(tt.err); got != tt.want {
			t.Errorf("IsOutcome(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
