package suite

import (
	"slices"
	"testing"
)

// Run checks each promise in a subtest named by its path, on what begin
// made in that subtest; Names lists the same paths, in the same order.
func TestRunAndNames(t *testing.T) {
	var ran []string
	check := func(name string) func(*testing.T) { return func(t *testing.T) { ran = append(ran, name+"@"+t.Name()) } }
	ps := []Promise[*testing.T]{
		{Name: "A", Cases: []Promise[*testing.T]{
			{Name: "One", Check: check("a1")},
			{Name: "Two", Check: check("a2")},
		}},
		{Name: "B", Check: check("b")},
	}
	Run(t, ps, func(t *testing.T) *testing.T { return t })
	want := []string{"a1@TestRunAndNames/A/One", "a2@TestRunAndNames/A/Two", "b@TestRunAndNames/B"}
	if !slices.Equal(ran, want) {
		t.Errorf("ran %q, want %q", ran, want)
	}
	if got := Names(ps); !slices.Equal(got, []string{"A/One", "A/Two", "B"}) {
		t.Errorf("Names = %q", got)
	}
}
