package sim

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// claim is a check-in or check-out in plan units.
type claim struct {
	t       int64
	recv    int64 // when the server receives it
	site    int
	mode    CheckInMode // check-ins only
	honest  bool
	visit   int // index in d.visits, or -1
	in      int // check-outs: index in d.ins
	truth   vec
	obs     obsB // its fix
	outcome outcome
}

type outcome struct {
	o      dwell.Outcome
	follow dwell.Date
	reason dwell.RejectionReason
	text   string
}

// mockWindow is a stretch during which the phone reports a mock location.
type mockWindow struct {
	window
	at vec
}

// obsB is an observation in plan units.
type obsB struct {
	t       int64
	src     Source
	pos     vec // reported
	truth   vec
	accM    float64
	speed   float64
	bearing float64
	altM    float64
	hasAlt  bool
	mock    bool
	indoor  bool
	outlier bool
	claim   int // index in ins (check-in) or outs (check-out)
}

// claims draws the check-ins and check-outs: for a share of the visible
// visits an on-site (at the spot or at the door, or car-park) check-in
// and, unless forgotten, an on-site check-out; then phantom and mock
// check-ins during idle stops. What r drew before the door, low-accuracy
// and nearby check-ins existed is drawn as it was; those draw from q.
func (d *day) claims(r, q rng) {
	for v, si := range d.visits {
		sg := d.segs[si]
		st := &d.stops[sg.stop]
		if !st.checkIn {
			continue
		}
		c := claim{site: sg.site, visit: v, mode: ModeOnSite, honest: true}
		if st.carPark {
			w := d.pauses[sg.stop]
			if w.t1 <= w.t0 || slices.ContainsFunc(d.gaps, func(g window) bool { return g.t0 < w.t1 && w.t0 < g.t1 }) {
				continue
			}
			c.mode, c.honest = ModeCarPark, false
			c.t = r.msBetween(w.t0+5*second, w.t1-5*second)
		} else {
			c.t = sg.t0 + r.msBetween(0, min(2*minute, (sg.t1-sg.t0)/4))
			if q.chance(d.p.DoorCheckInShare) {
				if t, ok := d.doorTime(si, q.uniform(1, 5)); ok {
					// A verified check-in starts the visit (DESIGN): the
					// walk on from the door is part of it.
					c.t, c.mode = t, ModeAtDoor
					d.segs[si-1].t1, d.segs[si].t0 = t, t
				}
			}
		}
		c.truth = d.posAt(c.t)
		c.obs = d.claimFix(r, c.t, c.truth, c.honest, SourceCheckIn)
		if c.honest && q.chance(d.p.LowAccuracyCheckInShare) {
			c.obs = d.phoneFix(q, c.t, c.truth, d.p.LowCheckInAccuracyM, true, SourceCheckIn)
		}
		d.ins = append(d.ins, c)
		if r.chance(d.p.ForgetCheckOutShare) {
			continue
		}
		o := claim{site: sg.site, visit: v, honest: true, in: len(d.ins) - 1}
		o.t = sg.t1 - r.msBetween(0, min(minute, (sg.t1-sg.t0)/6))
		o.truth = d.posAt(o.t)
		o.obs = d.claimFix(r, o.t, o.truth, true, SourceCheckOut)
		o.outcome = d.outcome(r)
		d.outs = append(d.outs, o)
	}

	// Phantom and mock check-ins take idle stops of 12 min or more.
	var idle []int
	for i, s := range d.segs {
		if s.kind == KindIdle && s.t1-s.t0 >= 12*minute {
			idle = append(idle, i)
		}
	}
	phantoms, mocks := r.ints(d.p.PhantomCheckIns), r.ints(d.p.MockCheckIns)
	for k := range phantoms + mocks {
		if len(idle) == 0 {
			break
		}
		j := r.IntN(len(idle))
		sg := d.segs[idle[j]]
		idle = slices.Delete(idle, j, j+1)
		mock := k >= phantoms
		far := 2000.0
		if mock {
			far = 5000
		}
		var targets []int
		for i, s := range d.city.Sites {
			if dist := s.shape.signed(sg.pos); dist >= 200 && dist <= far {
				targets = append(targets, i)
			}
		}
		if len(targets) == 0 {
			continue
		}
		site := targets[r.IntN(len(targets))]
		at, ok := d.city.visitPoint(r, site)
		if mock && !ok {
			continue
		}
		c := claim{site: site, visit: -1, mode: ModePhantom}
		c.t = sg.t0 + r.msBetween(minute, (sg.t1-sg.t0)/3)
		c.truth = sg.pos
		end := sg.t1 - minute
		tOut := c.t + r.msBetween(3*minute, min(30*minute, end-c.t))
		forget := r.chance(d.p.ForgetCheckOutShare)
		if mock {
			c.mode = ModeMock
			c.obs = d.mockFix(r, c.t, at, c.truth, SourceCheckIn)
			w := mockWindow{window{c.t, tOut}, at}
			if forget {
				w.t1 = min(end, c.t+r.msBetween(5*minute, 20*minute))
			}
			d.mocks = append(d.mocks, w)
		} else {
			c.obs = d.claimFix(r, c.t, c.truth, false, SourceCheckIn)
		}
		d.ins = append(d.ins, c)
		if forget {
			continue
		}
		o := claim{site: site, visit: -1, in: len(d.ins) - 1, t: tOut, truth: sg.pos}
		if mock {
			o.obs = d.mockFix(r, o.t, at, o.truth, SourceCheckOut)
		} else {
			o.obs = d.claimFix(r, o.t, o.truth, false, SourceCheckOut)
		}
		o.outcome = d.outcome(r)
		d.outs = append(d.outs, o)
	}
	d.nearby(q)
}

