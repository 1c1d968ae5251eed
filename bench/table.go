package bench

import (
	"fmt"
	"math"
	"strings"
	"time"
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
	Name string
	Peer bool
	// Pair names the row DrainTable computes this row's ratio against (its
	// QueueLib's Pair); empty where there is none.
	Pair   string
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
	series := make([]Series, len(rows))
	for i, row := range rows {
		series[i] = Series{Name: row.Name, Peer: row.Peer, Values: row.perRound(DrainResult.PerSec)}
	}
	return Series{Peer: r.Peer, Values: r.perRound(DrainResult.PerSec)}.Ratios(series, math.Max)
}

// PairRatios returns, for each round, r's tasks per second over its
// paired peer's (the row named r.Pair) in that same round, so that a burst
// of load from elsewhere, which slows one round, slows both sides of its
// ratio. It is nil if no row is r's pair; it has a ratio for each round
// that both ran.
func PairRatios(r DrainRow, rows []DrainRow) []float64 {
	for _, p := range rows {
		if r.Pair != "" && p.Name == r.Pair {
			n := min(len(r.Rounds), len(p.Rounds))
			ratios := make([]float64, n)
			for i := range n {
				ratios[i] = r.Rounds[i].PerSec() / p.Rounds[i].PerSec()
			}
			return ratios
		}
	}
	return nil
}

// Series is a figure of one library, measured once per round.
type Series struct {
	Name   string
	Peer   bool
	Values []float64
}

// Ratios returns, for each round, s's value over the peers' best in that
// same round, best being max (for a rate) or min (for a cost) of the peers'
// values (math.Max, math.Min). It is nil if no series of all is a peer; it has a ratio for each
// round that every peer has.
func (s Series) Ratios(all []Series, best func(a, b float64) float64) []float64 {
	n, peers := len(s.Values), 0
	for _, p := range all {
		if p.Peer {
			n, peers = min(n, len(p.Values)), peers+1
		}
	}
	if peers == 0 {
		return nil
	}
	ratios := make([]float64, n)
	for i := range n {
		b, first := 0.0, true
		for _, p := range all {
			if p.Peer {
				if first {
					b, first = p.Values[i], false
				} else {
					b = best(b, p.Values[i])
				}
			}
		}
		ratios[i] = s.Values[i] / b
	}
	return ratios
}

// DrainTable prints rows as a markdown table: for each row, the median
// over its rounds of its tasks per second, round trips, Redis CPU time and
// allocations per task, its paired peer, and its ratio to that peer
// (PairRatios), as "median (min–max)" of the rounds' ratios.
func DrainTable(rows []DrainRow) string {
	var b strings.Builder
	b.WriteString("| contender | tasks/s | peer | ratio to peer, per round | round trips/task | Redis CPU µs/task | allocs/task |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|\n")
	med := func(r DrainRow, f func(DrainResult) float64) float64 { return Summarize(r.perRound(f)).Median }
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %.2f | %.1f | %.1f |\n", r.Name,
			med(r, DrainResult.PerSec), r.Pair, Summarize(PairRatios(r, rows)).Text("%.2f"),
			med(r, DrainResult.TripsPerTask), med(r, DrainResult.RedisMicrosPerTask), med(r, DrainResult.AllocsPerTask))
	}
	return b.String()
}

// EnqueueTable prints the rates of enqueues from one goroutine, one
// DrainRow per way (EnqueueRate's results, one per round), as a markdown
// table: the tasks per second as "median (min–max)" of the rounds, the
// ratio to asynq per round, and the medians of round trips, Redis CPU time
// and allocations per task.
func EnqueueTable(rows []DrainRow) string {
	var b strings.Builder
	b.WriteString("| way | tasks/s | ratio to asynq, per round | round trips/task | Redis CPU µs/task | allocs/task |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	med := func(r DrainRow, f func(DrainResult) float64) float64 { return Summarize(r.perRound(f)).Median }
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %.3f | %.1f | %.1f |\n", r.Name,
			Summarize(r.perRound(DrainResult.PerSec)).Text("%.0f"), Summarize(PeerRatios(r, rows)).Text("%.2f"),
			med(r, DrainResult.TripsPerTask), med(r, DrainResult.RedisMicrosPerTask), med(r, DrainResult.AllocsPerTask))
	}
	return b.String()
}

// MemoryTable prints the memory of queued tasks, one Series per library
// of its rises of used_memory (QueuedMemory) on enqueueing tasks tasks,
// one per round, as a markdown table: in MB (10⁶ bytes) per `per` tasks
// and in bytes per task, each as "median (min–max)" of the rounds, with
// the ratio to asynq per round.
func MemoryTable(rows []Series, tasks, per int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| library | MB per %d tasks | bytes/task | ratio to asynq, per round |\n", per)
	b.WriteString("|---|---:|---:|---:|\n")
	for _, r := range rows {
		mb, each := make([]float64, len(r.Values)), make([]float64, len(r.Values))
		for i, v := range r.Values {
			each[i] = v / float64(tasks)
			mb[i] = each[i] * float64(per) / 1e6
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Name, Summarize(mb).Text("%.1f"), Summarize(each).Text("%.0f"),
			Summarize(r.Ratios(rows, math.Min)).Text("%.2f"))
	}
	return b.String()
}

// LatencyRow is one library's line in the latency table: what Latency saw
// in each round.
type LatencyRow struct {
	Name   string
	Rounds []LatencyResult
}

// LatencyTable prints rows as a markdown table: the rate held, and the
// p50, p99 and greatest latency from enqueue to start, each as
// "median (min–max)" of the rounds, in ms.
func LatencyTable(rows []LatencyRow) string {
	var b strings.Builder
	b.WriteString("| library | tasks/s held | p50 ms | p99 ms | max ms |\n")
	b.WriteString("|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		col := func(f func(LatencyResult) float64) Summary {
			xs := make([]float64, len(r.Rounds))
			for i, res := range r.Rounds {
				xs[i] = f(res)
			}
			return Summarize(xs)
		}
		ms := func(d func(LatencyResult) time.Duration) Summary {
			return col(func(res LatencyResult) float64 { return float64(d(res)) / float64(time.Millisecond) })
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Name,
			col(func(res LatencyResult) float64 { return res.Rate }).Text("%.0f"),
			ms(func(res LatencyResult) time.Duration { return res.P50 }).Text("%.1f"),
			ms(func(res LatencyResult) time.Duration { return res.P99 }).Text("%.1f"),
			ms(func(res LatencyResult) time.Duration { return res.Max }).Text("%.1f"))
	}
	return b.String()
}
