package timeline

import (
	"cmp"
	"slices"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// claimAt is when a check-in or check-out named a client.
type claimAt struct {
	t      int64 // Unix nanoseconds
	client dwell.ClientID
}

// claims returns the day's check-ins and check-outs that count as claims
// when naming, splitting and ruling out a stop's site (claimed, released,
// splitAtClaim): those whose fix, if any, spoofed does not condemn (a
// mock location by the OS flag or by impossible speed, or a fix dated
// more than MaxFixAge from the action). DESIGN: mock locations are never
// evidence of a visit; a check-in verdict of VerificationMockLocation or
// VerificationStaleFix is reached by the same test (verify), so such a
// check-in counts nowhere as a claim. A check-in without a fix is a
// claim, as one from the car park is: its client is what the rep named.
func (d *deriver) claims() ([]dwell.CheckIn, []dwell.CheckOut) {
	var ins []dwell.CheckIn
	for _, c := range d.in.CheckIns {
		if d.spoofed(c.Fix, c.Time) == dwell.VerificationUnspecified {
			ins = append(ins, c)
		}
	}
	var outs []dwell.CheckOut
	for _, c := range d.in.CheckOuts {
		if d.spoofed(c.Fix, c.Time) == dwell.VerificationUnspecified {
			outs = append(outs, c)
		}
	}
	return ins, outs
}

// claimTimes returns the times of the claims ins and outs (claims),
// sorted by time and client.
func claimTimes(ins []dwell.CheckIn, outs []dwell.CheckOut) []claimAt {
	cs := make([]claimAt, 0, len(ins)+len(outs))
	for _, c := range ins {
		cs = append(cs, claimAt{c.Time.UnixNano(), c.Client})
	}
	for _, c := range outs {
		cs = append(cs, claimAt{c.Time.UnixNano(), c.Client})
	}
	slices.SortFunc(cs, func(a, b claimAt) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.client, b.client)) })
	return cs
}

// splitAtClaim returns where the members of a stop, centred at c, split
// at a check-in or check-out made during it for a client whose site is
// within reach of the stop, or 0: the rep said a visit to a site there
// began or ended, though the fixes, a few metres apart or less than their
// errors, cannot tell the two places apart (two shops of a mall). Each
// part spans at least minStay and splitMinFixes fixes, as in splitAt; the
// earliest such claim wins. Parts that turn out to be at the same site
// are joined again by classify.
func (d *deriver) splitAtClaim(c centroid, members []int, minStay time.Duration) int {
	fs := d.fixes
	n := len(members)
	if n < 2*splitMinFixes || len(d.claimT) == 0 {
		return 0
	}
	first, last := fs[members[0]].t, fs[members[n-1]].t
	i, _ := slices.BinarySearchFunc(d.claimT, fs[members[splitMinFixes-1]].t+1, func(a claimAt, t int64) int { return cmp.Compare(a.t, t) })
	var centre dwell.LatLng
	reach := tolerance(c.sacc / float64(n))
	for ; i < len(d.claimT) && d.claimT[i].t <= last; i++ {
		ct := d.claimT[i].t
		// The first member at or after the claim starts the second part.
		k, _ := slices.BinarySearchFunc(members, ct, func(m int, t int64) int { return cmp.Compare(fs[m].t, t) })
		if k < splitMinFixes {
			continue
		}
		if k > n-splitMinFixes {
			break
		}
		if time.Duration(fs[members[k]].t-first) < minStay || time.Duration(last-fs[members[k-1]].t) < minStay {
			continue
		}
		if centre == (dwell.LatLng{}) {
			centre = d.latLng(c.at())
		}
		if dm, ok := d.fenceDist(d.claimT[i].client, centre, reach); ok && dm <= reach {
			return k
		}
	}
	return 0
}

// dropContradicted withdraws the claim of a verified check-in that the
// stop it was made in contradicts. Made during a visit stop at another
// site: when the check-in's site is beyond reach of the stop (relabel's
// test) and the check-in's own fix is nearer the stop's site than its
// own, the fix's poor accuracy allowed it, but the stop's fixes put the
// rep at the other site all along (a check-in for a client next door,
// made from inside the one visited). Made during an idle or travel stop
// (at no site, or too short for a visit at another): when the check-in's
// site is beyond reach of the stop's centre, known to its uncertainty
// (5 to 30 m) while the check-in's fix, one reading, is allowed up to
// 150 m, and that fix is nearer the stop's centre than the site: the rep
// checked in from a café or a car park and stayed there, and DESIGN
// counts the time as a visit only if the fixes agree. A visit stop at the
// site that follows still names the check-in (visits). The check-in
// stays VERIFIED (the CheckIn RPC's answer stands); it claims no visit.
func (d *deriver) dropContradicted() {
	for k := range d.checkIns {
		j := &d.checkIns[k]
		if j.claimEnd.IsZero() {
			continue
		}
		for _, s := range d.stays {
			if s.client == j.ci.Client || j.ci.Time.Before(s.start) || !j.ci.Time.Before(s.end) {
				continue
			}
			dm, ok := d.fenceDist(j.ci.Client, s.centre, s.accM)
			if s.kind != KindVisit {
				// Not known within reach is beyond it: a verified
				// check-in's client is known to the input or the index.
				// The check-in's own fix must agree, nearer the stop's
				// centre than the site: a good fix at the door while the
				// indoor fixes drift off a small fence is evidence of the
				// site, not of the stop.
				if (!ok || dm > tolerance(s.accM)) && j.ci.Fix != nil && haversineM(j.ci.Fix.Pos, s.centre) < j.res.DistanceM {
					j.claimEnd = time.Time{}
				}
				break
			}
			if !ok || dm <= tolerance(s.accM) || j.ci.Fix == nil {
				break
			}
			// The check-in's own fix agrees: nearer the stop's site than
			// the one it names.
			if at, ok := d.fenceDist(s.client, j.ci.Fix.Pos, j.ci.Fix.AccuracyM); ok && max(at, 0) < j.res.DistanceM {
				j.claimEnd = time.Time{}
			}
			break
		}
	}
}
