package geofence

import (
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestQueryAllocs checks that queries allocate nothing, on every path: the
// planar one, the s2 one (a polygon larger than the planar limit), the
// exact band on a vertex, circles, and the cursor.
func TestQueryAllocs(t *testing.T) {
	c := dwell.LatLng{Lat: 35.68, Lng: 139.76}
	ix := New(Options{})
	big := ringAround(c, 40, 0, func(int) float64 { return 4000 })
	small := ringAround(c, 6, 10, func(int) float64 { return 60 })
	for id, g := range map[string]dwell.Geofence{
		"circle": {Circle: &dwell.Circle{Center: c, RadiusM: 80}},
		"big":    {Polygon: &dwell.Polygon{Shell: big}},
		"small":  {Polygon: &dwell.Polygon{Shell: small}},
	} {
		if err := ix.Put(id, g); err != nil {
			t.Fatal(err)
		}
	}
	cur := ix.NewCursor()
	buf := make([]Match, 0, 16)
	for _, p := range []dwell.LatLng{c, small[2], big[3], offset(c, 3990, 5)} {
		for _, acc := range []float64{10, 300} {
			if n := testing.AllocsPerRun(50, func() { buf = ix.Query(p, acc, buf) }); n != 0 {
				t.Errorf("Query(%v, %v) allocates %v times", p, acc, n)
			}
			if n := testing.AllocsPerRun(50, func() { buf = cur.Query(p, acc, buf) }); n != 0 {
				t.Errorf("Cursor.Query(%v, %v) allocates %v times", p, acc, n)
			}
		}
	}
}
