package taskprom_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// find returns the metric of family name whose labels are exactly labels
// (name, value pairs), or nil.
func find(t *testing.T, g prometheus.Gatherer, name string, labels ...string) *dto.Metric {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	want := pairs(labels...)
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(got)
			if slices.Equal(got, want) {
				return m
			}
		}
	}
	return nil
}

// must returns find's metric, and fails t if there is none.
func must(t *testing.T, g prometheus.Gatherer, name string, labels ...string) *dto.Metric {
	t.Helper()
	m := find(t, g, name, labels...)
	if m == nil {
		t.Fatalf("no %s{%s}; gathered:\n%s", name, strings.Join(pairs(labels...), ","), dump(t, g))
	}
	return m
}

func counter(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	return must(t, g, name, labels...).GetCounter().GetValue()
}

func gauge(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	return must(t, g, name, labels...).GetGauge().GetValue()
}

// observations returns how many observations a histogram holds.
func observations(t *testing.T, g prometheus.Gatherer, name string, labels ...string) uint64 {
	t.Helper()
	return must(t, g, name, labels...).GetHistogram().GetSampleCount()
}

// series counts the metrics of family name.
func series(t *testing.T, g prometheus.Gatherer, name string) int {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

func pairs(labels ...string) []string {
	var out []string
	for i := 0; i+1 < len(labels); i += 2 {
		out = append(out, labels[i]+"="+labels[i+1])
	}
	slices.Sort(out)
	return out
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func dump(t *testing.T, g prometheus.Gatherer) string {
	fams, err := g.Gather()
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			b.WriteString(f.GetName())
			b.WriteString("{")
			for i, l := range m.GetLabel() {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(l.GetName() + "=" + l.GetValue())
			}
			b.WriteString("} ")
			switch {
			case m.Counter != nil:
				b.WriteString(ftoa(m.GetCounter().GetValue()))
			case m.Gauge != nil:
				b.WriteString(ftoa(m.GetGauge().GetValue()))
			case m.Histogram != nil:
				b.WriteString("count=" + ftoa(float64(m.GetHistogram().GetSampleCount())))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
