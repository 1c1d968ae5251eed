package dag

import (
	"cmp"
	"slices"
)

// graph is the graph being laid out: the nodes, then a dummy vertex in
// each layer that a long edge crosses.
type graph struct {
	layer    []int   // by vertex
	up, down [][]int // each vertex's neighbours in the layer before and after
	order    [][]int // each layer's vertices, top to bottom
	pos      []int   // each vertex's index in its layer's order
}

// Place lays out the graph whose node i has the parents numbered
// parents[i]. It returns an error matching ErrCycle or ErrBadGraph if the
// graph is not a DAG of its nodes.
func Place(parents [][]int, opts Options) (*Layout, error) {
	o := opts.withDefaults()
	layer, err := Layers(parents)
	if err != nil {
		return nil, err
	}
	n := len(parents)
	bends := 0
	for c, ps := range parents {
		for _, p := range dedupe(ps) {
			bends += layer[c] - layer[p] - 1
		}
	}
	straight := bends > o.MaxBends
	g := &graph{layer: slices.Clone(layer), up: make([][]int, n), down: make([][]int, n)}
	paths := make([][]int, 0, n) // each edge's vertices, parent to child
	var edges []Edge
	for c, ps := range parents {
		for _, p := range dedupe(ps) {
			path := []int{p}
			for l := layer[p] + 1; l < layer[c] && !straight; l++ {
				path = append(path, g.add(l))
			}
			path = append(path, c)
			for i := 1; i < len(path); i++ {
				if g.layer[path[i]] == g.layer[path[i-1]]+1 {
					g.link(path[i-1], path[i])
				}
			}
			paths = append(paths, path)
			edges = append(edges, Edge{From: p, To: c})
		}
	}
	crossings := g.arrange(o.Sweeps)

	pitch := o.NodeHeight + o.GapY
	rows := 0
	for _, vs := range g.order {
		rows = max(rows, len(vs))
	}
	at := func(v int) Point {
		top := (rows - len(g.order[g.layer[v]])) * pitch / 2
		return Point{X: g.layer[v] * (o.NodeWidth + o.GapX), Y: top + g.pos[v]*pitch}
	}
	l := &Layout{NodeWidth: o.NodeWidth, NodeHeight: o.NodeHeight, Nodes: make([]Point, n), Layer: layer,
		Layers: make([][]int, len(g.order)), Edges: edges, Crossings: crossings}
	if n > 0 {
		l.Width = len(g.order)*(o.NodeWidth+o.GapX) - o.GapX
		l.Height = rows*pitch - o.GapY
	}
	for v := range n {
		l.Nodes[v] = at(v)
	}
	for i, vs := range g.order {
		for _, v := range vs {
			if v < n {
				l.Layers[i] = append(l.Layers[i], v)
			}
		}
	}
	mid := o.NodeHeight / 2
	for i, path := range paths {
		from, to := at(path[0]), at(path[len(path)-1])
		pts := []Point{{from.X + o.NodeWidth, from.Y + mid}}
		for _, d := range path[1 : len(path)-1] {
			p := at(d)
			pts = append(pts, Point{p.X, p.Y + mid}, Point{p.X + o.NodeWidth, p.Y + mid})
		}
		l.Edges[i].Points = append(pts, Point{to.X, to.Y + mid})
	}
	return l, nil
}

// add adds a dummy vertex in layer l and returns it.
func (g *graph) add(l int) int {
	g.layer = append(g.layer, l)
	g.up = append(g.up, nil)
	g.down = append(g.down, nil)
	return len(g.layer) - 1
}

// link adds the edge from u to v, v in the layer after u's.
func (g *graph) link(u, v int) {
	g.down[u] = append(g.down[u], v)
	g.up[v] = append(g.up[v], u)
}

// arrange orders each layer's vertices: first by number, then by sweeps
// down and up, each vertex moved to the mean place of its neighbours in
// the layer swept from. It keeps the ordering of fewest crossings, and
// returns their count.
func (g *graph) arrange(sweeps int) int {
	layers := 0
	for _, l := range g.layer {
		layers = max(layers, l+1)
	}
	g.order = make([][]int, layers)
	for v, l := range g.layer {
		g.order[l] = append(g.order[l], v)
	}
	g.pos = make([]int, len(g.layer))
	g.renumber()
	best, bestOrder := g.crossings(), clone(g.order)
	for range sweeps {
		if best == 0 {
			break
		}
		for l := 1; l < layers; l++ {
			g.sortBy(l, g.up)
		}
		for l := layers - 2; l >= 0; l-- {
			g.sortBy(l, g.down)
		}
		if c := g.crossings(); c < best {
			best, bestOrder = c, clone(g.order)
		}
	}
	g.order = bestOrder
	g.renumber()
	return best
}

// sortBy orders layer l by the mean place of each vertex's neighbours
// in near; a vertex without any keeps its place, and ties keep their
// order.
func (g *graph) sortBy(l int, near [][]int) {
	vs := g.order[l]
	key := make(map[int]float64, len(vs))
	for _, v := range vs {
		if len(near[v]) == 0 {
			key[v] = float64(g.pos[v])
			continue
		}
		sum := 0
		for _, u := range near[v] {
			sum += g.pos[u]
		}
		key[v] = float64(sum) / float64(len(near[v]))
	}
	slices.SortStableFunc(vs, func(a, b int) int { return cmp.Compare(key[a], key[b]) })
	for i, v := range vs {
		g.pos[v] = i
	}
}

func (g *graph) renumber() {
	for _, vs := range g.order {
		for i, v := range vs {
			g.pos[v] = i
		}
	}
}

// crossings counts the pairs of edges that cross between adjacent
// layers: taken in the order of their upper ends, the inversions of
// their lower ends, counted with a Fenwick tree.
func (g *graph) crossings() int {
	total := 0
	for l := 0; l+1 < len(g.order); l++ {
		tree := make([]int, len(g.order[l+1])+1)
		seen := 0
		for _, u := range g.order[l] {
			lows := make([]int, 0, len(g.down[u]))
			for _, v := range g.down[u] {
				lows = append(lows, g.pos[v])
			}
			slices.Sort(lows)
			for _, p := range lows {
				// the edges seen whose lower end is right of p
				notRight := 0
				for i := p + 1; i > 0; i -= i & -i {
					notRight += tree[i]
				}
				total += seen - notRight
			}
			for _, p := range lows {
				for i := p + 1; i < len(tree); i += i & -i {
					tree[i]++
				}
				seen++
			}
		}
	}
	return total
}

func clone(order [][]int) [][]int {
	out := make([][]int, len(order))
	for i, vs := range order {
		out[i] = slices.Clone(vs)
	}
	return out
}
