package dwell

import (
	"math"
	"testing"
)

// TestGeofenceCenter checks the centre DESIGN's tie rule measures from: a
// circle's own centre, and the mean of a polygon shell's vertices, whether
// the ring is closed (first vertex repeated last, as GeoJSON writes it) or
// crosses the antimeridian.
func TestGeofenceCenter(t *testing.T) {
	square := func(lat, lng, half float64) []LatLng {
		return []LatLng{{lat - half, lng - half}, {lat - half, lng + half}, {lat + half, lng + half}, {lat + half, lng - half}}
	}
	poly := func(shell []LatLng) Geofence { return Geofence{Polygon: &Polygon{Shell: shell}} }
	cases := []struct {
		name string
		g    Geofence
		want LatLng
	}{
		{"circle", Geofence{Circle: &Circle{Center: LatLng{-6.2, 106.8}, RadiusM: 150}}, LatLng{-6.2, 106.8}},
		{"open square", poly(square(-6.2, 106.8, 0.001)), LatLng{-6.2, 106.8}},
		{"closed square", poly(append(square(-6.2, 106.8, 0.001), square(-6.2, 106.8, 0.001)[0])), LatLng{-6.2, 106.8}},
		// A vertex in the middle of the square's south edge pulls the
		// vertex mean south by a fifth of the half side.
		{"square with an edge vertex", poly([]LatLng{{-1, -1}, {-1, 0}, {-1, 1}, {1, 1}, {1, -1}}), LatLng{-0.2, 0}},
		{"triangle", poly([]LatLng{{0, 0}, {0, 0.003}, {0.003, 0}}), LatLng{0.001, 0.001}},
		{"across the antimeridian", poly([]LatLng{{-16.501, 179.999}, {-16.501, -179.999}, {-16.499, -179.999}, {-16.499, 179.999}}), LatLng{-16.5, 180}},
		{"across the antimeridian, closed, starting west", poly([]LatLng{{-16.501, -179.998}, {-16.499, -179.998}, {-16.499, 179.998}, {-16.501, 179.998}, {-16.501, -179.998}}), LatLng{-16.5, 180}},
		{"zero area", poly([]LatLng{{0, 0}, {0, 1}, {0, 2}}), LatLng{0, 1}},
		{"none", Geofence{}, LatLng{}},
	}
	for _, c := range cases {
		got := c.g.Center()
		dlng := math.Abs(got.Lng - c.want.Lng)
		dlng = math.Min(dlng, 360-dlng)
		if math.Abs(got.Lat-c.want.Lat) > 1e-9 || dlng > 1e-9 || got.Lng > 180 || got.Lng < -180 {
			t.Errorf("%s: Center() = %+v, want %+v", c.name, got, c.want)
		}
	}
}
