package timeline

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/baseline"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
)

// BenchmarkDerive derives a 24-hour day of 2,880 fixes (a realistic
// simulated day's true path resampled every 30 s, with 5 to 30 m of noise,
// in shuffled order) against an index of the city's sites plus 100,000
// random circles within 20 km (derive), beside two baselines on the same
// fixes in the same run, since the machine's load moves absolute times:
// sorting a copy of them by time and ID (sort, the least any derivation
// from an unordered set does) and trackintel's sliding staypoint detector
// (sliding). Read derive as a multiple of sort.
func BenchmarkDerive(b *testing.B) {
	w := newSimWorld(b, 100)
	res, err := sim.Day(3, w.city, sim.Realistic(), sim.DayConfig{Rep: "rep-1", Loc: wib, Start: 0, End: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	centre := w.city.Config.Center
	fences := make([]geofence.Fence, 0, 100000)
	for k := range 100000 {
		d, a := 20000*math.Sqrt(r.Float64()), 2*math.Pi*r.Float64()
		c := dwell.LatLng{Lat: centre.Lat + d*math.Sin(a)/111195, Lng: centre.Lng + d*math.Cos(a)/(111195*math.Cos(centre.Lat*math.Pi/180))}
		fences = append(fences, geofence.Fence{ID: fmt.Sprintf("x%06d", k), Geofence: dwell.Geofence{Circle: &dwell.Circle{Center: c, RadiusM: 10 + 50*r.Float64()}}})
	}
	if err := w.index.PutAll(fences); err != nil {
		b.Fatal(err)
	}
	var fixes []dwell.Fix
	for k := range 2880 {
		at := res.Start.Add(time.Duration(k) * 30 * time.Second)
		p := res.PosAt(at)
		acc := 5 + 25*r.Float64()
		e := acc / 1.5 * r.NormFloat64()
		a := 2 * math.Pi * r.Float64()
		p.Lat += e * math.Sin(a) / 111195
		p.Lng += e * math.Cos(a) / 111195
		fixes = append(fixes, dwell.Fix{ID: fmt.Sprintf("f%04d", k), Time: at, Pos: p, AccuracyM: acc, SpeedMPS: -1, BearingDeg: -1})
	}
	r.Shuffle(len(fixes), func(i, j int) { fixes[i], fixes[j] = fixes[j], fixes[i] })
	in := w.input(res, fixes)
	in.Window = Window{}
	day := Derive(in)
	b.Logf("%d fixes, %d fences: %d segments, %d visits", len(fixes), w.index.Len(), len(day.Segments), len(day.Visits))
	b.Run("derive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Derive(in)
		}
	})
	b.Run("sort", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fs := slices.Clone(fixes)
			slices.SortFunc(fs, func(a, b dwell.Fix) int { return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.ID, b.ID)) })
		}
	})
	b.Run("sliding", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			baseline.Sliding(fixes, baseline.DefaultSliding())
		}
	})
}