// nearby draws the NearbyCheckIns: during a visit or idle stop of 12 min
// or more, a check-in for a client whose fence is 80 to 500 m from the
// rep, with the phone's fix of the moment, and unless forgotten a
// check-out 3 to 30 min later during the same stop.
func (d *day) nearby(q rng) {
	var stops []int
	for i, s := range d.segs {
		if (s.kind == KindVisit || s.kind == KindIdle) && s.t1-s.t0 >= 12*minute {
			stops = append(stops, i)
		}
	}
	for range q.ints(d.p.NearbyCheckIns) {
		if len(stops) == 0 {
			return
		}
		sg := d.segs[stops[q.IntN(len(stops))]]
		var targets []int
		d.city.grid.near(sg.pos, 500+d.city.maxBound, func(i int) {
			if dist := d.city.Sites[i].shape.signed(sg.pos); dist >= 80 && dist <= 500 {
				targets = append(targets, i)
			}
		})
		if len(targets) == 0 {
			continue
		}
		slices.Sort(targets) // the grid's order is not the draw's business
		site := targets[q.IntN(len(targets))]
		indoor := sg.kind == KindVisit || d.stops[sg.stop].home
		acc := d.p.OutdoorAccuracyM
		if indoor {
			acc = d.p.IndoorAccuracyM
		}
		c := claim{site: site, visit: -1, mode: ModeNearby, truth: sg.pos}
		c.t = sg.t0 + q.msBetween(3*minute, (sg.t1-sg.t0)/2)
		c.obs = d.phoneFix(q, c.t, c.truth, acc, indoor, SourceCheckIn)
		d.ins = append(d.ins, c)
		if q.chance(d.p.ForgetCheckOutShare) {
			continue
		}
		o := claim{site: site, visit: -1, in: len(d.ins) - 1, truth: sg.pos}
		o.t = c.t + q.msBetween(3*minute, min(30*minute, sg.t1-minute-c.t))
		o.obs = d.phoneFix(q, o.t, o.truth, acc, indoor, SourceCheckOut)
		o.outcome = d.outcome(q)
		d.outs = append(d.outs, o)
	}
}

