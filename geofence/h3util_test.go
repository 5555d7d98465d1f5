package geofence

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	h3 "github.com/uber/h3-go/v4"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestCellOfMatchesH3Go checks the pure-Go latLngToCell against h3-go's on
// random positions over the globe, around the twelve pentagons, across the
// antimeridian and at the poles, at every resolution: no disagreement. On
// cell vertices and edges, where rounding decides, the pure-Go cell must be
// h3-go's or one of its neighbours, and faceIJKOf must never put two
// positions of different cells under one key.
func TestCellOfMatchesH3Go(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	pents := h3.Pentagons(0)
	n := 400000
	if testing.Short() {
		n = 40000
	}
	var random, boundary, boundaryOff int
	for i := range n {
		var p dwell.LatLng
		switch i % 5 {
		case 0, 1:
			p = dwell.LatLng{Lat: math.Asin(2*rng.Float64()-1) * 180 / math.Pi, Lng: rng.Float64()*360 - 180}
		case 2: // pentagons, from metres to hundreds of kilometres away
			c := pents[rng.IntN(len(pents))].LatLng()
			p = offset(dwell.LatLng{Lat: c.Lat, Lng: c.Lng}, math.Exp(rng.Float64()*13), rng.Float64()*360)
		case 3: // the antimeridian
			p = dwell.LatLng{Lat: rng.Float64()*160 - 80, Lng: 180 - math.Exp(-rng.Float64()*30)}
			if rng.IntN(2) == 0 {
				p.Lng = -p.Lng
			}
		case 4: // the poles
			p = dwell.LatLng{Lat: 90 - math.Exp(-rng.Float64()*25), Lng: rng.Float64()*360 - 180}
			if rng.IntN(2) == 0 {
				p.Lat = -p.Lat
			}
		}
		r := rng.IntN(maxH3Res + 1)
		want := uint64(h3.LatLngToCell(h3.LatLng{Lat: p.Lat, Lng: p.Lng}, r))
		if got := cellOf(point(p).Vector, r); got != want {
			t.Fatalf("cellOf(%v, %d) = %x, h3-go %x", p, r, got, want)
		}
		random++
		if got := cellParent(want, r/2); got != uint64(h3.Cell(want).Parent(r/2)) {
			t.Fatalf("cellParent(%x, %d) = %x, want %x", want, r/2, got, uint64(h3.Cell(want).Parent(r/2)))
		}
		// A position a few metres away with the same faceIJK is in the
		// same cell.
		q := offset(p, rng.Float64()*20, rng.Float64()*360)
		if faceIJKOf(point(p).Vector, r) == faceIJKOf(point(q).Vector, r) {
			if cq := uint64(h3.LatLngToCell(h3.LatLng{Lat: q.Lat, Lng: q.Lng}, r)); cq != want {
				t.Errorf("faceIJK equal at res %d but cells %x != %x (%v, %v)", r, want, cq, p, q)
			}
		}
		// The cell's vertices and edge midpoints, where rounding decides.
		if i%8 == 0 {
			bnd := h3.Cell(want).Boundary()
			for v := range bnd {
				a, b := bnd[v], bnd[(v+1)%len(bnd)]
				for _, x := range []dwell.LatLng{{Lat: a.Lat, Lng: a.Lng}, {Lat: (a.Lat + b.Lat) / 2, Lng: (a.Lng + b.Lng) / 2}} {
					if math.Abs(a.Lng-b.Lng) > 180 {
						continue
					}
					hw := uint64(h3.LatLngToCell(h3.LatLng{Lat: x.Lat, Lng: x.Lng}, r))
					got := cellOf(point(x).Vector, r)
					boundary++
					if got == hw {
						continue
					}
					boundaryOff++
					if !slices.Contains(h3.GridDisk(h3.Cell(hw), 1), h3.Cell(got)) {
						t.Errorf("cellOf(%v, %d) = %x, h3-go %x, not neighbours", x, r, got, hw)
					}
				}
			}
		}
	}
	t.Logf("%d random positions agree; on %d boundary positions %d took the neighbour", random, boundary, boundaryOff)
}

// TestCellOfInvalid checks that a non-finite position has no cell.
func TestCellOfInvalid(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		p := point(dwell.LatLng{Lat: v, Lng: 10})
		for r := range maxH3Res + 1 {
			_ = cellOf(p.Vector, r) // must not panic
		}
	}
}
