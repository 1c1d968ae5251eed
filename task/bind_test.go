package task_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/taskware/taskware/task"
)

func ok(step, value string) task.Input {
	return task.Input{Step: step, Status: "succeeded", Value: []byte(value)}
}

func skipped(step string) task.Input {
	return task.Input{Step: step, Status: "skipped", Kind: "task_test.locked", Error: "locked"}
}

func failed(step string) task.Input {
	return task.Input{Step: step, Status: "failed", Kind: "task_test.expired", Error: "it expired"}
}

// runBound runs a task of A that returns its arguments through a
// middleware that records what it saw, with inv's inputs.
func runBound[A any](t *testing.T, inv *task.Invocation) (A, error) {
	t.Helper()
	var seen A
	tk := task.New("bound", func(ctx context.Context, a A) (A, error) { return a, nil },
		func(next task.Func) task.Func {
			return func(ctx context.Context, inv *task.Invocation) (any, error) {
				seen, _ = task.ArgsOf[A](inv) // middlewares see the bound arguments
				return next(ctx, inv)
			}
		})
	res, err := tk.Invoke(context.Background(), inv)
	if err == nil && !reflect.DeepEqual(res, seen) {
		t.Fatalf("the middleware saw %+v, the function %+v", seen, res)
	}
	return res, err
}

func TestBindOne(t *testing.T) {
	got, err := runBound[int](t, &task.Invocation{Bind: task.BindOne, Inputs: []task.Input{ok("a", "41")}})
	if err != nil || got != 41 {
		t.Fatalf("BindOne = %v, %v; want 41", got, err)
	}
	// An ordering parent ("" in Fields) gives nothing; the data one does.
	got, err = runBound[int](t, &task.Invocation{Bind: task.BindOne, Fields: []string{"", "*"},
		Inputs: []task.Input{ok("order", `"x"`), ok("a", "7")}})
	if err != nil || got != 7 {
		t.Fatalf("BindOne after an ordering parent = %v, %v; want 7", got, err)
	}
	// A skipped parent, for a step that runs without it: the zero value.
	got, err = runBound[int](t, &task.Invocation{Bind: task.BindOne, Payload: []byte("3"), Inputs: []task.Input{skipped("a")}})
	if err != nil || got != 0 {
		t.Fatalf("BindOne of a skipped parent = %v, %v; want 0", got, err)
	}
}

func TestBindAll(t *testing.T) {
	inv := &task.Invocation{Bind: task.BindAll, Fields: []string{"*", "*", "", "*", "*"},
		Inputs: []task.Input{ok("a", "1"), ok("b", "20"), ok("order", "999"), skipped("c"), ok("d", "300")}}
	got, err := runBound[[]int](t, inv)
	if err != nil || !reflect.DeepEqual(got, []int{1, 20, 300}) {
		t.Fatalf("BindAll = %v, %v; want [1 20 300]: in order, the skipped and the ordering parent left out", got, err)
	}
	got, err = runBound[[]int](t, &task.Invocation{Bind: task.BindAll, Inputs: []task.Input{skipped("a")}})
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("BindAll of skipped parents = %#v, %v; want an empty slice", got, err)
	}
}

func TestBindOutcomes(t *testing.T) {
	one, err := runBound[task.Upstream[int]](t, &task.Invocation{Bind: task.BindOutcomes, Inputs: []task.Input{ok("a", "5")}})
	if err != nil || one.Step != "a" || one.Value != 5 || one.Err != nil {
		t.Fatalf("BindOutcomes (one) = %+v, %v", one, err)
	}
	all, err := runBound[[]task.Upstream[int]](t, &task.Invocation{Bind: task.BindOutcomes,
		Inputs: []task.Input{ok("a", "5"), skipped("b"), failed("c")}})
	if err != nil || len(all) != 3 {
		t.Fatalf("BindOutcomes = %+v, %v", all, err)
	}
	if all[0].Step != "a" || all[0].Value != 5 || all[0].Err != nil {
		t.Errorf("success: %+v", all[0])
	}
	if all[1].Step != "b" || !errors.Is(all[1].Err, task.ErrSkipped) || !errors.Is(all[1].Err, errTestLocked) || all[1].Value != 0 {
		t.Errorf("skip: %+v, want an error matching ErrSkipped and its reason's kind", all[1])
	}
	if all[2].Step != "c" || !errors.Is(all[2].Err, errTestExpired) || errors.Is(all[2].Err, task.ErrSkipped) ||
		all[2].Err.Error() != "it expired" {
		t.Errorf("failure: %+v, want an error of its kind", all[2])
	}
}

func TestBindFields(t *testing.T) {
	type Args struct {
		To    string
		Total int
		Note  string
		PDF   task.Upstream[string]
	}
	inv := &task.Invocation{Bind: task.BindFields, Payload: []byte(`{"To":"ada","Note":"kept","Total":99}`),
		Fields: []string{"Total", "", "PDF"},
		Inputs: []task.Input{ok("price", "12"), ok("order", `"x"`), ok("render", `"doc.pdf"`)}}
	got, err := runBound[Args](t, inv)
	want := Args{To: "ada", Total: 12, Note: "kept", PDF: task.Upstream[string]{Step: "render", Value: "doc.pdf"}}
	if err != nil || got != want {
		t.Fatalf("BindFields = %+v, %v; want %+v", got, err, want)
	}

	// A skipped parent zeroes its field; an Upstream field sees the skip.
	inv = &task.Invocation{Bind: task.BindFields, Payload: []byte(`{"To":"ada","Total":99}`),
		Fields: []string{"Total", "PDF"}, Inputs: []task.Input{skipped("price"), skipped("render")}}
	got, err = runBound[Args](t, inv)
	if err != nil || got.To != "ada" || got.Total != 0 || !errors.Is(got.PDF.Err, task.ErrSkipped) {
		t.Fatalf("BindFields with skipped parents = %+v, %v", got, err)
	}
}