// doorTime returns when the rep, walking in to visit segment si, was
// depthM metres inside the client's fence and at that site by DESIGN's
// tie rule since: the start of the visit at the latest, within the trip
// before it and at most 5 min before the visit.
func (d *day) doorTime(si int, depthM float64) (int64, bool) {
	if si == 0 || d.segs[si-1].kind != KindTravel {
		return 0, false
	}
	sg, from := d.segs[si], max(d.segs[si-1].t0, d.segs[si].t0-5*minute)
	for t := sg.t0; t-second >= from; t -= second {
		if !d.city.atSite(sg.site, d.posAt(t-second), depthM) {
			return t, true
		}
	}
	return 0, false
}

// phoneFix returns the fix the phone has at t without waiting for a
// better one: accuracy drawn from acc, the error a Gaussian whose radius
// is within it 68 % of the time, not kept within it.
func (d *day) phoneFix(r rng, t int64, truth vec, acc FloatRange, indoor bool, src Source) obsB {
	a := round(r.floats(acc), 10)
	return obsB{t: t, src: src, truth: truth, pos: truth.add(r.gauss2().mul(sigmaOf(a))), accM: a,
		speed: -1, bearing: -1, indoor: indoor}
}

// claimFix returns the fresh fix the app takes for a check-in or
// check-out: accuracy 5 to 20 m indoors, 3 to 15 m outdoors, and an error
// within that accuracy (the app waits for a fix it trusts).
func (d *day) claimFix(r rng, t int64, truth vec, indoor bool, src Source) obsB {
	acc := r.uniform(3, 15)
	if indoor {
		acc = r.uniform(5, 20)
	}
	acc = round(acc, 10)
	return obsB{t: t, src: src, truth: truth, pos: truth.add(r.rayleighWithin(acc)), accM: acc,
		speed: -1, bearing: -1, indoor: indoor}
}

// mockFix returns a mock-location fix at at, whatever the truth.
func (d *day) mockFix(r rng, t int64, at, truth vec, src Source) obsB {
	acc := 3.0
	if r.chance(0.5) {
		acc = 5
	}
	return obsB{t: t, src: src, truth: truth, pos: at.add(polar(r.angle(), r.uniform(0, 2))), accM: acc,
		speed: 0, bearing: -1, mock: true}
}

// outcome draws a meeting outcome: positive 30 %, follow-up 25 % (due 1 to
// 21 days later), won 10 %, rejected 20 % (reason uniform), no decision
// 15 %.
func (d *day) outcome(r rng) outcome {
	switch x := r.Float64(); {
	case x < 0.30:
		return outcome{o: dwell.OutcomePositive}
	case x < 0.55:
		t := time.Date(d.cfg.Date.Year, d.cfg.Date.Month, d.cfg.Date.Day+1+r.IntN(21), 0, 0, 0, 0, time.UTC)
		return outcome{o: dwell.OutcomeFollowUp, follow: dwell.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}}
	case x < 0.65:
		return outcome{o: dwell.OutcomeWon}
	case x < 0.85:
		o := outcome{o: dwell.OutcomeRejected, reason: dwell.RejectionReason(1 + r.IntN(int(dwell.RejectionOther)))}
		if o.reason == dwell.RejectionOther {
			o.text = otherReasons[r.IntN(len(otherReasons))]
		}
		return o
	}
	return outcome{o: dwell.OutcomeNoDecision}
}

var otherReasons = []string{"owner away, try next week", "shop closing down", "buys from a wholesaler", "no shelf space"}

// silence drops the phone's fixes for a while during some stops of at
// least SilenceDuration.Min + 6 min, from 3 min after arrival to 3 min
// before departure at the latest, so on-site check-ins and check-outs keep
// their fixes. Stops with a phantom check-in are spared.
func (d *day) silence(r rng) {
	n := r.ints(d.p.Silences)
	busy := func(s tseg) bool {
		return slices.ContainsFunc(d.ins, func(c claim) bool { return c.visit < 0 && c.t >= s.t0 && c.t < s.t1 })
	}
	var cand []int
	for i, s := range d.segs {
		if (s.kind == KindVisit || s.kind == KindIdle) && s.t1-s.t0 >= ms(d.p.SilenceDuration.Min)+6*minute && !busy(s) {
			cand = append(cand, i)
		}
	}
	for _, j := range r.Perm(len(cand))[:min(n, len(cand))] {
		s := d.segs[cand[j]]
		room := s.t1 - s.t0 - 6*minute
		l := min(r.ms(d.p.SilenceDuration), room)
		t0 := s.t0 + 3*minute + r.msBetween(0, room-l)
		d.silences = append(d.silences, window{t0, t0 + l})
	}
	slices.SortFunc(d.silences, func(a, b window) int { return cmp.Compare(a.t0, b.t0) })
}

