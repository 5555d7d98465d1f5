package geofence

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/golang/geo/s2"
	"github.com/tidwall/rtree"
	h3 "github.com/uber/h3-go/v4"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// The benchmark city: 30 km by 30 km around Jakarta. Fences are half
// circles of 50-150 m radius, half building-sized polygons (4-8 vertices,
// 10-40 m from the centre). "uniform" spreads them evenly; "clustered" puts
// them around 300 centres (markets, malls) with a 400 m spread.
var cityCenter = dwell.LatLng{Lat: -6.2, Lng: 106.8}

const citySideM = 30000.0

func cityPoint(rng *rand.Rand) dwell.LatLng {
	return offset(offset(cityCenter, (rng.Float64()-0.5)*citySideM, 0), (rng.Float64()-0.5)*citySideM, 90)
}

type fixture struct {
	fences  []Fence
	centers []dwell.LatLng
	hubs    []dwell.LatLng
}

func makeFixture(n int, clustered bool) *fixture {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	fx := &fixture{}
	for range 300 {
		fx.hubs = append(fx.hubs, cityPoint(rng))
	}
	for i := range n {
		var c dwell.LatLng
		if clustered {
			h := fx.hubs[rng.IntN(len(fx.hubs))]
			c = offset(h, math.Abs(rng.NormFloat64())*400, rng.Float64()*360)
		} else {
			c = cityPoint(rng)
		}
		var g dwell.Geofence
		if i%2 == 0 {
			g.Circle = &dwell.Circle{Center: c, RadiusM: 50 + rng.Float64()*100}
		} else {
			size := 10 + rng.Float64()*30
			g.Polygon = &dwell.Polygon{Shell: ringAround(c, 4+rng.IntN(5), rng.Float64()*360, func(int) float64 {
				return size * (0.8 + 0.2*rng.Float64())
			})}
		}
		fx.fences = append(fx.fences, Fence{ID: fmt.Sprintf("client-%07d", i), Geofence: g})
		fx.centers = append(fx.centers, c)
	}
	return fx
}

// queryPoint is where single-query benchmarks ask: near a random fence (so
// the answer is not empty), with an ordinary accuracy.
func (fx *fixture) queryPoint(rng *rand.Rand) (dwell.LatLng, float64) {
	c := fx.centers[rng.IntN(len(fx.centers))]
	return offset(c, rng.Float64()*150, rng.Float64()*360), 5 + rng.Float64()*25
}

// rtreeIndex is the baseline: fence bounding boxes (degrees, widened by the
// index's buffer in the query instead) in tidwall/rtree, the structure
// Tile38 uses, with the same exact test.
type rtreeIndex struct {
	tr     rtree.RTreeG[*fence]
	margin float64
	maxAcc float64
}

// The baselines share the h3 index's prepared fences (same memory layout,
// same exact test).
func newRtreeIndex(h *Index, opts Options) *rtreeIndex {
	ix := New(opts)
	rt := &rtreeIndex{margin: ix.marginM, maxAcc: ix.maxAccuracyM}
	for _, f := range h.fencesInOrder() {
		lo, hi := capBox(f.anchorPoint(), f.extentM)
		rt.tr.Insert(lo, hi, f)
	}
	return rt
}

// capBox returns a lat/lng box around the cap of radius m around p (not
// antimeridian-aware: the benchmark city is far from it).
func capBox(p s2.Point, m float64) (lo, hi [2]float64) {
	lat, lng := latLngDeg(p)
	dLat := m / EarthRadiusM * 180 / math.Pi
	dLng := dLat / math.Max(math.Cos((math.Abs(lat)+dLat)*math.Pi/180), 1e-9)
	return [2]float64{lng - dLng, lat - dLat}, [2]float64{lng + dLng, lat + dLat}
}

func (rt *rtreeIndex) Query(p dwell.LatLng, accuracyM float64, buf []Match) []Match {
	buf = buf[:0]
	acc := min(max(accuracyM, 0), rt.maxAcc)
	reach := max(acc, rt.margin)
	q := point(p)
	lo, hi := capBox(q, reach)
	rt.tr.Search(lo, hi, func(_, _ [2]float64, f *fence) bool {
		d := f.signedDistM(q, false)
		if d <= reach {
			buf = appendMatch(buf, f, d, acc)
		}
		return true
	})
	sortMatches(buf)
	return buf
}

