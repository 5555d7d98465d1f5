package dwell

import (
	"math"
	"strings"
	"testing"
)

// TestListViolationsBounded: a list of any length costs at most
// maxListViolations violations and one that counts the others: a ring of
// repeated or invalid vertices, a polygon of bad holes, a rep of bad or
// overlapping working hours.
func TestListViolationsBounded(t *testing.T) {
	ring := func(p LatLng) []LatLng {
		r := make([]LatLng, MaxPolygonVertices)
		for i := range r {
			r[i] = p
		}
		return r
	}
	wantBounded := func(what string, vs []Violation, list, more string) {
		t.Helper()
		if len(vs) == 0 || len(vs) > 2*maxListViolations+1 {
			t.Fatalf("%s: %d violations", what, len(vs))
		}
		last := vs[len(vs)-1]
		if last.Field != list || !strings.HasPrefix(last.Description, more) {
			t.Fatalf("%s: last violation %+v, want on %q beginning %q", what, last, list, more)
		}
	}
	vs := ValidateGeofence("g", Geofence{Polygon: &Polygon{Shell: ring(LatLng{})}})
	wantBounded("1,000 repeated vertices", vs, "g.polygon.shell.vertices", "989 more vertices") // a closing repeat dropped
	vs = ValidateGeofence("g", Geofence{Polygon: &Polygon{Shell: ring(LatLng{Lat: math.NaN(), Lng: 500})}})
	wantBounded("1,000 invalid vertices", vs, "g.polygon.shell.vertices", "990 more vertices")

	sq := []LatLng{{0, 0}, {0, 1}, {1, 1}, {1, 0}}
	p := &Polygon{Shell: sq}
	for range MaxPolygonHoles {
		p.Holes = append(p.Holes, ring(LatLng{}))
	}
	vs = ValidateGeofence("g", Geofence{Polygon: p})
	if len(vs) > maxListViolations*(maxListViolations+1)+1 {
		t.Fatalf("100 holes of 1,000 repeated vertices: %d violations", len(vs))
	}
	if last := vs[len(vs)-1]; last.Field != "g.polygon.holes" || !strings.HasPrefix(last.Description, "90 more holes") {
		t.Fatalf("100 bad holes: last violation %+v", last)
	}

	r := Rep{DisplayName: "x", TimeZone: "Asia/Jakarta", WorkingHours: make([]WorkingHours, 100_000)}
	vs = ValidateRep("", r, false)
	wantBounded("100,000 empty working hours", vs, "working_hours", "99990 more working hours")
	for i := range r.WorkingHours {
		r.WorkingHours[i] = WorkingHours{StartMinute: 60, EndMinute: 120}
	}
	vs = ValidateRep("", r, false)
	wantBounded("100,000 equal working hours", vs, "working_hours", "99989 more overlapping")
}
