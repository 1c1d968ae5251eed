package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/workflow"
)

// Tasks of the build tests: they are never run here.
var (
	inc = task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	sum = task.New("sum", func(ctx context.Context, ns []int) (int, error) {
		t := 0
		for _, n := range ns {
			t += n
		}
		return t, nil
	})
	show  = task.New("show", func(ctx context.Context, n int) (string, error) { return fmt.Sprint(n), nil })
	lines = task.New("lines", func(ctx context.Context, a Report) (string, error) { return a.Title, nil })
	shout = task.NewWithOptions("shout", func(ctx context.Context, n int) (int, error) { return n, nil }, task.WithCodec(rawCodec{}))
)

// Report is an Add step's arguments, its fields set from parents.
type Report struct {
	Title  string
	Count  int
	Label  string
	Status task.Upstream[int]
	Any    any
	hidden int
}

// rawCodec is a codec other than JSON, to mismatch with it.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return []byte(fmt.Sprint(v)), nil }
func (rawCodec) Encode(w io.Writer, v any) error    { _, err := fmt.Fprint(w, v); return err }
func (rawCodec) Unmarshal(data []byte, v any) error { _, err := fmt.Sscan(string(data), v); return err }

func TestBuildRefusesCycle(t *testing.T) {
	tests := []struct {
		name  string
		build func(w *workflow.Builder) workflow.Step[int]
		edges map[string][]string // child -> parents, to check the path
		want  []string            // the steps of the cycle
	}{
		{"three steps", func(w *workflow.Builder) workflow.Step[int] {
			a := workflow.Start(w, inc, 1, workflow.Name("a"))
			b := workflow.Then(w, a, inc, workflow.Name("b"))
			c := workflow.Then(w, b, inc, workflow.Name("c"))
			workflow.Order(w, c, a)
			return c
		}, map[string][]string{"a": {"c"}, "b": {"a"}, "c": {"b"}}, []string{"a", "b", "c"}},
		{"a step after itself", func(w *workflow.Builder) workflow.Step[int] {
			a := workflow.Start(w, inc, 1, workflow.Name("a"))
			workflow.Order(w, a, a)
			return a
		}, map[string][]string{"a": {"a"}}, []string{"a"}},
		{"beside steps that are fine", func(w *workflow.Builder) workflow.Step[int] {
			r := workflow.Start(w, inc, 1, workflow.Name("r"))
			x := workflow.Then(w, r, inc, workflow.Name("x"))
			y := workflow.Then(w, x, inc, workflow.Name("y"))
			z := workflow.Then(w, r, inc, workflow.Name("z"))
			workflow.Order(w, y, x)
			return z
		}, map[string][]string{"x": {"r", "y"}, "y": {"x"}, "z": {"r"}}, []string{"x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := workflow.New("cyclic")
			_, err := workflow.Build(w, tt.build(w))
			if !errors.Is(err, workflow.ErrCycle) {
				t.Fatalf("Build = %v, want ErrCycle", err)
			}
			ce, ok := errors.AsType[*workflow.CycleError](err)
			if !ok {
				t.Fatalf("error %T is no *CycleError", err)
			}
			p := ce.Path
			if len(p) != len(tt.want)+1 || p[0] != p[len(p)-1] {
				t.Fatalf("path %v: want %d steps, back to the first", p, len(tt.want))
			}
			if got := slices.Sorted(slices.Values(p[1:])); !slices.Equal(got, tt.want) {
				t.Fatalf("path %v goes through %v, want %v", p, got, tt.want)
			}
			for i := 1; i < len(p); i++ {
				if !slices.Contains(tt.edges[p[i]], p[i-1]) {
					t.Fatalf("path %v: %s is no parent of %s", p, p[i-1], p[i])
				}
			}
			if !strings.Contains(err.Error(), strings.Join(p, " -> ")) {
				t.Fatalf("error %q does not show the path", err)
			}
		})
	}
}

