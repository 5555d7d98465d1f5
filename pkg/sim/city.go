package sim

import (
	"fmt"
	"math"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// SiteKind tells what kind of place a client site is.
type SiteKind int

// Site kinds.
const (
	SiteUnspecified SiteKind = iota
	// SiteOffice is a circle fence of 25 to 150 m radius.
	SiteOffice
	// SiteBuilding is a building polygon: a rectangle, an L or a block
	// with a courtyard (a hole), 30 to 200 m a side.
	SiteBuilding
	// SiteMall is a mall's polygon; SiteMallStore fences lie inside it.
	SiteMall
	// SiteMallStore is a circle fence of 12 to 25 m radius inside a mall,
	// overlapping the mall's fence.
	SiteMallStore
	// SiteShop is a small shop of a canvassing street: a circle of 10 to
	// 15 m radius or a rectangle 15 to 30 m across.
	SiteShop
)

var siteKindNames = [...]string{"UNSPECIFIED", "OFFICE", "BUILDING", "MALL", "MALL_STORE", "SHOP"}

// String returns the upper-case name of k ("SHOP").
func (k SiteKind) String() string {
	if k < 0 || int(k) >= len(siteKindNames) {
		return "UNSPECIFIED"
	}
	return siteKindNames[k]
}

// CityConfig describes the city to build. Zero fields take the defaults of
// DefaultCityConfig; a negative count means none.
type CityConfig struct {
	// Center is the city centre. The city must not reach beyond 75°
	// latitude or across the antimeridian.
	Center dwell.LatLng
	// RadiusM is the radius of the city in metres, 500 to 50,000.
	RadiusM float64
	// Clients is the number of office and building sites.
	Clients int
	// PolygonShare is the share of those sites that are building polygons
	// rather than circles.
	PolygonShare float64
	// Malls is the number of malls, each one polygon with 3 or 4 store
	// fences inside it.
	Malls int
	// ShopClusters is the number of canvassing streets, each with
	// ShopsPerCluster shops.
	ShopClusters    int
	ShopsPerCluster int
}

// DefaultCityConfig returns a city of about 6 km radius centred on
// Jakarta with 150 offices and buildings, 2 malls and 6 shop streets of 12
// shops: enough for every profile.
func DefaultCityConfig() CityConfig {
	return CityConfig{
		Center:          dwell.LatLng{Lat: -6.2, Lng: 106.8167},
		RadiusM:         6000,
		Clients:         150,
		PolygonShare:    0.3,
		Malls:           2,
		ShopClusters:    6,
		ShopsPerCluster: 12,
	}
}

func (c CityConfig) withDefaults() CityConfig {
	d := DefaultCityConfig()
	if c.Center == (dwell.LatLng{}) {
		c.Center = d.Center
	}
	if c.RadiusM == 0 {
		c.RadiusM = d.RadiusM
	}
	count := func(x *int, def int) {
		switch {
		case *x == 0:
			*x = def
		case *x < 0:
			*x = 0
		}
	}
	count(&c.Clients, d.Clients)
	count(&c.Malls, d.Malls)
	count(&c.ShopClusters, d.ShopClusters)
	count(&c.ShopsPerCluster, d.ShopsPerCluster)
	switch {
	case c.PolygonShare == 0:
		c.PolygonShare = d.PolygonShare
	case c.PolygonShare < 0:
		c.PolygonShare = 0
	}
	return c
}

func (c CityConfig) validate() error {
	switch {
	case !(math.Abs(c.Center.Lat) <= 75):
		return fmt.Errorf("Center.Lat must be within ±75°, got %g", c.Center.Lat)
	case !(math.Abs(c.Center.Lng) <= 179):
		return fmt.Errorf("Center.Lng must be within ±179°, got %g", c.Center.Lng)
	case !(c.RadiusM >= 500 && c.RadiusM <= 50000):
		return fmt.Errorf("RadiusM must be in [500, 50000], got %g", c.RadiusM)
	case c.Clients > 100000 || c.Malls > 1000 || c.ShopClusters > 10000 || c.ShopsPerCluster > 100:
		return fmt.Errorf("counts too large (at most 100000 clients, 1000 malls, 10000 clusters of 100 shops)")
	case c.PolygonShare > 1:
		return fmt.Errorf("PolygonShare must be at most 1, got %g", c.PolygonShare)
	case c.Clients+c.Malls+c.ShopClusters*c.ShopsPerCluster == 0:
		return fmt.Errorf("the city needs at least one site")
	}
	return nil
}

// Site is a client at its site, with what the simulator knows of it.
type Site struct {
	dwell.Client
	// Kind is the kind of place.
	Kind SiteKind
	// Cluster is the index in City.Clusters of a shop's street, or -1.
	Cluster int
	// AcrossM is the fence's largest extent in metres: a circle's
	// diameter, the longest distance between two of a polygon's vertices.
	AcrossM float64

	shape shape
	// along and side place a shop on its street: metres along the street
	// from the cluster's origin, and +1 (left) or -1 (right).
	along float64
	side  float64
}

// Cluster is a street of small shops for the canvassing beat.
type Cluster struct {
	// Sites are the shops' indexes in City.Sites, in street order.
	Sites []int

	origin, dir vec
}

// point returns the position along metres down the street and lateral
// metres to its left.
func (k *Cluster) point(along, lateral float64) vec {
	return k.origin.add(k.dir.mul(along)).add(k.dir.perp().mul(lateral))
}

// parking is where a rep leaves the car to walk the street.
func (k *Cluster) parking() vec { return k.point(-30, 0) }

// streetHalfWidthM is half the width of a shop street; shops' fences start
// 1 m beyond it.
const streetHalfWidthM = 5.0

// City is a simulated city: client sites and shop streets. It is immutable
// after NewCity and safe for concurrent use by any number of Day calls.
type City struct {
	// Seed and Config are what the city was built from (Config with its
	// defaults filled in).
	Seed   uint64
	Config CityConfig
	// Sites are the client sites; Sites[i].ID is unique.
	Sites []Site
	// Clusters are the shop streets.
	Clusters []Cluster

	plane    plane
	theta    float64 // angle of the street grid, radians from east
	altM     float64 // ground altitude above the ellipsoid
	grid     grid
	maxBound float64
	byID     map[dwell.ClientID]int
}

// NewCity builds the city of seed and cfg: malls first, then offices and
// buildings (at least 30 m apart), then shop streets (at least 40 m from
// any other site). Only mall stores overlap another fence (their mall's).
// It fails if cfg is invalid or the sites do not fit in the radius.
func NewCity(seed uint64, cfg CityConfig) (*City, error) {
	const op dwell.Op = "sim.NewCity"
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, dwell.E(op, dwell.Invalid, err.Error())
	}
	r := newRNG(seed, streamCity)
	c := &City{Seed: seed, Config: cfg, plane: newPlane(cfg.Center), grid: newGrid(250), byID: map[dwell.ClientID]int{}}
	c.theta = r.uniform(0, math.Pi/2)
	c.altM = r.uniform(5, 80)
	for m := range cfg.Malls {
		if !c.placeMall(r, m) {
			return nil, dwell.E(op, dwell.Invalid, fmt.Sprintf("no room for mall %d in a %g m radius", m+1, cfg.RadiusM))
		}
	}
	for i := range cfg.Clients {
		if !c.placeSite(r, i) {
			return nil, dwell.E(op, dwell.Invalid, fmt.Sprintf("no room for client %d in a %g m radius", i+1, cfg.RadiusM))
		}
	}
	for k := range cfg.ShopClusters {
		if !c.placeCluster(r, k) {
			return nil, dwell.E(op, dwell.Invalid, fmt.Sprintf("no room for shop street %d in a %g m radius", k+1, cfg.RadiusM))
		}
	}
	return c, nil
}

