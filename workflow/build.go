package workflow

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"reflect"

	"github.com/taskware/taskware/queue"
	"github.com/taskware/taskware/task"
)

// MaxStepName bounds a step's name, in bytes.
const MaxStepName = 64

// Builder collects a workflow's steps, for Build. Make one with New, add
// steps with the functions of this package (Start, Then, Join, Add, ...),
// then Build it. A mistake made while adding (a nil task, a step of
// another Builder, an Input field that does not fit) is kept and returned
// by Build. A Builder is not safe for concurrent use.
type Builder struct {
	name, queue string
	nodes       []*node
	names       map[string]*node
	counts      map[string]int // the next count to try for a default name
	err         error          // the first mistake made while adding
}

// node is one step being built.
type node struct {
	b         *Builder
	index     int
	name      string
	task      string
	queue     string
	codec     task.Codec
	result    reflect.Type
	payload   []byte
	bind      task.BindMode
	parents   []edge // in the order of the step's inputs
	outcomes  bool   // runs whatever its parents did, and takes their outcomes
	ifSkipped queue.SkipPolicy
	children  []*node // filled by Build
}

// edge is a parent of a step.
type edge struct {
	from *node
	// field is the Input field it sets (BindFields), "*" for another
	// input that carries data, and "" for an ordering edge (After, Order).
	field string
}

// Ref is any step of a workflow, whatever its result: what After and
// Order take.
type Ref interface{ ref() *node }

// Step is a step of a workflow whose result is an R: what the functions
// that add a child take, typed, so that a child's arguments fit its
// parents' results at compile time wherever they can.
type Step[R any] struct{ n *node }

func (s Step[R]) ref() *node { return s.n }

// Name returns the step's name in its workflow ("" for a zero Step): the
// one to give Handle.Retry.
func (s Step[R]) Name() string {
	if s.n == nil {
		return ""
	}
	return s.n.name
}

// Option configures a workflow (New: OnQueue only) or one of its steps.
type Option interface{ apply(*config) }

