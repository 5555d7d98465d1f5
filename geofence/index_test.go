package geofence

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// oracleFence is a fence as the brute-force oracle sees it.
type oracleFence struct {
	id     string
	g      dwell.Geofence
	shape  *Shape
	extent float64
}

// bruteQuery is the specification of Index.Query: every fence, exact s2
// distance, no index.
func bruteQuery(fs []oracleFence, p dwell.LatLng, acc, margin, maxAcc float64) map[string]float64 {
	if !(acc > 0) {
		acc = 0
	}
	acc = min(acc, maxAcc)
	reach := max(acc, margin)
	out := map[string]float64{}
	for _, f := range fs {
		if d := f.shape.SignedDistanceM(p); d <= reach {
			out[f.id] = d
		}
	}
	return out
}

// scenario is a region of the world with fences crowded into it.
type scenario struct {
	name   string
	center func(rng *rand.Rand) dwell.LatLng
	size   func(rng *rand.Rand) float64
}

var scenarios = []scenario{
	{"city", func(rng *rand.Rand) dwell.LatLng {
		return offset(dwell.LatLng{Lat: -6.2, Lng: 106.8}, rng.Float64()*1500, rng.Float64()*360)
	}, func(rng *rand.Rand) float64 { return 10 + rng.Float64()*200 }},
	{"antimeridian", func(rng *rand.Rand) dwell.LatLng {
		return offset(dwell.LatLng{Lat: -16.5, Lng: 180}, rng.Float64()*1500, rng.Float64()*360)
	}, func(rng *rand.Rand) float64 { return 10 + rng.Float64()*300 }},
	{"north pole", func(rng *rand.Rand) dwell.LatLng {
		return dwell.LatLng{Lat: 85 + rng.Float64()*4.9, Lng: rng.Float64()*360 - 180}
	}, func(rng *rand.Rand) float64 { return 10 + rng.Float64()*300 }},
	{"near the north pole", func(rng *rand.Rand) dwell.LatLng {
		return offset(dwell.LatLng{Lat: 89.98, Lng: 30}, rng.Float64()*1500, rng.Float64()*360)
	}, func(rng *rand.Rand) float64 { return 10 + rng.Float64()*300 }},
	{"south pole", func(rng *rand.Rand) dwell.LatLng {
		return offset(dwell.LatLng{Lat: -89.9, Lng: -150}, rng.Float64()*1500, rng.Float64()*360)
	}, func(rng *rand.Rand) float64 { return 10 + rng.Float64()*300 }},
	{"tiny", func(rng *rand.Rand) dwell.LatLng {
		return offset(dwell.LatLng{Lat: 48.85, Lng: 2.35}, rng.Float64()*300, rng.Float64()*360)
	}, func(rng *rand.Rand) float64 { return 10 + rng.Float64()*5 }},
	{"large", func(rng *rand.Rand) dwell.LatLng {
		return offset(dwell.LatLng{Lat: 40.7, Lng: -74}, rng.Float64()*8000, rng.Float64()*360)
	}, func(rng *rand.Rand) float64 { return 500 + rng.Float64()*4500 }},
	{"pentagon", func(rng *rand.Rand) dwell.LatLng {
		// Near the H3 res-0 pentagon at 58.3N, 10.5E... (base cell 4
		// lies in the Arctic; this is an ordinary land site near one of
		// the icosahedron vertices' edges).
		return offset(dwell.LatLng{Lat: 64.7, Lng: 10.5}, rng.Float64()*1500, rng.Float64()*360)
	}, func(rng *rand.Rand) float64 { return 10 + rng.Float64()*300 }},
}

// buildScenario returns the fences of one scenario and an index of them
// built with Put (odd seeds) or PutAll (even seeds).
func buildScenario(t testing.TB, rng *rand.Rand, sc scenario, n int, opts Options, bulk bool) ([]oracleFence, *Index) {
	t.Helper()
	ix := New(opts)
	var fs []oracleFence
	var all []Fence
	for i := range n {
		c := sc.center(rng)
		size := sc.size(rng)
		g := randomFence(rng, c, size)
		id := fmt.Sprintf("%s-%03d", sc.name, i)
		shape := NewShape(g)
		fs = append(fs, oracleFence{id: id, g: g, shape: shape, extent: size})
		all = append(all, Fence{ID: id, Geofence: g})
		if !bulk {
			if err := ix.Put(id, g); err != nil {
				t.Fatalf("Put(%s) = %v", id, err)
			}
		}
	}
	if bulk {
		if err := ix.PutAll(all); err != nil {
			t.Fatalf("PutAll = %v", err)
		}
	}
	return fs, ix
}

