package timeline

// Tests of how check-ins and check-outs pair with each other and with the
// visits (doc.go, steps 6 and 7): each was first a reviewer's failing case.

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// closedBy maps each of the day's check-ins to the check-out that closed
// it ("" for none): the visit's outcome is that check-out's (server and
// kpi read it so, from the visit's check-in).
func closedBy(day Day) map[string]string {
	m := map[string]string{}
	for _, c := range day.CheckIns {
		m[c.RequestID] = c.CheckOutRequestID
	}
	return m
}

// checkInFix is a check-in's fix at p with accuracy acc metres, no speed.
func checkInFix(id string, at time.Time, p dwell.LatLng, acc float64) *dwell.Fix {
	return &dwell.Fix{ID: id, Time: at, Pos: p, AccuracyM: acc, SpeedMPS: -1, BearingDeg: -1}
}

// TestCarParkThenVerified: the rep checks in from the car park
// (OUTSIDE_GEOFENCE), walks in, checks in again (VERIFIED) and checks out
// with an outcome. The visit's check-in is the verified one that claims
// it, with the check-out's outcome; the car-park check-in is superseded
// by the second one in the same visit: unverified, but no forgotten
// check-out.
func TestCarParkThenVerified(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	var tr track
	park := offset(-150, 0)
	tr.move(hm(8, 50, 0), hm(8, 58, 0), offset(-3000, 0), park, 30*time.Second, 8)
	tr.move(hm(8, 58, 0), hm(9, 0, 0), park, A, 20*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
	tr.move(hm(10, 0, 0), hm(10, 10, 0), A, offset(3000, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns: []dwell.CheckIn{
			{RequestID: "in-park", Client: "acme", Time: hm(8, 58, 0), Fix: checkInFix("c1", hm(8, 58, 0), park, 8)},
			{RequestID: "in-door", Client: "acme", Time: hm(9, 1, 0), Fix: checkInFix("c2", hm(9, 1, 0), A, 10)},
		},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-1", Client: "acme", Time: hm(9, 58, 0), Outcome: dwell.OutcomeRejected}}})
	checkInvariants(t, "car park", day)
	if len(day.Visits) != 1 {
		t.Fatalf("want one visit, got %d\n%s", len(day.Visits), day.Encode())
	}
	v := day.Visits[0]
	if v.CheckInRequestID != "in-door" || v.Verification != dwell.VerificationVerified {
		t.Errorf("want the visit's check-in to be the verified one that claims it (in-door, VERIFIED), got check_in=%q verification=%v\n%s",
			v.CheckInRequestID, verificationName(v.Verification), day.Encode())
	}
	if got := closedBy(day)[v.CheckInRequestID]; got != "out-1" {
		t.Errorf("the visit's check-in %q is closed by %q, want out-1 (its outcome)", v.CheckInRequestID, got)
	}
	if day.Flags.ForgottenCheckOuts != 0 || day.Flags.UnverifiedCheckIns != 1 || len(day.CheckIns) != 2 {
		t.Errorf("flags %+v with %d check-ins: want 0 forgotten check-outs (in-park is superseded by in-door in the same visit) and 1 unverified check-in, both listed",
			day.Flags, len(day.CheckIns))
	}
}

// TestDoubleCheckIn: two check-ins at one client during one visit (a
// retried tap with a new request id), one check-out with the outcome. The
// visit's check-in is the one the check-out closed, and the first tap,
// superseded, is no forgotten check-out. Two check-ins at one client in
// two visits, the first never checked out, still count one.
func TestDoubleCheckIn(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	t.Run("one visit", func(t *testing.T) {
		var tr track
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
		tr.stay(hm(9, 0, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
		tr.move(hm(10, 0, 0), hm(10, 10, 0), A, offset(3000, 0), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns: []dwell.CheckIn{
				{RequestID: "in-1", Client: "acme", Time: hm(9, 2, 0), Fix: checkInFix("c1", hm(9, 2, 0), A, 10)},
				{RequestID: "in-2", Client: "acme", Time: hm(9, 3, 0), Fix: checkInFix("c2", hm(9, 3, 0), A, 10)},
			},
			CheckOuts: []dwell.CheckOut{{RequestID: "out-1", Client: "acme", Time: hm(9, 58, 0), Outcome: dwell.OutcomeWon}}})
		checkInvariants(t, "double check-in", day)
		if len(day.Visits) != 1 {
			t.Fatalf("want one visit, got %d\n%s", len(day.Visits), day.Encode())
		}
		v := day.Visits[0]
		if got := closedBy(day)[v.CheckInRequestID]; got != "out-1" {
			t.Errorf("the visit's check-in %q is closed by %q: its check-out (and outcome) is not the visit's\n%s", v.CheckInRequestID, got, day.Encode())
		}
		if v.Verification != dwell.VerificationVerified || v.Source != SourceBoth {
			t.Errorf("visit verification %v source %v, want VERIFIED, BOTH", verificationName(v.Verification), v.Source)
		}
		if day.Flags.ForgottenCheckOuts != 0 || len(day.CheckIns) != 2 {
			t.Errorf("forgotten check-outs %d with %d check-ins: want 0, the first tap superseded by the second in the same visit, both listed",
				day.Flags.ForgottenCheckOuts, len(day.CheckIns))
		}
		if d := day.Totals.Visit; d < 59*time.Minute {
			t.Errorf("visit time %v, want the hour", d)
		}
	})
	t.Run("verified, then unverified checked out", func(t *testing.T) {
		// The claim ranks first: the visit keeps the verified check-in,
		// with no outcome (doc.go, Caveats), and the check-out stays on
		// the second tap; the first is superseded, not forgotten.
		var tr track
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
		tr.stay(hm(9, 0, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
		tr.move(hm(10, 0, 0), hm(10, 10, 0), A, offset(3000, 0), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns: []dwell.CheckIn{
				{RequestID: "in-1", Client: "acme", Time: hm(9, 2, 0), Fix: checkInFix("c1", hm(9, 2, 0), A, 10)},
				{RequestID: "in-2", Client: "acme", Time: hm(9, 30, 0), Fix: checkInFix("c2", hm(9, 30, 0), offset(500, 0), 10)},
			},
			CheckOuts: []dwell.CheckOut{{RequestID: "out-1", Client: "acme", Time: hm(9, 58, 0), Outcome: dwell.OutcomeWon}}})
		checkInvariants(t, "verified, then unverified", day)
		if len(day.Visits) != 1 || day.Visits[0].CheckInRequestID != "in-1" || day.Visits[0].Verification != dwell.VerificationVerified {
			t.Fatalf("want one visit with the verified check-in in-1, got\n%s", day.Encode())
		}
		if c := closedBy(day); c["in-1"] != "" || c["in-2"] != "out-1" {
			t.Errorf("in-1 closed by %q, in-2 by %q; want none and out-1", c["in-1"], c["in-2"])
		}
		if day.Flags.ForgottenCheckOuts != 0 || day.Flags.UnverifiedCheckIns != 1 {
			t.Errorf("flags %+v: want 0 forgotten check-outs (in-1 superseded by in-2), 1 unverified", day.Flags)
		}
	})
	t.Run("two visits", func(t *testing.T) {
		var tr track
		far := offset(3000, 0)
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
		tr.stay(hm(9, 0, 0), hm(9, 30, 0), A, time.Minute, 10, 5)
		tr.move(hm(9, 30, 0), hm(9, 40, 0), A, far, 30*time.Second, 8)
		tr.stay(hm(9, 40, 0), hm(10, 10, 0), far, time.Minute, 10, 5)
		tr.move(hm(10, 10, 0), hm(10, 20, 0), far, A, 30*time.Second, 8)
		tr.stay(hm(10, 20, 0), hm(10, 50, 0), A, time.Minute, 10, 5)
		tr.move(hm(10, 50, 0), hm(11, 0, 0), A, far, 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns: []dwell.CheckIn{
				{RequestID: "in-1", Client: "acme", Time: hm(9, 2, 0), Fix: checkInFix("c1", hm(9, 2, 0), A, 10)},
				{RequestID: "in-2", Client: "acme", Time: hm(10, 22, 0), Fix: checkInFix("c2", hm(10, 22, 0), A, 10)},
			},
			CheckOuts: []dwell.CheckOut{{RequestID: "out-2", Client: "acme", Time: hm(10, 48, 0), Outcome: dwell.OutcomeWon}}})
		checkInvariants(t, "two visits", day)
		if len(day.Visits) != 2 || day.Visits[0].CheckInRequestID != "in-1" || day.Visits[1].CheckInRequestID != "in-2" {
			t.Fatalf("want two visits, in-1's then in-2's, got\n%s", day.Encode())
		}
		if c := closedBy(day); c["in-1"] != "" || c["in-2"] != "out-2" {
			t.Errorf("in-1 closed by %q, in-2 by %q; want none and out-2", c["in-1"], c["in-2"])
		}
		if day.Flags.ForgottenCheckOuts != 1 {
			t.Errorf("forgotten check-outs %d, want 1: in-1's visit ended without a check-out", day.Flags.ForgottenCheckOuts)
		}
	})
}

// TestUnverifiedNextCutsNoClaim: a verified check-in's visit is not cut
// by a mistaken check-in at a client 5 km away (OUTSIDE_GEOFENCE): a
// check-in the fixes do not back changes nothing, whether the claim ends
// at the check-out or, forgotten, where the fixes leave the site
// (leftSite). A verified check-in at another client still ends the claim.
func TestUnverifiedNextCutsNoClaim(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 20), circle("other", offset(5000, 5000), 30), circle("next", offset(0, 300), 20))
	for _, c := range []struct {
		name  string
		drift float64 // metres east of the fence's centre the indoor fixes are
		out   bool    // the rep checks out at 09:59
		vmin  time.Duration
	}{
		// The fixes drift 90 m off a small fence: no visit stop, the
		// claim (check-in to check-out) is the visit.
		{"checked out", 90, true, 0},
		// The fixes are 25 m off the fence, within the tolerance of
		// their accuracy, in a stop shorter than the tenant's VisitMin:
		// the forgotten check-out's claim runs to the last fix at the
		// site.
		{"forgotten", 45, false, 2 * time.Hour},
	} {
		var tr track
		drift := offset(c.drift, 0)
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
		tr.stay(hm(9, 0, 0), hm(10, 0, 0), drift, time.Minute, 20, 5)
		tr.move(hm(10, 0, 0), hm(10, 10, 0), drift, offset(3000, 0), 30*time.Second, 8)
		base := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm, Settings: dwell.Settings{VisitMin: c.vmin},
			CheckIns: []dwell.CheckIn{{RequestID: "in-1", Client: "acme", Time: hm(8, 59, 50), Fix: checkInFix("c1", hm(8, 59, 50), A, 8)}}}
		if c.out {
			base.CheckOuts = []dwell.CheckOut{{RequestID: "out-1", Client: "acme", Time: hm(9, 59, 0)}}
		}
		with := func(ci dwell.CheckIn) Input {
			in := base
			in.CheckIns = append(append([]dwell.CheckIn{}, base.CheckIns...), ci)
			return in
		}
		d0 := Derive(base)
		d1 := Derive(with(dwell.CheckIn{RequestID: "in-x", Client: "other", Time: hm(9, 20, 0), Fix: checkInFix("c2", hm(9, 20, 0), drift, 20)}))
		checkInvariants(t, c.name, d1)
		if d0.Totals.Visit < 55*time.Minute || d1.Totals.Visit != d0.Totals.Visit || len(d1.Visits) != 1 || d1.Visits[0].CheckInRequestID != "in-1" {
			t.Errorf("%s: an OUTSIDE_GEOFENCE check-in at another client 5 km away changed the verified visit: %v -> %v\nwithout:\n%s\nwith:\n%s",
				c.name, d0.Totals.Visit, d1.Totals.Visit, d0.Encode(), d1.Encode())
		}
		if len(d1.CheckIns) != 2 || d1.Flags.UnverifiedCheckIns != 1 {
			t.Errorf("%s: want both check-ins listed, in-x unverified; got %d, %d unverified", c.name, len(d1.CheckIns), d1.Flags.UnverifiedCheckIns)
		}
		// A verified check-in at a client down the street (its fix there,
		// reachable from the fixes around it) starts another claim: it
		// ends in-1's.
		d2 := Derive(with(dwell.CheckIn{RequestID: "in-n", Client: "next", Time: hm(9, 20, 0), Fix: checkInFix("c3", hm(9, 20, 0), offset(0, 300), 10)}))
		checkInvariants(t, c.name+", verified next", d2)
		var acme time.Duration
		for _, s := range segmentsOf(d2, KindVisit) {
			if s.Client == "acme" {
				acme += s.Duration()
			}
		}
		if acme > 21*time.Minute {
			t.Errorf("%s: a verified check-in at another client at 09:20 left acme %v of visit, want it ended there\n%s", c.name, acme, d2.Encode())
		}
	}
}

// TestCheckInBeforeWorkingHours: the rep arrives at 08:55, checks in at
// 08:58 (the CheckIn RPC accepts it: only fixes are refused outside
// working hours), working hours start at 09:00, and checks out at 09:38.
// The check-in is judged and is the visit's; one made more than
// checkInLead before the window names nothing and is left out, as the
// fixes before the window are.
func TestCheckInBeforeWorkingHours(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	var tr track
	tr.move(hm(8, 45, 0), hm(8, 55, 0), offset(-3000, 0), A, 30*time.Second, 8)
	tr.stay(hm(8, 55, 0), hm(9, 40, 0), A, time.Minute, 10, 5)
	tr.move(hm(9, 40, 0), hm(9, 50, 0), A, offset(3000, 0), 30*time.Second, 8)
	var kept []dwell.Fix // the server refuses fixes outside working hours
	for _, f := range tr.fixes {
		if !f.Time.Before(hm(9, 0, 0)) {
			kept = append(kept, f)
		}
	}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{hm(8, 58, 0), true}, {hm(8, 45, 0), true}, {hm(8, 44, 59), false}} {
		day := Derive(Input{Day: huntDay, Window: Window{hm(9, 0, 0), hm(17, 0, 0)}, Fixes: kept, Fences: ix, Clients: cm,
			CheckIns:  []dwell.CheckIn{{RequestID: "in-1", Client: "acme", Time: c.at, Fix: checkInFix("c1", c.at, A, 10)}},
			CheckOuts: []dwell.CheckOut{{RequestID: "out-1", Client: "acme", Time: hm(9, 38, 0), Outcome: dwell.OutcomeWon}}})
		checkInvariants(t, "before working hours", day)
		if len(day.Visits) != 1 || !day.Visits[0].Start.Equal(hm(9, 0, 0)) {
			t.Fatalf("check-in at %v: want one visit from the window's start, got\n%s", c.at.Format("15:04:05"), day.Encode())
		}
		v := day.Visits[0]
		if !c.want {
			if v.CheckInRequestID != "" || len(day.CheckIns) != 0 {
				t.Errorf("a check-in at %v, more than checkInLead before working hours, is the day's: check_in=%q, %d check-ins",
					c.at.Format("15:04:05"), v.CheckInRequestID, len(day.CheckIns))
			}
			continue
		}
		if v.CheckInRequestID != "in-1" || len(day.CheckIns) != 1 || v.Verification != dwell.VerificationVerified {
			t.Errorf("a verified check-in at %v for a visit lasting until 09:40 (working hours from 09:00) is not the visit's: check_in=%q, %d check-ins\n%s",
				c.at.Format("15:04:05"), v.CheckInRequestID, len(day.CheckIns), day.Encode())
		}
		if closedBy(day)["in-1"] != "out-1" || day.Flags.ForgottenCheckOuts != 0 {
			t.Errorf("check-in at %v: closed by %q, %d forgotten; want out-1, 0", c.at.Format("15:04:05"), closedBy(day)["in-1"], day.Flags.ForgottenCheckOuts)
		}
		if !day.Start.Equal(hm(9, 0, 0)) || day.Segments[0].Start.Before(hm(9, 0, 0)) {
			t.Errorf("check-in at %v: the day starts at %v, before the window", c.at.Format("15:04:05"), day.Start)
		}
	}
}

