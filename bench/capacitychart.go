package bench

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CapacityBar is one configuration in the capacity chart: how its Redis
// work fell over its servers, and what that lets it carry.
type CapacityBar struct {
	// Name labels the bar; a "\n" in it breaks the label's line.
	Name string
	// Shares is each server's part of the work, 0 to 1 (Spread.Shares).
	Shares []float64
	// Capacity is the projected tasks per second (Spread.Capacity), and
	// Ratio its ratio to the configuration it is compared with (0 for
	// none, as for that configuration itself).
	Capacity, Ratio float64
}

var chartColors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

// PlotCapacity draws bars side by side, with title, into file (PNG, SVG or
// PDF after its extension): on the left each server's share of the work,
// a bar per server, against the line of target (a share, 0 if none); on
// the right the projected capacity, in thousands of tasks per second,
// each bar labelled with its Ratio.
func PlotCapacity(bars []CapacityBar, title string, target float64, file string) error {
	if len(bars) == 0 {
		return fmt.Errorf("bench: a capacity chart of no bars")
	}
	names := make([]string, len(bars))
	servers := 0
	for i, b := range bars {
		names[i] = b.Name
		servers = max(servers, len(b.Shares))
	}

	shares := plot.New()
	shares.Title.Text = "share of the Redis CPU, per server"
	shares.Y.Label.Text = "% of the work"
	shares.Y.Min, shares.Y.Max = 0, 125 // room for the legend above 100%
	shares.Legend.Top = true
	shares.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 25, Label: "25"},
		{Value: 50, Label: "50"}, {Value: 75, Label: "75"}, {Value: 100, Label: "100"}})
	shares.Add(plotter.NewGrid())
	width := vg.Points(48 / float64(servers))
	for j := range servers {
		vs := make(plotter.Values, len(bars))
		for i, b := range bars {
			if j < len(b.Shares) {
				vs[i] = 100 * b.Shares[j]
			}
		}
		bc, err := plotter.NewBarChart(vs, width)
		if err != nil {
			return fmt.Errorf("bench: capacity chart: %w", err)
		}
		bc.Color, bc.LineStyle.Width = chartColors[j%len(chartColors)], 0
		bc.Offset = width * vg.Length(float64(j)-float64(servers-1)/2)
		shares.Add(bc)
		shares.Legend.Add(fmt.Sprintf("server %d", j+1), bc)
	}
	if target > 0 {
		line := plotter.NewFunction(func(float64) float64 { return 100 * target })
		line.Dashes, line.Width = []vg.Length{vg.Points(4), vg.Points(3)}, vg.Points(1)
		shares.Add(line)
		shares.Legend.Add(fmt.Sprintf("target: at most %.0f%%", 100*target), line)
	}
	shares.NominalX(names...)

	capacity := plot.New()
	capacity.Title.Text = "projected capacity, one core per server"
	capacity.Y.Label.Text = "thousand tasks/s"
	capacity.Y.Min = 0
	capacity.Add(plotter.NewGrid())
	vs := make(plotter.Values, len(bars))
	labels := plotter.XYLabels{XYs: make(plotter.XYs, len(bars)), Labels: make([]string, len(bars))}
	for i, b := range bars {
		vs[i] = b.Capacity / 1000
		labels.XYs[i] = plotter.XY{X: float64(i), Y: vs[i]}
		if b.Ratio > 0 {
			labels.Labels[i] = fmt.Sprintf("%.2f×", b.Ratio)
		}
	}
	bc, err := plotter.NewBarChart(vs, vg.Points(36))
	if err != nil {
		return fmt.Errorf("bench: capacity chart: %w", err)
	}
	bc.Color, bc.LineStyle.Width = chartColors[0], 0
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return fmt.Errorf("bench: capacity chart: %w", err)
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign, lb.TextStyle[i].YAlign = draw.XCenter, draw.YBottom
	}
	capacity.Add(bc, lb)
	capacity.NominalX(names...)
	capacity.Y.Max *= 1.1 // room for the labels
	capacity.Y.Tick.Marker = evenTicks(capacity.Y.Max)

	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	c, err := draw.NewFormattedCanvas(14*vg.Inch, 5.5*vg.Inch, format)
	if err != nil {
		return fmt.Errorf("bench: capacity chart %s: %w", file, err)
	}
	dc := draw.New(c)
	head := plot.New()
	head.Title.Text = title
	head.HideAxes()
	top := draw.Crop(dc, 0, 0, dc.Max.Y-dc.Min.Y-vg.Points(24), 0)
	head.Draw(top)
	body := draw.Crop(dc, 0, 0, 0, -vg.Points(24))
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(24), PadTop: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	cells := plot.Align([][]*plot.Plot{{shares, capacity}}, tiles, body)
	shares.Draw(cells[0][0])
	capacity.Draw(cells[0][1])
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// evenTicks marks 0 to top in about five steps of 1, 2 or 5 times a power
// of ten.
func evenTicks(top float64) plot.ConstantTicks {
	step := math.Pow(10, math.Floor(math.Log10(top/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if top/(m*step) <= 6 {
			step *= m
			break
		}
	}
	var ticks plot.ConstantTicks
	for i := 0; float64(i)*step <= top; i++ {
		v := float64(i) * step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}
