package bench

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRatios(t *testing.T) {
	tw := Row{Name: "taskware", Seq: 12000, Par: 60000}
	rs := Row{Name: "redsync", Peer: true, Seq: 10000, Par: 30000}
	rl := Row{Name: "redislock", Peer: true, Seq: 8000, Par: 40000}
	tests := []struct {
		name               string
		row                Row
		rows               []Row
		wantSeq, wantPar   float64
		wantBestS, wantBPa float64
	}{
		{"best peer differs per column", tw, []Row{tw, rs, rl}, 1.2, 1.5, 10000, 40000},
		{"a peer against the best peer", rl, []Row{tw, rs, rl}, 0.8, 1, 10000, 40000},
		{"one peer", tw, []Row{tw, rs}, 1.2, 2, 10000, 30000},
		{"no peer", tw, []Row{tw}, 0, 0, 0, 0},
		{"non-peers are never the best", rs, []Row{tw, rs}, 1, 1, 10000, 30000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, bp := BestPeer(tt.rows)
			if bs != tt.wantBestS || bp != tt.wantBPa {
				t.Errorf("BestPeer = %v, %v; want %v, %v", bs, bp, tt.wantBestS, tt.wantBPa)
			}
			s, p := Ratios(tt.row, tt.rows)
			if math.Abs(s-tt.wantSeq) > 1e-9 || math.Abs(p-tt.wantPar) > 1e-9 {
				t.Errorf("Ratios = %v, %v; want %v, %v", s, p, tt.wantSeq, tt.wantPar)
			}
		})
	}
}

func TestTable(t *testing.T) {
	rows := []Row{
		{Name: "taskware", Seq: 12000, Par: 60000, SeqAllocs: 11, ParAllocs: 12.25},
		{Name: "redsync", Peer: true, Seq: 10000, Par: 30000, SeqAllocs: 41, ParAllocs: 41},
		{Name: "redislock", Peer: true, Seq: 8000, Par: 40000, SeqAllocs: 33, ParAllocs: 33.5},
	}
	want := `| library | seq pairs/s | 32 goroutines pairs/s | allocs/pair (seq / par32) | ratio to best peer (seq / par32) |
|---|---:|---:|---:|---:|
| taskware | 12000 | 60000 | 11.0 / 12.2 | 1.20 / 1.50 |
| redsync | 10000 | 30000 | 41.0 / 41.0 | 1.00 / 0.75 |
| redislock | 8000 | 40000 | 33.0 / 33.5 | 0.80 / 1.00 |
`
	if got := Table(rows); got != want {
		t.Errorf("Table =\n%s\nwant\n%s", got, want)
	}
	if got := Table(rows[:1]); !strings.Contains(got, "| n/a / n/a |") {
		t.Errorf("Table without peers =\n%s\nwant n/a ratios", got)
	}
}

func TestNewRow(t *testing.T) {
	seq := Result{Pairs: 20000, Elapsed: 2 * time.Second, Mallocs: 600000}
	par := Result{Pairs: 90000, Elapsed: 3 * time.Second, Mallocs: 900000}
	got := NewRow(Lib{Name: "x", Peer: true}, seq, par)
	want := Row{Name: "x", Peer: true, Seq: 10000, Par: 30000, SeqAllocs: 30, ParAllocs: 10}
	if got != want {
		t.Errorf("NewRow = %+v, want %+v", got, want)
	}
}

func TestDrainTable(t *testing.T) {
	res := func(perSec float64, trips, allocs, redisMicros float64) DrainResult {
		const n = 1000
		return DrainResult{Tasks: n, Elapsed: time.Duration(n / perSec * float64(time.Second)),
			Trips: int64(trips * n), Mallocs: uint64(allocs * n), RedisCPU: time.Duration(redisMicros*n) * time.Microsecond}
	}
	// Round 2 is slow for all: per round, the ratios of store to its pair
	// are 2, 2 and 4; the ratio of the medians would be 2000/500. bare's
	// pair is the faster peer: its ratios are against that one, never
	// against the slower "asynq", nor the best peer of each round.
	tw := DrainRow{Name: "store", Pair: "asynq", Rounds: []DrainResult{
		res(4000, 1.5, 30, 40), res(1000, 1.5, 32, 50), res(2000, 1.5, 31, 45)}}
	aq := DrainRow{Name: "asynq", Peer: true, Pair: "asynq", Rounds: []DrainResult{
		res(2000, 3, 60, 80), res(500, 3, 61, 90), res(500, 3, 62, 70)}}
	bare := DrainRow{Name: "bare", Pair: "asynq bare", Rounds: []DrainResult{
		res(8000, 1, 20, 20), res(4000, 1, 20, 20), res(2000, 1, 20, 20)}}
	aqBare := DrainRow{Name: "asynq bare", Peer: true, Pair: "asynq bare", Rounds: []DrainResult{
		res(4000, 2, 40, 40), res(1000, 2, 40, 40), res(400, 2, 40, 40)}}
	rows := []DrainRow{tw, bare, aq, aqBare}
	if got := PairRatios(tw, rows); !slices.Equal(got, []float64{2, 2, 4}) {
		t.Errorf("PairRatios(store) = %v, want [2 2 4]", got)
	}
	if got := PairRatios(bare, rows); !slices.Equal(got, []float64{2, 4, 5}) {
		t.Errorf("PairRatios(bare) = %v, want [2 4 5]", got)
	}
	want := `| contender | tasks/s | peer | ratio to peer, per round | round trips/task | Redis CPU µs/task | allocs/task |
|---|---:|---|---:|---:|---:|---:|
| store | 2000 | asynq | 2.00 (2.00–4.00) | 1.50 | 45.0 | 31.0 |
| bare | 4000 | asynq bare | 4.00 (2.00–5.00) | 1.00 | 20.0 | 20.0 |
| asynq | 500 | asynq | 1.00 (1.00–1.00) | 3.00 | 80.0 | 61.0 |
| asynq bare | 1000 | asynq bare | 1.00 (1.00–1.00) | 2.00 | 40.0 | 40.0 |
`
	if got := DrainTable(rows); got != want {
		t.Errorf("DrainTable =\n%s\nwant\n%s", got, want)
	}
	if got := DrainTable(rows[:1]); !strings.Contains(got, "| 2000 | asynq | n/a | 1.50 |") {
		t.Errorf("DrainTable without the pair =\n%s\nwant n/a", got)
	}
	// A pair with fewer rounds (a run cut short) bounds the ratios.
	short := DrainRow{Name: "asynq", Peer: true, Rounds: aq.Rounds[:2]}
	if got := PairRatios(tw, []DrainRow{tw, short}); !slices.Equal(got, []float64{2, 2}) {
		t.Errorf("PairRatios against 2 rounds = %v, want [2 2]", got)
	}
	// PeerRatios, which EnqueueTable uses, still takes the best peer.
	if got := PeerRatios(bare, rows); !slices.Equal(got, []float64{2, 4, 4}) {
		t.Errorf("PeerRatios(bare) = %v, want [2 4 4]", got)
	}
}

