package timeline

import (
	"cmp"
	"slices"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Overlay priorities: where claims overlap, the higher wins.
const (
	prioTravel = iota
	prioGap
	prioIdle
	prioVisit
	prioCheckIn
)

// build lays the claims (the observed span as travel, silences between
// places as gaps, stops as idle or visits, verified check-ins as visits)
// over each other, cuts the span at every claim boundary, gives each piece
// the highest claim covering it and joins equal neighbours into segments.
func (d *deriver) build(day *Day) {
	S, E := day.Start, day.End
	claims := []claim{{start: S, end: E, kind: KindTravel, prio: prioTravel}}
	fs := d.fixes
	for k := 1; k < len(fs); k++ {
		// A silence at one place belongs to its stop (silenceStays), not
		// to a gap: the rep was there before and after.
		if time.Duration(fs[k].t-fs[k-1].t) > GapMin && !d.oneSpot(k) {
			claims = append(claims, claim{start: fs[k-1].at(), end: fs[k].at(), kind: KindGap, prio: prioGap, key: k})
		}
	}
	for k, s := range d.stays {
		switch s.kind {
		case KindIdle:
			claims = append(claims, claim{start: s.start, end: s.end, kind: KindIdle, prio: prioIdle, key: k})
		case KindVisit:
			claims = append(claims, claim{start: s.start, end: s.end, kind: KindVisit, client: s.client, prio: prioVisit})
		}
	}
	var prevEnd time.Time
	for k := range d.checkIns {
		j := &d.checkIns[k]
		if j.claimEnd.IsZero() {
			continue
		}
		start, end := j.ci.Time, j.claimEnd
		if !j.next.IsZero() && end.After(j.next) {
			end = j.next // the next verified check-in starts another claim
		}
		// The rep checks in after arriving: the claim reaches back to the
		// start of the stop it was made in, at most claimLead, and not
		// into the previous claim.
		for _, st := range d.stays {
			if st.kind != KindTravel && !st.start.After(start) && !st.end.Before(start) {
				start = maxT(maxT(st.start, start.Add(-claimLead)), prevEnd)
				break
			}
		}
		if end.After(start) {
			claims = append(claims, claim{start: start, end: end, kind: KindVisit, client: j.ci.Client, prio: prioCheckIn})
			prevEnd = end
			j.from, j.to = start, end
		}
	}
	cuts := make([]time.Time, 0, 2*len(claims))
	for i := range claims {
		// A claim wholly outside the observed span (a check-in whose
		// fixes have not arrived) collapses to an empty claim at its edge,
		// so every cut lies within [S, E], where the travel claim covers
		// every piece.
		c := &claims[i]
		c.start, c.end = clampT(c.start, S, E), clampT(c.end, S, E)
		cuts = append(cuts, c.start, c.end)
	}
	slices.SortFunc(cuts, time.Time.Compare)
	cuts = slices.CompactFunc(cuts, time.Time.Equal)

	var segs []Segment
	var keys, prios []int
	for i := 0; i+1 < len(cuts); i++ {
		a, b := cuts[i], cuts[i+1]
		best := -1
		for k, c := range claims {
			if c.start.After(a) || c.end.Before(b) || !c.end.After(c.start) {
				continue
			}
			if best < 0 || c.prio > claims[best].prio {
				best = k
			}
		}
		c := claims[best]
		if n := len(segs) - 1; n >= 0 && segs[n].Kind == c.kind && segs[n].Client == c.client && keys[n] == c.key {
			segs[n].End = b
			continue
		}
		segs = append(segs, Segment{Kind: c.kind, Start: a, End: b, Client: c.client})
		keys = append(keys, c.key)
		prios = append(prios, c.prio)
	}
	segs = d.joinSlivers(segs, keys, prios)
	for i := range segs {
		d.describe(&segs[i])
	}
	d.travelDistances(segs)
	day.Segments = segs
	d.visits(day)
	day.Totals = day.SumTotals()
}

// joinSlivers makes sure no piece of a stop that the overlay leaves
// under its kind's minimum (VisitMin for a visit, IdleMin for an idle
// stop, less durSlack, in unpaused working time) survives as a visit or
// idle segment, and joins equal neighbours again. DESIGN's VISIT lasts
// visit_min inside a site or lies between a verified check-in and its
// check-out, and its IDLE lasts idle_min; stops are judged on their whole
// length (classify), but a claimed visit laid over a stop cuts it. A
// piece of a visit stop under VisitMin is
//   - the claimed visit next to it (the one before, if both are) when that
//     claim's check-in was made in the piece's stop: a check-in at a
//     mall's office made from a store inside the mall carves its claim out
//     of the store's stop, and the seconds or minutes left before and
//     after it are no visit to the store (the rep, at one stop, had one
//     meeting);
//   - else, after a claimed visit made elsewhere, the claim's if the stop's
//     fixes end within durSlack of the claim's end (a check-out tapped on
//     the way out: what is left is the stop's estimated end) and the stop
//     is at the claim's site (the claimed client's own stop, or a store
//     inside the mall whose office took the claim: within reach of the
//     claimed fence) or too short for a visit on its own; else the stop's
//     from its start on: a rep who checks out of one client late, from the
//     next client's site, keeps the visit there whole (a claim made
//     elsewhere hides no visit the fixes show) and the claim ends where
//     the stop starts, even when the check-out was tapped on leaving that
//     site;
//   - else what a stop that short is (classify): IDLE if it lasts IdleMin,
//     else TRAVEL.
//
// A piece of an idle stop under IdleMin (the seconds before a claimed
// visit that reaches back into the stop it was made in, at most
// claimLead) is TRAVEL. keys and prios are the segments' claim keys and
// priorities.
func (d *deriver) joinSlivers(segs []Segment, keys, prios []int) []Segment {
	working := func(i int) time.Duration {
		s := &segs[i]
		return s.End.Sub(s.Start) - pausedWithin(d.paused, s.Start, s.End) - pausedWithin(d.breaks, s.Start, s.End)
	}
	short := func(i int) bool {
		switch prios[i] {
		case prioVisit:
			return working(i)+durSlack < d.st.VisitMin
		case prioIdle:
			return working(i)+durSlack < d.st.IdleMin
		}
		return false
	}
	// stopOf returns the index in d.stays of the visit stop segment i (a
	// piece of one) is of, or -1.
	stopOf := func(i int) int {
		for k, st := range d.stays {
			if st.kind == KindVisit && !st.start.After(segs[i].Start) && !st.end.Before(segs[i].End) {
				return k
			}
		}
		return -1
	}
	// claims reports whether visit stop st may give a piece of it to
	// claimed visit k made elsewhere: it is at k's client's site (the
	// client's own stop, or a store inside a mall whose office took the
	// claim: its centre within reach of the client's fence, as relabel
	// and endAtLeaving judge reach), or it is too short for a visit on
	// its own (classify). Any other visit stop is a visit the fixes show,
	// of which a claim made elsewhere may hide no part.
	claims := func(st, k int) bool {
		s := &d.stays[st]
		if s.client == segs[k].Client || !d.lasts(s, d.st.VisitMin) {
			return true
		}
		dm, ok := d.fenceDist(segs[k].Client, s.centre, s.accM)
		return ok && dm <= tolerance(s.accM)
	}
	// takes reports whether segment k is a claimed visit whose check-in
	// was made in visit stop st.
	takes := func(st, k int) bool {
		if st < 0 || k < 0 || k >= len(segs) || prios[k] != prioCheckIn {
			return false
		}
		for j := range d.checkIns {
			c := &d.checkIns[j]
			if c.ci.Client == segs[k].Client && c.from.Before(segs[k].End) && c.to.After(segs[k].Start) &&
				!c.ci.Time.Before(d.stays[st].start) && !c.ci.Time.After(d.stays[st].end) {
				return true
			}
		}
		return false
	}
	// demote makes segment i, a piece of a stop under its kind's minimum
	// that no claim took, what a stop that short is.
	demote := func(i int) {
		s := &segs[i]
		s.Client = ""
		if prios[i] == prioVisit && working(i)+durSlack >= d.st.IdleMin {
			s.Kind, prios[i] = KindIdle, prioIdle
			return
		}
		// The travel claim laid over the whole span has key 0.
		s.Kind, prios[i], keys[i] = KindTravel, prioTravel, 0
	}
	out := make([]Segment, 0, len(segs))
	var last int // index in segs of out's last segment
	for i := range segs {
		if short(i) && prios[i] == prioVisit {
			st := stopOf(i)
			n := len(out) - 1
			prevClaim := n >= 0 && last == i-1 && prios[i-1] == prioCheckIn && out[n].End.Equal(segs[i].Start)
			switch {
			case prevClaim && takes(st, i-1):
				out[n].End = segs[i].End
				continue
			case takes(st, i+1):
				// The claimed visit after it: its start moves back.
				segs[i+1].Start = segs[i].Start
				continue
			case prevClaim && st >= 0 && claims(st, i-1) &&
				time.Duration(d.fixes[d.stays[st].last].t-segs[i].Start.UnixNano()) <= durSlack:
				// A stop at the claim's site (or too short for a visit on
				// its own) whose fixes end within durSlack of the claim's
				// end (a check-out tapped on the way out): what is left is
				// the stop's estimated end, the claim's. Another client's
				// visit stop away from the claimed site keeps its visit
				// (the next case): a check-out of A forgotten and tapped
				// on leaving B next door would otherwise hide B's visit.
				out[n].End = segs[i].End
				continue
			case prevClaim && st >= 0 && d.stays[st].start.After(out[n].Start) && d.stays[st].start.Before(segs[i].Start):
				// A claim made elsewhere runs into the stop, and the
				// stop's fixes go on after it: the stop keeps its time
				// from its start.
				out[n].End = d.stays[st].start
				segs[i].Start = d.stays[st].start
			}
		}
		if short(i) {
			demote(i)
		}
		s := segs[i]
		if n := len(out) - 1; n >= 0 && out[n].Kind == s.Kind && out[n].Client == s.Client && keys[last] == keys[i] && out[n].End.Equal(s.Start) {
			out[n].End = s.End
			continue
		}
		out = append(out, s)
		last = i
	}
	return out
}

// travelDistances fills the TRAVEL segments' distances: the path along
// the fixes, each leg between two fixes in a row counted once. A leg
// within one TRAVEL segment, or crossing its edge into a stop, counts in
// full there: the stop holds the rep still until the edge, so the whole
// leg was travelled within the segment. A leg that several TRAVEL
// segments share (a short claimed visit, or a stop, inside one leg) is
// split between them by their time in it, as applyPauses splits a
// distance at a pause, so the segments' distances add up to no more than
// the path. A GAP's edges are fixes: no leg crosses one.
func (d *deriver) travelDistances(segs []Segment) {
	fs := d.fixes
	for i := range segs {
		s := &segs[i]
		if s.Kind != KindTravel {
			continue
		}
		start, end := s.Start.UnixNano(), s.End.UnixNano()
		lo := firstFixFrom(fs, start)
		for k := max(lo, 1); k < len(fs) && fs[k-1].t < end; k++ {
			a, b := fs[k-1].t, fs[k].t
			if a == b { // two fixes of one instant: the segment holding it
				if a >= start {
					s.DistanceM += dist(fs[k-1], fs[k])
				}
				continue
			}
			ov := min(b, end) - max(a, start)
			if ov <= 0 {
				continue
			}
			share := 1.0
			if a < start || b > end {
				if tot := travelWithin(segs, i, a, b); tot > ov {
					share = float64(ov) / float64(tot)
				}
			}
			s.DistanceM += share * dist(fs[k-1], fs[k])
		}
	}
}

// travelWithin returns how much of the interval (a, b), in nanoseconds,
// the TRAVEL segments around segs[i] (contiguous, in order) cover.
func travelWithin(segs []Segment, i int, a, b int64) int64 {
	var tot int64
	over := func(s *Segment) int64 {
		if s.Kind != KindTravel {
			return 0
		}
		return max(min(b, s.End.UnixNano())-max(a, s.Start.UnixNano()), 0)
	}
	for j := i; j >= 0 && segs[j].End.UnixNano() > a; j-- {
		tot += over(&segs[j])
	}
	for j := i + 1; j < len(segs) && segs[j].Start.UnixNano() < b; j++ {
		tot += over(&segs[j])
	}
	return tot
}

// describe fills a segment's location, or a GAP's distance (TRAVEL's is
// travelDistances').
func (d *deriver) describe(s *Segment) {
	fs := d.fixes
	lo := firstFixFrom(fs, s.Start.UnixNano())
	hi := firstFixFrom(fs, s.End.UnixNano())
	switch s.Kind {
	case KindGap:
		// From the last fix before the silence to the first after it: a
		// stop estimated to end (or start) inside the silence moves the
		// gap's edge off the fixes, not the rep.
		if lo < len(fs) && fs[lo].t > s.Start.UnixNano() {
			lo--
		}
		if lo >= 0 && hi < len(fs) {
			s.DistanceM = dist(fs[lo], fs[hi])
		}
	case KindIdle, KindVisit:
		best := time.Duration(0)
		for _, st := range d.stays {
			// An IDLE segment names no client, though its stop may be at
			// a site (one too short for a visit: classify).
			// An IDLE piece may be a visit stop's, too short for a visit
			// but lasting IdleMin (joinSlivers).
			if (st.kind != s.Kind && (s.Kind != KindIdle || st.kind != KindVisit)) || (s.Kind == KindVisit && st.client != s.Client) {
				continue
			}
			ov := minT(st.end, s.End).Sub(maxT(st.start, s.Start))
			if ov > best {
				best, s.Location = ov, st.centre
			}
		}
		if s.Kind == KindVisit {
			s.Source = SourceGeofence
			if best == 0 {
				s.Source = SourceUnspecified
			}
		}
	}
}

// visits lists the visit segments with their check-ins. A visit's
// candidates are the unused check-ins of its client that claim it
// (verified, the claim overlapping it) or were made within checkInLead
// before it or during it. Its check-in is a candidate that claims it if
// any (the verified one at the door over one from the car park), of
// those one a check-out closed if any (its outcome is the visit's), then
// the earliest. A candidate without a check-out that a later candidate
// follows (the rep checked in again at the same client in the same visit:
// a double tap, or the car park, then the door) is superseded: it belongs
// to the visit and is no forgotten check-out (the day's count is
// lowered), since the visit's last check-in carries the check-out, or
// was itself forgotten and counts.
func (d *deriver) visits(day *Day) {
	var cands []int // reused from visit to visit
	for i := range day.Segments {
		s := &day.Segments[i]
		if s.Kind != KindVisit {
			continue
		}
		cands = cands[:0]
		for k := range d.checkIns {
			j := &d.checkIns[k]
			if j.used || j.ci.Client != s.Client {
				continue
			}
			if j.claims(s) || (!j.ci.Time.Before(s.Start.Add(-checkInLead)) && j.ci.Time.Before(s.End)) {
				cands = append(cands, k)
			}
		}
		rank := func(j *judged) int {
			r := 0
			if j.claims(s) {
				r += 2
			}
			if j.res.CheckOutRequestID != "" {
				r++
			}
			return r
		}
		pick := -1
		for n, k := range cands {
			j := &d.checkIns[k]
			if pick < 0 || rank(j) > rank(&d.checkIns[pick]) {
				pick = k
			}
			// d.checkIns is in time order: a later candidate supersedes j.
			if n+1 < len(cands) && j.res.CheckOutRequestID == "" {
				j.used = true
				day.Flags.ForgottenCheckOuts--
			}
		}
		v := Visit{Client: s.Client, Start: s.Start, End: s.End}
		geo := s.Source == SourceGeofence
		if pick >= 0 {
			j := &d.checkIns[pick]
			j.used = true
			v.CheckInRequestID = j.ci.RequestID
			v.Verification = j.res.Verification
			if s.Location == (dwell.LatLng{}) && j.ci.Fix != nil {
				s.Location = j.ci.Fix.Pos
			}
			s.Source = SourceCheckIn
			if geo {
				s.Source = SourceBoth
			}
		}
		s.Verification = v.Verification
		v.Source = s.Source
		day.Visits = append(day.Visits, v)
	}
	slices.SortStableFunc(day.Visits, func(a, b Visit) int { return cmp.Compare(a.Start.UnixNano(), b.Start.UnixNano()) })
}

// claims reports whether check-in j's claim, as build laid it, overlaps
// visit segment s. The laid claim, not the check-in to claimEnd: it
// reaches back to the start of the stop the check-in was made in, and a
// claim the fixes end at the check-in itself (a forgotten check-out, no
// fix at the site after it) lies wholly before it, yet its visit is the
// check-in's.
func (j *judged) claims(s *Segment) bool {
	return j.to.After(j.from) && j.from.Before(s.End) && j.to.After(s.Start)
}

func minT(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
