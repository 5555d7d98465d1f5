package geofence

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	h3 "github.com/uber/h3-go/v4"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestCursorFollowsUpdates interleaves Put, replace and Delete with a
// stream of fixes: after every change the cursor answers exactly as
// Index.Query, and both agree with the oracle.
func TestCursorFollowsUpdates(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	sc := scenarios[0]
	fs, ix := buildScenario(t, rng, sc, 30, Options{}, true)
	ix.keepShapes(fs)
	cur := ix.NewCursor()
	buf, cbuf := make([]Match, 0, 64), make([]Match, 0, 64)
	p := sc.center(rng)
	for i := range 3000 {
		switch i % 50 {
		case 10: // replace a fence with a new shape elsewhere nearby
			k := rng.IntN(len(fs))
			g := randomFence(rng, offset(p, rng.Float64()*200, rng.Float64()*360), sc.size(rng))
			fs[k].g, fs[k].shape = g, NewShape(g)
			if err := ix.Put(fs[k].id, g); err != nil {
				t.Fatal(err)
			}
		case 20: // delete one
			k := rng.IntN(len(fs))
			if !ix.Delete(fs[k].id) {
				t.Fatalf("Delete(%s) = false", fs[k].id)
			}
			fs = slices.Delete(fs, k, k+1)
		case 30: // add one right here
			g := randomFence(rng, offset(p, rng.Float64()*100, rng.Float64()*360), sc.size(rng))
			id := fmt.Sprintf("new-%d", i)
			fs = append(fs, oracleFence{id: id, g: g, shape: NewShape(g), extent: 300})
			if err := ix.Put(id, g); err != nil {
				t.Fatal(err)
			}
		}
		ix.keepShapes(fs)
		if ix.Len() != len(fs) {
			t.Fatalf("Len = %d, want %d", ix.Len(), len(fs))
		}
		if rng.IntN(40) == 0 { // move on
			p = sc.center(rng)
		}
		q := offset(p, rng.Float64()*20, rng.Float64()*360)
		acc := randomAccuracy(rng)
		buf = ix.Query(q, acc, buf)
		cbuf = cur.Query(q, acc, cbuf)
		if !slices.Equal(buf, cbuf) {
			t.Fatalf("fix %d: Cursor.Query = %v, Index.Query = %v", i, cbuf, buf)
		}
		if checkAgainst(t, "Query", buf, bruteQuery(fs, q, acc, ix.MarginM(), ix.MaxAccuracyM()), q, acc, ix) > 0 {
			t.FailNow()
		}
	}
	// Deleting everything leaves every shard empty.
	for _, f := range fs {
		ix.Delete(f.id)
	}
	for ti := range ix.tiers {
		for s := range ix.tiers[ti].shards {
			if ix.tiers[ti].shards[s].Load() != nil {
				t.Fatalf("tier %d shard %d not empty after deleting every fence", ti, s)
			}
		}
	}
}

// TestConcurrentReadersAndWriters runs queries and cursors while writers
// put, replace and delete (run with -race). Fences that never change must
// always be found; every answer is sorted and its distances agree with the
// oracle of the fence's one shape.
func TestConcurrentReadersAndWriters(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	center := dwell.LatLng{Lat: 52.52, Lng: 13.405}
	ix := New(Options{})
	stable := dwell.Geofence{Circle: &dwell.Circle{Center: center, RadiusM: 80}}
	if err := ix.Put("stable", stable); err != nil {
		t.Fatal(err)
	}
	var gens []dwell.Geofence
	for range 20 {
		gens = append(gens, randomFence(rng, offset(center, rng.Float64()*300, rng.Float64()*360), 10+rng.Float64()*100))
	}
	// A bulk load large enough to rebuild its shards on all cores.
	var bulk []Fence
	for i := range 4000 {
		bulk = append(bulk, Fence{ID: fmt.Sprintf("bulk-%d", i), Geofence: randomFence(rng, offset(center, rng.Float64()*2000, rng.Float64()*360), 10+rng.Float64()*100)})
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			if w == 0 {
				if err := ix.PutAll(bulk); err != nil {
					t.Error(err)
					return
				}
			}
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("w%d-%d", w, r.IntN(10))
				if r.IntN(3) == 0 {
					ix.Delete(id)
				} else if err := ix.Put(id, gens[r.IntN(len(gens))]); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					batch := []Fence{{ID: id, Geofence: gens[r.IntN(len(gens))]}, {ID: id + "b", Geofence: gens[r.IntN(len(gens))]}}
					if err := ix.PutAll(batch); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	stableShape := NewShape(stable)
	var readers sync.WaitGroup
	for rd := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			r := rand.New(rand.NewPCG(uint64(rd), 2))
			cur := ix.NewCursor()
			buf := make([]Match, 0, 64)
			for i := range 3000 {
				p := offset(center, r.Float64()*60, r.Float64()*360)
				if rd == 0 {
					buf = ix.Query(p, 10, buf)
				} else {
					buf = cur.Query(p, 10, buf)
				}
				found := false
				for k, m := range buf {
					if k > 0 && compareMatches(buf[k-1], m) > 0 {
						t.Errorf("unsorted answer %v", buf)
						return
					}
					if m.ID == "stable" {
						found = true
						if d := stableShape.SignedDistanceM(p); math.Abs(d-m.DistanceM) > 0.01 {
							t.Errorf("stable at %.4f, want %.4f", m.DistanceM, d)
							return
						}
					}
				}
				if !found {
					t.Errorf("query %d at %v missed the stable fence: %v", i, p, buf)
					return
				}
			}
		}()
	}
	readers.Wait()
	stop.Store(true)
	wg.Wait()
}

// TestQueryRegionBound checks the premise of the no-miss argument: a
// position whose finest cell descends from c lies within rho(c) of c's
// centre, at every resolution the index uses, including around pentagons.
func TestQueryRegionBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	gc := newGeomCache()
	pents := h3.Pentagons(3)
	worst := 0.0
	n := 30000
	if testing.Short() {
		n = 3000
	}
	for i := range n {
		var p dwell.LatLng
		if i%3 == 0 {
			c := pents[rng.IntN(len(pents))].LatLng()
			p = offset(dwell.LatLng{Lat: c.Lat, Lng: c.Lng}, rng.Float64()*300000, rng.Float64()*360)
		} else {
			p = dwell.LatLng{Lat: math.Asin(2*rng.Float64()-1) * 180 / math.Pi, Lng: rng.Float64()*360 - 180}
		}
		x := point(p)
		fine := cellOf(x.Vector, maxRes)
		for r := 0; r <= maxRes; r++ {
			g := gc.get(cellParent(fine, r))
			d := x.Distance(g.center).Radians() * EarthRadiusM
			worst = max(worst, d/g.rhoM*kappa)
			if d > g.rhoM {
				t.Fatalf("%v at res %d is %.1f m from its cell's centre, rho %.1f m", p, r, d, g.rhoM)
			}
		}

	}
	t.Logf("largest distance / circumradius: %.4f (kappa %v)", worst, kappa)
}