// checkAgainst compares a query's result with the oracle's.
func checkAgainst(t testing.TB, what string, got []Match, want map[string]float64, p dwell.LatLng, acc float64, ix *Index) int {
	t.Helper()
	const tol = 0.01 // metres
	a := acc
	if !(a > 0) {
		a = 0
	}
	a = min(a, ix.MaxAccuracyM())
	reach := max(a, ix.MarginM())
	bad := 0
	seen := map[string]bool{}
	for i, m := range got {
		seen[m.ID] = true
		if i > 0 && compareMatches(got[i-1], m) > 0 {
			t.Errorf("%s: %v acc %v: matches out of order: %v before %v", what, p, acc, got[i-1], m)
			bad++
		}
		wd, ok := want[m.ID]
		if !ok {
			// Only a fence at the reach threshold may differ.
			if d := ix.shapeOf(m.ID).SignedDistanceM(p); math.Abs(d-reach) > tol {
				t.Errorf("%s: %v acc %v: extra match %v (oracle distance %.6f, reach %v)", what, p, acc, m, d, reach)
				bad++
			}
			continue
		}
		if math.Abs(m.DistanceM-wd) > tol {
			t.Errorf("%s: %v acc %v: %s distance = %.6f, want %.6f", what, p, acc, m.ID, m.DistanceM, wd)
			bad++
		}
		if (m.Relation == RelationInside) != (wd <= 0) {
			t.Errorf("%s: %v acc %v: %s relation = %v, oracle distance %.9g", what, p, acc, m.ID, m.Relation, wd)
			bad++
		}
		wantRel := RelationNear
		switch {
		case wd <= 0:
			wantRel = RelationInside
		case wd <= a:
			wantRel = RelationMaybeInside
		}
		if m.Relation != wantRel && math.Abs(wd-a) > tol {
			t.Errorf("%s: %v acc %v: %s relation = %v, want %v (distance %.6f)", what, p, acc, m.ID, m.Relation, wantRel, wd)
			bad++
		}
	}
	for id, wd := range want {
		if !seen[id] && math.Abs(wd-reach) > tol {
			t.Errorf("%s: %v acc %v: missed %s at %.6f m (reach %v)", what, p, acc, id, wd, reach)
			bad++
		}
	}
	return bad
}

// shapeOf returns the oracle shape of a fence from the index's own copy;
// for tests only.
func (ix *Index) shapeOf(id string) *Shape {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.shapes[id]
}

// TestQueryMatchesBruteForce is the property test: over random circles and
// polygons (concave, with holes, many-vertex) in a city, across the
// antimeridian, near both poles, tiny ones and 5 km ones, 100,000+ random
// fixes (inside, outside, on vertices and edges, far away, accuracies from
// 0 to beyond the clamp, NaN) get the same fences as the brute-force s2
// oracle, with distances within 1 cm, from Index.Query and from a Cursor.
func TestQueryMatchesBruteForce(t *testing.T) {
	const pointsPerScenario = 13000
	total := 0
	for si, sc := range scenarios {
		for _, opts := range []Options{{}, {MarginM: -1, MaxAccuracyM: 1000}} {
			t.Run(fmt.Sprintf("%s/margin=%v", sc.name, opts.MarginM), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(si), uint64(opts.MaxAccuracyM)))
				fs, ix := buildScenario(t, rng, sc, 40, opts, si%2 == 0)
				ix.keepShapes(fs)
				cur := ix.NewCursor()
				buf := make([]Match, 0, 64)
				cbuf := make([]Match, 0, 64)
				bad := 0
				n := pointsPerScenario / 2
				var prev dwell.LatLng
				for i := range n {
					f := fs[rng.IntN(len(fs))]
					p := pointNear(rng, f.g, f.extent)
					if i%3 == 1 { // a stationary stream: jitter around the previous fix
						p = offset(prev, rng.Float64()*15, rng.Float64()*360)
					}
					prev = p
					acc := randomAccuracy(rng)
					want := bruteQuery(fs, p, acc, ix.MarginM(), ix.MaxAccuracyM())
					buf = ix.Query(p, acc, buf)
					bad += checkAgainst(t, "Query", buf, want, p, acc, ix)
					cbuf = cur.Query(p, acc, cbuf)
					if !slices.Equal(buf, cbuf) {
						t.Errorf("Cursor.Query(%v, %v) = %v, Index.Query = %v", p, acc, cbuf, buf)
						bad++
					}
					if bad > 10 {
						t.Fatal("too many errors")
					}
				}
				total += n
			})
		}
	}
	if total < 100000 {
		t.Errorf("checked %d points, want at least 100000", total)
	}
	t.Logf("checked %d points", total)
}