func TestBuildRefusesMismatch(t *testing.T) {
	tests := []struct {
		name         string
		build        func(w *workflow.Builder) workflow.Step[string]
		field        string
		want, got    reflect.Type
		codecs       bool
		wantInErrMsg string
	}{
		{"a field of another type", func(w *workflow.Builder) workflow.Step[string] {
			s := workflow.Start(w, show, 1, workflow.Name("s"))
			return workflow.Add(w, lines, Report{}, workflow.Input("Count", s))
		}, "Count", reflect.TypeFor[int](), reflect.TypeFor[string](), false, "takes int"},
		{"no such field", func(w *workflow.Builder) workflow.Step[string] {
			s := workflow.Start(w, show, 1)
			return workflow.Add(w, lines, Report{}, workflow.Input("Nope", s))
		}, "Nope", nil, reflect.TypeFor[string](), false, "no such exported field"},
		{"an unexported field", func(w *workflow.Builder) workflow.Step[string] {
			n := workflow.Start(w, inc, 1)
			return workflow.Add(w, lines, Report{}, workflow.Input("hidden", n))
		}, "hidden", nil, reflect.TypeFor[int](), false, "no such exported field"},
		{"an Upstream of another type", func(w *workflow.Builder) workflow.Step[string] {
			s := workflow.Start(w, show, 1)
			return workflow.Add(w, lines, Report{}, workflow.Input("Status", s))
		}, "Status", reflect.TypeFor[task.Upstream[int]](), reflect.TypeFor[string](), false, "takes task.Upstream[int]"},
		{"an interface field", func(w *workflow.Builder) workflow.Step[string] {
			n := workflow.Start(w, inc, 1)
			return workflow.Add(w, lines, Report{}, workflow.Input("Any", n))
		}, "Any", reflect.TypeFor[any](), reflect.TypeFor[int](), false, "takes interface {}"},
		{"arguments that are no struct", func(w *workflow.Builder) workflow.Step[string] {
			n := workflow.Start(w, inc, 1)
			return workflow.Add(w, show, 0, workflow.Input("X", n))
		}, "X", reflect.TypeFor[int](), reflect.TypeFor[int](), false, "takes int"},
		{"a parent of another codec (Then)", func(w *workflow.Builder) workflow.Step[string] {
			n := workflow.Start(w, shout, 1)
			return workflow.Then(w, n, show)
		}, "", reflect.TypeFor[task.Codec](), reflect.TypeFor[rawCodec](), true, "codec"},
		{"a parent of another codec (Input)", func(w *workflow.Builder) workflow.Step[string] {
			n := workflow.Start(w, shout, 1)
			return workflow.Add(w, lines, Report{}, workflow.Input("Count", n))
		}, "Count", reflect.TypeFor[task.Codec](), reflect.TypeFor[rawCodec](), true, "codec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := workflow.New("mismatch")
			_, err := workflow.Build(w, tt.build(w))
			if !errors.Is(err, workflow.ErrTypeMismatch) {
				t.Fatalf("Build = %v, want ErrTypeMismatch", err)
			}
			me, ok := errors.AsType[*workflow.MismatchError](err)
			if !ok {
				t.Fatalf("error %T is no *MismatchError", err)
			}
			want, got := tt.want, tt.got
			if tt.codecs { // the codecs' types: JSON's is unexported
				want = reflect.TypeOf(task.JSON)
			}
			if me.Field != tt.field || me.Want != want || me.Got != got || me.Codec != tt.codecs || me.Step == "" || me.Parent == "" {
				t.Fatalf("MismatchError %+v: want field %q, want %v, got %v, codec %v", me, tt.field, want, got, tt.codecs)
			}
			if !strings.Contains(err.Error(), tt.wantInErrMsg) {
				t.Fatalf("error %q does not say %q", err, tt.wantInErrMsg)
			}
		})
	}
}

// TestBuildTakesFittingFields: the fields that fit build, whatever the
// codec of a parent that only orders the step.
func TestBuildTakesFittingFields(t *testing.T) {
	w := workflow.New("fits")
	s := workflow.Start(w, show, 1)
	n := workflow.Start(w, inc, 1)
	o := workflow.Start(w, shout, 1) // another codec, but no data from it
	r := workflow.Add(w, lines, Report{Title: "t"}, workflow.Input("Label", s), workflow.Input("Status", n), workflow.After(o))
	if _, err := workflow.Build(w, r); err != nil {
		t.Fatal(err)
	}
}