type config struct {
	name, queue string
	queueSet    bool
	ifSkipped   queue.SkipPolicy
	skipSet     bool
	after       []Ref
	inputs      []input
	bad         string // what was wrong with an option
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Name names a step, instead of its task's name (then "-2", "-3", ... if
// taken). A name is 1 to MaxStepName bytes of A-Z, a-z, 0-9, '.', '_' and
// '-', unique in its workflow. Given to Group, it names the steps
// name-1, name-2, ...
func Name(name string) Option { return optionFunc(func(c *config) { c.name = name }) }

// OnQueue puts the workflow's steps on queue q (given to New), or one
// step (given to the function that adds it). A workflow's own queue, its
// home, keeps its record: New's OnQueue, or else the output step's queue.
// Steps go to queue.Default unless told otherwise.
func OnQueue(q string) Option {
	return optionFunc(func(c *config) { c.queue, c.queueSet = q, true })
}

// IfSkipped says what a step that needs its parents to succeed does when
// one was skipped: queue.SkipToo (the default) skips it too,
// queue.RunWithout runs it without that parent's result (its zero value;
// left out of a Join), and queue.FailIfSkipped fails it, and so the
// workflow. A step that takes outcomes always runs.
func IfSkipped(p queue.SkipPolicy) Option {
	return optionFunc(func(c *config) {
		if p > queue.FailIfSkipped {
			c.bad = fmt.Sprintf("IfSkipped(%d): no such policy", p)
		}
		c.ifSkipped, c.skipSet = p, true
	})
}

// After makes a step wait for steps, whose results it does not take: an
// ordering edge. The step runs once they succeeded (or whatever they did,
// for a step that takes outcomes).
func After(steps ...Ref) Option {
	return optionFunc(func(c *config) { c.after = append(c.after, steps...) })
}

// input is an Input option.
type input struct {
	field    string
	from     *node
	value    reflect.Type // P
	upstream reflect.Type // task.Upstream[P]
}

// Input sets field of an Add step's arguments from step's result: the
// field must be exported and of step's result type (then step must
// succeed), or of type task.Upstream of it (then the field gets step's
// outcome, whatever it did). A step whose every Input is an Upstream
// takes outcomes: it runs whatever its parents did. Input is an option of
// Add only.
func Input[P any](field string, step Step[P]) Option {
	return optionFunc(func(c *config) {
		c.inputs = append(c.inputs, input{field: field, from: step.n,
			value: reflect.TypeFor[P](), upstream: reflect.TypeFor[task.Upstream[P]]()})
	})
}

// New returns a Builder of a workflow named name (what it is, as in
// "invoice"; each enqueue gives it an ID). Its one option is OnQueue.
func New(name string, opts ...Option) *Builder {
	b := &Builder{name: name, names: make(map[string]*node), counts: make(map[string]int)}
	c := options(opts)
	b.queue = c.queue
	switch {
	case name == "":
		b.fail(fmt.Errorf("%w: workflow.New: empty name", task.ErrInvalidConfig))
	case c.bad != "":
		b.fail(fmt.Errorf("%w: workflow.New(%q): %s", task.ErrInvalidConfig, name, c.bad))
	case c.name != "" || c.skipSet || len(c.after) > 0 || len(c.inputs) > 0:
		b.fail(fmt.Errorf("%w: workflow.New(%q): Name, IfSkipped, After and Input are step options", task.ErrInvalidConfig, name))
	case c.queueSet:
		if err := queue.ValidateName(c.queue); err != nil {
			b.fail(err)
		}
	}
	return b
}

func options(opts []Option) config {
	var c config
	for _, o := range opts {
		if o == nil {
			c.bad = "a nil option"
			continue
		}
		o.apply(&c)
	}
	return c
}

// fail keeps err if it is the Builder's first mistake.
func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Def is a built workflow whose result is an R: its steps' messages, made
// once, to enqueue as many times as wanted (Enqueue). It is immutable,
// and safe for concurrent use.
type Def[R any] struct {
	name, queue, output, digest string
	codec                       task.Codec
	steps                       []*queue.Message // without IDs: each Enqueue gives them
}

// Name returns the workflow's name.
func (d *Def[R]) Name() string { return d.name }

// Queue returns the workflow's home queue, which keeps its record.
func (d *Def[R]) Queue() string { return d.queue }

// Output returns the name of the output step, whose result is the
// workflow's.
func (d *Def[R]) Output() string { return d.output }

// Digest identifies the definition: the same steps, arguments, queues and
// edges always give the same digest, so that an Enqueue sent again is told
// from another workflow of the same ID.
func (d *Def[R]) Digest() string { return d.digest }

// Steps returns the steps' names, parents before children.
func (d *Def[R]) Steps() []string {
	names := make([]string, len(d.steps))
	for i, m := range d.steps {
		names[i] = m.Step.Name
	}
	return names
}

// Build checks w's steps and makes the workflow whose result is out's.
// It refuses a cycle (ErrCycle), an input that does not fit
// (ErrTypeMismatch: a field, or a parent's codec other than the step's),
// a step named twice (ErrDuplicateStep), a step of another Builder
// (ErrForeignStep), a bad step name (ErrBadStepName), an out that is not
// w's (ErrNoOutput), no steps (ErrEmpty), more than
// queue.MaxWorkflowSteps steps or queue.MaxStepParents parents of a step
// (task.ErrTooLarge), and the first mistake made while adding steps.
func Build[R any](w *Builder, out Step[R]) (*Def[R], error) {
	switch {
	case w == nil:
		return nil, fmt.Errorf("%w: workflow.Build: a nil Builder", task.ErrInvalidConfig)
	case w.err != nil:
		return nil, w.err
	case len(w.nodes) == 0:
		return nil, fmt.Errorf("%w: workflow %s", ErrEmpty, w.name)
	case out.n == nil || out.n.b != w:
		return nil, fmt.Errorf("%w: workflow %s", ErrNoOutput, w.name)
	case len(w.nodes) > queue.MaxWorkflowSteps:
		return nil, fmt.Errorf("workflow %s: %w", w.name, &task.TooLargeError{What: "steps of workflow " + w.name, Size: len(w.nodes), Max: queue.MaxWorkflowSteps})
	}
	for _, n := range w.nodes {
		if len(n.parents) > queue.MaxStepParents {
			return nil, fmt.Errorf("workflow %s: %w", w.name, &task.TooLargeError{What: "parents of step " + n.name, Size: len(n.parents), Max: queue.MaxStepParents})
		}
		for _, e := range n.parents {
			if e.field != "" && !sameCodec(n.codec, e.from.codec) {
				return nil, &MismatchError{Step: n.name, Parent: e.from.name, Field: fieldName(n, e),
					Want: reflect.TypeOf(n.codec), Got: reflect.TypeOf(e.from.codec), Codec: true}
			}
		}
	}
	order, err := sorted(w.nodes)
	if err != nil {
		return nil, err
	}
	home := w.queue
	if home == "" {
		home = out.n.queue
	}
	d := &Def[R]{name: w.name, queue: home, output: out.n.name, codec: out.n.codec, steps: make([]*queue.Message, len(order))}
	h := sha256.New()
	field(h, w.name)
	field(h, home)
	for i, n := range order {
		m := n.message(n == out.n)
		d.steps[i] = m
		digest(h, m)
	}
	d.digest = hex.EncodeToString(h.Sum(nil)[:16])
	return d, nil
}

// fieldName is e's Input field, "" for an input of another kind.
func fieldName(n *node, e edge) string {
	if n.bind == task.BindFields {
		return e.field
	}
	return ""
}

// sameCodec reports whether a step decoding with a reads what its parent
// encoded with b.
func sameCodec(a, b task.Codec) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb {
		return false
	}
	if ta.Comparable() {
		return a == b
	}
	return reflect.DeepEqual(a, b)
}