// keepShapes gives the index the oracle's shapes for shapeOf.
func (ix *Index) keepShapes(fs []oracleFence) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.shapes = map[string]*Shape{}
	for _, f := range fs {
		ix.shapes[f.id] = f.shape
	}
}

// TestCursorStreamsMatchOracle is the test of the cursor's fast path:
// long stationary streams (jitter of tens of metres around a place that
// drifts now and then) among crowded fences, where the cursor skips the
// candidates its anchor distances rule out. Every answer must equal
// Index.Query's and the brute-force oracle's, and the skipping must have
// happened.
func TestCursorStreamsMatchOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	sc := scenarios[0]
	for _, opts := range []Options{{}, {MarginM: -1}, {MarginM: 30, MaxAccuracyM: 200}} {
		fs, ix := buildScenario(t, rng, sc, 150, opts, true)
		ix.keepShapes(fs)
		buf := make([]Match, 0, 64)
		cbuf := make([]Match, 0, 64)
		bad, fixes := 0, 0
		var hits, nearHits, skipped int
		for range 40 {
			cur := ix.NewCursor()
			f := fs[rng.IntN(len(fs))]
			at := pointNear(rng, f.g, f.extent)
			for range 300 {
				if rng.IntN(20) == 0 {
					at = offset(at, 20+rng.Float64()*60, rng.Float64()*360)
				}
				p := offset(at, math.Abs(rng.NormFloat64())*12, rng.Float64()*360)
				if rng.IntN(50) == 0 {
					p = at // the anchor itself
				}
				acc := randomAccuracy(rng)
				want := bruteQuery(fs, p, acc, ix.MarginM(), ix.MaxAccuracyM())
				buf = ix.Query(p, acc, buf)
				cbuf = cur.Query(p, acc, cbuf)
				bad += checkAgainst(t, "Cursor.Query", cbuf, want, p, acc, ix)
				if !slices.Equal(buf, cbuf) {
					t.Errorf("Cursor.Query(%v, %v) = %v, Index.Query = %v", p, acc, cbuf, buf)
					bad++
				}
				if bad > 10 {
					t.Fatal("too many errors")
				}
				fixes++
			}
			hits += cur.hits
			nearHits += cur.nearHits
			skipped += cur.skipped
		}
		t.Logf("margin %v: %d fixes, %d served from a slot (%d by the chord to its anchor), %d candidates skipped", ix.MarginM(), fixes, hits, nearHits, skipped)
		if hits < fixes/2 || skipped == 0 {
			t.Errorf("margin %v: the fast path was not exercised: %d of %d fixes from a slot, %d candidates skipped", ix.MarginM(), hits, fixes, skipped)
		}
		// Jitter of tens of metres stays within the slots' cells' query
		// regions: most hits skip faceIJKOf, at every margin.
		if nearHits < hits/3 {
			t.Errorf("margin %v: %d of %d slot hits served by the chord, want a third at least", ix.MarginM(), nearHits, hits)
		}
	}
}

// TestSortMatches checks sortMatches against slices.SortFunc on answers of
// every size up to a few hundred: random distances, many ties (broken by
// id), already sorted and reversed runs.
func TestSortMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for n := range 400 {
		for kind := range 4 {
			ms := make([]Match, n)
			for i := range ms {
				ms[i] = Match{ID: fmt.Sprintf("f%04d", rng.IntN(1000)), DistanceM: rng.NormFloat64() * 50}
				switch kind {
				case 1: // ties
					ms[i].DistanceM = float64(rng.IntN(4))
				case 2: // sorted
					ms[i].DistanceM = float64(i)
				case 3: // reversed
					ms[i].DistanceM = float64(-i)
				}
			}
			want := slices.Clone(ms)
			slices.SortStableFunc(want, compareMatches)
			sortMatches(ms)
			if !slices.Equal(ms, want) {
				t.Fatalf("n=%d kind=%d: sortMatches = %v, want %v", n, kind, ms, want)
			}
		}
	}
}