// bruteIndex scans every fence with the same exact test.
type bruteIndex struct {
	fences []*fence
	margin float64
	maxAcc float64
}

func newBruteIndex(h *Index, opts Options) *bruteIndex {
	ix := New(opts)
	return &bruteIndex{margin: ix.marginM, maxAcc: ix.maxAccuracyM, fences: h.fencesInOrder()}
}

// fencesInOrder returns the index's fences in memory order.
func (ix *Index) fencesInOrder() []*fence {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var fs []*fence
	for _, f := range ix.byID {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b *fence) int { return cmp.Compare(uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(b))) })
	return fs
}

func (b *bruteIndex) Query(p dwell.LatLng, accuracyM float64, buf []Match) []Match {
	buf = buf[:0]
	acc := min(max(accuracyM, 0), b.maxAcc)
	reach := max(acc, b.margin)
	q := point(p)
	for _, f := range b.fences {
		if d := f.signedDistM(q, false); d <= reach {
			buf = appendMatch(buf, f, d, acc)
		}
	}
	sortMatches(buf)
	return buf
}

// latLngDeg returns the latitude and longitude of p in degrees.
func latLngDeg(p s2.Point) (lat, lng float64) {
	ll := s2.LatLngFromPoint(p)
	return ll.Lat.Degrees(), ll.Lng.Degrees()
}

func appendMatch(buf []Match, f *fence, d, acc float64) []Match {
	return append(buf, Match{ID: f.id, DistanceM: d, Relation: relationOf(d, acc)})
}

type querier interface {
	Query(p dwell.LatLng, accuracyM float64, buf []Match) []Match
}

// Fixtures are built once per process and shared by the benchmarks.
var fixtures struct {
	sync.Mutex
	fx    map[string]*fixture
	index map[string]querier
}

func benchFixture(b *testing.B, n int, dist string) *fixture {
	fixtures.Lock()
	defer fixtures.Unlock()
	key := fmt.Sprint(n, dist)
	if fixtures.fx == nil {
		fixtures.fx, fixtures.index = map[string]*fixture{}, map[string]querier{}
	}
	if fx, ok := fixtures.fx[key]; ok {
		return fx
	}
	b.StopTimer()
	defer b.StartTimer()
	fx := makeFixture(n, dist == "clustered")
	fixtures.fx[key] = fx
	return fx
}

// benchIndex returns the index of a kind over the fixture of n fences.
// A kind is "h3" (h3cursor shares it), "rtree" or "brute", with the
// default options (a 100 m margin, as the server runs), or any of them
// with the suffix "-margin0": MarginM -1, the hot-path configuration
// (only fences the fix is in or within its accuracy of).
func benchIndex(b *testing.B, kind string, n int, dist string) querier {
	fx := benchFixture(b, n, dist)
	base, suffix, _ := strings.Cut(kind, "-")
	opts := Options{}
	if suffix == "margin0" {
		opts.MarginM = -1
	}
	base = strings.TrimSuffix(base, "warm")
	if base == "h3cursor" {
		base = "h3"
	}
	var h *Index
	if base == "rtree" || base == "brute" {
		h = benchIndex(b, "h3-"+suffix, n, dist).(*Index)
	}
	fixtures.Lock()
	defer fixtures.Unlock()
	key := fmt.Sprint(base, "-", suffix, n, dist)
	if q, ok := fixtures.index[key]; ok {
		return q
	}
	b.StopTimer()
	defer b.StartTimer()
	var q querier
	switch base {
	case "h3":
		ix := New(opts)
		if err := ix.PutAll(fx.fences); err != nil {
			b.Fatal(err)
		}
		q = ix
	case "rtree":
		q = newRtreeIndex(h, opts)
	case "brute":
		q = newBruteIndex(h, opts)
	}
	fixtures.index[key] = q
	runtime.GC()
	return q
}

// dropClustered forgets the clustered indexes of n fences, to bound the
// memory of a full run; the uniform ones serve BenchmarkRepDay.
func dropClustered(n int) {
	fixtures.Lock()
	defer fixtures.Unlock()
	for key := range fixtures.index {
		if strings.HasSuffix(key, fmt.Sprint(n, "clustered")) {
			delete(fixtures.index, key)
		}
	}
	runtime.GC()
}

