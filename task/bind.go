package task

import (
	"fmt"
	"reflect"
)

// bindInputs builds a workflow step's arguments into a from inv.Inputs, as
// inv.Bind says. The workflow's Build checked that the shapes fit, so a
// misfit here (a message made by hand, a task changed under a running
// workflow) is an error for a PayloadError.
func bindInputs(inv *Invocation, a any) error {
	if inv.Fields != nil && len(inv.Fields) != len(inv.Inputs) {
		return fmt.Errorf("%d inputs for %d fields", len(inv.Inputs), len(inv.Fields))
	}
	v := reflect.ValueOf(a).Elem()
	c := inv.CodecOrJSON()
	switch inv.Bind {
	case BindOne:
		ins := dataInputs(inv)
		if len(ins) != 1 {
			return fmt.Errorf("bind one: %d inputs carry data, want 1", len(ins))
		}
		return setInput(v, ins[0], c)
	case BindAll:
		if v.Kind() != reflect.Slice {
			return fmt.Errorf("bind all: arguments are %s, not a slice", v.Type())
		}
		ins := dataInputs(inv)
		s := reflect.MakeSlice(v.Type(), 0, len(ins))
		for _, in := range ins {
			if in.Status == "skipped" {
				continue // a step that runs without its skipped parents leaves them out
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := setInput(e, in, c); err != nil {
				return err
			}
			s = reflect.Append(s, e)
		}
		v.Set(s)
		return nil
	case BindOutcomes:
		ins := dataInputs(inv)
		if u, ok := a.(upstream); ok {
			if len(ins) != 1 {
				return fmt.Errorf("bind outcomes: %d inputs carry data for one Upstream", len(ins))
			}
			return u.fill(ins[0], c)
		}
		if v.Kind() != reflect.Slice {
			return fmt.Errorf("bind outcomes: arguments are %s, not an Upstream nor a slice of them", v.Type())
		}
		s := reflect.MakeSlice(v.Type(), len(ins), len(ins))
		for i, in := range ins {
			u, ok := s.Index(i).Addr().Interface().(upstream)
			if !ok {
				return fmt.Errorf("bind outcomes: element %s is no Upstream", v.Type().Elem())
			}
			if err := u.fill(in, c); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case BindFields:
		if len(inv.Payload) > 0 {
			if err := c.Unmarshal(inv.Payload, a); err != nil {
				return err
			}
		}
		if v.Kind() != reflect.Struct {
			return fmt.Errorf("bind fields: arguments are %s, not a struct", v.Type())
		}
		for i, name := range inv.Fields {
			if name == "" {
				continue
			}
			sf, ok := v.Type().FieldByName(name)
			if !ok || !sf.IsExported() {
				return fmt.Errorf("bind fields: %s has no exported field %q", v.Type(), name)
			}
			f, err := v.FieldByIndexErr(sf.Index) // an error, not a panic, through a nil embedded pointer
			if err != nil || !f.CanSet() {
				return fmt.Errorf("bind fields: field %q of %s cannot be set: %v", name, v.Type(), err)
			}
			if u, ok := f.Addr().Interface().(upstream); ok {
				if err := u.fill(inv.Inputs[i], c); err != nil {
					return err
				}
				continue
			}
			if err := setInput(f, inv.Inputs[i], c); err != nil {
				return fmt.Errorf("field %s: %w", name, err)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown bind mode %d", inv.Bind)
}

// dataInputs returns the inputs that carry data: all of them, or, when
// inv.Fields marks them, those whose field is not "" (the others are
// parents that only order the step).
func dataInputs(inv *Invocation) []Input {
	if inv.Fields == nil {
		return inv.Inputs
	}
	ins := make([]Input, 0, len(inv.Inputs))
	for i, in := range inv.Inputs {
		if inv.Fields[i] != "" {
			ins = append(ins, in)
		}
	}
	return ins
}

// setInput sets v, addressable, to in's result: the zero value if in was
// skipped (the step runs without it), and an error if it did not succeed.
func setInput(v reflect.Value, in Input, c Codec) error {
	switch in.Status {
	case "succeeded":
	case "skipped":
		v.SetZero()
		return nil
	default:
		return fmt.Errorf("input %q: the parent ended %s: %w", in.Step, in.Status, in.Err())
	}
	if len(in.Value) == 0 {
		v.SetZero()
		return nil
	}
	if err := c.Unmarshal(in.Value, v.Addr().Interface()); err != nil {
		return fmt.Errorf("input %q: %w", in.Step, err)
	}
	return nil
}

// upstream is what an *Upstream[P] does for bindInputs: fill itself from
// an input. It is unexported, so only Upstream has it.
type upstream interface {
	fill(in Input, c Codec) error
}

func (u *Upstream[P]) fill(in Input, c Codec) error {
	*u = Upstream[P]{Step: in.Step, Err: in.Err()}
	if u.Err != nil || len(in.Value) == 0 {
		return nil
	}
	if err := c.Unmarshal(in.Value, &u.Value); err != nil {
		return fmt.Errorf("input %q: %w", in.Step, err)
	}
	return nil
}