// Clients returns the sites' clients, ready for the directory.
func (c *City) Clients() []dwell.Client {
	out := make([]dwell.Client, len(c.Sites))
	for i, s := range c.Sites {
		out[i] = s.Client
	}
	return out
}

// Site returns the site of client id.
func (c *City) Site(id dwell.ClientID) (Site, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Site{}, false
	}
	return c.Sites[i], true
}

// Home returns where rep lives: the same place for every day of the rep in
// this city, at least 150 m from any site.
func (c *City) Home(rep dwell.RepID) dwell.LatLng {
	_, home := c.repPlaces(rep)
	return c.plane.latLng(home)
}

// repPlaces returns the centre of rep's territory and rep's home, 1 to
// 4 km from it.
func (c *City) repPlaces(rep dwell.RepID) (territory, home vec) {
	r := newRNG(c.Seed^hashString(string(rep)), streamRep)
	R := c.Config.RadiusM
	territory = c.inDisc(r, 0.7*R)
	for i := range 10000 {
		home = territory.add(polar(r.angle(), r.uniform(1000, 4000)))
		if i > 200 {
			home = c.inDisc(r, R)
		}
		if home.norm() <= R && c.clear(home, 150) {
			break
		}
	}
	return territory, home
}

func (c *City) inDisc(r rng, radius float64) vec {
	return polar(r.angle(), radius*math.Sqrt(r.Float64()))
}