// TestClaimBeforeItsCheckIn: a verified check-in whose check-out is
// forgotten and after which no fix is at the site (the indoor fixes drift
// 90 m off a small fence) claims only the stop's start before it; that
// visit is the check-in's (source CHECK_IN, VERIFIED), not a visit with
// no source and no check-in.
func TestClaimBeforeItsCheckIn(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 20))
	var tr track
	drift := offset(90, 0)
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(10, 0, 0), drift, time.Minute, 20, 5)
	tr.move(hm(10, 0, 0), hm(10, 10, 0), drift, offset(3000, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns: []dwell.CheckIn{{RequestID: "in-1", Client: "acme", Time: hm(8, 59, 50), Fix: checkInFix("c1", hm(8, 59, 50), A, 8)}}})
	checkInvariants(t, "claim before its check-in", day)
	if len(day.Visits) != 1 {
		t.Fatalf("want one visit, got\n%s", day.Encode())
	}
	if v := day.Visits[0]; v.CheckInRequestID != "in-1" || v.Source != SourceCheckIn || v.Verification != dwell.VerificationVerified || v.End.After(hm(8, 59, 50)) {
		t.Errorf("visit %v..%v check_in=%q source %v verification %v; want in-1's claim, CHECK_IN, VERIFIED, ending at the check-in\n%s",
			v.Start, v.End, v.CheckInRequestID, v.Source, verificationName(v.Verification), day.Encode())
	}
	if day.Flags.ForgottenCheckOuts != 1 {
		t.Errorf("forgotten check-outs %d, want 1", day.Flags.ForgottenCheckOuts)
	}
}
