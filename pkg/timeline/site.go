package timeline

import (
	"math"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Choosing among neighbouring sites. Where fences are close together (a
// store in a mall, shops of one street) a stop's centre, known to some
// metres, can fall on the wrong side of a boundary: DESIGN's rule (inside
// for longest, ties to the nearest centre) applied to the centre alone
// then names the wrong client. likeliest applies the rule to where the rep
// may have stood instead: it weighs each client by the chance that the
// rule names it, over the centre's error.
const (
	// siteSpread is how far the positions weighed reach, in standard
	// deviations of the centre's error per axis.
	siteSpread = 3.0
	// siteStep is the spacing of the grid of positions weighed, in the
	// same unit.
	siteStep = 0.5
	// maxSiteCandidates bounds the fences weighed.
	maxSiteCandidates = 8
)

// localFence is a fence in a plane tangent at a stop's centre (x east, y
// north, metres), for cheap containment tests.
type localFence struct {
	id     dwell.ClientID
	cx, cy float64 // the fence's representative centre
	r      float64 // the circle's radius, or 0 for a polygon
	rings  [][]float64
	areaM2 float64
	mass   float64
}

// contains reports whether (x, y) is inside the fence.
func (f *localFence) contains(x, y float64) bool {
	if f.r > 0 {
		dx, dy := x-f.cx, y-f.cy
		return dx*dx+dy*dy <= f.r*f.r
	}
	in := false
	for _, ring := range f.rings {
		n := len(ring) / 2
		for i, j := 0, n-1; i < n; j, i = i, i+1 {
			xi, yi, xj, yj := ring[2*i], ring[2*i+1], ring[2*j], ring[2*j+1]
			if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
				in = !in
			}
		}
	}
	return in
}

// plane projects positions on the plane tangent at an origin.
type plane struct {
	o  dwell.LatLng
	kx float64 // cosine of the origin's latitude: a degree of longitude over one of latitude
}

// mPerDeg is the metres in a degree of latitude.
const mPerDeg = earthRadiusM * math.Pi / 180

func newPlane(o dwell.LatLng) plane {
	return plane{o: o, kx: math.Cos(o.Lat * math.Pi / 180)}
}

// xy returns q in the plane: metres east and north of the origin.
func (p plane) xy(q dwell.LatLng) (x, y float64) {
	dl := q.Lng - p.o.Lng
	if dl > 180 {
		dl -= 360
	} else if dl < -180 {
		dl += 360
	}
	return dl * p.kx * mPerDeg, (q.Lat - p.o.Lat) * mPerDeg
}

// ring returns the ring's vertices in the plane, flattened, and its
// signed area in square metres.
func (p plane) ring(vs []dwell.LatLng) ([]float64, float64) {
	out := make([]float64, 0, 2*len(vs))
	for _, v := range vs {
		x, y := p.xy(v)
		out = append(out, x, y)
	}
	a := 0.0
	n := len(vs)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a += out[2*j]*out[2*i+1] - out[2*i]*out[2*j+1]
	}
	return out, a / 2
}

// local returns client c's fence in the plane, or false if it has none.
func (p plane) local(c dwell.Client) (localFence, bool) {
	f := localFence{id: c.ID}
	f.cx, f.cy = p.xy(c.Fence.Center())
	switch {
	case c.Fence.Circle != nil && c.Fence.Circle.RadiusM > 0:
		f.r = c.Fence.Circle.RadiusM
		f.areaM2 = math.Pi * f.r * f.r
	case c.Fence.Polygon != nil && len(c.Fence.Polygon.Shell) >= 3:
		shell, a := p.ring(c.Fence.Polygon.Shell)
		f.rings = append(f.rings, shell)
		f.areaM2 = math.Abs(a)
		for _, h := range c.Fence.Polygon.Holes {
			if len(h) < 3 {
				continue
			}
			hole, ha := p.ring(h)
			f.rings = append(f.rings, hole)
			f.areaM2 -= math.Abs(ha)
		}
	default:
		return f, false
	}
	return f, f.areaM2 > 0
}

