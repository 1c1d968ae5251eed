package web

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The window switch charts 15 minutes, an hour or a day (in quarter
// hours), keeps its choice in the URL and the page's live updates, and
// falls back to 15 minutes on anything else.
func TestChartWindows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			query   string
			name    string
			buckets int
			bucket  int64
		}{{"", "15m", 15, 60}, {"?window=1h", "1h", 60, 60}, {"?window=24h", "24h", 96, 900}, {"?window=7d", "15m", 15, 60}} {
			var d overviewData
			e.api(t, "overview"+tc.query, &d)
			if d.Rates == nil || d.Rates.Window != tc.name || len(d.Rates.Starts) != tc.buckets || d.Rates.BucketSeconds != tc.bucket {
				t.Fatalf("api/overview%s: rates %+v (%s), want %s in %d buckets of %ds", tc.query, d.Rates, d.RatesError, tc.name, tc.buckets, tc.bucket)
			}
			starts := d.Rates.Starts
			if last := starts[len(starts)-1]; time.Since(last) < 0 || time.Since(last) > time.Duration(tc.bucket)*time.Second+time.Minute {
				t.Errorf("%s: the last bucket starts at %v; want the one now is in", tc.name, last)
			}
			body := e.page(t, tc.query)
			if !strings.Contains(body, `data-api="api/overview?window=`+tc.name+`"`) {
				t.Errorf("%s: the live updates do not keep the window", tc.name)
			}
			if !regexp.MustCompile(`aria-current="true" data-testid="window-` + tc.name + `"`).MatchString(body) {
				t.Errorf("%s: the switch does not mark the window shown", tc.name)
			}
			// Every chart is there, each bar with its hover text.
			if n, want := strings.Count(body, "<svg "), len(seriesDefs)*len(d.Queues); n != want {
				t.Errorf("%s: %d charts, want %d", tc.name, n, want)
			}
			if n, want := strings.Count(body, "</title></rect>"), nonzero(d.Rates); n != want || n == 0 {
				t.Errorf("%s: %d bars with a title, want one per bucket that counts something, %d", tc.name, n, want)
			}
		}
	})
}

// The charts of a row share their scale: the seeded "side" finished 3
// tasks, "default" none; both charts' scale tops at 5, with labels on
// both axes.
func TestChartScaleShared(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var d overviewData
		e.api(t, "overview?window=1h", &d)
		row := d.Rates.Rows[0]
		if row.Name != "throughput" || row.Top != 5 || len(row.Charts) != 2 || row.Charts[0].Total != 0 || row.Charts[1].Total != 3 {
			t.Fatalf("throughput row %+v; want default at 0 and side at 3, on a scale of 5", row)
		}
		body := e.page(t, "?window=1h")
		for _, q := range []string{"default", "side"} {
			wantCell(t, body, "chart-throughput-"+q, "scale-top", "5")
		}
		if !strings.Contains(body, ` UTC</text>`) {
			t.Error("no time label under the charts")
		}
	})
}

// Bars are scaled to their row's top, and titled with their queue, time
// and count.
func TestPlot(t *testing.T) {
	first := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	d := &ratesData{Window: "24h", BucketSeconds: 900, window: chartWindows[2],
		Starts: []time.Time{first, first.Add(15 * time.Minute)}}
	row := chartRow{Name: "failed", Label: "Failed", Top: 5}
	p := plotOf(d, row, chart{Queue: "mail", Counts: []int64{0, 4}, Total: 4})
	if len(p.Bars) != 1 || p.Bars[0].I != 1 || p.Bars[0].H != "32" || p.Bars[0].Y != "14" || p.Bars[0].X != "166" || p.Bars[0].W != "96" {
		t.Fatalf("bars %+v; want none in the first half, then 4/5 of the plot's 40 in the second", p.Bars)
	}
	if want := "mail, 10:15–10:30 UTC: 4"; p.Bars[0].Title != want {
		t.Errorf("title %q, want %q", p.Bars[0].Title, want)
	}
	if !strings.Contains(p.Aria, "Failed on mail") || !strings.Contains(p.Aria, "quarter hour") {
		t.Errorf("aria label %q", p.Aria)
	}
	for n, want := range map[int64]int64{0: 1, 1: 1, 2: 2, 3: 5, 5: 5, 6: 10, 11: 20, 4000: 5000} {
		if got := roundUp(n); got != want {
			t.Errorf("roundUp(%d) = %d, want %d", n, got, want)
		}
	}
}

// nonzero counts the buckets of d's charts that count something: those
// that have a bar.
func nonzero(d *ratesData) int {
	n := 0
	for _, row := range d.Rows {
		for _, c := range row.Charts {
			for _, v := range c.Counts {
				if v > 0 {
					n++
				}
			}
		}
	}
	return n
}
