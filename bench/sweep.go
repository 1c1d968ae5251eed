package bench

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one contender's drain rate against the worker's concurrency.
type Curve struct {
	Name string
	// Concurrency and PerSec are the points: PerSec[i] is the median, over
	// the rounds, of the tasks per second at Concurrency[i] tasks at once.
	Concurrency []int
	PerSec      []float64
}

// SweepOptions says what DrainSweep measures.
type SweepOptions struct {
	// Concurrency lists the worker concurrencies to measure at.
	Concurrency []int
	// Tasks is the tasks per drain, Rounds how many times each point is
	// measured.
	Tasks, Rounds int
	// Timeout bounds each drain.
	Timeout time.Duration
	// Meter measures each drain.
	Meter Meter
	// Progress, if not nil, is told of each drain done.
	Progress func(lib string, concurrency int, res DrainResult)
}

// DrainSweep measures each of libs draining o.Tasks no-op tasks at each
// concurrency, in o.Rounds rounds in which the libraries take turns at each
// concurrency, and returns a Curve for each, in the order of libs. Each
// drain opens its library afresh on env (with its own key prefix, under
// env.Prefix, and o's concurrency), enqueues the tasks (not timed), drains
// them (Drain) and closes it, which deletes every key it wrote.
func DrainSweep(ctx context.Context, env Env, libs []QueueLib, o SweepOptions) ([]Curve, error) {
	if o.Tasks < 1 || o.Rounds < 1 || len(o.Concurrency) == 0 || o.Timeout <= 0 {
		return nil, fmt.Errorf("bench: DrainSweep with %+v", o)
	}
	rates := make([][][]float64, len(libs)) // [lib][concurrency][round]
	for i := range libs {
		rates[i] = make([][]float64, len(o.Concurrency))
	}
	for round := range o.Rounds {
		for j, conc := range o.Concurrency {
			if conc < 1 {
				return nil, fmt.Errorf("bench: DrainSweep at concurrency %d", conc)
			}
			for i, lib := range libs {
				e := env
				e.Prefix = fmt.Sprintf("%s%d:%d:%d:", env.Prefix, i, conc, round)
				e.Concurrency = conc
				res, err := drainOnce(ctx, lib, e, o)
				if err != nil {
					return nil, fmt.Errorf("%s at concurrency %d: %w", lib.Name, conc, err)
				}
				rates[i][j] = append(rates[i][j], res.PerSec())
				if o.Progress != nil {
					o.Progress(lib.Name, conc, res)
				}
			}
		}
	}
	curves := make([]Curve, len(libs))
	for i, lib := range libs {
		curves[i] = Curve{Name: lib.Name, Concurrency: o.Concurrency, PerSec: make([]float64, len(o.Concurrency))}
		for j := range o.Concurrency {
			curves[i].PerSec[j] = Summarize(rates[i][j]).Median
		}
	}
	return curves, nil
}

// drainOnce opens lib on env, enqueues o.Tasks tasks, drains them and
// closes lib.
func drainOnce(ctx context.Context, lib QueueLib, env Env, o SweepOptions) (res DrainResult, err error) {
	q, err := lib.Open(env)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, q.Close()) }()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := q.Enqueue(ctx, o.Tasks); err != nil {
		return res, fmt.Errorf("enqueue: %w", err)
	}
	return Drain(ctx, q, o.Tasks, o.Meter)
}

// PlotCurves draws curves, tasks per second against concurrency on a
// logarithmic axis, with title, into file: PNG, SVG or PDF after its
// extension.
func PlotCurves(curves []Curve, title, file string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "concurrency (tasks a worker runs at once)"
	p.Y.Label.Text = "tasks/s"
	p.X.Scale = plot.LogScale{}
	p.Y.Min = 0
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())

	var ticks []plot.Tick
	seen := make(map[int]bool)
	colors := []color.Color{
		color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
		color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
		color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	}
	for i, c := range curves {
		if len(c.Concurrency) != len(c.PerSec) || len(c.PerSec) == 0 {
			return fmt.Errorf("bench: curve %q has %d concurrencies and %d rates", c.Name, len(c.Concurrency), len(c.PerSec))
		}
		xys := make(plotter.XYs, len(c.PerSec))
		for j, conc := range c.Concurrency {
			if conc < 1 {
				return fmt.Errorf("bench: curve %q at concurrency %d: a log axis starts above 0", c.Name, conc)
			}
			xys[j] = plotter.XY{X: float64(conc), Y: c.PerSec[j]}
			if !seen[conc] {
				seen[conc] = true
				ticks = append(ticks, plot.Tick{Value: float64(conc), Label: strconv.Itoa(conc)})
			}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("bench: curve %q: %w", c.Name, err)
		}
		col := colors[i%len(colors)]
		line.Color, line.Width = col, vg.Points(1.5)
		points.Color, points.Shape = col, draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(c.Name, line, points)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	return p.Save(8*vg.Inch, 5*vg.Inch, file)
}
