package geofence

import (
	"math"
	"math/rand/v2"

	"github.com/golang/geo/s2"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Generators of fences and fixes shared by the tests and benchmarks.

// offset returns the position at distance m metres and bearing deg from c.
func offset(c dwell.LatLng, m, bearingDeg float64) dwell.LatLng {
	lat1, lng1 := c.Lat*math.Pi/180, c.Lng*math.Pi/180
	d, b := m/EarthRadiusM, bearingDeg*math.Pi/180
	lat2 := math.Asin(math.Sin(lat1)*math.Cos(d) + math.Cos(lat1)*math.Sin(d)*math.Cos(b))
	lng2 := lng1 + math.Atan2(math.Sin(b)*math.Sin(d)*math.Cos(lat1), math.Cos(d)-math.Sin(lat1)*math.Sin(lat2))
	lng := math.Remainder(lng2*180/math.Pi, 360)
	return dwell.LatLng{Lat: lat2 * 180 / math.Pi, Lng: lng}
}

// ringAround returns n vertices around c at radii drawn by radius(i).
func ringAround(c dwell.LatLng, n int, rot float64, radius func(i int) float64) []dwell.LatLng {
	ring := make([]dwell.LatLng, n)
	for i := range ring {
		ring[i] = offset(c, radius(i), rot+360*float64(i)/float64(n))
	}
	return ring
}

// randomFence returns a valid random geofence around c of extent about
// sizeM metres: circles, convex and concave polygons, polygons with holes,
// and many-vertex polygons.
func randomFence(rng *rand.Rand, c dwell.LatLng, sizeM float64) dwell.Geofence {
	for {
		var g dwell.Geofence
		rot := rng.Float64() * 360
		switch k := rng.IntN(6); k {
		case 0, 1:
			g.Circle = &dwell.Circle{Center: c, RadiusM: max(dwell.MinRadiusM, min(dwell.MaxRadiusM, sizeM))}
		case 2: // rectangle-ish building
			g.Polygon = &dwell.Polygon{Shell: ringAround(c, 4, rot, func(i int) float64 { return sizeM * (0.7 + 0.3*float64(i%2)) })}
		case 3: // concave star
			n := 5 + rng.IntN(8)
			g.Polygon = &dwell.Polygon{Shell: ringAround(c, 2*n, rot, func(i int) float64 {
				if i%2 == 0 {
					return sizeM
				}
				return sizeM * (0.3 + 0.3*rng.Float64())
			})}
		case 4: // with holes
			shell := ringAround(c, 6+rng.IntN(6), rot, func(int) float64 { return sizeM })
			holes := [][]dwell.LatLng{ringAround(c, 3+rng.IntN(5), rot+7, func(int) float64 { return sizeM * 0.35 })}
			if rng.IntN(2) == 0 {
				holes[0] = ringAround(offset(c, sizeM*0.5, rot+20), 4, rot, func(int) float64 { return sizeM * 0.2 })
				holes = append(holes, ringAround(offset(c, sizeM*0.5, rot+200), 5, rot, func(int) float64 { return sizeM * 0.2 }))
			}
			g.Polygon = &dwell.Polygon{Shell: shell, Holes: holes}
		case 5: // many vertices (s2 indexes loops of more than 32)
			n := 33 + rng.IntN(90)
			g.Polygon = &dwell.Polygon{Shell: ringAround(c, n, rot, func(i int) float64 {
				return sizeM * (0.8 + 0.2*math.Sin(float64(i)))
			})}
		}
		if dwell.ValidateGeofence("g", g) == nil {
			return g
		}
	}
}

// pointNear returns a test position around g: inside, outside within a few
// hundred metres, on vertices, on edges and on a circle's boundary.
func pointNear(rng *rand.Rand, g dwell.Geofence, extentM float64) dwell.LatLng {
	c := g.Center()
	switch k := rng.IntN(10); {
	case k == 0 && g.Polygon != nil: // a vertex
		rings := append([][]dwell.LatLng{g.Polygon.Shell}, g.Polygon.Holes...)
		r := rings[rng.IntN(len(rings))]
		return r[rng.IntN(len(r))]
	case k == 1 && g.Polygon != nil: // on an edge (up to rounding)
		rings := append([][]dwell.LatLng{g.Polygon.Shell}, g.Polygon.Holes...)
		r := rings[rng.IntN(len(rings))]
		i := rng.IntN(len(r))
		a, b := point(r[i]), point(r[(i+1)%len(r)])
		x := s2.Interpolate(rng.Float64(), a, b)
		ll := s2.LatLngFromPoint(x)
		return dwell.LatLng{Lat: ll.Lat.Degrees(), Lng: ll.Lng.Degrees()}
	case k == 1 && g.Circle != nil: // on the circle
		return offset(c, g.Circle.RadiusM, rng.Float64()*360)
	case k == 2: // far
		return offset(c, extentM+rng.Float64()*3000, rng.Float64()*360)
	}
	return offset(c, rng.Float64()*(extentM+700), rng.Float64()*360)
}

// randomAccuracy returns accuracies as phones report them, with extremes.
func randomAccuracy(rng *rand.Rand) float64 {
	switch k := rng.IntN(20); {
	case k == 0:
		return 0
	case k == 1:
		return 100 + rng.Float64()*400
	case k == 2:
		return 500 + rng.Float64()*2000 // clamped
	case k == 3:
		return math.NaN()
	case k == 4:
		return -5
	}
	return 3 + rng.Float64()*60
}
