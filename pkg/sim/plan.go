package sim

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// day is the state of one Day call. Times are milliseconds after the
// working day's start; positions are in the city's plane.
type day struct {
	seed  uint64
	city  *City
	p     Profile
	cfg   DayConfig
	start time.Time
	span  int64

	territory, home vec

	all       []stop       // the planned visits, in order
	breaks    map[int]stop // idle breaks after all[j]
	homeStart int64        // time at home before leaving
	stops     []stop       // the executed stops
	pauses    []window     // per stop: the car-park pause before it, if any
	track     []wp
	// runStart and runEnd give, for each track interval i (track[i] to
	// track[i+1]) that is stationary, the start and end of the whole
	// stationary run it belongs to.
	runStart, runEnd []int64
	segs             []tseg
	visits           []int // indexes of the KindVisit segments
	hidden           int   // visits inside phone-off gaps
	gaps             []window
	silences         []window
	offline          []window
	mocks            []mockWindow
	ins              []claim
	outs             []claim
	obs              []obsB
	batches          []batchB
}

type window struct{ t0, t1 int64 }

func (w window) has(t int64) bool { return t >= w.t0 && t < w.t1 }

// stop is a planned stay: a visit, an idle break or home.
type stop struct {
	kind    Kind
	site    int // visited site, or -1
	pos     vec // where the rep stays
	park    vec // where the car is left for it
	cluster int // shop street of a shop, or -1
	dur     int64
	home    bool
	checkIn bool
	carPark bool
}

type wp struct {
	t int64
	p vec
}

// tseg is a truth segment in plan units.
type tseg struct {
	kind   Kind
	t0, t1 int64
	site   int
	stop   int // index in stops for visits and idle stops, else -1
	pos    vec
	distM  float64
}

const (
	minute = int64(60 * 1000)
	second = int64(1000)
	// endIdleMin is the least time at home at the end of the day, and
	// the least length of any idle stop: well above idle_min.
	endIdleMin = 10 * minute
)

// plan draws the stops of the day and executes them into a track and
// truth segments. It starts from a drawn number of visits, adds visits
// (up to Visits.Max) while the rep would be home more than 90 minutes
// before the end of the day, and drops visits (not below Visits.Min), then
// breaks, then visit time, until the day fits its working hours with at
// least endIdleMin at home.
func (d *day) plan() error {
	r := newRNG(d.seed, streamIntent)
	n, err := d.intent(r)
	if err != nil {
		return err
	}
	type saved struct {
		stops, all   []stop
		pauses       []window
		track        []wp
		segs         []tseg
		runs0, runs1 []int64
	}
	var keep *saved
	breaks := true
	for attempt := uint64(0); ; attempt++ {
		d.stops = d.build(n, breaks)
		ok := d.execute(newRNG(d.seed+attempt*0x2545f4914f6cdd1d, streamExec))
		switch {
		case ok && breaks && n < len(d.all) && d.segs[len(d.segs)-1].t1-d.segs[len(d.segs)-1].t0 > 90*minute:
			keep = &saved{d.stops, slices.Clone(d.all), d.pauses, d.track, d.segs, d.runStart, d.runEnd}
			n++
		case ok:
			return nil
		case keep != nil:
			d.stops, d.all, d.pauses, d.track, d.segs, d.runStart, d.runEnd =
				keep.stops, keep.all, keep.pauses, keep.track, keep.segs, keep.runs0, keep.runs1
			return nil
		case n > d.p.Visits.Min:
			n--
		case breaks:
			breaks = false
		case !d.shorten():
			return fmt.Errorf("%d visits do not fit in %v", d.p.Visits.Min, time.Duration(d.span)*time.Millisecond)
		}
	}
}

