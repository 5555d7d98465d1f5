package geofence

import (
	"math"
	"testing"

	"github.com/golang/geo/s2"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestCursorNearHitInteriorCell: a slot that serves a fix by its distance
// from the slot's anchor may serve it from beyond the query region of the
// anchor's cell, where the cell's promise "every position that looks me up
// is inside the fence" does not hold. A round polygon is placed so that a
// res-9 cell is interior by a few metres; a fix in that cell near its far
// corner fills a slot, and the next fix, moved outward past the rim but
// within the slot's reach slack, must be outside, as Index.Query says.
func TestCursorNearHitInteriorCell(t *testing.T) {
	const radiusM = 320.0
	c0 := cellOf(point(dwell.LatLng{Lat: 48.85, Lng: 2.35}).Vector, 9)
	cg := newGeomCache().get(c0)
	lat, lng := latLngDeg(cg.center)
	cellCentre := dwell.LatLng{Lat: lat, Lng: lng}
	buf, cbuf := make([]Match, 0, 8), make([]Match, 0, 8)
	checked := 0
	for b := 0.0; b < 360; b += 5 {
		// The polygon's centre, on the side of b, so that the cell's centre
		// lies inside the polygon just deeper than rho.
		pc := offset(cellCentre, radiusM-cg.rhoM-1, b)
		g := dwell.Geofence{Polygon: &dwell.Polygon{Shell: ringAround(pc, 128, 0, func(int) float64 { return radiusM })}}
		ix := New(Options{MarginM: -1})
		if err := ix.Put("round", g); err != nil {
			t.Fatal(err)
		}
		sh := NewShape(g)
		if d := sh.SignedDistanceM(cellCentre); !(d < -(cg.rhoM + 0.01)) {
			t.Fatalf("bearing %v: the cell's centre is %.1f m from the rim, want deeper than %.1f", b, d, cg.rhoM)
		}
		// Anchors in the cell on the far side from the polygon's centre.
		for step := 150.0; step < 260; step++ {
			anchor := offset(cellCentre, step, b+180)
			if cellOf(point(anchor).Vector, 9) != c0 {
				continue
			}
			away := bearingDeg(pc, anchor)
			for out := 1.0; out <= 48; out += 1 {
				q := offset(anchor, out, away)
				if sh.SignedDistanceM(q) <= 0.05 {
					continue // still inside (or on the rim): not the case
				}
				cur := ix.NewCursor()
				cbuf = cur.Query(anchor, 1, cbuf)
				cbuf = cur.Query(q, 1, cbuf)
				buf = ix.Query(q, 1, buf)
				checked++
				if len(buf) != len(cbuf) || len(buf) > 0 && (buf[0].Relation != cbuf[0].Relation || math.Abs(buf[0].DistanceM-cbuf[0].DistanceM) > 0.01) {
					t.Fatalf("bearing %v: anchor %v, fix %v moved %v m: Cursor.Query = %v, Index.Query = %v", b, anchor, q, out, cbuf, buf)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no fix beyond the rim near an anchor: the scenario does not test the case")
	}
	t.Logf("%d fixes checked", checked)
}

// bearingDeg returns the initial bearing in degrees from a to b.
func bearingDeg(a, b dwell.LatLng) float64 {
	la, lb := s2.LatLngFromDegrees(a.Lat, a.Lng), s2.LatLngFromDegrees(b.Lat, b.Lng)
	dl := (lb.Lng - la.Lng).Radians()
	y := math.Sin(dl) * math.Cos(lb.Lat.Radians())
	x := math.Cos(la.Lat.Radians())*math.Sin(lb.Lat.Radians()) - math.Sin(la.Lat.Radians())*math.Cos(lb.Lat.Radians())*math.Cos(dl)
	return math.Atan2(y, x) * 180 / math.Pi
}