// clearance returns the least signed distance from p to a fence within
// radius of p, or radius if there is none.
func (c *City) clearance(p vec, radius float64) float64 {
	best := radius
	c.grid.near(p, radius+c.maxBound, func(i int) {
		best = min(best, c.Sites[i].shape.signed(p))
	})
	return best
}

// clear reports whether p is at least m metres outside every fence.
func (c *City) clear(p vec, m float64) bool { return c.clearance(p, m) >= m }

// fits reports whether a fence with centre p and bounding radius bound
// stays gap metres from every other fence's bounding circle and inside the
// city.
func (c *City) fits(p vec, bound, gap float64) bool {
	if p.norm()+bound > c.Config.RadiusM {
		return false
	}
	ok := true
	c.grid.near(p, bound+gap+c.maxBound, func(i int) {
		s := &c.Sites[i].shape
		if p.dist(s.c) < bound+s.bound+gap {
			ok = false
		}
	})
	return ok
}

// addCircle adds a circle site centred on p.
func (c *City) addCircle(id, name string, kind SiteKind, p vec, radiusM float64, r rng) int {
	center := c.plane.latLng(p)
	sh := shape{c: c.plane.vec(center), r: radiusM, bound: radiusM, marginM: min(5, 0.3*radiusM)}
	fence := dwell.Geofence{Circle: &dwell.Circle{Center: center, RadiusM: radiusM}}
	return c.add(id, name, kind, fence, sh, 2*radiusM, r)
}

// addPolygon adds a polygon site; rings[0] is the shell. innerM is half the
// polygon's narrowest width, which sets how far inside a rep stands.
func (c *City) addPolygon(id, name string, kind SiteKind, rings [][]vec, innerM float64, r rng) int {
	poly := &dwell.Polygon{}
	sh := shape{marginM: min(5, 0.3*innerM)}
	for k, ring := range rings {
		lls := make([]dwell.LatLng, len(ring))
		pts := make([]vec, len(ring))
		for i, v := range ring {
			lls[i] = c.plane.latLng(v)
			pts[i] = c.plane.vec(lls[i])
		}
		sh.rings = append(sh.rings, pts)
		if k == 0 {
			poly.Shell = lls
		} else {
			poly.Holes = append(poly.Holes, lls)
		}
	}
	fence := dwell.Geofence{Polygon: poly}
	sh.c = c.plane.vec(fence.Center())
	across := 0.0
	for i, a := range sh.rings[0] {
		sh.bound = max(sh.bound, a.dist(sh.c))
		for _, b := range sh.rings[0][i+1:] {
			across = max(across, a.dist(b))
		}
	}
	return c.add(id, name, kind, fence, sh, across, r)
}

func (c *City) add(id, name string, kind SiteKind, fence dwell.Geofence, sh shape, across float64, r rng) int {
	ck := dwell.ClientKindProspect
	if r.chance(0.4) {
		ck = dwell.ClientKindCustomer
	}
	i := len(c.Sites)
	c.Sites = append(c.Sites, Site{
		Client:  dwell.Client{ID: dwell.ClientID(id), DisplayName: name, Kind: ck, Fence: fence},
		Kind:    kind,
		Cluster: -1,
		AcrossM: across,
		shape:   sh,
	})
	c.byID[dwell.ClientID(id)] = i
	c.grid.add(i, sh.c, sh.bound)
	c.maxBound = max(c.maxBound, sh.bound)
	return i
}

