package sim

import (
	"math"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// earthRadiusM is the mean Earth radius in metres, the one geofence uses.
const earthRadiusM = 6371008.8

// vec is a point or a displacement in the city's plane, in metres east (x)
// and north (y) of the city centre.
type vec struct{ x, y float64 }

func (a vec) add(b vec) vec        { return vec{a.x + b.x, a.y + b.y} }
func (a vec) sub(b vec) vec        { return vec{a.x - b.x, a.y - b.y} }
func (a vec) mul(k float64) vec    { return vec{a.x * k, a.y * k} }
func (a vec) dot(b vec) float64    { return a.x*b.x + a.y*b.y }
func (a vec) norm() float64        { return math.Hypot(a.x, a.y) }
func (a vec) dist(b vec) float64   { return a.sub(b).norm() }
func lerp(a, b vec, f float64) vec { return vec{a.x + (b.x-a.x)*f, a.y + (b.y-a.y)*f} }
func polar(angle, r float64) vec   { return vec{r * math.Cos(angle), r * math.Sin(angle)} }
func (a vec) perp() vec            { return vec{-a.y, a.x} }
func (a vec) rot(angle float64) vec {
	s, c := math.Sincos(angle)
	return vec{a.x*c - a.y*s, a.x*s + a.y*c}
}

// plane maps the city's plane to WGS84 and back: an equirectangular
// projection about the city centre. Over a city (tens of kilometres, away
// from the poles) it is within a fraction of a percent of great-circle
// distance, far below every margin the simulator keeps.
type plane struct {
	origin                 dwell.LatLng
	mPerDegLat, mPerDegLng float64
}

func newPlane(origin dwell.LatLng) plane {
	k := earthRadiusM * math.Pi / 180
	return plane{origin: origin, mPerDegLat: k, mPerDegLng: k * math.Cos(origin.Lat*math.Pi/180)}
}

// latLng returns the position of v rounded to 1e-7 degrees (about 1 cm), as
// phones report it.
func (p plane) latLng(v vec) dwell.LatLng {
	return dwell.LatLng{
		Lat: round(p.origin.Lat+v.y/p.mPerDegLat, 1e7),
		Lng: round(p.origin.Lng+v.x/p.mPerDegLng, 1e7),
	}
}

func (p plane) vec(ll dwell.LatLng) vec {
	return vec{(ll.Lng - p.origin.Lng) * p.mPerDegLng, (ll.Lat - p.origin.Lat) * p.mPerDegLat}
}

// round rounds x to the nearest multiple of 1/scale.
func round(x, scale float64) float64 { return math.Round(x*scale) / scale }

// shape is a fence in the plane: a circle (rings nil) or a polygon whose
// first ring is the shell and the others holes.
type shape struct {
	// c is the circle's centre or the mean of the shell's vertices, as
	// dwell.Geofence.Center defines it.
	c vec
	// r is the circle's radius in metres, 0 for a polygon.
	r     float64
	rings [][]vec
	// bound is the distance in metres from c to the farthest point of the
	// fence.
	bound float64
	// marginM is how far inside the boundary a rep stands at a visit.
	marginM float64
}

// signed returns the distance in metres from p to the boundary: negative
// inside, positive outside.
func (s *shape) signed(p vec) float64 {
	if s.rings == nil {
		return p.dist(s.c) - s.r
	}
	d := math.Inf(1)
	in := false
	for _, ring := range s.rings {
		for i := range ring {
			a, b := ring[i], ring[(i+1)%len(ring)]
			d = min(d, segmentDist(p, a, b))
			if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
				in = !in
			}
		}
	}
	if in {
		return -d
	}
	return d
}

// segmentDist returns the distance from p to the segment ab.
func segmentDist(p, a, b vec) float64 {
	ab := b.sub(a)
	l2 := ab.dot(ab)
	if l2 == 0 {
		return p.dist(a)
	}
	f := math.Max(0, math.Min(1, p.sub(a).dot(ab)/l2))
	return p.dist(a.add(ab.mul(f)))
}

// rect returns the corners of a w by h rectangle centred on c with its w
// side at angle (radians, counter-clockwise from east).
func rect(c vec, w, h, angle float64) []vec {
	u, v := polar(angle, w/2), polar(angle+math.Pi/2, h/2)
	return []vec{c.sub(u).sub(v), c.add(u).sub(v), c.add(u).add(v), c.sub(u).add(v)}
}

// lShape returns an L-shaped ring: the w by h rectangle without its
// top-right quadrant-like corner of cw by ch.
func lShape(c vec, w, h, cw, ch, angle float64) []vec {
	pts := []vec{{-w / 2, -h / 2}, {w / 2, -h / 2}, {w / 2, h/2 - ch}, {w/2 - cw, h/2 - ch}, {w/2 - cw, h / 2}, {-w / 2, h / 2}}
	for i, p := range pts {
		pts[i] = c.add(p.rot(angle))
	}
	return pts
}

// grid buckets fences by the cells their bounding circles touch, so that
// "which fences are near p" costs a few map look-ups. Only look-ups touch
// the map, never iteration, so results are deterministic.
type grid struct {
	cellM float64
	cells map[[2]int32][]int32
}

func newGrid(cellM float64) grid { return grid{cellM: cellM, cells: map[[2]int32][]int32{}} }

func (g *grid) cell(x float64) int32 { return int32(math.Floor(x / g.cellM)) }

func (g *grid) add(i int, c vec, r float64) {
	for cx := g.cell(c.x - r); cx <= g.cell(c.x+r); cx++ {
		for cy := g.cell(c.y - r); cy <= g.cell(c.y+r); cy++ {
			k := [2]int32{cx, cy}
			g.cells[k] = append(g.cells[k], int32(i))
		}
	}
}

// near calls fn for every fence whose bounding circle may come within r of
// p; a fence may be reported more than once.
func (g *grid) near(p vec, r float64, fn func(i int)) {
	for cx := g.cell(p.x - r); cx <= g.cell(p.x+r); cx++ {
		for cy := g.cell(p.y - r); cy <= g.cell(p.y+r); cy++ {
			for _, i := range g.cells[[2]int32{cx, cy}] {
				fn(int(i))
			}
		}
	}
}
