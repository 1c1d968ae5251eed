package dag

import (
	"errors"
	"fmt"
	"slices"
)

// ErrCycle matches the error of a graph with a cycle, and ErrBadGraph
// that of a parent number out of range.
var (
	ErrCycle    = errors.New("dag: the graph has a cycle")
	ErrBadGraph = errors.New("dag: a parent is no node of the graph")
)

// Options are the sizes of a layout, in the units of its coordinates.
// A zero field takes its default.
type Options struct {
	// NodeWidth and NodeHeight are the size of each node's box (160×36).
	NodeWidth, NodeHeight int
	// GapX is the space between layers (60), GapY between the boxes of
	// a layer (16).
	GapX, GapY int
	// Sweeps bounds the ordering's passes, down and up (8).
	Sweeps int
	// MaxBends bounds the points that long edges pass through, one per
	// layer crossed (2000): past it, as in a chain whose every step
	// also hangs from the root, long edges are drawn straight, over the
	// layers between, and the ordering sees only the short ones, so
	// that the layout stays small and quick.
	MaxBends int
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.NodeWidth, 160)
	def(&o.NodeHeight, 36)
	def(&o.GapX, 60)
	def(&o.GapY, 16)
	def(&o.Sweeps, 8)
	def(&o.MaxBends, 2000)
	return o
}

// Point is a place in the drawing; Y grows downwards.
type Point struct{ X, Y int }

// Edge is a parent-to-child edge, drawn as a polyline from the right of
// the parent's box to the left of the child's.
type Edge struct {
	From, To int
	Points   []Point
}

// Layout is where a graph's nodes and edges go.
type Layout struct {
	// Width and Height bound the drawing.
	Width, Height int
	// NodeWidth and NodeHeight are the size of every box.
	NodeWidth, NodeHeight int
	// Nodes are the top left corners of the nodes' boxes, by number.
	Nodes []Point
	// Layer is each node's layer, by number.
	Layer []int
	// Layers lists each layer's nodes, top to bottom.
	Layers [][]int
	// Edges are the graph's edges, by child then parent number; a parent
	// named twice is one edge.
	Edges []Edge
	// Crossings counts the edges that cross, between adjacent layers.
	Crossings int
}

// Layers returns each node's layer: 0 for a root, else one more than its
// deepest parent. parents[i] lists the numbers of node i's parents. It is
// what Place computes first, alone, for a graph too big to draw.
func Layers(parents [][]int) ([]int, error) {
	n := len(parents)
	children := make([][]int, n)
	waiting := make([]int, n)
	for i, ps := range parents {
		for _, p := range dedupe(ps) {
			if p < 0 || p >= n {
				return nil, fmt.Errorf("%w: node %d names parent %d of %d nodes", ErrBadGraph, i, p, n)
			}
			children[p] = append(children[p], i)
			waiting[i]++
		}
	}
	layer := make([]int, n)
	ready := make([]int, 0, n)
	for i := range n {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	for done := 0; done < len(ready); done++ {
		v := ready[done]
		for _, c := range children[v] {
			layer[c] = max(layer[c], layer[v]+1)
			if waiting[c]--; waiting[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	if len(ready) < n {
		return nil, fmt.Errorf("%w: %d of %d nodes are on or after one", ErrCycle, n-len(ready), n)
	}
	return layer, nil
}

// dedupe returns ps sorted, without repeats.
func dedupe(ps []int) []int {
	if len(ps) < 2 {
		return ps
	}
	out := slices.Clone(ps)
	slices.Sort(out)
	return slices.Compact(out)
}