// intent draws what the rep means to do: up to Visits.Max sites in the
// order they would be visited, how long each visit lasts, which get a
// check-in, and breaks after some of them. It returns the number of
// visits drawn from Visits.
func (d *day) intent(r rng) (int, error) {
	n := r.ints(d.p.Visits)
	var err error
	if d.p.Canvassing {
		d.all, err = d.canvass(r, d.p.Visits.Max)
	} else {
		d.all, err = d.callOn(r, d.p.Visits.Max)
	}
	if err != nil {
		return 0, err
	}
	// Breaks go between visits; on a canvassing day, between streets.
	var slots []int
	for j := range d.all {
		if !d.p.Canvassing || j == len(d.all)-1 || d.all[j].cluster != d.all[j+1].cluster {
			slots = append(slots, j)
		}
	}
	// Breaks are drawn among the slots of the first n visits so that a
	// drawn break is not lost when the day is short.
	first := 0
	for first < len(slots) && slots[first] < min(n, len(d.all)) {
		first++
	}
	k := r.ints(d.p.IdleBreaks)
	d.breaks = map[int]stop{}
	pick := func(slots []int, k int) {
		for _, i := range r.Perm(len(slots))[:min(k, len(slots))] {
			j := slots[i]
			if p, ok := d.city.idleSpot(r, d.all[j].pos); ok {
				d.breaks[j] = stop{kind: KindIdle, site: -1, pos: p, park: p, cluster: -1,
					dur: max(endIdleMin, r.ms(d.p.IdleDuration))}
			}
		}
	}
	if first == 0 {
		first = min(1, len(slots))
	}
	pick(slots[:first], k)
	d.homeStart = r.ms(DurationRange{10 * time.Minute, 20 * time.Minute})
	return min(n, len(d.all)), nil
}

// build returns the stops of a day with the first n planned visits: home,
// the visits with their breaks (if breaks), home.
func (d *day) build(n int, breaks bool) []stop {
	home := stop{kind: KindIdle, site: -1, pos: d.home, park: d.home, cluster: -1, home: true}
	first := home
	first.dur = d.homeStart
	stops := []stop{first}
	for j, v := range d.all[:n] {
		stops = append(stops, v)
		if b, ok := d.breaks[j]; ok && breaks {
			stops = append(stops, b)
		}
	}
	return append(stops, home)
}

// visitStop returns the stop for a visit to site i, or false if the site
// has no room to stand in.
func (d *day) visitStop(r rng, i int) (stop, bool) {
	p, ok := d.city.visitPoint(r, i)
	if !ok {
		return stop{}, false
	}
	s := stop{kind: KindVisit, site: i, pos: p, cluster: d.city.Sites[i].Cluster, dur: r.logMS(d.p.VisitDuration)}
	if s.cluster >= 0 {
		s.park = d.city.Clusters[s.cluster].parking()
	} else {
		s.park = d.city.parkingPoint(r, i)
	}
	s.checkIn = r.chance(d.p.CheckInShare)
	return s, true
}

// withCarPark makes s's check-in one from a car park, when one is found.
func (d *day) withCarPark(r rng, s stop) stop {
	if s.checkIn && r.chance(d.p.CarParkShare) {
		if p, ok := d.city.carParkPoint(r, s.site); ok {
			s.carPark, s.park = true, p
		}
	}
	return s
}

// callOn picks n offices, buildings, malls and mall stores near the rep's
// territory, ordered by nearest neighbour from home.
func (d *day) callOn(r rng, n int) ([]stop, error) {
	c := d.city
	var pool []int
	for i, s := range c.Sites {
		if s.Kind != SiteShop {
			pool = append(pool, i)
		}
	}
	slices.SortStableFunc(pool, func(a, b int) int {
		return cmp.Compare(c.Sites[a].shape.c.dist(d.territory), c.Sites[b].shape.c.dist(d.territory))
	})
	pool = pool[:min(len(pool), max(4*n, 20))]
	var chosen []stop
	for _, j := range r.Perm(len(pool)) {
		if len(chosen) == n {
			break
		}
		if s, ok := d.visitStop(r, pool[j]); ok {
			chosen = append(chosen, s)
		}
	}
	if len(chosen) < d.p.Visits.Min {
		return nil, fmt.Errorf("the city has %d sites to visit, the profile needs %d", len(chosen), d.p.Visits.Min)
	}
	// Nearest neighbour from home.
	var out []stop
	at := d.home
	for len(chosen) > 0 {
		best := 0
		for j := range chosen {
			if chosen[j].pos.dist(at) < chosen[best].pos.dist(at) {
				best = j
			}
		}
		s := d.withCarPark(r, chosen[best])
		out = append(out, s)
		at = s.pos
		chosen = slices.Delete(chosen, best, best+1)
	}
	return out, nil
}

