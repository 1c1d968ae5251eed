package workflow

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
	"github.com/taskware/taskware/worker"
)

// Start adds a root step: t runs with args.
func Start[A, R any](w *Builder, t *task.Task[A, R], args A, opts ...Option) Step[R] {
	n, c := add(w, t, opts, task.BindNone)
	if n == nil {
		return Step[R]{}
	}
	n.payload = encode(w, n, t, args)
	w.after(n, c)
	return Step[R]{n}
}

// Group adds one root step per element of args, run in parallel: t runs
// with each.
func Group[A, R any](w *Builder, t *task.Task[A, R], args []A, opts ...Option) []Step[R] {
	steps := make([]Step[R], len(args))
	base := options(opts).name
	for i, a := range args {
		o := opts
		if base != "" {
			o = append(opts[:len(opts):len(opts)], Name(base+"-"+strconv.Itoa(i+1)))
		}
		steps[i] = Start(w, t, a, o...)
	}
	return steps
}

// Then adds a step that runs t with p's result, once p succeeded.
func Then[P, R any](w *Builder, p Step[P], t *task.Task[P, R], opts ...Option) Step[R] {
	n, c := add(w, t, opts, task.BindOne)
	if n == nil {
		return Step[R]{}
	}
	w.parent(n, p.n, "*")
	w.after(n, c)
	return Step[R]{n}
}

// Join adds a step that runs t with the results of ps, in their order,
// once they all succeeded: a fan-in.
func Join[P, R any](w *Builder, ps []Step[P], t *task.Task[[]P, R], opts ...Option) Step[R] {
	n, c := add(w, t, opts, task.BindAll)
	if n == nil {
		return Step[R]{}
	}
	if len(ps) == 0 {
		w.fail(fmt.Errorf("%w: workflow: step %q joins no steps", task.ErrInvalidConfig, n.name))
	}
	for _, p := range ps {
		w.parent(n, p.n, "*")
	}
	w.after(n, c)
	return Step[R]{n}
}

// ThenOutcome adds a step that runs t with p's outcome once p ended,
// whatever it did: its result, or its error (task.Upstream). p's failure
// then does not fail the workflow if all its children take outcomes.
func ThenOutcome[P, R any](w *Builder, p Step[P], t *task.Task[task.Upstream[P], R], opts ...Option) Step[R] {
	n, c := add(w, t, opts, task.BindOutcomes)
	if n == nil {
		return Step[R]{}
	}
	n.outcomes = true
	w.parent(n, p.n, "*")
	w.after(n, c)
	return Step[R]{n}
}

// JoinOutcomes adds a step that runs t with the outcomes of ps, in their
// order, once they all ended, whatever they did.
func JoinOutcomes[P, R any](w *Builder, ps []Step[P], t *task.Task[[]task.Upstream[P], R], opts ...Option) Step[R] {
	n, c := add(w, t, opts, task.BindOutcomes)
	if n == nil {
		return Step[R]{}
	}
	n.outcomes = true
	if len(ps) == 0 {
		w.fail(fmt.Errorf("%w: workflow: step %q joins no steps", task.ErrInvalidConfig, n.name))
	}
	for _, p := range ps {
		w.parent(n, p.n, "*")
	}
	w.after(n, c)
	return Step[R]{n}
}

// Add adds a step of any shape: t runs with args, each field named by an
// Input option set from that input's step (see Input). Without Inputs it
// is a root, or waits for its After steps.
func Add[A, R any](w *Builder, t *task.Task[A, R], args A, opts ...Option) Step[R] {
	n, c := add(w, t, opts, task.BindNone)
	if n == nil {
		return Step[R]{}
	}
	n.payload = encode(w, n, t, args)
	if len(c.inputs) > 0 {
		n.bind, n.outcomes = task.BindFields, true
		argsType := reflect.TypeFor[A]()
		for _, in := range c.inputs {
			if in.from == nil || in.from.b != w {
				w.fail(fmt.Errorf("%w: workflow %s: the Input %s of step %q", ErrForeignStep, w.name, in.field, n.name))
				return Step[R]{n}
			}
			up, err := fieldFits(n.name, argsType, in)
			if err != nil {
				w.fail(err)
				return Step[R]{n}
			}
			n.outcomes = n.outcomes && up
			for _, e := range n.parents {
				if e.field == in.field {
					w.fail(fmt.Errorf("%w: workflow: step %q: field %s set twice", task.ErrInvalidConfig, n.name, in.field))
				}
			}
			w.parent(n, in.from, in.field)
		}
	}
	c.inputs = nil
	w.after(n, c)
	return Step[R]{n}
}

// fieldFits checks that in's field of args can take its step's result,
// and reports whether it takes its outcome (a task.Upstream).
func fieldFits(step string, args reflect.Type, in input) (upstream bool, err error) {
	mismatch := &MismatchError{Step: step, Parent: in.from.name, Field: in.field, Got: in.value}
	if args.Kind() != reflect.Struct {
		mismatch.Want = args
		return false, mismatch
	}
	f, ok := args.FieldByName(in.field)
	if !ok || !f.IsExported() || throughPointer(args, f.Index) {
		return false, mismatch
	}
	mismatch.Want = f.Type
	switch {
	case f.Type == in.upstream:
		return true, nil
	case f.Type.Kind() != reflect.Interface && in.value.AssignableTo(f.Type):
		return false, nil
	}
	return false, mismatch
}

