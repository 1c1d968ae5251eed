package bench

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDrainSweep measures the chart's three contenders at two
// concurrencies, 100 tasks each, on the real Redis, and draws the chart.
func TestDrainSweep(t *testing.T) {
	trips := new(Trips)
	client, base := testRedis(t, trips.Count)
	asynqClient := testConnect(t, trips.Count, testAsynqDB(t))
	var libs []QueueLib
	for _, name := range []string{"taskware bare", "taskware lock+store", "asynq"} {
		lib, ok := QueueLibNamed(name)
		if !ok {
			t.Fatalf("no contender %q", name)
		}
		libs = append(libs, lib)
	}
	drains := 0
	o := SweepOptions{Concurrency: []int{1, 4}, Tasks: 100, Rounds: 1, Timeout: 20 * time.Second,
		Meter:    Meter{Trips: trips},
		Progress: func(string, int, DrainResult) { drains++ }}
	env := Env{Client: client, AsynqClient: asynqClient, Prefix: base}
	curves, err := DrainSweep(context.Background(), env, libs, o)
	if err != nil {
		t.Fatal(err)
	}
	if drains != 6 || len(curves) != 3 {
		t.Fatalf("%d drains, %d curves; want 6, 3", drains, len(curves))
	}
	for i, c := range curves {
		if c.Name != libs[i].Name || len(c.PerSec) != 2 || c.PerSec[0] <= 0 || c.PerSec[1] <= 0 {
			t.Errorf("curve %d = %+v", i, c)
		}
	}
	if k := countKeys(t, client, base); k != 0 {
		t.Errorf("%d keys left under %s", k, base)
	}
	if k := countKeys(t, asynqClient, ""); k != 0 {
		t.Errorf("%d keys left in the asynq DB %d", k, asynqClient.Options().DB)
	}

	file := filepath.Join(t.TempDir(), "chart.png")
	if err := PlotCurves(curves, "test", file); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
		t.Errorf("chart is %v", b)
	}
}

func TestPlotCurvesRefusesBadCurves(t *testing.T) {
	file := filepath.Join(t.TempDir(), "chart.png")
	for _, c := range []Curve{
		{Name: "short", Concurrency: []int{1, 2}, PerSec: []float64{1}},
		{Name: "empty"},
		{Name: "zero", Concurrency: []int{0}, PerSec: []float64{1}},
	} {
		if err := PlotCurves([]Curve{c}, "", file); err == nil {
			t.Errorf("curve %q: no error", c.Name)
		}
	}
}
