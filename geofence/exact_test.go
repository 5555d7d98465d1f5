package geofence

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

func TestSignedDistanceCircle(t *testing.T) {
	c := dwell.Geofence{Circle: &dwell.Circle{Center: dwell.LatLng{Lat: -6.2, Lng: 106.8}, RadiusM: 100}}
	s := NewShape(c)
	// One degree of latitude is EarthRadiusM*pi/180 metres.
	mPerDeg := EarthRadiusM * math.Pi / 180
	tests := []struct {
		p    dwell.LatLng
		want float64
	}{
		{dwell.LatLng{Lat: -6.2, Lng: 106.8}, -100},
		{dwell.LatLng{Lat: -6.2 + 50/mPerDeg, Lng: 106.8}, -50},
		{dwell.LatLng{Lat: -6.2 + 100/mPerDeg, Lng: 106.8}, 0},
		{dwell.LatLng{Lat: -6.2 - 350/mPerDeg, Lng: 106.8}, 250},
	}
	for _, tt := range tests {
		if got := s.SignedDistanceM(tt.p); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("SignedDistanceM(%v) = %.4f, want %.4f", tt.p, got, tt.want)
		}
	}
}

func TestSignedDistancePolygon(t *testing.T) {
	mPerDeg := EarthRadiusM * math.Pi / 180
	d := 100 / mPerDeg // 100 m in degrees of latitude (and of longitude at the equator)
	// A 200 m square around (0, 179.999...) crossing the antimeridian, with a
	// 40 m hole in the middle. Vertices are given clockwise on purpose.
	sq := func(h float64, lng0 float64) []dwell.LatLng {
		w := func(l float64) float64 {
			if l > 180 {
				return l - 360
			}
			return l
		}
		return []dwell.LatLng{{Lat: -h, Lng: w(lng0 - h)}, {Lat: h, Lng: w(lng0 - h)}, {Lat: h, Lng: w(lng0 + h)}, {Lat: -h, Lng: w(lng0 + h)}}
	}
	g := dwell.Geofence{Polygon: &dwell.Polygon{Shell: sq(d, 180), Holes: [][]dwell.LatLng{sq(0.2*d, 180)}}}
	s := NewShape(g)
	tests := []struct {
		name string
		p    dwell.LatLng
		want float64
	}{
		{"in the hole", dwell.LatLng{Lat: 0, Lng: 180}, 20},
		{"inside, between hole and shell", dwell.LatLng{Lat: 0.6 * d, Lng: 180}, -40},
		{"inside, west of the antimeridian", dwell.LatLng{Lat: 0, Lng: 180 - 0.5*d}, -30},
		{"inside, east of the antimeridian", dwell.LatLng{Lat: 0, Lng: -180 + 0.5*d}, -30},
		{"outside", dwell.LatLng{Lat: 1.5 * d, Lng: 180}, 50},
		{"on a vertex", dwell.LatLng{Lat: d, Lng: 180 - d}, 0},
	}
	for _, tt := range tests {
		if got := s.SignedDistanceM(tt.p); math.Abs(got-tt.want) > 0.05 {
			t.Errorf("%s: SignedDistanceM(%v) = %.4f, want %.4f", tt.name, tt.p, got, tt.want)
		}
	}
}

// TestFenceCapBoundsOracle checks the cell lists' prefilter against the
// exact oracle: over random fences of every scenario (antimeridian, poles,
// tiny, 5 km) and positions around them, a cap found beyond reach means
// the oracle distance is beyond reach, and the cap's lower bound never
// exceeds the oracle distance. It also checks that the filter rejects.
func TestFenceCapBoundsOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	rejected, n := 0, 0
	for _, sc := range scenarios {
		for range 300 {
			c := sc.center(rng)
			size := sc.size(rng)
			g := randomFence(rng, c, size)
			f, shape := newFence("f", g), NewShape(g)
			for range 60 {
				p := pointNear(rng, g, size)
				q := point(p)
				want := shape.SignedDistanceM(p)
				if lb := f.bound.lowerBoundM(q); lb > want {
					t.Fatalf("%s: %v: cap lower bound %.6f above oracle %.6f", sc.name, p, lb, want)
				}
				for _, reach := range []float64{0, 5, 100, 500} {
					n++
					if f.bound.beyond(q.X, q.Y, q.Z, reach) {
						rejected++
						if want <= reach {
							t.Fatalf("%s: %v: cap beyond reach %v but oracle distance %.6f", sc.name, p, reach, want)
						}
					}
				}
			}
		}
	}
	t.Logf("%d of %d rejected", rejected, n)
	if rejected < n/10 {
		t.Errorf("the filter rejected only %d of %d", rejected, n)
	}
}