func TestBuildRefusesBadSteps(t *testing.T) {
	other := workflow.New("other")
	foreign := workflow.Start(other, inc, 1)
	tests := []struct {
		name  string
		build func(w *workflow.Builder) workflow.Step[int]
		want  error
	}{
		{"a name twice", func(w *workflow.Builder) workflow.Step[int] {
			workflow.Start(w, inc, 1, workflow.Name("x"))
			return workflow.Start(w, inc, 2, workflow.Name("x"))
		}, workflow.ErrDuplicateStep},
		{"a name the default took", func(w *workflow.Builder) workflow.Step[int] {
			workflow.Start(w, inc, 1)
			return workflow.Start(w, inc, 2, workflow.Name("inc"))
		}, workflow.ErrDuplicateStep},
		{"a name with a space", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Start(w, inc, 1, workflow.Name("a b"))
		}, workflow.ErrBadStepName},
		{"a name with a colon", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Start(w, inc, 1, workflow.Name("a:b"))
		}, workflow.ErrBadStepName},
		{"a name too long", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Start(w, inc, 1, workflow.Name(strings.Repeat("a", workflow.MaxStepName+1)))
		}, workflow.ErrBadStepName},
		{"a parent of another builder", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Then(w, foreign, inc)
		}, workflow.ErrForeignStep},
		{"a zero step", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Then(w, workflow.Step[int]{}, inc)
		}, workflow.ErrForeignStep},
		{"a foreign step in a Join", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Join(w, []workflow.Step[int]{workflow.Start(w, inc, 1), foreign}, sum)
		}, workflow.ErrForeignStep},
		{"After a foreign step", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Start(w, inc, 1, workflow.After(foreign))
		}, workflow.ErrForeignStep},
		{"Order of a foreign step", func(w *workflow.Builder) workflow.Step[int] {
			a := workflow.Start(w, inc, 1)
			workflow.Order(w, foreign, a)
			return a
		}, workflow.ErrForeignStep},
		{"an Input of a foreign step", func(w *workflow.Builder) workflow.Step[int] {
			r := workflow.Add(w, lines, Report{}, workflow.Input("Count", foreign))
			return workflow.Then(w, workflow.Start(w, inc, 1), inc, workflow.After(r))
		}, workflow.ErrForeignStep},
		{"an output of another builder", func(w *workflow.Builder) workflow.Step[int] {
			workflow.Start(w, inc, 1)
			return foreign
		}, workflow.ErrNoOutput},
		{"a zero output", func(w *workflow.Builder) workflow.Step[int] {
			workflow.Start(w, inc, 1)
			return workflow.Step[int]{}
		}, workflow.ErrNoOutput},
		{"no steps", func(w *workflow.Builder) workflow.Step[int] { return workflow.Step[int]{} }, workflow.ErrEmpty},
		{"a nil task", func(w *workflow.Builder) workflow.Step[int] { return workflow.Start[int, int](w, nil, 1) }, task.ErrInvalidConfig},
		{"a Join of nothing", func(w *workflow.Builder) workflow.Step[int] { return workflow.Join(w, nil, sum) }, task.ErrInvalidConfig},
		{"a parent twice", func(w *workflow.Builder) workflow.Step[int] {
			a := workflow.Start(w, inc, 1)
			return workflow.Join(w, []workflow.Step[int]{a, a}, sum)
		}, task.ErrInvalidConfig},
		{"an Input outside Add", func(w *workflow.Builder) workflow.Step[int] {
			a := workflow.Start(w, inc, 1)
			return workflow.Then(w, a, inc, workflow.Input("Count", a))
		}, task.ErrInvalidConfig},
		{"a field set twice", func(w *workflow.Builder) workflow.Step[int] {
			a, b := workflow.Start(w, inc, 1), workflow.Start(w, inc, 2)
			r := workflow.Add(w, lines, Report{}, workflow.Input("Count", a), workflow.Input("Count", b))
			return workflow.Start(w, inc, 1, workflow.After(r))
		}, task.ErrInvalidConfig},
		{"no such skip policy", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Then(w, workflow.Start(w, inc, 1), inc, workflow.IfSkipped(9))
		}, task.ErrInvalidConfig},
		{"a bad queue", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Start(w, inc, 1, workflow.OnQueue("a{b}"))
		}, task.ErrInvalidConfig},
		{"a nil option", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Start(w, inc, 1, nil)
		}, task.ErrInvalidConfig},
		{"too many parents", func(w *workflow.Builder) workflow.Step[int] {
			return workflow.Join(w, workflow.Group(w, inc, make([]int, queue.MaxStepParents+1)), sum)
		}, task.ErrTooLarge},
		{"arguments too large", func(w *workflow.Builder) workflow.Step[int] {
			big := task.New("big", func(ctx context.Context, s string) (int, error) { return 0, nil })
			return workflow.Start(w, big, strings.Repeat("x", 2<<20))
		}, task.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := workflow.New("bad")
			if _, err := workflow.Build(w, tt.build(w)); !errors.Is(err, tt.want) {
				t.Fatalf("Build = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewRefusesStepOptions(t *testing.T) {
	for name, w := range map[string]*workflow.Builder{
		"Name":      workflow.New("w", workflow.Name("x")),
		"IfSkipped": workflow.New("w", workflow.IfSkipped(queue.RunWithout)),
		"no name":   workflow.New(""),
		"bad queue": workflow.New("w", workflow.OnQueue("")),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := workflow.Build(w, workflow.Start(w, inc, 1)); !errors.Is(err, task.ErrInvalidConfig) {
				t.Fatalf("Build = %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := workflow.Build[int](nil, workflow.Step[int]{}); !errors.Is(err, task.ErrInvalidConfig) {
		t.Fatalf("Build(nil) = %v, want ErrInvalidConfig", err)
	}
}

// diamond builds a -> (b, c) -> d, with the arguments and queue given.
func diamond(arg int, q string) (*workflow.Def[int], error) {
	w := workflow.New("diamond", workflow.OnQueue(q))
	a := workflow.Start(w, inc, arg, workflow.Name("a"))
	b := workflow.Then(w, a, inc, workflow.Name("b"))
	c := workflow.Then(w, a, inc, workflow.Name("c"))
	return workflow.Build(w, workflow.Join(w, []workflow.Step[int]{b, c}, sum, workflow.Name("d")))
}

func TestDigestIsStable(t *testing.T) {
	first, err := diamond(1, "q")
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Digest()) != 32 {
		t.Fatalf("digest %q: want 32 hex digits", first.Digest())
	}
	for range 5 {
		again, err := diamond(1, "q")
		if err != nil {
			t.Fatal(err)
		}
		if again.Digest() != first.Digest() {
			t.Fatalf("the same workflow gives digests %s and %s", first.Digest(), again.Digest())
		}
	}
	otherArgs, _ := diamond(2, "q")
	otherQueue, _ := diamond(1, "r")
	w := workflow.New("diamond", workflow.OnQueue("q"))
	a := workflow.Start(w, inc, 1, workflow.Name("a"))
	b := workflow.Then(w, a, inc, workflow.Name("b"))
	c := workflow.Then(w, a, inc, workflow.Name("c"), workflow.After(b)) // one more edge
	otherEdges, err := workflow.Build(w, workflow.Join(w, []workflow.Step[int]{b, c}, sum, workflow.Name("d")))
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]*workflow.Def[int]{"arguments": otherArgs, "queue": otherQueue, "edges": otherEdges} {
		if d.Digest() == first.Digest() {
			t.Errorf("another %s gives the same digest", name)
		}
	}
}

func TestDefNamesAndOrder(t *testing.T) {
	w := workflow.New("names")
	// Added children first, by Order: Build still stores parents first.
	late := workflow.Start(w, inc, 1, workflow.Name("late"))
	early := workflow.Start(w, inc, 1, workflow.Name("early"))
	workflow.Order(w, early, late)
	g := workflow.Group(w, inc, []int{1, 2, 3})
	named := workflow.Group(w, inc, []int{1, 2}, workflow.Name("page"))
	colon := task.New("mail:send", func(ctx context.Context, n int) (int, error) { return n, nil })
	m := workflow.Then(w, g[0], colon)
	def, err := workflow.Build(w, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"early", "inc", "inc-2", "inc-3", "page-1", "page-2", "late", "mail_send"}
	if got := def.Steps(); !slices.Equal(got, want) {
		t.Fatalf("Steps = %v, want %v", got, want)
	}
	if g[1].Name() != "inc-2" || named[1].Name() != "page-2" || m.Name() != "mail_send" || def.Output() != "mail_send" {
		t.Fatalf("names %q %q %q, output %q", g[1].Name(), named[1].Name(), m.Name(), def.Output())
	}
	if def.Queue() != queue.Default || def.Name() != "names" {
		t.Fatalf("queue %q, name %q", def.Queue(), def.Name())
	}
}
