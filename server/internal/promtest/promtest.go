// Package promtest reads figures out of Prometheus metrics, for the tests
// of the server's and dwelld's metrics: from a registry (Gather) or from a
// scrape in the text format, parsed by Prometheus's own parser (Parse).
package promtest

import (
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Figures are the metric families of one scrape, by name.
type Figures map[string]*dto.MetricFamily

// Parse reads a scrape in Prometheus's text exposition format.
func Parse(r io.Reader) (Figures, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(r)
}

// Gather reads g's metrics now.
func Gather(g prometheus.Gatherer) (Figures, error) {
	fams, err := g.Gather()
	if err != nil {
		return nil, err
	}
	f := Figures{}
	for _, fam := range fams {
		f[fam.GetName()] = fam
	}
	return f, nil
}

// Value returns the figure of the first series of metric name whose labels
// include labels (name, value pairs): a counter's or gauge's value, a
// histogram's count of observations. It returns 0 if there is no such
// series, as Prometheus reads a counter not yet created.
func (f Figures) Value(name string, labels ...string) float64 {
next:
	for _, m := range f[name].GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

// Moved returns how much a figure (Value) moved from f to later.
func (f Figures) Moved(later Figures, name string, labels ...string) float64 {
	return later.Value(name, labels...) - f.Value(name, labels...)
}

// Wait reads figures until the figure of name with labels is want, for at
// most 10 seconds, and fails t if it never is: for a gauge the server
// moves a moment after the client's call returns (a stream's end).
func Wait(t testing.TB, read func() Figures, name string, labels []string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := read().Value(name, labels...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v is %v after 10 s, want %v", name, labels, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