var benchSizes = []int{1_000, 100_000, 1_000_000}

// processCPU returns the CPU time in nanoseconds the process has used. The
// benchmarks report it per operation beside the wall-clock figure (as
// cpu-ns/op, cpu-ns/fix): on a machine shared with other work the wall
// clock also counts the time the benchmark waited for a core, the CPU time
// does not. It counts the whole process (a collection running beside the
// loop too), so it is an upper bound of the loop's own.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkQuery is one query near a random fence with 5-30 m accuracy;
// matches/op is the mean answer size. The h3, rtree and brute rows use
// the default 100 m margin; the -margin0 rows the hot-path configuration.
// h3warm (at 1e6 only) repeats 8 places, so the index's memory is in
// cache: the compute cost of the same answers without the cache misses.
func BenchmarkQuery(b *testing.B) {
	for _, n := range benchSizes {
		for _, dist := range []string{"uniform", "clustered"} {
			for _, kind := range []string{"h3", "rtree", "brute", "h3-margin0", "rtree-margin0", "h3warm", "h3warm-margin0"} {
				if strings.HasPrefix(kind, "h3warm") && n < 1_000_000 {
					continue
				}
				b.Run(fmt.Sprintf("%s/fences=%.0e/%s", kind, float64(n), dist), func(b *testing.B) {
					q := benchIndex(b, kind, n, dist)
					fx := benchFixture(b, n, dist)
					rng := rand.New(rand.NewPCG(1, 2))
					np := 4096
					if strings.HasPrefix(kind, "h3warm") {
						np = 8 // the same few places: no cache misses
					}
					ps := make([]dwell.LatLng, np)
					accs := make([]float64, np)
					for i := range ps {
						ps[i], accs[i] = fx.queryPoint(rng)
					}
					buf := make([]Match, 0, 4096)
					matches := 0
					b.ReportAllocs()
					b.ResetTimer()
					cpu := processCPU()
					for i := range b.N {
						buf = q.Query(ps[i%np], accs[i%np], buf)
						matches += len(buf)
					}
					b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
					b.ReportMetric(float64(matches)/float64(b.N), "matches/op")
				})
			}
		}
		dropClustered(n)
	}
}

// repDay is one rep's day of fixes every 30 s: eight visits of 20-60
// minutes at client sites (indoor jitter of 3-25 m, accuracy 5-50 m),
// a lunch stop away from any site, and driving at 5-12 m/s between.
func repDay(rng *rand.Rand, fx *fixture) (ps []dwell.LatLng, accs []float64) {
	at := fx.centers[rng.IntN(len(fx.centers))]
	stay := func(c dwell.LatLng, minutes int) {
		for range minutes * 2 {
			ps = append(ps, offset(c, math.Abs(rng.NormFloat64())*10, rng.Float64()*360))
			accs = append(accs, 5+rng.Float64()*45)
		}
	}
	travel := func(to dwell.LatLng) {
		a, bb := point(at), point(to)
		dist := a.Distance(bb).Radians() * EarthRadiusM
		speed := 5 + rng.Float64()*7
		steps := int(dist / (speed * 30))
		for s := 1; s <= steps; s++ {
			x := s2.Interpolate(float64(s)/float64(steps+1), a, bb)
			lat, lng := latLngDeg(x)
			ps = append(ps, offset(dwell.LatLng{Lat: lat, Lng: lng}, math.Abs(rng.NormFloat64())*5, rng.Float64()*360))
			accs = append(accs, 5+rng.Float64()*15)
		}
		at = to
	}
	for v := range 8 {
		if v == 4 {
			lunch := offset(at, 500+rng.Float64()*1000, rng.Float64()*360)
			travel(lunch)
			stay(lunch, 45)
		}
		next := fx.centers[rng.IntN(len(fx.centers))]
		if rng.IntN(3) > 0 { // most next visits are in the same part of town
			next = fx.nearCenter(rng, at)
		}
		travel(next)
		stay(next, 20+rng.IntN(41))
	}
	return ps, accs
}

// nearCenter returns a fence centre within a few kilometres of p.
func (fx *fixture) nearCenter(rng *rand.Rand, p dwell.LatLng) dwell.LatLng {
	for range 1000 {
		c := fx.centers[rng.IntN(len(fx.centers))]
		if point(c).Distance(point(p)).Radians()*EarthRadiusM < 4000 {
			return c
		}
	}
	return fx.centers[rng.IntN(len(fx.centers))]
}