// sampler is the phone's GPS state between fixes.
type sampler struct {
	seg      int     // truth segment of the last fix
	baseAccM float64 // typical accuracy during this segment
	err      vec     // unit-variance error, correlated in time
	errT     int64
	outLeft  int // fixes left in the current multipath run
	outOff   vec
	mockLeft int // fixes left in the current mock run
	mockAt   vec
	dop      rng // draws the reported velocity, apart from the position
}

// doppler returns the speed (m/s) and course (degrees) the phone reports
// for true velocity vel, or -1, -1 when the fix has none (a fix from Wi-Fi
// or cell towers): the velocity with a Gaussian error, its norm held at 0
// under the profile's static hold (with no course), else the course of the
// noisy velocity, whether the rep moves or not.
func (d *day) doppler(r rng, vel vec, indoor bool) (speed, bearing float64) {
	share, sd := d.p.SpeedShare, d.p.SpeedErrorMPS
	if indoor {
		share, sd = d.p.IndoorSpeedShare, d.p.IndoorSpeedErrorMPS
	}
	if !r.chance(share) {
		return -1, -1
	}
	v := vel.add(r.gauss2().mul(sd))
	speed = v.norm()
	if speed < d.p.StaticHoldMPS {
		return 0, -1
	}
	return speed, math.Mod(math.Atan2(v.x, v.y)*180/math.Pi+720, 360)
}

// sample runs the phone's tracker over the day: a fix every
// MovingInterval (±2 s) while moving or recently still, every
// StillInterval once still for StillAfter, waking 3 to 20 s after motion
// resumes; nothing while off or silent, and a fix as soon as it is back.
func (d *day) sample(r, dop rng) {
	skip := mergeWindows(append(slices.Clone(d.gaps), d.silences...))
	s := &sampler{seg: -1, dop: dop}
	throttle := d.p.StillInterval.Max > d.p.MovingInterval
	wi := 0
	for t := int64(0); t < d.span; {
		for wi < len(skip) && skip[wi].t1 <= t {
			wi++
		}
		if wi < len(skip) && t >= skip[wi].t0 {
			t = skip[wi].t1
			continue
		}
		d.obs = append(d.obs, d.fixAt(r, s, t))
		next := t + ms(d.p.MovingInterval) + r.msBetween(-2*second, 2*second)
		if i := d.interval(t); throttle && d.stationary(i) && t-d.runStart[i] >= ms(d.p.StillAfter) {
			next = t + r.ms(d.p.StillInterval)
			if move := d.runEnd[i]; move > t && next > move {
				next = move + r.msBetween(3*second, 20*second)
			}
		}
		t = next
	}
	for k := range d.ins {
		d.ins[k].obs.claim = k
		d.obs = append(d.obs, d.ins[k].obs)
	}
	for k := range d.outs {
		d.outs[k].obs.claim = k
		d.obs = append(d.obs, d.outs[k].obs)
	}
	slices.SortStableFunc(d.obs, func(a, b obsB) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return int(a.src) - int(b.src)
	})
}