// TestBindMisfits: arguments that cannot be built fail the run with a
// *PayloadError, never a panic.
func TestBindMisfits(t *testing.T) {
	type Args struct {
		Total  int
		hidden int
	}
	type Inner struct{ X int }
	type Outer struct{ *Inner }
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"one, a failed parent", func() error {
			_, err := runBound[int](t, &task.Invocation{Bind: task.BindOne, Inputs: []task.Input{failed("a")}})
			return err
		}, `the parent ended failed`},
		{"one, two data inputs", func() error {
			_, err := runBound[int](t, &task.Invocation{Bind: task.BindOne, Inputs: []task.Input{ok("a", "1"), ok("b", "2")}})
			return err
		}, "2 inputs carry data"},
		{"one, no inputs", func() error {
			_, err := runBound[int](t, &task.Invocation{Bind: task.BindOne})
			return err
		}, "0 inputs carry data"},
		{"one, a result that does not decode", func() error {
			_, err := runBound[int](t, &task.Invocation{Bind: task.BindOne, Inputs: []task.Input{ok("a", `"text"`)}})
			return err
		}, `input "a"`},
		{"all, not a slice", func() error {
			_, err := runBound[int](t, &task.Invocation{Bind: task.BindAll, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, "not a slice"},
		{"all, a failed parent", func() error {
			_, err := runBound[[]int](t, &task.Invocation{Bind: task.BindAll, Inputs: []task.Input{ok("a", "1"), failed("b")}})
			return err
		}, `input "b"`},
		{"outcomes, no Upstream", func() error {
			_, err := runBound[[]int](t, &task.Invocation{Bind: task.BindOutcomes, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, "is no Upstream"},
		{"outcomes, not a slice", func() error {
			_, err := runBound[int](t, &task.Invocation{Bind: task.BindOutcomes, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, "not an Upstream"},
		{"fields, no such field", func() error {
			_, err := runBound[Args](t, &task.Invocation{Bind: task.BindFields, Fields: []string{"Nope"}, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, `no exported field "Nope"`},
		{"fields, unexported field", func() error {
			_, err := runBound[Args](t, &task.Invocation{Bind: task.BindFields, Fields: []string{"hidden"}, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, `no exported field "hidden"`},
		{"fields, through a nil embedded pointer", func() error {
			_, err := runBound[Outer](t, &task.Invocation{Bind: task.BindFields, Fields: []string{"X"}, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, `field "X" of task_test.Outer cannot be set`},
		{"fields, not a struct", func() error {
			_, err := runBound[int](t, &task.Invocation{Bind: task.BindFields, Fields: []string{"X"}, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, "not a struct"},
		{"fields, fewer fields than inputs", func() error {
			_, err := runBound[Args](t, &task.Invocation{Bind: task.BindFields, Fields: []string{"Total"}, Inputs: []task.Input{ok("a", "1"), ok("b", "2")}})
			return err
		}, "2 inputs for 1 fields"},
		{"fields, a bad payload", func() error {
			_, err := runBound[Args](t, &task.Invocation{Bind: task.BindFields, Payload: []byte(`{`), Fields: []string{"Total"}, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, "unexpected end of JSON input"},
		{"unknown mode", func() error {
			_, err := runBound[int](t, &task.Invocation{Bind: 99, Inputs: []task.Input{ok("a", "1")}})
			return err
		}, "unknown bind mode 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if _, ok := errors.AsType[*task.PayloadError](err); !ok || !errors.Is(err, task.ErrBadPayload) {
				t.Fatalf("err = %v, want a *PayloadError", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "task bound") {
				t.Fatalf("err = %q, want it to name the task and say %q", err, tt.want)
			}
		})
	}
}

// TestBindUsesTaskCodec: inputs are decoded with the step's own codec,
// which Build checks is its parents'.
func TestBindUsesTaskCodec(t *testing.T) {
	tk := task.NewWithOptions("c", func(ctx context.Context, s string) (string, error) { return s + "!", nil },
		task.WithCodec(upper{}))
	res, err := tk.Func()(context.Background(), &task.Invocation{Bind: task.BindOne, Inputs: []task.Input{ok("a", "ABC")}})
	if err != nil || res != "abc!" {
		t.Fatalf("res = %v, %v; want abc! (decoded with the task's codec)", res, err)
	}
}

// TestBindLeavesSetArgs: arguments set by the caller are not rebuilt.
func TestBindLeavesSetArgs(t *testing.T) {
	got, err := runBound[int](t, &task.Invocation{Args: 8, Bind: task.BindOne, Inputs: []task.Input{ok("a", "1")}})
	if err != nil || got != 8 {
		t.Fatalf("got %v, %v; want the caller's 8", got, err)
	}
}