// canvass walks n shops: the streets nearest the territory, each walked
// in one direction skipping a third of its shops.
func (d *day) canvass(r rng, n int) ([]stop, error) {
	c := d.city
	order := make([]int, len(c.Clusters))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(c.Clusters[a].parking().dist(d.territory), c.Clusters[b].parking().dist(d.territory))
	})
	var out []stop
	for _, k := range order {
		if len(out) == n {
			break
		}
		sites := slices.Clone(c.Clusters[k].Sites)
		if r.chance(0.5) {
			slices.Reverse(sites)
		}
		first := true
		for _, i := range sites {
			if len(out) == n {
				break
			}
			if r.chance(1.0 / 3) {
				continue
			}
			s, ok := d.visitStop(r, i)
			if !ok {
				continue
			}
			if first {
				s = d.withCarPark(r, s)
				first = false
			}
			out = append(out, s)
		}
	}
	if len(out) < d.p.Visits.Min {
		return nil, fmt.Errorf("the city has %d shops to canvass, the profile needs %d", len(out), d.p.Visits.Min)
	}
	return out, nil
}

// shorten makes every planned visit a fifth shorter, not below the
// profile's minimum. It returns false when no visit can be shortened.
func (d *day) shorten() bool {
	cut := false
	for i := range d.all {
		if s := &d.all[i]; s.dur > ms(d.p.VisitDuration.Min) {
			s.dur = max(ms(d.p.VisitDuration.Min), s.dur*4/5)
			cut = true
		}
	}
	return cut
}

// execute turns the stops into a track and truth segments, drawing speeds
// and traffic from r. It returns false if the day runs past its end.
func (d *day) execute(r rng) bool {
	e := &executor{d: d, r: r, pos: d.home, car: d.home, track: []wp{{0, d.home}}}
	d.pauses = make([]window, len(d.stops))
	last := len(d.stops) - 1
	for k := range d.stops {
		if k > 0 {
			e.travel(k-1, k)
		}
		dur := d.stops[k].dur
		if k == last {
			dur = d.span - e.t
			if dur < endIdleMin {
				return false
			}
		}
		e.stay(k, dur)
	}
	d.track, d.segs = e.track, e.segs
	d.runStart = make([]int64, len(d.track)-1)
	d.runEnd = make([]int64, len(d.track)-1)
	for i := range d.runStart {
		d.runStart[i] = d.track[i].t
		if i > 0 && d.stationary(i-1) && d.stationary(i) {
			d.runStart[i] = d.runStart[i-1]
		}
	}
	for i := len(d.runEnd) - 1; i >= 0; i-- {
		d.runEnd[i] = d.track[i+1].t
		if i+1 < len(d.runEnd) && d.stationary(i) && d.stationary(i+1) {
			d.runEnd[i] = d.runEnd[i+1]
		}
	}
	return true
}

type executor struct {
	d     *day
	r     rng
	t     int64
	pos   vec
	car   vec
	distM float64
	track []wp
	segs  []tseg
}

// moveTo goes straight to q at speed metres per second.
func (e *executor) moveTo(q vec, speed float64) {
	dist := e.pos.dist(q)
	if dist < 0.01 {
		return
	}
	e.t += max(1, int64(math.Ceil(dist/speed*1000)))
	e.pos = q
	e.distM += dist
	e.track = append(e.track, wp{e.t, q})
}

// wait stands still for dt milliseconds.
func (e *executor) wait(dt int64) {
	if dt <= 0 {
		return
	}
	e.t += dt
	e.track = append(e.track, wp{e.t, e.pos})
}

// walk goes through pts on foot at 1.0 to 1.5 m/s.
func (e *executor) walk(pts ...vec) {
	speed := e.r.uniform(1.0, 1.5)
	for _, p := range pts {
		e.moveTo(p, speed)
	}
}