// likeliest returns the client DESIGN's rule most likely names for stop s,
// whose centre alone gives client c: the rule is applied over a grid of
// positions about the centre, each weighed by the normal density of the
// centre's error (a 68 % radius of s.posM), and each client's total is
// divided by its fence's area: a visit is to one client, anywhere on its
// site, so a small site holds its visits in little room. Claims rank
// first: a client the rep checked in at as the stop began (claimed) wins
// over the others, one the rep checked out of as it began (released)
// loses to them, as long as the rule names it somewhere within reach. It
// returns c when no other fence is within reach.
func (d *deriver) likeliest(s *stay, c dwell.ClientID) dwell.ClientID {
	fences := d.weigh(s)
	if len(fences) < 2 {
		return c
	}
	out, outP, outRank := c, 0.0, -1
	for n := range fences {
		f := &fences[n]
		p := f.mass / f.areaM2
		if p <= 0 {
			continue
		}
		rank := 1
		switch {
		case d.claimed(s, f.id):
			rank = 2
		case d.released(s, f.id):
			rank = 0
		}
		if rank > outRank || (rank == outRank && (p > outP || (p == outP && f.id < out))) {
			out, outP, outRank = f.id, p, rank
		}
	}
	return out
}

// claimed reports whether a check-in for client c that counts as a claim
// (claims: not made with a mock or stale fix) was made from checkInLead
// before stop s began (but not during the stop before, which it names
// instead) to claimLead after: the rep named
// the site on arriving (verified or not: a check-in from the car park
// names the site the rep then walks to). A check-in made later in the
// stop names what comes after it (the next shop of a mall, the walk there
// unsampled), not the stop.
func (d *deriver) claimed(s *stay, c dwell.ClientID) bool {
	from := s.start.Add(-checkInLead)
	if s.prevEnd.After(from) {
		from = s.prevEnd
	}
	for _, ci := range d.claimIns {
		if ci.Client == c && !ci.Time.Before(from) && !ci.Time.After(s.start.Add(claimLead)) {
			return true
		}
	}
	return false
}

// weigh returns the fences within reach of stop s's centre, each with the
// weight (mass) of the positions about the centre where DESIGN's rule
// names it.
func (d *deriver) weigh(s *stay) []localFence {
	sd := s.posM / 1.515 // per axis
	if sd <= 0 {
		return nil
	}
	reach := siteSpread * sd
	d.buf = d.in.Fences.Query(s.centre, reach, d.buf)
	if len(d.buf) < 2 {
		return nil
	}
	pl := newPlane(s.centre)
	fences := d.local[:0]
	defer func() { d.local = fences[:0] }()
	for _, m := range d.buf {
		// Nearest first: the rest are beyond reach too (an index's margin
		// matches, which Derive does not use; see FenceMatcher).
		if len(fences) == maxSiteCandidates || m.DistanceM > reach {
			break
		}
		cl, ok := d.client(dwell.ClientID(m.ID))
		if !ok {
			continue
		}
		if f, ok := pl.local(cl); ok {
			fences = append(fences, f)
		}
	}
	if len(fences) < 2 {
		return nil
	}
	const k = int(siteSpread / siteStep)
	for i := -k; i <= k; i++ {
		for j := -k; j <= k; j++ {
			u, v := float64(i)*siteStep, float64(j)*siteStep
			if u*u+v*v > siteSpread*siteSpread {
				continue
			}
			x, y := u*sd, v*sd
			best, bestD := -1, math.Inf(1)
			for n := range fences {
				f := &fences[n]
				if !f.contains(x, y) {
					continue
				}
				if dd := math.Hypot(x-f.cx, y-f.cy); dd < bestD || (dd == bestD && f.id < fences[best].id) {
					best, bestD = n, dd
				}
			}
			if best >= 0 {
				fences[best].mass += math.Exp(-(u*u + v*v) / 2)
			}
		}
	}
	return fences
}

// released reports whether a check-out for client c that counts as a
// claim (claims: not made with a mock or stale fix) was made up to
// checkInLead before stop s began or within settle after: the rep said the visit to c had ended, so a stop that follows at
// about the same place is likelier another site's (the mall's office
// after a store).
func (d *deriver) released(s *stay, c dwell.ClientID) bool {
	from, to := s.start.Add(-checkInLead), s.start.Add(settle)
	for _, co := range d.claimOuts {
		if co.Client == c && !co.Time.Before(from) && co.Time.Before(to) {
			return true
		}
	}
	return false
}
