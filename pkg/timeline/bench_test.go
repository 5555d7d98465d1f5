package timeline

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"syscall"
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
	if err := w.index.PutAll(w.appendCircles(nil, r, 20000, "x", 0, 100000)); err != nil {
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

// BenchmarkDeriveFences measures what the fence index costs a fix on the
// product's own path with a million fences loaded (DESIGN's quality bar
// "geofence match in well under a microsecond with a million fences"). A
// derivation does not query the index per fix: it queries it per stop
// (the stop's centre) and per check-in, so a stationary rep's fixes share
// their stop's answer. The derive row derives 512 realistic days of
// different reps in one city (the city's sites in the index) and counts
// the queries a fix (queries/fix), beside its CPU time a fix: what a
// whole derivation costs. The queries rows replay those days' queries,
// one after another so that each is out of cache as on a server deriving
// many reps' days, on the sites plus 100,000 or 1,000,000 random circles
// of 10 to 60 m within 20 km (1e5, 1e6: 80 and 800 a km², far denser than
// any real tenant), in an index built as the server builds it (the
// default options: a 100 m margin) or with no margin (margin0), which
// gives the same days (TestIndexMarginChangesNothing) with fewer matches. fence-ns/fix is a query's CPU
// time times the derive row's queries a fix: what the fences cost a fix.
// CPU time is the process's, so that other work on the machine does not
// count (ns/op is the wall clock).
func BenchmarkDeriveFences(b *testing.B) {
	w := newSimWorld(b, 100)
	var days []Input
	fixes := 0
	for n := range 512 {
		res := w.simDay(b, sim.Realistic(), uint64(1000+n), n)
		in := w.input(res, res.Shuffled(uint64(n)))
		days = append(days, in)
		fixes += len(in.Fixes)
	}
	rec := &recordingMatcher{m: w.index}
	for i := range days {
		days[i].Fences = rec
		Derive(days[i])
		days[i].Fences = w.index
	}
	queriesPerFix := float64(len(rec.queries)) / float64(fixes)
	b.Run("derive", func(b *testing.B) {
		b.ReportAllocs()
		k := 0
		cpu := processCPU()
		for b.Loop() {
			Derive(days[k%len(days)])
			k++
		}
		b.ReportMetric(float64(processCPU()-cpu)/float64(k)/(float64(fixes)/float64(len(days))), "cpu-ns/fix")
		b.ReportMetric(queriesPerFix, "queries/fix")
	})

	sites := w.siteFences()
	wide, lean := geofence.New(geofence.Options{}), geofence.New(geofence.Options{MarginM: -1})
	r := rand.New(rand.NewPCG(3, 4))
	added := 0
	for _, n := range []int{100_000, 1_000_000} {
		fences := w.appendCircles(sites, r, 20000, "x", added, n)
		sites = nil
		added = n
		for _, ix := range []*geofence.Index{wide, lean} {
			if err := ix.PutAll(fences); err != nil {
				b.Fatal(err)
			}
		}
		fences = nil
		runtime.GC()
		for _, kind := range []string{"", "/margin0"} {
			ix := wide
			if kind != "" {
				ix = lean
			}
			b.Run(fmt.Sprintf("queries/fences=%.0e%s", float64(n), kind), func(b *testing.B) {
				var buf []geofence.Match
				matches := 0
				b.ReportAllocs()
				k := 0
				cpu := processCPU()
				for b.Loop() {
					q := rec.queries[k%len(rec.queries)]
					buf = ix.Query(q.p, q.accM, buf)
					matches += len(buf)
					k++
				}
				nsQuery := float64(processCPU()-cpu) / float64(k)
				b.ReportMetric(nsQuery, "cpu-ns/query")
				b.ReportMetric(nsQuery*queriesPerFix, "fence-ns/fix")
				b.ReportMetric(float64(matches)/float64(k), "matches/query")
			})
		}
	}
}

// recordingMatcher keeps the queries made of a FenceMatcher.
type recordingMatcher struct {
	m       FenceMatcher
	queries []fenceQuery
}

// fenceQuery is one query of a FenceMatcher.
type fenceQuery struct {
	p    dwell.LatLng
	accM float64
}

func (r *recordingMatcher) Query(p dwell.LatLng, accuracyM float64, buf []geofence.Match) []geofence.Match {
	r.queries = append(r.queries, fenceQuery{p, accuracyM})
	return r.m.Query(p, accuracyM, buf)
}

// processCPU returns the CPU time in nanoseconds the process has used (as
// geofence's benchmarks do: on a shared machine the wall clock also counts
// the time the benchmark waited for a core).
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