// drive takes the car from where it is to q along the street grid (an L
// through one corner) with traffic stops, the rep in it.
func (e *executor) drive(q vec) {
	p, c := e.pos, e.d.city
	u, v := polar(c.theta, 1), polar(c.theta+math.Pi/2, 1)
	dq := q.sub(p)
	corner := p.add(u.mul(dq.dot(u)))
	if e.r.chance(0.5) {
		corner = p.add(v.mul(dq.dot(v)))
	}
	kmh := func() float64 { return e.r.floats(e.d.p.SpeedKMH) / 3.6 }
	nextStop := func() float64 {
		if e.d.p.TrafficStopsPerKM <= 0 {
			return math.Inf(1)
		}
		return 200 + e.r.ExpFloat64()*1000/e.d.p.TrafficStopsPerKM
	}
	total := p.dist(corner) + corner.dist(q)
	along, stopAt := 0.0, nextStop()
	speed := kmh()
	for _, leg := range [][2]vec{{p, corner}, {corner, q}} {
		a, b := leg[0], leg[1]
		l := a.dist(b)
		for stopAt < along+l && stopAt < total-100 {
			e.moveTo(lerp(a, b, (stopAt-along)/l), speed)
			ts := e.d.p.TrafficStop
			f := e.r.Float64()
			e.wait(ms(ts.Min) + int64(f*f*float64(ms(ts.Max)-ms(ts.Min))))
			speed = kmh()
			stopAt += nextStop()
		}
		e.moveTo(b, speed)
		along += l
		speed = kmh()
	}
	e.car = q
}

// streetPoint returns the point of shop site i's street at lateral metres
// from the centre line, on the shop's side.
func (e *executor) streetPoint(i int, lateral float64) vec {
	s := &e.d.city.Sites[i]
	return e.d.city.Clusters[s.Cluster].point(s.along, s.side*lateral)
}

func (e *executor) door(i int) vec { return e.streetPoint(i, streetHalfWidthM+0.5) }
func (e *executor) kerb(i int) vec { return e.streetPoint(i, 0) }

// travel takes the rep from stop a to stop b: along the street between
// shops of one street, on foot between sites less than 250 m apart, else
// on foot to the car, by car to b's parking (pausing there for a car-park
// check-in) and on foot to b.
func (e *executor) travel(a, b int) {
	sa, sb := &e.d.stops[a], &e.d.stops[b]
	t0 := e.t
	e.distM = 0
	switch {
	case sa.cluster >= 0 && sa.cluster == sb.cluster:
		e.walk(e.door(sa.site), e.kerb(sa.site), e.kerb(sb.site), e.door(sb.site), sb.pos)
	case sb.kind == KindVisit && sa.kind == KindVisit && !sb.carPark && sa.cluster < 0 && sb.cluster < 0 &&
		sa.pos.dist(sb.pos) < 250:
		e.walk(sb.pos)
	default:
		if sa.cluster >= 0 {
			e.walk(e.door(sa.site), e.kerb(sa.site), e.car)
		} else {
			e.walk(e.car)
		}
		e.drive(sb.park)
		if sb.carPark {
			pause := e.r.msBetween(minute, 3*minute)
			e.d.pauses[b] = window{e.t, e.t + pause}
			e.wait(pause)
		}
		if sb.cluster >= 0 {
			e.walk(e.kerb(sb.site), e.door(sb.site), sb.pos)
		} else {
			e.walk(sb.pos)
		}
	}
	if e.t > t0 {
		e.segs = append(e.segs, tseg{kind: KindTravel, t0: t0, t1: e.t, site: -1, stop: -1, distM: e.distM})
	}
}

// stay keeps the rep at stop k for dt milliseconds.
func (e *executor) stay(k int, dt int64) {
	s := &e.d.stops[k]
	t0 := e.t
	e.wait(dt)
	e.segs = append(e.segs, tseg{kind: s.kind, t0: t0, t1: e.t, site: s.site, stop: k, pos: s.pos})
}

// stationary reports whether track interval i has the rep standing still.
func (d *day) stationary(i int) bool { return d.track[i].p == d.track[i+1].p }

// interval returns the track interval containing t: track[i].t <= t <
// track[i+1].t, clamped to the first and last.
func (d *day) interval(t int64) int {
	i, _ := slices.BinarySearchFunc(d.track, t, func(w wp, t int64) int {
		return cmp.Compare(w.t, t+1)
	})
	return min(max(i-1, 0), len(d.track)-2)
}