// BenchmarkRepDay replays 50 rep-days (2 for brute force); ns/fix is the
// cost per fix. h3cursor is one Cursor per rep-day; the -margin0 rows are
// the hot-path configuration beside the same R-tree configuration. The
// warm rows (at 1e5 only) replay the first day 50 times, so every line the
// day reads stays in cache: the compute cost of the same stream without
// cache misses, the floor under the cold rows.
func BenchmarkRepDay(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, kind := range []string{"h3cursor", "h3", "rtree", "brute", "h3cursor-margin0", "rtree-margin0",
			"h3cursorwarm", "h3warm", "rtreewarm", "h3cursorwarm-margin0", "rtreewarm-margin0"} {
			warm := strings.Contains(kind, "warm")
			if warm && n >= 1_000_000 {
				continue
			}
			b.Run(fmt.Sprintf("%s/fences=%.0e", kind, float64(n)), func(b *testing.B) {
				if kind == "brute" && n >= 1_000_000 {
					b.Skip("brute force at 1e6 is BenchmarkQuery/brute's cost per fix")
				}
				q := benchIndex(b, kind, n, "uniform")
				fx := benchFixture(b, n, "uniform")
				rng := rand.New(rand.NewPCG(3, 4))
				type day struct {
					ps   []dwell.LatLng
					accs []float64
				}
				var days []day
				fixes := 0
				nDays := 50
				if kind == "brute" {
					nDays = 2 // a million exact tests per fix
				}
				for i := range nDays {
					if warm && i > 0 {
						days = append(days, days[0])
					} else {
						ps, accs := repDay(rng, fx)
						days = append(days, day{ps, accs})
					}
					fixes += len(days[i].ps)
				}
				buf := make([]Match, 0, 4096)
				b.ReportAllocs()
				b.ResetTimer()
				cpu := processCPU()
				for range b.N {
					for _, d := range days {
						qq := q
						if strings.HasPrefix(kind, "h3cursor") {
							qq = q.(*Index).NewCursor()
						}
						for i, p := range d.ps {
							buf = qq.Query(p, d.accs[i], buf)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*fixes), "ns/fix")
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*fixes), "cpu-ns/fix")
			})
		}
	}
}

// BenchmarkBuild loads 1,000,000 fences with PutAll and reports the time,
// the heap the index keeps and sys-MiB, the memory the Go runtime took from
// the system (the process's peak, input fences included). sys-MiB never
// goes down, so it speaks of the build only when run alone:
// go test ./geofence/ -run XXX -bench Build -benchtime 1x.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{1_000_000} {
		for _, kind := range []string{"", "-margin0"} {
			opts := Options{}
			if kind != "" {
				opts.MarginM = -1
			}
			b.Run(fmt.Sprintf("h3%s/fences=%.0e", kind, float64(n)), func(b *testing.B) {
				// Measure alone: drop the other benchmarks' fixtures.
				fixtures.Lock()
				fixtures.fx, fixtures.index = nil, nil
				fixtures.Unlock()
				fx := makeFixture(n, false)
				for range b.N {
					runtime.GC()
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					start := time.Now()
					ix := New(opts)
					if err := ix.PutAll(fx.fences); err != nil {
						b.Fatal(err)
					}
					secs := time.Since(start).Seconds()
					runtime.ReadMemStats(&after)
					peak := after.Sys
					runtime.GC()
					runtime.ReadMemStats(&after)
					b.ReportMetric(secs, "s/build")
					b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
					b.ReportMetric(float64(peak)/(1<<20), "sys-MiB")
					runtime.KeepAlive(ix)
				}
			})
		}
	}
}

