package geofence

// This file holds the exact tests on the sphere that every faster path (the
// H3 index) must agree with: great-circle distance for circles and
// golang/geo s2 loops for polygons.

import (
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// EarthRadiusM is the mean Earth radius in metres used for all distances.
const EarthRadiusM = 6371008.8

// Shape is a geofence prepared for repeated exact tests. It is immutable
// and safe for concurrent use.
type Shape struct {
	circle *dwell.Circle
	center s2.Point
	shell  *s2.Loop
	holes  []*s2.Loop
	edges  [][2]s2.Point
}

// NewShape prepares g. g must be valid (see dwell.ValidateGeofence); an
// empty geofence yields a Shape that contains nothing and is infinitely far.
func NewShape(g dwell.Geofence) *Shape {
	s := &Shape{}
	switch {
	case g.Circle != nil:
		c := *g.Circle
		s.circle = &c
		s.center = point(c.Center)
	case g.Polygon != nil:
		s.shell = loop(g.Polygon.Shell, &s.edges)
		for _, h := range g.Polygon.Holes {
			s.holes = append(s.holes, loop(h, &s.edges))
		}
	}
	return s
}

func point(p dwell.LatLng) s2.Point { return s2.PointFromLatLng(s2.LatLngFromDegrees(p.Lat, p.Lng)) }

// loop builds a normalized loop (the smaller of the two regions the ring
// bounds, which for a building-sized ring is its inside) and appends the
// ring's edges.
func loop(ring []dwell.LatLng, edges *[][2]s2.Point) *s2.Loop {
	if n := len(ring); n > 1 && ring[0] == ring[n-1] {
		ring = ring[:n-1]
	}
	pts := make([]s2.Point, len(ring))
	for i, v := range ring {
		pts[i] = point(v)
	}
	for i := range pts {
		*edges = append(*edges, [2]s2.Point{pts[i], pts[(i+1)%len(pts)]})
	}
	l := s2.LoopFromPoints(pts)
	l.Normalize()
	return l
}

// SignedDistanceM returns the distance in metres from p to the boundary of
// the shape: negative inside, positive outside, 0 on the boundary (up to
// rounding). It returns +Inf for an empty shape.
func (s *Shape) SignedDistanceM(p dwell.LatLng) float64 {
	x := point(p)
	switch {
	case s.circle != nil:
		return x.Distance(s.center).Radians()*EarthRadiusM - s.circle.RadiusM
	case s.shell != nil:
		minD := s1.InfChordAngle()
		for _, e := range s.edges {
			minD, _ = s2.UpdateMinDistance(x, e[0], e[1], minD)
		}
		d := minD.Angle().Radians() * EarthRadiusM
		if s.containsPoint(x) {
			return -d
		}
		return d
	}
	return math.Inf(1)
}

func (s *Shape) containsPoint(x s2.Point) bool {
	if !s.shell.ContainsPoint(x) {
		return false
	}
	for _, h := range s.holes {
		if h.ContainsPoint(x) {
			return false
		}
	}
	return true
}