// posAt returns the rep's true position at t.
func (d *day) posAt(t int64) vec {
	i := d.interval(t)
	a, b := d.track[i], d.track[i+1]
	f := math.Max(0, math.Min(1, float64(t-a.t)/float64(b.t-a.t)))
	return lerp(a.p, b.p, f)
}

// velAt returns the rep's true velocity at t in metres per second.
func (d *day) velAt(t int64) vec {
	i := d.interval(t)
	a, b := d.track[i], d.track[i+1]
	return b.p.sub(a.p).mul(1000 / float64(b.t-a.t))
}

// pathM returns the length of the true path between t0 and t1.
func (d *day) pathM(t0, t1 int64) float64 {
	total := 0.0
	prev := d.posAt(t0)
	for i := d.interval(t0) + 1; i < len(d.track) && d.track[i].t < t1; i++ {
		total += prev.dist(d.track[i].p)
		prev = d.track[i].p
	}
	return total + prev.dist(d.posAt(t1))
}

// segAt returns the index of the truth segment containing t.
func (d *day) segAt(t int64) int {
	i, _ := slices.BinarySearchFunc(d.segs, t, func(s tseg, t int64) int { return cmp.Compare(s.t1, t+1) })
	return min(i, len(d.segs)-1)
}

// phoneOff switches the phone off during some trips for PhoneOffDuration
// or a little longer. Each gap starts and ends inside a trip, at least
// 20 s from its ends, at places at least 150 m apart; the stops in between
// disappear into one KindGap segment and the trips at either end are cut.
func (d *day) phoneOff(r rng) {
	n := r.ints(d.p.PhoneOffGaps)
	var trips []int
	for i, s := range d.segs {
		if s.kind == KindTravel && s.t1-s.t0 >= minute {
			trips = append(trips, i)
		}
	}
	for range n {
		for try := 0; try < 20 && len(trips) > 0; try++ {
			want := r.ms(d.p.PhoneOffDuration)
			a := d.segs[trips[r.IntN(len(trips))]]
			off := r.msBetween(a.t0+20*second, a.t1-20*second)
			on := int64(-1)
			for _, j := range trips {
				b := d.segs[j]
				if b.t1-20*second > off+want {
					on = max(off+want, b.t0+20*second)
					break
				}
			}
			if on < 0 || on-off > want*3/2+10*minute || d.posAt(off).dist(d.posAt(on)) < 150 {
				continue
			}
			w := window{off, on}
			if slices.ContainsFunc(d.gaps, func(g window) bool { return w.t0 < g.t1+10*minute && g.t0 < w.t1+10*minute }) {
				continue
			}
			d.gaps = append(d.gaps, w)
			break
		}
	}
	slices.SortFunc(d.gaps, func(a, b window) int { return cmp.Compare(a.t0, b.t0) })
	var segs []tseg
	for _, s := range d.segs {
		if s.kind == KindVisit && slices.ContainsFunc(d.gaps, func(g window) bool { return g.has(s.t0) }) {
			d.hidden++
		}
		t0 := s.t0
		for _, g := range d.gaps {
			if g.t1 <= t0 || g.t0 >= s.t1 {
				continue
			}
			if g.t0 > t0 {
				segs = append(segs, d.cut(s, t0, g.t0))
			}
			t0 = max(t0, g.t1)
		}
		if t0 < s.t1 {
			segs = append(segs, d.cut(s, t0, s.t1))
		}
	}
	for _, g := range d.gaps {
		segs = append(segs, tseg{kind: KindGap, t0: g.t0, t1: g.t1, site: -1, stop: -1,
			distM: d.posAt(g.t0).dist(d.posAt(g.t1))})
	}
	slices.SortFunc(segs, func(a, b tseg) int { return cmp.Compare(a.t0, b.t0) })
	d.segs = segs
	for i, s := range d.segs {
		if s.kind == KindVisit {
			d.visits = append(d.visits, i)
		}
	}
}

// cut returns s restricted to [t0, t1). Only trips are ever cut.
func (d *day) cut(s tseg, t0, t1 int64) tseg {
	if t0 == s.t0 && t1 == s.t1 {
		return s
	}
	if s.kind != KindTravel {
		panic("sim: a phone-off gap cut a stop")
	}
	s.t0, s.t1 = t0, t1
	s.distM = d.pathM(t0, t1)
	return s
}