func TestSeriesRatios(t *testing.T) {
	tw := Series{Name: "taskware", Values: []float64{10, 20, 30}}
	a := Series{Name: "a", Peer: true, Values: []float64{5, 40, 10}}
	b := Series{Name: "b", Peer: true, Values: []float64{2, 10, 15}}
	all := []Series{tw, a, b}
	if got := tw.Ratios(all, math.Max); !slices.Equal(got, []float64{2, 0.5, 2}) {
		t.Errorf("against the greatest peer: %v, want [2 0.5 2]", got)
	}
	if got := tw.Ratios(all, math.Min); !slices.Equal(got, []float64{5, 2, 3}) {
		t.Errorf("against the least peer: %v, want [5 2 3]", got)
	}
	if got := tw.Ratios([]Series{tw}, math.Max); got != nil {
		t.Errorf("without a peer: %v, want nil", got)
	}
}

func TestEnqueueTable(t *testing.T) {
	res := func(perSec, trips float64) DrainResult {
		return DrainResult{Tasks: 1000, Elapsed: time.Duration(1000 / perSec * float64(time.Second)),
			Trips: int64(trips * 1000), Mallocs: 20000, RedisCPU: 5 * time.Millisecond}
	}
	rows := []DrainRow{
		{Name: "many", Rounds: []DrainResult{res(100000, 0.001), res(50000, 0.001), res(80000, 0.001)}},
		{Name: "asynq", Peer: true, Rounds: []DrainResult{res(10000, 1), res(5000, 1), res(10000, 1)}},
	}
	want := `| way | tasks/s | ratio to asynq, per round | round trips/task | Redis CPU µs/task | allocs/task |
|---|---:|---:|---:|---:|---:|
| many | 80000 (50000–100000) | 10.00 (8.00–10.00) | 0.001 | 5.0 | 20.0 |
| asynq | 10000 (5000–10000) | 1.00 (1.00–1.00) | 1.000 | 5.0 | 20.0 |
`
	if got := EnqueueTable(rows); got != want {
		t.Errorf("EnqueueTable =\n%s\nwant\n%s", got, want)
	}
}

func TestMemoryTable(t *testing.T) {
	rows := []Series{
		{Name: "taskware", Values: []float64{1500, 1200, 2000}},
		{Name: "asynq", Peer: true, Values: []float64{2000, 3000, 2000}},
	}
	want := `| library | MB per 100000 tasks | bytes/task | ratio to asynq, per round |
|---|---:|---:|---:|
| taskware | 150.0 (120.0–200.0) | 1500 (1200–2000) | 0.75 (0.40–1.00) |
| asynq | 200.0 (200.0–300.0) | 2000 (2000–3000) | 1.00 (1.00–1.00) |
`
	if got := MemoryTable(rows, 1, 100000); got != want {
		t.Errorf("MemoryTable =\n%s\nwant\n%s", got, want)
	}
}

func TestLatencyTable(t *testing.T) {
	ms := func(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }
	rows := []LatencyRow{{Name: "taskware", Rounds: []LatencyResult{
		{Tasks: 10, Rate: 1990, P50: ms(1.5), P99: ms(4), Max: ms(9)},
		{Tasks: 10, Rate: 2000, P50: ms(1.2), P99: ms(3), Max: ms(12)},
		{Tasks: 10, Rate: 1980, P50: ms(2), P99: ms(5), Max: ms(8)},
	}}}
	want := `| library | tasks/s held | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|
| taskware | 1990 (1980–2000) | 1.5 (1.2–2.0) | 4.0 (3.0–5.0) | 9.0 (8.0–12.0) |
`
	if got := LatencyTable(rows); got != want {
		t.Errorf("LatencyTable =\n%s\nwant\n%s", got, want)
	}
}
