package web

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/taskware/taskware/internal/dag"
	"github.com/taskware/taskware/internal/rows"
	"github.com/taskware/taskware/queue"
)

// The graph's geometry: a box per step, and room around the drawing.
const (
	nodeWidth, nodeHeight = 176, 44
	graphMargin           = 8
	// nameRunes is how much of a step's name its box shows; its title
	// has all of it.
	nameRunes = 22
	// layerWidth is the width of a layer's box, and countLine the height
	// of each of its lines, when the graph draws layers.
	layerWidth, countLine = 200, 18
)

// graphView is a workflow's graph as the page draws it, in SVG: a box per
// step with the edges between them, or, past maxDrawnSteps, a box per
// layer with its steps counted by state.
type graphView struct {
	// ViewBox is the SVG's viewBox; Width and Height its size.
	ViewBox       string
	Width, Height int
	Nodes         []graphNode
	Edges         []string // each edge's points, "x,y x,y ..."
	// Layered says the graph draws layers, not steps.
	Layered bool
	Layers  []layerBox
	Links   []string // the arrows between layers, as Edges
}

// graphNode is a step's box.
type graphNode struct {
	rows.WorkflowStep
	X, Y, W, H int
	// Label is the name as the box shows it, cut to fit.
	Label string
}

// StateLabel is the step's state as its box says it.
func (n graphNode) StateLabel() string { return stateLabel(n.Status) }

// layerBox is a layer's box.
type layerBox struct {
	Key        string // the layer's number, from 0
	X, Y, W, H int
	Steps      int
	Counts     []stateCount
	// State is the state its box is coloured by: failed if a step
	// failed, else running, waiting..., succeeded only if all did.
	State string
}

// stateCount is how many steps of a layer are in a state.
type stateCount struct {
	Status string
	N      int
	Y      int // the line's baseline
}

// Label is the count as its line says it: "✓ succeeded: 12".
func (c stateCount) Label() string { return stateLabel(c.Status) + ": " + strconv.Itoa(c.N) }

// stateRank orders states by how much they need a look: a layer's box
// takes the colour of the first of its steps' states here.
var stateRank = []queue.Status{queue.Failed, queue.Dead, queue.Running, queue.Queued, queue.Scheduled,
	queue.Waiting, queue.Canceled, queue.Skipped, queue.Succeeded}

// drawWorkflow lays out the steps: one by one up to maxDrawnSteps, else
// by layer.
func drawWorkflow(steps []rows.WorkflowStep) (*graphView, error) {
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		index[s.Name] = i
	}
	parents := make([][]int, len(steps))
	for i, s := range steps {
		for _, p := range s.Parents {
			if j, ok := index[p]; ok {
				parents[i] = append(parents[i], j)
			}
		}
	}
	if len(steps) > maxDrawnSteps {
		layer, err := dag.Layers(parents)
		if err != nil {
			return nil, err
		}
		return drawLayers(steps, layer), nil
	}
	l, err := dag.Place(parents, dag.Options{NodeWidth: nodeWidth, NodeHeight: nodeHeight})
	if err != nil {
		return nil, err
	}
	g := &graphView{Nodes: make([]graphNode, len(steps))}
	g.size(l.Width, l.Height)
	for i, s := range steps {
		p := l.Nodes[i]
		g.Nodes[i] = graphNode{WorkflowStep: s, X: p.X, Y: p.Y, W: nodeWidth, H: nodeHeight, Label: cut(s.Name, nameRunes)}
	}
	for _, e := range l.Edges {
		pts := make([]string, len(e.Points))
		for i, p := range e.Points {
			x := p.X
			if i == len(e.Points)-1 {
				x -= 4 // the arrowhead ends at the box
			}
			pts[i] = fmt.Sprintf("%d,%d", x, p.Y)
		}
		g.Edges = append(g.Edges, strings.Join(pts, " "))
	}
	return g, nil
}

// size sets the drawing's size: w×h, and a margin around.
func (g *graphView) size(w, h int) {
	g.Width, g.Height = w+2*graphMargin, h+2*graphMargin
	g.ViewBox = fmt.Sprintf("%d %d %d %d", -graphMargin, -graphMargin, g.Width, g.Height)
}

// drawLayers draws a box per layer, left to right, each with its steps
// counted by state.
func drawLayers(steps []rows.WorkflowStep, layer []int) *graphView {
	n := 0
	for _, l := range layer {
		n = max(n, l+1)
	}
	counts := make([]map[string]int, n)
	sizes := make([]int, n)
	for i, s := range steps {
		l := layer[i]
		if counts[l] == nil {
			counts[l] = map[string]int{}
		}
		counts[l][s.Status]++
		sizes[l]++
	}
	g := &graphView{Layered: true}
	height := 0
	for l := range n {
		b := layerBox{Key: strconv.Itoa(l), X: l * (layerWidth + 60), W: layerWidth, Steps: sizes[l]}
		statuses := make([]string, 0, len(counts[l]))
		for st := range counts[l] {
			statuses = append(statuses, st)
		}
		slices.SortFunc(statuses, func(a, b string) int { return cmp.Compare(rank(a), rank(b)) })
		b.State = statuses[0]
		for i, st := range statuses {
			b.Counts = append(b.Counts, stateCount{Status: st, N: counts[l][st], Y: 2*countLine + i*countLine + 4})
		}
		b.H = 2*countLine + len(statuses)*countLine + 10
		height = max(height, b.H)
		g.Layers = append(g.Layers, b)
		if l > 0 {
			y := countLine
			g.Links = append(g.Links, fmt.Sprintf("%d,%d %d,%d", b.X-60, y, b.X-4, y))
		}
	}
	g.size(n*(layerWidth+60)-60, height)
	return g
}

// rank is a state's place in stateRank; unknown states come last.
func rank(status string) int {
	if i := slices.Index(stateRank, queue.Status(status)); i >= 0 {
		return i
	}
	return len(stateRank)
}

// cut is s cut to n runes, an ellipsis marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
