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

// DrainRow is one task queue's line in the end-to-end table.
type DrainRow struct {
	Name string
	Peer bool
	DrainResult
}

// DrainTable prints rows as a markdown table, with each row's tasks per
// second over the fastest peer's: asynq's.
func DrainTable(rows []DrainRow) string {
	var best float64
	for _, r := range rows {
		if r.Peer {
			best = max(best, r.PerSec())
		}
	}
	var b strings.Builder
	b.WriteString("| contender | tasks/s | round trips/task | ratio to asynq |\n")
	b.WriteString("|---|---:|---:|---:|\n")
	for _, r := range rows {
		ratio := 0.0
		if best > 0 {
			ratio = r.PerSec() / best
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.2f | %s |\n", r.Name, r.PerSec(), r.TripsPerTask(), ratioText(ratio))
	}
	return b.String()
}