func (c *City) placeMall(r rng, m int) bool {
	for range 500 {
		w, h := r.uniform(150, 260), r.uniform(90, 160)
		p := c.inDisc(r, 0.7*c.Config.RadiusM)
		if !c.fits(p, math.Hypot(w, h)/2, 60) {
			continue
		}
		id := fmt.Sprintf("m%02d", m+1)
		c.addPolygon(id, fmt.Sprintf("Mall %d", m+1), SiteMall, [][]vec{rect(p, w, h, c.theta)}, h/2, r)
		u, v := polar(c.theta, 1), polar(c.theta+math.Pi/2, 1)
		var stores []vec
		var radii []float64
		want := 3 + r.IntN(2)
		for try := 0; try < 200 && len(stores) < want; try++ {
			rad := r.uniform(12, 25)
			q := p.add(u.mul(r.uniform(-w/2+rad+5, w/2-rad-5))).add(v.mul(r.uniform(-h/2+rad+5, h/2-rad-5)))
			ok := true
			for k, s := range stores {
				if q.dist(s) < rad+radii[k]+5 {
					ok = false
				}
			}
			if ok {
				stores = append(stores, q)
				radii = append(radii, rad)
			}
		}
		for k, q := range stores {
			c.addCircle(fmt.Sprintf("%s-%02d", id, k+1), fmt.Sprintf("Mall %d store %d", m+1, k+1), SiteMallStore, q, round(radii[k], 10), r)
		}
		return true
	}
	return false
}

func (c *City) placeSite(r rng, i int) bool {
	id, name := fmt.Sprintf("c%04d", i+1), fmt.Sprintf("Client %d", i+1)
	for range 2000 {
		p := c.inDisc(r, c.Config.RadiusM)
		if !r.chance(c.Config.PolygonShare) {
			rad := round(math.Exp(r.uniform(math.Log(25), math.Log(150))), 10)
			if !c.fits(p, rad, 30) {
				continue
			}
			c.addCircle(id, name, SiteOffice, p, rad, r)
			return true
		}
		w := r.uniform(40, 200)
		h := r.uniform(30, min(w, 150))
		angle := c.theta
		if r.chance(0.3) {
			angle = r.uniform(0, math.Pi)
		}
		if !c.fits(p, math.Hypot(w, h)/2, 30) {
			continue
		}
		var rings [][]vec
		inner := h / 2
		switch x := r.Float64(); {
		case x < 0.6:
			rings = [][]vec{rect(p, w, h, angle)}
		case x < 0.8:
			cw, ch := w*r.uniform(0.3, 0.6), h*r.uniform(0.3, 0.6)
			rings = [][]vec{lShape(p, w, h, cw, ch, angle)}
			inner = min(w-cw, h-ch) / 2
		default:
			rings = [][]vec{rect(p, w, h, angle), rect(p, w*0.4, h*0.4, angle)}
			inner = h * 0.3 / 2
		}
		c.addPolygon(id, name, SiteBuilding, rings, inner, r)
		return true
	}
	return false
}

// placeCluster lays out a street of shops on both sides, each 3 to 15 m
// from the previous one on its side and 12 to 40 m along the street from
// the previous shop on either side.
func (c *City) placeCluster(r rng, k int) bool {
	type shop struct {
		p             vec
		rad, w, d     float64
		along, side   float64
		bound, across float64
	}
	for range 500 {
		origin := c.inDisc(r, 0.8*c.Config.RadiusM)
		angle := c.theta
		if r.chance(0.5) {
			angle += math.Pi / 2
		}
		if r.chance(0.5) {
			angle += math.Pi
		}
		cl := Cluster{origin: origin, dir: polar(angle, 1)}
		var shops []shop
		s := 0.0
		lastEnd := map[float64]float64{1: math.Inf(-1), -1: math.Inf(-1)}
		ok := true
		for j := range c.Config.ShopsPerCluster {
			var sh shop
			sh.side = 1
			if r.chance(0.5) {
				sh.side = -1
			}
			halfAlong, halfDepth := 0.0, 0.0
			if r.chance(0.5) {
				sh.rad = round(r.uniform(10, 15), 10)
				halfAlong, halfDepth = sh.rad, sh.rad
				sh.bound, sh.across = sh.rad, 2*sh.rad
			} else {
				for {
					sh.w, sh.d = round(r.uniform(9, 21), 10), round(r.uniform(9, 21), 10)
					if diag := math.Hypot(sh.w, sh.d); diag >= 15.5 && diag <= 29.5 {
						break
					}
				}
				halfAlong, halfDepth = sh.w/2, sh.d/2
				sh.bound, sh.across = math.Hypot(sh.w, sh.d)/2, math.Hypot(sh.w, sh.d)
			}
			if j > 0 {
				s += r.uniform(12, 40)
			}
			s = max(s, lastEnd[sh.side]+r.uniform(3, 15)+halfAlong)
			lastEnd[sh.side] = s + halfAlong
			sh.along = s
			sh.p = cl.point(s, sh.side*(streetHalfWidthM+1+halfDepth))
			if !c.fits(sh.p, sh.bound, 40) {
				ok = false
				break
			}
			shops = append(shops, sh)
		}
		if !ok || !c.clear(cl.parking(), 40) || cl.parking().norm() > c.Config.RadiusM {
			continue
		}
		for j, sh := range shops {
			id, name := fmt.Sprintf("s%02d-%02d", k+1, j+1), fmt.Sprintf("Shop %d-%d", k+1, j+1)
			var i int
			if sh.rad > 0 {
				i = c.addCircle(id, name, SiteShop, sh.p, sh.rad, r)
			} else {
				i = c.addPolygon(id, name, SiteShop, [][]vec{rect(sh.p, sh.w, sh.d, angle)}, min(sh.w, sh.d)/2, r)
			}
			c.Sites[i].Cluster, c.Sites[i].along, c.Sites[i].side = k, sh.along, sh.side
			cl.Sites = append(cl.Sites, i)
		}
		c.Clusters = append(c.Clusters, cl)
		return true
	}
	return false
}

