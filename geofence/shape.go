package geofence

import (
	"math"
	"unsafe"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// The exact test of one fence, prepared at Put time so a query neither
// allocates nor rebuilds anything. Three kinds:
//
//   - circles: great-circle distance from the centre minus the radius, from
//     the chord between unit vectors (a short series for 2*asin(c/2));
//   - small polygons (every vertex within planarMaxM of the polygon's
//     tangent point): the gnomonic projection onto the tangent plane maps
//     great-circle edges to straight segments, so containment is planar
//     crossing parity and the distance is the planar point-to-segment
//     distance, which overstates the spherical one by a factor of at most
//     1/cos^2 of the angle from the tangent point (under 3e-7 within
//     planarMaxM+MaxAccuracyM);
//   - other polygons: s2, exactly as Shape does.
//
// Whenever the fast result lies within exactBandM of the boundary, the
// fence answers with the computation of Shape.SignedDistanceM itself (same
// s2 calls, same inputs), so membership on and next to an edge or vertex is
// decided by s2's predicates, exactly as by the oracle.

const (
	// planarMaxM bounds the extent of a polygon served by the planar path.
	planarMaxM = 3000.0
	// planarMaxQueryRad bounds the angle from the tangent point of a
	// position the planar path evaluates; farther ones take the s2 path.
	planarMaxQueryRad = 20000.0 / EarthRadiusM
	// exactBandM is how close to the boundary a fast result must be for the
	// oracle's computation to be used instead.
	exactBandM = 1e-3
)

var cosPlanarMaxQuery = math.Cos(planarMaxQueryRad)

type shapeKind uint8

const (
	kindCircle shapeKind = iota + 1
	kindPlanar
	kindSphere
)

// fence is one prepared geofence. It is immutable once published. It is
// laid out for the query's cache misses: fenceSize bytes, so that in a
// PutAll slab (a large allocation, page-aligned) and in its size class
// (fenceSize, a power of two) every fence fills one aligned 128-byte pair
// of cache lines, which the processor fetches together. A circle's test
// and a match read only the first line (id, kind, radius, centre); a small
// polygon's reads its slice header pl (the first and second line) and its
// planar record, one contiguous run of floats. The s2 path's data lives
// behind poly.
type fence struct {
	id   string
	kind shapeKind
	// res is the resolution of the fence's cover in each tier.
	res [numTiers]int8

	// Circles: the radius in metres and the centre.
	radiusM float64
	center  s2.Point

	// pl is a planar polygon's record: the tangent frame t, e, n (9
	// floats), the number of rings R, each ring's end as a vertex count
	// (R floats), then the projected vertices as x, y pairs.
	pl []float64

	// Every point of the fence is within extentM metres of its anchor (see
	// anchorPoint).
	extentM float64

	// bound is a cap holding the whole fence, copied into every cell list
	// entry of the fence for the prefilter.
	bound fenceCap

	poly *polyData

	// sum is the fingerprint of the geofence the fence was made from
	// (Index.fingerprint): a Put of the same geometry changes nothing.
	sum uint64

	_ [fenceSize - 120]byte
}

// fenceSize is the size of a fence in bytes: two cache lines.
const fenceSize = 128

// The fence layout above must stay fenceSize bytes.
var _ [0]struct{} = [unsafe.Sizeof(fence{}) - fenceSize]struct{}{}

// anchorPoint returns a point of the fence: a circle's centre, a polygon's
// first shell vertex (as anchorOf for its geofence).
func (f *fence) anchorPoint() s2.Point {
	if f.kind == kindCircle {
		return f.center
	}
	return f.poly.pts[0]
}

// fenceCap is a cap that holds a whole fence, in float32: the unit vector
// of its centre and its radius in metres, rounded up (+Inf when the fence
// has no useful bound). Cell lists keep it next to each fence pointer, so
// a query rejects a candidate whose cap is beyond its reach without
// touching the fence's memory (see cellList.eval).
type fenceCap struct {
	x, y, z float32
	radiusM float32
}

// capSlackM covers the float32 rounding of a cap (under 0.7 m on the
// chord) with room to spare.
const capSlackM = 2.0

// newFenceCap returns the cap around centre of radius m.
func newFenceCap(centre s2.Point, m float64) fenceCap {
	r := float32(m)
	if float64(r) < m {
		r = math.Nextafter32(r, float32(math.Inf(1)))
	}
	if !(m <= 1e6) { // no useful bound (or a polygon whose inside is not small)
		r = float32(math.Inf(1))
	}
	return fenceCap{x: float32(centre.X), y: float32(centre.Y), z: float32(centre.Z), radiusM: r}
}

// beyond reports whether every point of the cap is more than reachM + 1 m
// from the unit vector q: then the fence is not within reach of q.
func (c *fenceCap) beyond(qx, qy, qz, reachM float64) bool {
	dx, dy, dz := qx-float64(c.x), qy-float64(c.y), qz-float64(c.z)
	lim := (float64(c.radiusM) + reachM + capSlackM) * (1 / EarthRadiusM)
	return dx*dx+dy*dy+dz*dz > lim*lim
}

// lowerBoundM returns a lower bound in metres of the signed distance from
// the unit vector q to the fence: the chord to the cap's centre less its
// radius and the rounding slack (the arc is at least the chord).
func (c *fenceCap) lowerBoundM(q s2.Point) float64 {
	dx, dy, dz := q.X-float64(c.x), q.Y-float64(c.y), q.Z-float64(c.z)
	return math.Sqrt(dx*dx+dy*dy+dz*dz)*EarthRadiusM - float64(c.radiusM) - capSlackM
}

// polyData is a prepared polygon.
type polyData struct {
	// The tangent frame of planar polygons (their record is fence.pl).
	t, e, n r3.Vector
	// Ring i (0 the shell, then the holes) is pts[ring[i]:ring[i+1]], in
	// the order given, as Shape builds its edges. inv[i] tells that s2
	// normalized ring i by reversing it, and originIn[i] whether the
	// normalized loop contains s2.OriginPoint.
	ring     []int32
	pts      []s2.Point
	inv      []bool
	originIn []bool
}

// newFence prepares a valid geofence.
func newFence(id string, g dwell.Geofence) *fence {
	f := new(fence)
	initFence(f, id, g, nil)
	return f
}

// anchorOf returns the anchor newFence gives a valid geofence: a circle's
// centre, a polygon's first shell vertex.
func anchorOf(g dwell.Geofence) s2.Point {
	if g.Circle != nil {
		return point(g.Circle.Center)
	}
	return point(g.Polygon.Shell[0])
}

// plSize returns the length of the planar record g would have: 0 for a
// circle.
func plSize(g dwell.Geofence) int {
	if g.Polygon == nil {
		return 0
	}
	ring := func(r []dwell.LatLng) int {
		if k := len(r); k > 1 && r[0] == r[k-1] {
			r = r[:k-1]
		}
		return 1 + 2*len(r)
	}
	n := plHeader + ring(g.Polygon.Shell)
	for _, h := range g.Polygon.Holes {
		n += ring(h)
	}
	return n
}

// initFence prepares a valid geofence into f, which is zero. A planar
// polygon's record goes into pl when it has room (plSize(g)), so a bulk
// load can keep the records of fences near each other on the ground near
// each other in memory; otherwise it is allocated.
func initFence(f *fence, id string, g dwell.Geofence, pl []float64) {
	f.id = id
	if g.Circle != nil {
		f.kind = kindCircle
		f.center = point(g.Circle.Center)
		f.radiusM = g.Circle.RadiusM
		f.extentM = f.radiusM
		f.bound = newFenceCap(f.center, f.radiusM)
		return
	}
	rings := append([][]dwell.LatLng{g.Polygon.Shell}, g.Polygon.Holes...)
	pd := &polyData{}
	f.poly = pd
	pd.ring = append(pd.ring, 0)
	for _, r := range rings {
		if n := len(r); n > 1 && r[0] == r[n-1] {
			r = r[:n-1]
		}
		start := len(pd.pts)
		for _, v := range r {
			pd.pts = append(pd.pts, point(v))
		}
		// Let s2 decide the normalized orientation and origin containment
		// on a copy, as Shape's loop does.
		cp := append([]s2.Point(nil), pd.pts[start:]...)
		l := s2.LoopFromPoints(cp)
		before := cp[0]
		l.Normalize()
		pd.inv = append(pd.inv, l.Vertex(0) != before)
		pd.originIn = append(pd.originIn, l.ContainsOrigin())
		pd.ring = append(pd.ring, int32(len(pd.pts)))
	}
	anchor := pd.pts[0]
	var sum r3.Vector
	for _, p := range pd.pts[:pd.ring[1]] {
		sum = sum.Add(p.Vector)
		f.extentM = max(f.extentM, anchor.Distance(p).Radians()*EarthRadiusM)
	}
	f.kind = kindSphere
	pd.t = sum.Normalize()
	maxFromT := 0.0
	for _, p := range pd.pts {
		maxFromT = max(maxFromT, s2.Point{Vector: pd.t}.Distance(p).Radians()*EarthRadiusM)
	}
	if maxFromT <= planarMaxM && pd.t.Norm2() > 0.5 {
		f.planarize(pl)
	}
	// The fence lies in the convex hull of its vertices, which lies in any
	// cap (smaller than a hemisphere) that holds them.
	f.bound = newFenceCap(anchor, f.extentM)
	if f.kind == kindPlanar {
		f.bound = newFenceCap(s2.Point{Vector: pd.t}, maxFromT)
	}
}

// planarize projects the polygon onto its tangent plane and switches it to
// the planar path if the planar inside agrees with s2's normalized loops.
// The record goes into dst when it has room.
func (f *fence) planarize(dst []float64) {
	f.poly.e = f.poly.t.Ortho()
	f.poly.n = f.poly.t.Cross(f.poly.e).Normalize()
	pd := f.poly
	nr := len(pd.ring) - 1
	pl := dst[:0]
	if n := plHeader + nr + 2*len(pd.pts); cap(pl) < n {
		pl = make([]float64, 0, n)
	}
	pl = append(pl, pd.t.X, pd.t.Y, pd.t.Z, pd.e.X, pd.e.Y, pd.e.Z, pd.n.X, pd.n.Y, pd.n.Z, float64(nr))
	for _, end := range pd.ring[1:] {
		pl = append(pl, float64(end))
	}
	minX, maxX, maxY := math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pd.pts {
		x, y := f.project(p.Vector)
		pl = append(pl, x, y)
		minX, maxX, maxY = min(minX, x), max(maxX, x), max(maxY, y)
	}
	// A position beyond every ring in the plane must be outside every
	// normalized loop; otherwise s2 took a ring's complement as its inside
	// and the plane cannot answer.
	out := f.poly.t.Add(f.poly.e.Mul(maxX + (maxX - minX) + 1e-6)).Add(f.poly.n.Mul(maxY + 1e-6)).Normalize()
	for i := range f.poly.inv {
		if f.loopContains(i, s2.Point{Vector: out}) {
			return
		}
	}
	f.kind = kindPlanar
	f.pl = pl
}

// plHeader is the length of a planar record's frame and ring count.
const plHeader = 10

func (f *fence) project(v r3.Vector) (x, y float64) {
	w := v.Dot(f.poly.t)
	return v.Dot(f.poly.e) / w, v.Dot(f.poly.n) / w
}

// signedDistM returns the signed distance in metres from p to the fence's
// boundary, negative inside, agreeing with Shape.SignedDistanceM within
// 1 mm and in sign. interior promises that p is inside (it lies in an
// interior cell), which spares polygons the containment test.
func (f *fence) signedDistM(p s2.Point, interior bool) float64 {
	switch f.kind {
	case kindCircle:
		dx, dy, dz := p.X-f.center.X, p.Y-f.center.Y, p.Z-f.center.Z
		c2 := dx*dx + dy*dy + dz*dz
		var theta float64
		if c2 < 1e-4 {
			// 2*asin(c/2) = c + c^3/24 + 3c^5/640 + O(c^7); the rest is
			// below 1e-18 radians for c < 0.01.
			c := math.Sqrt(c2)
			theta = c * (1 + c2*(1.0/24+c2*(3.0/640)))
		} else {
			theta = 2 * math.Asin(min(1, math.Sqrt(c2)/2))
		}
		d := theta*EarthRadiusM - f.radiusM
		if math.Abs(d) < exactBandM {
			d = p.Distance(f.center).Radians()*EarthRadiusM - f.radiusM
		}
		return d
	case kindPlanar:
		pl := f.pl[:plHeader]
		if w := p.X*pl[0] + p.Y*pl[1] + p.Z*pl[2]; w > cosPlanarMaxQuery {
			if d, ok := f.planarDistM(p, w, interior); ok {
				return d
			}
		}
	}
	return f.sphereDistM(p)
}

// planarDistM is the planar path; ok is false when p is too close to the
// boundary for it.
func (f *fence) planarDistM(p s2.Point, w float64, interior bool) (float64, bool) {
	pl := f.pl
	x := (p.X*pl[3] + p.Y*pl[4] + p.Z*pl[5]) / w
	y := (p.X*pl[6] + p.Y*pl[7] + p.Z*pl[8]) / w
	nr := int(pl[9])
	ends := pl[plHeader : plHeader+nr]
	xy := pl[plHeader+nr:]
	inside := false
	best := math.Inf(1)
	lo := 0
	for _, e := range ends {
		hi := int(e)
		ax, ay := xy[2*hi-2], xy[2*hi-1]
		for i := lo; i < hi; i++ {
			bx, by := xy[2*i], xy[2*i+1]
			ex, ey := bx-ax, by-ay
			px, py := x-ax, y-ay
			if (ay > y) != (by > y) && px*ey < (y-ay)*ex == (ey > 0) {
				// The edge crosses the horizontal line through p to the
				// right of p: x < ax + (y-ay)*ex/ey, sign-safe.
				inside = !inside
			}
			t := px*ex + py*ey
			var d2 float64
			switch l2 := ex*ex + ey*ey; {
			case t <= 0:
				d2 = px*px + py*py
			case t >= l2:
				qx, qy := x-bx, y-by
				d2 = qx*qx + qy*qy
			default:
				c := px*ey - py*ex
				d2 = c * c / l2
			}
			best = min(best, d2)
			ax, ay = bx, by
		}
		lo = hi
	}
	d := math.Sqrt(best) * EarthRadiusM
	if d < exactBandM {
		return 0, false
	}
	if interior || inside {
		return -d, true
	}
	return d, true
}

// sphereDistM is Shape.SignedDistanceM for a polygon: the same s2 calls on
// the same points, so the same result.
func (f *fence) sphereDistM(p s2.Point) float64 {
	minD := s1.InfChordAngle()
	for r := 0; r+1 < len(f.poly.ring); r++ {
		ring := f.poly.pts[f.poly.ring[r]:f.poly.ring[r+1]]
		for i := range ring {
			minD, _ = s2.UpdateMinDistance(p, ring[i], ring[(i+1)%len(ring)], minD)
		}
	}
	d := minD.Angle().Radians() * EarthRadiusM
	if f.containsS2(p) {
		return -d
	}
	return d
}

// containsS2 is Shape's containment: inside the shell and no hole.
func (f *fence) containsS2(p s2.Point) bool {
	if !f.loopContains(0, p) {
		return false
	}
	for i := 1; i < len(f.poly.inv); i++ {
		if f.loopContains(i, p) {
			return false
		}
	}
	return true
}

// loopContains is s2.Loop.ContainsPoint on ring i after Normalize, by
// crossing parity from s2.OriginPoint as s2's brute-force test does; s2's
// boundary model makes the result independent of the reference point, so
// it agrees with the indexed test s2 uses for loops of over 32 vertices.
func (f *fence) loopContains(i int, p s2.Point) bool {
	ring := f.poly.pts[f.poly.ring[i]:f.poly.ring[i+1]]
	n := len(ring)
	vertex := func(k int) s2.Point {
		k %= n
		if f.poly.inv[i] {
			return ring[n-1-k]
		}
		return ring[k]
	}
	inside := f.poly.originIn[i]
	origin := s2.OriginPoint()
	a := vertex(0)
	for k := 1; k <= n; k++ {
		b := vertex(k)
		inside = inside != edgeOrVertexCrossing(origin, p, a, b)
		a = b
	}
	return inside
}

// edgeOrVertexCrossing is s2.EdgeOrVertexCrossing without its heap
// allocation (s2's EdgeCrosser escapes): whether edge ab crosses edge cd,
// with s2's vertex-crossing rule when they share a vertex. Where no vertex
// is shared, both compute the exact, symbolically perturbed predicate, so
// they agree; s2 may decide a shared vertex by a different path, which
// matters only when p is exactly a polygon vertex, where the distance is 0
// and the fence matches as inside either way. In the rare nearly-degenerate
// cases s2.RobustSign falls back to exact arithmetic, which allocates.
func edgeOrVertexCrossing(a, b, c, d s2.Point) bool {
	switch {
	case a == c || a == d || b == c || b == d:
		return s2.VertexCrossing(a, b, c, d)
	case a == b || c == d:
		return false
	}
	acb := -s2.RobustSign(a, b, c)
	return s2.RobustSign(a, b, d) == acb && -s2.RobustSign(c, d, b) == acb && s2.RobustSign(c, d, a) == acb
}
