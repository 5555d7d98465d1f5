package timeline

import (
	"bytes"
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
// random circles within 20 km (derive), and the same fixes in time order,
// as the store returns them (derive-sorted). Baselines on the same fixes
// in the same run, since the machine's load moves absolute times: reading
// the fixes' times and sorting them (times, the least any derivation from
// an unordered set does: it must at least order the fixes), sorting a copy
// of the fixes themselves by time and ID (sort, where a derivation that
// sorts its input would start; heavier than times, as it moves 96-byte
// fixes and compares time.Time values) and trackintel's sliding staypoint
// detector (sliding). Read derive as a multiple of times and of sort.
func BenchmarkDerive(b *testing.B) {
	in := benchInput(b)
	fixes := in.Fixes
	day := Derive(in)
	b.Logf("%d fixes: %d segments, %d visits", len(fixes), len(day.Segments), len(day.Visits))
	b.Run("derive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Derive(in)
		}
	})
	sorted := in
	sorted.Fixes = slices.Clone(fixes)
	slices.SortFunc(sorted.Fixes, func(a, b dwell.Fix) int { return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.ID, b.ID)) })
	if got, want := Derive(sorted).Encode(), day.Encode(); !bytes.Equal(got, want) {
		b.Fatalf("Derive of the sorted fixes differs from Derive of the shuffled ones:\n%s\nwant\n%s", got, want)
	}
	b.Run("derive-sorted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Derive(sorted)
		}
	})
	b.Run("times", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ts := make([]int64, len(fixes))
			for i := range fixes {
				ts[i] = fixes[i].Time.UnixNano()
			}
			slices.Sort(ts)
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

// benchInput returns BenchmarkDerive's day: the shuffled fixes, the
// index and the check-ins, with no working-hours window.
func benchInput(b *testing.B) Input {
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
	b.Logf("%d fences", w.index.Len())
	return in
}
