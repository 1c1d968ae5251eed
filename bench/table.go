package bench

import (
	"fmt"
	"strings"
)

// Row is one library's line in the comparison table.
type Row struct {
	Name string
	Peer bool
	// Seq and Par are pairs per second on 1 and on 32 goroutines.
	Seq, Par float64
	// SeqAllocs and ParAllocs are heap allocations per pair.
	SeqAllocs, ParAllocs float64
}

// NewRow makes a Row from the sequential and the parallel Result.
func NewRow(lib Lib, seq, par Result) Row {
	return Row{Name: lib.Name, Peer: lib.Peer,
		Seq: seq.PerSec(), Par: par.PerSec(), SeqAllocs: seq.AllocsPerPair(), ParAllocs: par.AllocsPerPair()}
}

// BestPeer returns the fastest peer's pairs per second in each column,
// 0 where no row is a peer.
func BestPeer(rows []Row) (seq, par float64) {
	for _, r := range rows {
		if r.Peer {
			seq, par = max(seq, r.Seq), max(par, r.Par)
		}
	}
	return seq, par
}

// Ratios returns r's pairs per second over the best peer's, in each column,
// 0 where there is no peer to compare with.
func Ratios(r Row, rows []Row) (seq, par float64) {
	bs, bp := BestPeer(rows)
	ratio := func(v, best float64) float64 {
		if best == 0 {
			return 0
		}
		return v / best
	}
	return ratio(r.Seq, bs), ratio(r.Par, bp)
}

// Table prints rows as a markdown table.
func Table(rows []Row) string {
	var b strings.Builder
	b.WriteString("| library | seq pairs/s | 32 goroutines pairs/s | allocs/pair (seq / par32) | ratio to best peer (seq / par32) |\n")
	b.WriteString("|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		seq, par := Ratios(r, rows)
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.1f / %.1f | %s / %s |\n",
			r.Name, r.Seq, r.Par, r.SeqAllocs, r.ParAllocs, ratioText(seq), ratioText(par))
	}
	return b.String()
}

func ratioText(x float64) string {
	if x == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", x)
}

// DrainRow is one task queue's line in the end-to-end table: what Drain
// saw of it in each round.
type DrainRow struct {
	Name   string
	Peer   bool
	Rounds []DrainResult
}

// perRound returns f of each of r's rounds.
func (r DrainRow) perRound(f func(DrainResult) float64) []float64 {
	xs := make([]float64, len(r.Rounds))
	for i, res := range r.Rounds {
		xs[i] = f(res)
	}
	return xs
}

// PeerRatios returns, for each round, r's tasks per second over the fastest
// peer's in that same round (asynq's), so that a burst of load from
// elsewhere, which slows one round, slows both sides of its ratio. It is
// nil if no row is a peer; it has a ratio for each round that every peer
// ran.
func PeerRatios(r DrainRow, rows []DrainRow) []float64 {
	n, peers := len(r.Rounds), 0
	for _, p := range rows {
		if p.Peer {
			n, peers = min(n, len(p.Rounds)), peers+1
		}
	}
	if peers == 0 {
		return nil
	}
	ratios := make([]float64, n)
	for i := range n {
		var best float64
		for _, p := range rows {
			if p.Peer {
				best = max(best, p.Rounds[i].PerSec())
			}
		}
		ratios[i] = r.Rounds[i].PerSec() / best
	}
	return ratios
}

// DrainTable prints rows as a markdown table: for each row, the median
// over its rounds of its tasks per second, round trips, Redis CPU time and
// allocations per task, and its ratio to asynq, the peer (PeerRatios), as
// "median (min–max)" of the rounds' ratios.
func DrainTable(rows []DrainRow) string {
	var b strings.Builder
	b.WriteString("| contender | tasks/s | ratio to asynq, per round | round trips/task | Redis CPU µs/task | allocs/task |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	med := func(r DrainRow, f func(DrainResult) float64) float64 { return Summarize(r.perRound(f)).Median }
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %.2f | %.1f | %.1f |\n", r.Name,
			med(r, DrainResult.PerSec), Summarize(PeerRatios(r, rows)).Text("%.2f"),
			med(r, DrainResult.TripsPerTask), med(r, DrainResult.RedisMicrosPerTask), med(r, DrainResult.AllocsPerTask))
	}
	return b.String()
}