// visitPoint returns where a rep stands visiting site i: at least the
// site's margin inside its fence and, where fences overlap, nearer to this
// site's centre than to that of any other fence containing it, so that
// DESIGN's rule (longest inside, ties to the nearest centre) names this
// client.
func (c *City) visitPoint(r rng, i int) (vec, bool) {
	s := &c.Sites[i].shape
	for range 500 {
		p := s.c.add(polar(r.angle(), s.bound*math.Sqrt(r.Float64())))
		if s.signed(p) > -s.marginM {
			continue
		}
		ok := true
		c.grid.near(p, c.maxBound, func(j int) {
			o := &c.Sites[j].shape
			if j != i && o.signed(p) <= 1 && p.dist(o.c) <= p.dist(s.c)+1 {
				ok = false
			}
		})
		if ok {
			return p, true
		}
	}
	return vec{}, false
}

// atSite reports whether p is at least depthM inside site i's fence and
// no other fence containing p has a nearer centre (DESIGN's tie rule).
func (c *City) atSite(i int, p vec, depthM float64) bool {
	s := &c.Sites[i].shape
	if s.signed(p) > -depthM {
		return false
	}
	ok := true
	c.grid.near(p, c.maxBound, func(j int) {
		if o := &c.Sites[j].shape; j != i && o.signed(p) <= 0 && p.dist(o.c) < p.dist(s.c) {
			ok = false
		}
	})
	return ok
}

// parkingPoint returns where a rep parks for site i: 15 to 60 m outside
// its fence (farther if need be) and 15 m clear of every fence, or the
// clearest place tried.
func (c *City) parkingPoint(r rng, i int) vec {
	s := &c.Sites[i].shape
	var best vec
	bestClear := math.Inf(-1)
	for range 100 {
		dir := r.angle()
		for d := s.bound + r.uniform(15, 60); d < s.bound+600; d += 10 {
			p := s.c.add(polar(dir, d))
			if cl := c.clearance(p, 15); cl >= 15 {
				return p
			} else if cl > bestClear {
				best, bestClear = p, cl
			}
		}
	}
	return best
}

// carParkPoint returns a car park 200 to 600 m from site i's fence, 30 m
// clear of every fence and inside the city, or false.
func (c *City) carParkPoint(r rng, i int) (vec, bool) {
	s := &c.Sites[i].shape
	for range 200 {
		p := s.c.add(polar(r.angle(), s.bound+r.uniform(200, 600)))
		if d := s.signed(p); d >= 200 && d <= 650 && c.clear(p, 30) && p.norm() <= c.Config.RadiusM {
			return p, true
		}
	}
	return vec{}, false
}

// idleSpot returns a place for a break 300 to 1,500 m from p (farther if
// need be), 100 m clear of every fence and inside the city, or false.
func (c *City) idleSpot(r rng, p vec) (vec, bool) {
	for i := range 2000 {
		far := 1500 + float64(i/50)*500
		q := p.add(polar(r.angle(), r.uniform(300, far)))
		if q.norm() <= c.Config.RadiusM && c.clear(q, 100) {
			return q, true
		}
	}
	return vec{}, false
}
