package task

// BindMode says how a workflow step's arguments are built from its
// parents' outcomes (Invocation.Inputs), before any middleware runs.
//
// Invocation.Fields, when not nil, has one entry per input. For
// BindFields it names the field each input sets. For the other modes an
// input whose entry is "" carries no data (a parent that only orders the
// step), and any other entry marks one that does. A misfit (arguments of
// the wrong shape, a result that does not decode, a parent that did not
// succeed for a step that needs it to) fails the run with a
// *PayloadError.
type BindMode uint8

// The ways a step's arguments are built.
const (
	// BindNone: the arguments are the payload, as for any task.
	BindNone BindMode = iota
	// BindOne: the arguments are the one parent's result.
	BindOne
	// BindAll: the arguments are a slice, one element per parent, each
	// that parent's result, in the order of Inputs. A parent that was
	// skipped, for a step that runs without it, is left out.
	BindAll
	// BindOutcomes: the arguments are an Upstream[P], or a slice of them,
	// one per parent: each parent's result or error, whatever it did.
	BindOutcomes
	// BindFields: the arguments are the payload, with each field named in
	// Invocation.Fields (one per input; "" for none) set from that input:
	// to its result, or, for a field of type Upstream[P], to its outcome.
	BindFields
)

// Input is one parent's outcome, handed to a workflow step that it
// released.
type Input struct {
	// Step is the parent's name in its workflow.
	Step string
	// Status is how the parent ended: "succeeded", "skipped", "failed",
	// "dead" or "canceled".
	Status string
	// Kind and Error describe a parent's skip or failure.
	Kind, Error string
	// Value is the parent's result, encoded with its codec, if it
	// succeeded.
	Value []byte
}

// Err returns nil for a parent that succeeded, an error matching
// ErrSkipped for one that skipped, and otherwise a *Failure of the
// parent's kind and error.
func (in Input) Err() error {
	switch in.Status {
	case "succeeded":
		return nil
	case "skipped":
		return Skip(&Failure{Kind: in.Kind, Message: in.Error})
	}
	msg := in.Error
	if msg == "" {
		msg = in.Status
	}
	return &Failure{Kind: in.Kind, Message: msg}
}

// Upstream is a parent's outcome, as a step that takes outcomes receives
// it: Value if the parent succeeded, else Err (see Input.Err).
type Upstream[P any] struct {
	Step  string
	Value P
	Err   error
}