// fixAt returns the tracker's fix at t.
func (d *day) fixAt(r rng, s *sampler, t int64) obsB {
	si := d.segAt(t)
	sg := d.segs[si]
	truth, vel := d.posAt(t), d.velAt(t)
	moving := vel.norm() > 0.2
	indoor := sg.kind == KindVisit || sg.kind == KindIdle && d.stops[sg.stop].home
	accRange := d.p.OutdoorAccuracyM
	tau := 120.0
	switch {
	case indoor:
		accRange, tau = d.p.IndoorAccuracyM, 180
	case moving:
		tau = 20
	}
	if si != s.seg {
		s.seg, s.baseAccM, s.err, s.errT = si, r.floats(accRange), r.gauss2(), t
	} else {
		rho := math.Exp(-float64(t-s.errT) / 1000 / tau)
		s.err = s.err.mul(rho).add(r.gauss2().mul(math.Sqrt(1 - rho*rho)))
		s.errT = t
	}
	// The accuracy wanders about the segment's typical value; draws outside
	// the profile's range are redrawn rather than clamped, so that no value
	// piles up at a bound.
	acc := s.baseAccM * math.Exp(0.25*r.NormFloat64())
	for try := 0; (acc < accRange.Min || acc > accRange.Max) && try < 8; try++ {
		acc = s.baseAccM * math.Exp(0.25*r.NormFloat64())
	}
	acc = math.Max(accRange.Min, math.Min(accRange.Max, acc))
	o := obsB{t: t, src: SourceTrack, truth: truth, indoor: indoor, speed: -1, bearing: -1, claim: -1}
	if w := slices.IndexFunc(d.mocks, func(w mockWindow) bool { return w.has(t) }); w >= 0 {
		m := d.mockFix(r, t, d.mocks[w].at, truth, SourceTrack)
		m.indoor, m.claim = indoor, -1
		return m
	}
	if s.mockLeft == 0 && r.chance(d.p.MockRate) {
		s.mockLeft = 1 + r.IntN(3)
		s.mockAt = truth.add(polar(r.angle(), r.uniform(200, 1000)))
		best := 3000.0
		d.city.grid.near(truth, 3000, func(i int) {
			if c := d.city.Sites[i].shape.c; c.dist(truth) < best {
				best, s.mockAt = c.dist(truth), c
			}
		})
	}
	if s.mockLeft > 0 {
		s.mockLeft--
		m := d.mockFix(r, t, s.mockAt, truth, SourceTrack)
		m.indoor, m.claim = indoor, -1
		return m
	}
	if s.outLeft == 0 && r.chance(d.p.OutlierRate) {
		s.outLeft = 1
		if x := r.Float64(); x > 0.9 {
			s.outLeft = 3
		} else if x > 0.6 {
			s.outLeft = 2
		}
		s.outOff = polar(r.angle(), r.floats(d.p.OutlierDistanceM))
	}
	if s.outLeft > 0 {
		s.outLeft--
		o.outlier = true
		o.pos = truth.add(s.outOff).add(r.gauss2().mul(5))
		o.accM = round(r.uniform(4, 15), 10)
		// The Doppler shift of reflected signals is still about right:
		// a multipath jump moves the position, not the velocity.
		o.speed, o.bearing = d.doppler(s.dop, vel, indoor)
		return o
	}
	o.accM = round(acc, 10)
	o.pos = truth.add(s.err.mul(sigmaOf(acc)))
	o.speed, o.bearing = d.doppler(s.dop, vel, indoor)
	if !indoor || r.chance(0.5) {
		o.hasAlt = true
		o.altM = d.city.altM + 1.5*acc*r.NormFloat64()
	}
	return o
}

// mergeWindows returns the union of ws, sorted.
func mergeWindows(ws []window) []window {
	slices.SortFunc(ws, func(a, b window) int { return cmp.Compare(a.t0, b.t0) })
	var out []window
	for _, w := range ws {
		if n := len(out); n > 0 && w.t0 <= out[n-1].t1 {
			out[n-1].t1 = max(out[n-1].t1, w.t1)
			continue
		}
		out = append(out, w)
	}
	return out
}

// fixID returns the id of the n-th fix of the day (from 0): the rep's id
// and a sequence number, or a hash of the rep's id if that would pass
// dwell.MaxFixIDBytes.
func (d *day) fixID(n int) string {
	prefix := string(d.cfg.Rep)
	if len(prefix)+7 > dwell.MaxFixIDBytes {
		prefix = fmt.Sprintf("%016x", hashString(prefix))
	}
	return fmt.Sprintf("%s-%05d", prefix, n+1)
}
