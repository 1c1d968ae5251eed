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
	// Round 2 is slow for both: per round, the ratios are 2, 2 and 4; the
	// ratio of the medians would be 2000/500.
	tw := DrainRow{Name: "taskware", Rounds: []DrainResult{
		res(4000, 1.5, 30, 40), res(1000, 1.5, 32, 50), res(2000, 1.5, 31, 45)}}
	aq := DrainRow{Name: "asynq", Peer: true, Rounds: []DrainResult{
		res(2000, 3, 60, 80), res(500, 3, 61, 90), res(500, 3, 62, 70)}}
	rows := []DrainRow{tw, aq}
	if got := PeerRatios(tw, rows); !slices.Equal(got, []float64{2, 2, 4}) {
		t.Errorf("PeerRatios = %v, want [2 2 4]", got)
	}
	want := `| contender | tasks/s | ratio to asynq, per round | round trips/task | Redis CPU µs/task | allocs/task |
|---|---:|---:|---:|---:|---:|
| taskware | 2000 | 2.00 (2.00–4.00) | 1.50 | 45.0 | 31.0 |
| asynq | 500 | 1.00 (1.00–1.00) | 3.00 | 80.0 | 61.0 |
`
	if got := DrainTable(rows); got != want {
		t.Errorf("DrainTable =\n%s\nwant\n%s", got, want)
	}
	if got := DrainTable(rows[:1]); !strings.Contains(got, "| 2000 | n/a | 1.50 |") {
		t.Errorf("DrainTable without asynq =\n%s\nwant n/a", got)
	}
	// A peer with fewer rounds (a run cut short) bounds the ratios.
	short := DrainRow{Name: "asynq", Peer: true, Rounds: aq.Rounds[:2]}
	if got := PeerRatios(tw, []DrainRow{tw, short}); !slices.Equal(got, []float64{2, 2}) {
		t.Errorf("PeerRatios against 2 rounds = %v, want [2 2]", got)
	}
}