// sorted returns nodes parents first (Kahn's algorithm, in the order they
// were added where it is free), and fills each node's children; or a
// *CycleError if some wait on each other.
func sorted(nodes []*node) ([]*node, error) {
	waiting := make([]int, len(nodes))
	for _, n := range nodes {
		n.children = n.children[:0]
	}
	for _, n := range nodes {
		waiting[n.index] = len(n.parents)
		for _, e := range n.parents {
			e.from.children = append(e.from.children, n)
		}
	}
	order := make([]*node, 0, len(nodes))
	for _, n := range nodes {
		if waiting[n.index] == 0 {
			order = append(order, n)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, c := range order[i].children {
			if waiting[c.index]--; waiting[c.index] == 0 {
				order = append(order, c)
			}
		}
	}
	if len(order) == len(nodes) {
		return order, nil
	}
	return nil, cycle(nodes, waiting)
}

// cycle finds a cycle among the nodes Kahn's algorithm left waiting: each
// has a parent left waiting, so walking up from one comes back to a node
// seen.
func cycle(nodes []*node, waiting []int) *CycleError {
	var n *node
	for _, m := range nodes {
		if waiting[m.index] > 0 {
			n = m
			break
		}
	}
	seen := map[*node]int{}
	var up []*node // n, a parent of n, a parent of that, ...
	for {
		if at, ok := seen[n]; ok {
			up = up[at:]
			break
		}
		seen[n] = len(up)
		up = append(up, n)
		for _, e := range n.parents {
			if waiting[e.from.index] > 0 {
				n = e.from
				break
			}
		}
	}
	path := make([]string, 0, len(up)+1)
	for i := len(up) - 1; i >= 0; i-- {
		path = append(path, up[i].name)
	}
	return &CycleError{Path: append(path, path[0])}
}

// message makes n's message, without the workflow's ID.
func (n *node) message(output bool) *queue.Message {
	s := &queue.Step{Name: n.name, Bind: n.bind, Outcomes: n.outcomes, IfSkipped: n.ifSkipped, Output: output,
		Absorbed: len(n.children) > 0}
	ordering := false
	for _, e := range n.parents {
		s.Parents = append(s.Parents, queue.StepRef{Queue: e.from.queue, Name: e.from.name})
		ordering = ordering || e.field == ""
	}
	if n.bind == task.BindFields || ordering && n.bind != task.BindNone {
		s.Fields = make([]string, len(n.parents))
		for i, e := range n.parents {
			s.Fields[i] = e.field
		}
	}
	for _, c := range n.children {
		s.Children = append(s.Children, queue.StepRef{Queue: c.queue, Name: c.name})
		s.Absorbed = s.Absorbed && c.outcomes
	}
	return &queue.Message{Task: n.task, Queue: n.queue, Payload: n.payload, Attempt: 1, Step: s}
}

// digest writes what identifies m's step to h.
func digest(h hash.Hash, m *queue.Message) {
	s := m.Step
	field(h, s.Name)
	field(h, m.Task)
	field(h, m.Queue)
	field(h, string(m.Payload))
	flags := []byte{byte(s.Bind), byte(s.IfSkipped), bit(s.Outcomes), bit(s.Absorbed), bit(s.Output), bit(s.Fields != nil)}
	h.Write(binary.AppendUvarint(flags, uint64(len(s.Parents))))
	for i, p := range s.Parents {
		field(h, p.Name)
		if s.Fields != nil {
			field(h, s.Fields[i])
		}
	}
}

func bit(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// field writes s to h, its length first, so that no two lists of fields
// write the same bytes.
func field(h hash.Hash, s string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	io.WriteString(h, s)
}