// throughPointer reports whether the field at index of t is promoted
// through an embedded pointer, which may be nil when it is set.
func throughPointer(t reflect.Type, index []int) bool {
	for _, i := range index[:len(index)-1] {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Pointer {
			return true
		}
		t = f.Type
	}
	return false
}

// Order makes step after wait for step before, as After does: an
// ordering edge between two steps added already.
func Order(w *Builder, before, after Ref) {
	if w == nil {
		return
	}
	a := w.own(after)
	if a == nil {
		return
	}
	w.orderAfter(a, before)
}

// add adds a step of t, unless w or t is nil (a mistake Build returns),
// and returns it and its options.
func add[A, R any](w *Builder, t *task.Task[A, R], opts []Option, bind task.BindMode) (*node, config) {
	c := options(opts)
	if w == nil {
		return nil, c
	}
	if t == nil {
		w.fail(fmt.Errorf("%w: workflow %s: a nil task", task.ErrInvalidConfig, w.name))
		return nil, c
	}
	n := &node{b: w, index: len(w.nodes), task: t.Name(), codec: t.Codec(), result: reflect.TypeFor[R](),
		bind: bind, ifSkipped: c.ifSkipped, queue: queue.Default}
	switch {
	case c.queueSet:
		n.queue = c.queue
	case w.queue != "":
		n.queue = w.queue
	}
	if c.name != "" {
		n.name = c.name
	} else {
		n.name = w.freeName(t.Name())
	}
	w.nodes = append(w.nodes, n)
	if _, taken := w.names[n.name]; taken {
		w.fail(fmt.Errorf("%w: workflow %s: step %q", ErrDuplicateStep, w.name, n.name))
	} else {
		w.names[n.name] = n
	}
	switch {
	case !goodName(n.name):
		w.fail(fmt.Errorf("%w: workflow %s: step %q: want 1 to %d of A-Z a-z 0-9 . _ -", ErrBadStepName, w.name, n.name, MaxStepName))
	case c.bad != "":
		w.fail(fmt.Errorf("%w: workflow %s: step %q: %s", task.ErrInvalidConfig, w.name, n.name, c.bad))
	case len(c.inputs) > 0 && bind != task.BindNone:
		w.fail(fmt.Errorf("%w: workflow %s: step %q: Input is an option of Add", task.ErrInvalidConfig, w.name, n.name))
	}
	if err := queue.ValidateName(n.queue); err != nil {
		w.fail(err)
	}
	return n, c
}

// after adds n's After edges, once its data edges are in.
func (b *Builder) after(n *node, c config) {
	for _, r := range c.after {
		b.orderAfter(n, r)
	}
}

// orderAfter makes n wait for r, unless it does already.
func (b *Builder) orderAfter(n *node, r Ref) {
	p := b.own(r)
	if p == nil {
		return
	}
	for _, e := range n.parents {
		if e.from == p {
			return // it waits for it already
		}
	}
	n.parents = append(n.parents, edge{from: p})
}

// parent adds p as n's parent, through field.
func (b *Builder) parent(n, p *node, field string) {
	if p == nil || p.b != b {
		b.fail(fmt.Errorf("%w: workflow %s: a parent of step %q", ErrForeignStep, b.name, n.name))
		return
	}
	for _, e := range n.parents {
		if e.from == p {
			b.fail(fmt.Errorf("%w: workflow %s: step %q is a parent of step %q twice", task.ErrInvalidConfig, b.name, p.name, n.name))
			return
		}
	}
	n.parents = append(n.parents, edge{from: p, field: field})
}

// own returns r's step if it is b's, or records the mistake.
func (b *Builder) own(r Ref) *node {
	var n *node
	if r != nil {
		n = r.ref()
	}
	if n == nil || n.b != b {
		b.fail(fmt.Errorf("%w: workflow %s: a step of After or Order", ErrForeignStep, b.name))
		return nil
	}
	return n
}

// freeName returns a name for a step of task: the task's name made a
// step name, then with "-2", "-3", ... while taken.
func (b *Builder) freeName(taskName string) string {
	base := []byte(taskName)
	for i, c := range base {
		if !nameByte(c) {
			base[i] = '_'
		}
	}
	if len(base) > MaxStepName-8 { // room for "-" and a count
		base = base[:MaxStepName-8]
	}
	name := string(base)
	k := max(b.counts[name], 2) // where the last search for this base stopped
	for free := name; ; k++ {
		if _, taken := b.names[free]; !taken {
			b.counts[name] = k
			return free
		}
		free = name + "-" + strconv.Itoa(k)
	}
}

func goodName(s string) bool {
	if s == "" || len(s) > MaxStepName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			return false
		}
	}
	return true
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// encode encodes a step's arguments, or records why not.
func encode[A, R any](w *Builder, n *node, t *task.Task[A, R], args A) []byte {
	p, err := t.Encode(args)
	switch {
	case err != nil:
		w.fail(fmt.Errorf("%w: workflow %s: step %q: arguments do not encode: %w", task.ErrInvalidConfig, w.name, n.name, err))
	case len(p) > worker.DefaultMaxPayload:
		w.fail(fmt.Errorf("workflow %s: %w", w.name, &task.TooLargeError{What: "arguments of step " + n.name, Size: len(p), Max: worker.DefaultMaxPayload}))
	}
	return p
}