// BenchmarkResync is bringing an index of n fences back in step with its
// source after missed changes (a server's change feed reconnecting): the
// "build" row builds a new index of the changed set, as the server did
// before SetAll, the "setall" rows bring the old index in step with it
// when 0.1% or 1% of the fences were moved, removed or added (a third
// each). ns/op is one resync.
func BenchmarkResync(b *testing.B) {
	const n = 100_000
	fx := benchFixture(b, n, "uniform")
	for _, kind := range []string{"build", "setall-0.1pct", "setall-1pct"} {
		b.Run(fmt.Sprintf("%s/fences=%.0e", kind, float64(n)), func(b *testing.B) {
			share := map[string]float64{"build": 0.01, "setall-0.1pct": 0.001, "setall-1pct": 0.01}[kind]
			rng := rand.New(rand.NewPCG(9, 10))
			changed := slices.Clone(fx.fences)
			k := int(share * n)
			for i := range k {
				j := rng.IntN(len(changed))
				switch i % 3 {
				case 0: // moved: another fence's geometry
					changed[j].Geofence = fx.fences[rng.IntN(n)].Geofence
				case 1: // removed
					changed[j] = changed[len(changed)-1]
					changed = changed[:len(changed)-1]
				case 2: // added
					changed = append(changed, Fence{ID: fmt.Sprint("new", i), Geofence: fx.fences[rng.IntN(n)].Geofence})
				}
			}
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				var ix *Index
				if kind != "build" {
					ix = New(Options{})
					if err := ix.PutAll(fx.fences); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				b.StartTimer()
				if kind == "build" {
					ix = New(Options{})
					if err := ix.PutAll(changed); err != nil {
						b.Fatal(err)
					}
				} else if _, _, err := ix.SetAll(changed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCell is the cell of a position at resolution 10: the pure-Go
// port beside h3-go's cgo LatLngToCell.
func BenchmarkCell(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	const np = 1024
	ps := make([]dwell.LatLng, np)
	for i := range ps {
		ps[i] = cityPoint(rng)
	}
	b.Run("pure-go", func(b *testing.B) {
		vs := make([]s2.Point, np)
		for i, p := range ps {
			vs[i] = point(p)
		}
		b.ReportAllocs()
		var sink uint64
		for i := range b.N {
			sink ^= cellOf(vs[i%np].Vector, 10)
		}
		runtime.KeepAlive(sink)
	})
	b.Run("h3-go", func(b *testing.B) {
		b.ReportAllocs()
		var sink h3.Cell
		for i := range b.N {
			p := ps[i%np]
			sink ^= h3.LatLngToCell(h3.LatLng{Lat: p.Lat, Lng: p.Lng}, 10)
		}
		runtime.KeepAlive(sink)
	})
}

// BenchmarkMemoryLatency is the floor under a cold query: the time of one
// load from a random cache line of a table (ns/load), when each load's
// address depends on the previous one (chains=1, as a lookup chain: shard,
// cell list, fence) and when 8 or 32 chains run side by side (the overlap
// a query gets from loads that do not depend on each other, as the
// touching passes arrange). The table is the size of a million-fence
// index (512 MiB), or smaller (the size of the lists a query at 1e5 fences
// reads from, 64 MiB; of a cache, 8 MiB), or 512 MiB in 2 MiB pages
// (pages=huge, Linux only: memLatencyTable), to tell the memory's latency
// from the TLB's. An operation is 1,024 loads, so that any -benchtime
// gives a steady figure.
func BenchmarkMemoryLatency(b *testing.B) {
	const stride = 8 // uint64s per 64-byte line
	const loadsPerOp = 1024
	for _, tc := range []struct {
		mib    int
		huge   bool
		chains []int
	}{{512, false, []int{1, 8, 32}}, {512, true, []int{1}}, {64, false, []int{1}}, {8, false, []int{1}}} {
		next, ok := memLatencyTable(b, tc.mib<<20, tc.huge)
		if !ok {
			continue
		}
		rng := rand.New(rand.NewPCG(7, 7))
		perm := rng.Perm(len(next) / stride)
		for i, p := range perm {
			next[p*stride] = uint64(perm[(i+1)%len(perm)] * stride)
		}
		pages := "4k"
		if tc.huge {
			pages = "huge"
		}
		for _, chains := range tc.chains {
			b.Run(fmt.Sprintf("MiB=%d/pages=%s/chains=%d", tc.mib, pages, chains), func(b *testing.B) {
				var at [32]uint64
				for c := range chains {
					at[c] = uint64(perm[c*997%len(perm)] * stride)
				}
				b.ResetTimer()
				for range b.N {
					for range loadsPerOp / chains {
						for c := range chains {
							at[c] = next[at[c]]
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*loadsPerOp), "ns/load")
				runtime.KeepAlive(at)
			})
		}
	}
}
