package dag

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

func TestLayersLongestPath(t *testing.T) {
	for _, tc := range []struct {
		name    string
		parents [][]int
		want    []int
	}{
		{"empty", nil, []int{}},
		{"chain", [][]int{{}, {0}, {1}}, []int{0, 1, 2}},
		{"diamond", [][]int{{}, {0}, {0}, {1, 2}}, []int{0, 1, 1, 2}},
		// 3 hangs from the root and from the end of a chain: the chain wins.
		{"longest", [][]int{{}, {0}, {1}, {0, 2}}, []int{0, 1, 2, 3}},
		{"parent twice", [][]int{{}, {0, 0}}, []int{0, 1}},
		{"two roots", [][]int{{}, {}, {0, 1}}, []int{0, 0, 1}},
	} {
		got, err := Layers(tc.parents)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(got, tc.want) && len(got)+len(tc.want) > 0 {
			t.Errorf("%s: layers %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBadGraphs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		parents [][]int
		want    error
	}{
		{"self", [][]int{{0}}, ErrCycle},
		{"cycle", [][]int{{}, {0, 2}, {1}}, ErrCycle},
		{"out of range", [][]int{{}, {5}}, ErrBadGraph},
		{"negative", [][]int{{-1}}, ErrBadGraph},
	} {
		if _, err := Place(tc.parents, Options{}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// Two parents whose children are listed crosswise: the sweeps untangle
// them, where the order by number crosses.
func TestPlaceUncrosses(t *testing.T) {
	// 0 and 1 roots; 2 is 1's child, 3 is 0's child; 4 hangs from 3, 5 from 2.
	parents := [][]int{{}, {}, {1}, {0}, {3}, {2}}
	l, err := Place(parents, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Crossings != 0 {
		t.Errorf("%d crossings, want 0; layers %v", l.Crossings, l.Layers)
	}
	checkLayout(t, parents, l)
}

// A grid of 4 complete bipartite pairs has crossings whatever the order:
// the count is the minimum's, K(2,2) crosses once.
func TestCrossingsCounted(t *testing.T) {
	parents := [][]int{{}, {}, {0, 1}, {0, 1}}
	l, err := Place(parents, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Crossings != 1 {
		t.Errorf("%d crossings, want 1", l.Crossings)
	}
}

// An edge over two layers passes through a point on each side of the
// layer between, level, and clear of that layer's boxes.
func TestLongEdgeRoutedBetweenBoxes(t *testing.T) {
	parents := [][]int{{}, {0}, {1}, {0, 2}}
	l, err := Place(parents, Options{NodeWidth: 100, NodeHeight: 20, GapX: 40, GapY: 10})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, parents, l)
	var long *Edge
	for i := range l.Edges {
		if l.Edges[i].From == 0 && l.Edges[i].To == 3 {
			long = &l.Edges[i]
		}
	}
	if long == nil {
		t.Fatalf("no edge 0→3 in %+v", l.Edges)
	}
	if len(long.Points) != 2+2*2 {
		t.Fatalf("edge 0→3 has points %v, want 6: through layers 1 and 2", long.Points)
	}
	for i := 1; i+1 < len(long.Points); i += 2 {
		a, b := long.Points[i], long.Points[i+1]
		if a.Y != b.Y || b.X-a.X != 100 {
			t.Errorf("edge 0→3 crosses a layer from %v to %v, want level and a box wide", a, b)
		}
		for _, v := range []int{1, 2} {
			if p := l.Nodes[v]; p.X == a.X && a.Y >= p.Y && a.Y <= p.Y+20 {
				t.Errorf("edge 0→3 runs through node %d's box at %v", v, p)
			}
		}
	}
}

func TestPlaceDeterministic(t *testing.T) {
	// a fan-out of 30 and a fan-in, with a few cross links
	parents := [][]int{{}}
	for i := 1; i <= 30; i++ {
		ps := []int{0}
		if i%7 == 0 {
			ps = append(ps, i-3)
		}
		parents = append(parents, ps)
	}
	join := []int{}
	for i := 1; i <= 30; i++ {
		join = append(join, i)
	}
	parents = append(parents, join)
	first, err := Place(parents, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, parents, first)
	for range 5 {
		again, _ := Place(parents, Options{})
		if !reflect.DeepEqual(first, again) {
			t.Fatal("the same graph got another layout")
		}
	}
}

// checkLayout checks what holds of every layout: each node in its
// layer's column, boxes apart, each edge from its parent's right to its
// child's left, and everything inside the drawing.
func checkLayout(t *testing.T, parents [][]int, l *Layout) {
	t.Helper()
	seen := 0
	for li, vs := range l.Layers {
		for i, v := range vs {
			seen++
			p := l.Nodes[v]
			if l.Layer[v] != li || p.X != li*(l.NodeWidth+60) && l.NodeWidth == 160 {
				t.Errorf("node %d at %v in layer %d, listed in %d", v, p, l.Layer[v], li)
			}
			if i > 0 && p.Y < l.Nodes[vs[i-1]].Y+l.NodeHeight {
				t.Errorf("node %d's box overlaps node %d's", v, vs[i-1])
			}
			if p.X < 0 || p.Y < 0 || p.X+l.NodeWidth > l.Width || p.Y+l.NodeHeight > l.Height {
				t.Errorf("node %d at %v out of the %dx%d drawing", v, p, l.Width, l.Height)
			}
		}
	}
	if seen != len(parents) {
		t.Errorf("layers list %d nodes, want %d", seen, len(parents))
	}
	for _, e := range l.Edges {
		if !slices.Contains(parents[e.To], e.From) {
			t.Errorf("edge %d→%d is no edge of the graph", e.From, e.To)
		}
		first, last := e.Points[0], e.Points[len(e.Points)-1]
		from, to := l.Nodes[e.From], l.Nodes[e.To]
		if first != (Point{from.X + l.NodeWidth, from.Y + l.NodeHeight/2}) || last != (Point{to.X, to.Y + l.NodeHeight/2}) {
			t.Errorf("edge %d→%d from %v to %v, want from the right of %v to the left of %v", e.From, e.To, first, last, from, to)
		}
	}
}

// Past MaxBends, long edges are straight: two points, and no room taken
// in the layers they cross.
func TestStraightPastMaxBends(t *testing.T) {
	parents := [][]int{{}}
	for i := 1; i < 40; i++ {
		parents = append(parents, []int{0, i - 1})
	}
	l, err := Place(parents, Options{MaxBends: 10})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, parents, l)
	for _, e := range l.Edges {
		if len(e.Points) != 2 {
			t.Fatalf("edge %d→%d has %d points, want 2: straight", e.From, e.To, len(e.Points))
		}
	}
	if l.Height != 36 {
		t.Errorf("height %d, want one row (36): the long edges take no room", l.Height)
	}
	bent, _ := Place(parents, Options{})
	if bent.Height <= l.Height {
		t.Errorf("under the default bound the long edges bend, and take room: height %d", bent.Height)
	}
}
