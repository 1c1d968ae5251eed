// Package dag lays out a directed acyclic graph for drawing: each node in
// a layer (a column, its longest path from a root), the nodes of a layer
// ordered to cross few edges (barycenter sweeps, the best ordering kept),
// and coordinates for each node's box and each edge's polyline. An edge
// that spans several layers passes through a point in each layer between,
// so that it runs between boxes, not through them; past a bound on such
// points (Options.MaxBends), long edges are drawn straight instead.
//
// The same graph always gets the same layout: nodes are numbered, and
// every tie is broken by number. It draws nothing itself; the web view
// turns a Layout into SVG.
package dag
