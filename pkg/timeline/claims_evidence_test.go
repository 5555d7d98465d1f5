package timeline

import (
	"math"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Check-ins are claims, fixes are evidence: these tests hold the claims
// to the fixes.

// checkInAt returns a check-in at client c at t, with a fix at p of 10 m
// accuracy taken then.
func checkInAt(id string, c dwell.ClientID, t time.Time, p dwell.LatLng) dwell.CheckIn {
	return dwell.CheckIn{RequestID: id, Client: c, Time: t,
		Fix: &dwell.Fix{ID: id + "-fix", Time: t, Pos: p, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}}
}

// visitsTo returns d's visits to client c.
func visitsTo(d Day, c dwell.ClientID) []Visit {
	var vs []Visit
	for _, v := range d.Visits {
		if v.Client == c {
			vs = append(vs, v)
		}
	}
	return vs
}

// A check-out tapped hours late, after the rep drove on to client B (an
// hour there, every fix inside B's fence, no check-in) and then to a stop
// elsewhere: the claim of A's check-in ends when the rep left A, and B's
// visit, the trips and the stop are there. Before, the claim ran to the
// check-out and hid them all: one visit of 2 h 55 min to A.
func TestLateCheckOutEndsAtLeaving(t *testing.T) {
	A, B, far := offset(0, 0), offset(3000, 0), offset(6000, 0)
	ix, cm := circleClients(t, circle("A", A, 40), circle("B", B, 40))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 30, 0), A, time.Minute, 15, 5)
	tr.move(hm(9, 30, 0), hm(9, 40, 0), A, B, 30*time.Second, 8)
	tr.stay(hm(9, 40, 0), hm(10, 40, 0), B, time.Minute, 15, 5)
	tr.move(hm(10, 40, 0), hm(10, 50, 0), B, far, 30*time.Second, 8)
	tr.stay(hm(10, 50, 0), hm(12, 0, 0), far, time.Minute, 15, 5)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{checkInAt("in-a", "A", hm(9, 2, 0), A)},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-a", Client: "A", Time: hm(11, 55, 0)}}})

	a, b := visitsTo(day, "A"), visitsTo(day, "B")
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("visits to A %d, to B %d, want 1 and 1:\n%s", len(a), len(b), day.Encode())
	}
	if a[0].End.After(hm(9, 31, 0)) || a[0].End.Before(hm(9, 28, 0)) {
		t.Errorf("A's visit ends %v, want when the rep left A, about 09:30:\n%s", a[0].End, day.Encode())
	}
	if b[0].Start.Before(hm(9, 38, 0)) || b[0].Start.After(hm(9, 42, 0)) || b[0].End.Before(hm(10, 38, 0)) || b[0].End.After(hm(10, 42, 0)) {
		t.Errorf("B's visit %v-%v, want about 09:40-10:40:\n%s", b[0].Start, b[0].End, day.Encode())
	}
	if b[0].Source != SourceGeofence {
		t.Errorf("B's visit source %v, want GEOFENCE (found from the fixes)", b[0].Source)
	}
	if day.Totals.Idle < time.Hour || day.Totals.TravelDistanceM < 5000 {
		t.Errorf("idle %v, travel %.0f m; want the hour-long stop at the end and both 3 km trips:\n%s",
			day.Totals.Idle, day.Totals.TravelDistanceM, day.Encode())
	}
	if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationVerified || ci[0].CheckOutRequestID != "out-a" {
		t.Errorf("check-ins %+v, want A's, verified, closed by out-a", ci)
	}
}

// A rep who checks in at A, walks to a café 500 m away for half an hour
// and comes back before checking out claims only the time before leaving;
// the return is a visit found from the fixes. The café is idle, not time
// with the client.
func TestClaimEndsAtStopElsewhereAndBack(t *testing.T) {
	A, cafe := offset(0, 0), offset(0, 500)
	ix, cm := circleClients(t, circle("A", A, 40))
	var tr track
	tr.stay(hm(9, 0, 0), hm(9, 30, 0), A, time.Minute, 15, 5)
	tr.move(hm(9, 30, 0), hm(9, 36, 0), A, cafe, 30*time.Second, 8)
	tr.stay(hm(9, 36, 0), hm(10, 6, 0), cafe, time.Minute, 15, 5)
	tr.move(hm(10, 6, 0), hm(10, 12, 0), cafe, A, 30*time.Second, 8)
	tr.stay(hm(10, 12, 0), hm(10, 45, 0), A, time.Minute, 15, 5)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{checkInAt("in-a", "A", hm(9, 2, 0), A)},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-a", Client: "A", Time: hm(10, 45, 0)}}})
	if day.Totals.Idle < 25*time.Minute {
		t.Errorf("idle %v, want the half hour at the café:\n%s", day.Totals.Idle, day.Encode())
	}
	if day.Totals.Visit > 70*time.Minute || day.Totals.Visit < 55*time.Minute {
		t.Errorf("visit %v, want about an hour (09:00-09:30 and 10:12-10:45):\n%s", day.Totals.Visit, day.Encode())
	}
}

// A check-out late by minutes after a walk to the shop next door (60 m)
// still ends at the check-out: a stop that near is as often the rep
// still at the client with drifting indoor fixes (leaveMinM).
func TestClaimKeepsNearbyStop(t *testing.T) {
	A, B := offset(0, 0), offset(60, 0)
	ix, cm := circleClients(t, circle("A", A, 15), circle("B", B, 15))
	var tr track
	tr.stay(hm(9, 0, 0), hm(9, 30, 0), A, time.Minute, 10, 3)
	tr.stay(hm(9, 31, 0), hm(9, 45, 0), B, time.Minute, 10, 3)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{checkInAt("in-a", "A", hm(9, 2, 0), A)},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-a", Client: "A", Time: hm(9, 44, 0)}}})
	a := visitsTo(day, "A")
	if len(a) != 1 || a[0].End.Before(hm(9, 44, 0)) {
		t.Errorf("A's visits %+v, want one to the check-out at 09:44:\n%s", a, day.Encode())
	}
}

// A check-in whose fix is at the client's site while the phone's fixes,
// one a minute, put the rep 5 km away at the time: reaching the fix needs
// 300 km/h, so it is a mock location (DESIGN: OS flag, or impossible
// speed) and claims no visit time. Before, it was VERIFIED and claimed
// 64 minutes, reaching back into the stop at home.
func TestCheckInFixUnreachable(t *testing.T) {
	A, home := offset(0, 0), offset(5000, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	var tr track
	tr.stay(hm(9, 0, 0), hm(11, 0, 0), home, time.Minute, 10, 5)
	in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{checkInAt("in-a", "A", hm(9, 30, 30), A)},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-a", Client: "A", Time: hm(10, 30, 0)}}}
	day := Derive(in)
	if day.Totals.Visit != 0 || len(day.Visits) != 0 {
		t.Errorf("visit %v in %d visits from a check-in fix 5 km from every fix:\n%s", day.Totals.Visit, len(day.Visits), day.Encode())
	}
	if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationMockLocation {
		t.Errorf("check-ins %+v, want one, MOCK_LOCATION", ci)
	}
	if day.Flags.UnverifiedCheckIns != 1 {
		t.Errorf("unverified check-ins %d, want 1", day.Flags.UnverifiedCheckIns)
	}

	// Verify, which answers the phone at once, has no fixes to judge by:
	// it says VERIFIED, as the fix is at the site.
	if v, _ := Verify(cm["A"], in.CheckIns[0].Fix, in.CheckIns[0].Time); v != dwell.VerificationVerified {
		t.Errorf("Verify = %v, want VERIFIED", v)
	}

	// Fixes on one side only, or far in time, judge nothing they cannot:
	// the rep may have driven there in the hour of silence.
	for _, tc := range []struct {
		name  string
		fixes []dwell.Fix
		want  dwell.Verification
	}{
		{"no fixes", nil, dwell.VerificationVerified},
		{"fixes at home until an hour before", fixesUntil(tr.fixes, hm(9, 30, 30).Add(-time.Hour)), dwell.VerificationVerified},
		{"fixes at home until a minute before, none after", fixesUntil(tr.fixes, hm(9, 29, 30)), dwell.VerificationMockLocation},
		{"fixes at A around it", func() []dwell.Fix {
			var a track
			a.stay(hm(9, 0, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
			return a.fixes
		}(), dwell.VerificationVerified},
	} {
		in := in
		in.Fixes = tc.fixes
		if ci := Derive(in).CheckIns; len(ci) != 1 || ci[0].Verification != tc.want {
			t.Errorf("%s: check-ins %+v, want one, %v", tc.name, ci, tc.want)
		}
	}
}

// fixesUntil returns the fixes of fs before t.
func fixesUntil(fs []dwell.Fix, t time.Time) []dwell.Fix {
	var out []dwell.Fix
	for _, f := range fs {
		if f.Time.Before(t) {
			out = append(out, f)
		}
	}
	return out
}

// A rep sits 40 min in a café outside client A's fence (a circle of 40 m),
// every stream fix 10 m (or 5 m) accurate, and checks in at A from the
// café with a fix of 50 m (75 m) accuracy: its tolerance of 100 m (150 m)
// verifies it, 95 m (135 m) out. The stop's centre is known to about 5 m
// and lies beyond reach of A: the fixes do not agree, and DESIGN counts
// no visit. Before, the claim made a VISIT of 09:00-09:35, source
// CHECK_IN, verified.
func TestCheckInFromCafeClaimsNoVisit(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	for _, c := range []struct {
		north, streamAcc, checkInAcc float64
	}{{135, 10, 50}, {175, 5, 75}} {
		cafe := offset(0, c.north)
		var tr track
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, c.north), cafe, 30*time.Second, 8)
		tr.stay(hm(9, 0, 0), hm(9, 40, 0), cafe, time.Minute, c.streamAcc, c.streamAcc/2)
		tr.move(hm(9, 40, 0), hm(9, 50, 0), cafe, offset(3000, c.north), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns:  []dwell.CheckIn{{RequestID: "in-a", Client: "A", Time: hm(9, 5, 0), Fix: checkInFix("cf", hm(9, 5, 0), cafe, c.checkInAcc)}},
			CheckOuts: []dwell.CheckOut{{RequestID: "out-a", Client: "A", Time: hm(9, 35, 0)}}})
		checkInvariants(t, "check-in from the café", day)
		out := c.north - 40
		if day.Totals.Visit != 0 || len(day.Visits) != 0 {
			t.Errorf("café %.0f m outside A: visit %v counted, want none\n%s", out, day.Totals.Visit, day.Encode())
		}
		if day.Totals.Idle < 39*time.Minute || day.Totals.Idle > 41*time.Minute {
			t.Errorf("café %.0f m outside A: idle %v, want the 40 min at the café\n%s", out, day.Totals.Idle, day.Encode())
		}
		// The CheckIn RPC's answer stands: verified, with its distance.
		if len(day.CheckIns) != 1 || day.CheckIns[0].Verification != dwell.VerificationVerified || math.Abs(day.CheckIns[0].DistanceM-out) > 1 {
			t.Errorf("café %.0f m outside A: check-ins %+v, want in-a VERIFIED %.0f m out", out, day.CheckIns, out)
		}
	}
}

// The same check-in from the café, after which the rep walks over to A
// and stays 30 min: the café's quarter of an hour is idle, and A's visit,
// found from the fixes, names the check-in (made within checkInLead
// before it) and its check-out.
func TestCheckInFromCafeThenVisit(t *testing.T) {
	A, cafe := offset(0, 0), offset(0, 135)
	ix, cm := circleClients(t, circle("A", A, 40))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 135), cafe, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 15, 0), cafe, time.Minute, 10, 5)
	tr.move(hm(9, 15, 0), hm(9, 16, 48), cafe, A, 20*time.Second, 8)
	tr.stay(hm(9, 16, 48), hm(9, 46, 48), A, time.Minute, 15, 5)
	tr.move(hm(9, 46, 48), hm(9, 56, 48), A, offset(3000, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{{RequestID: "in-a", Client: "A", Time: hm(9, 5, 0), Fix: checkInFix("cf", hm(9, 5, 0), cafe, 50)}},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-a", Client: "A", Time: hm(9, 45, 0)}}})
	checkInvariants(t, "check-in from the café, then A", day)
	a := visitsTo(day, "A")
	if len(day.Visits) != 1 || len(a) != 1 {
		t.Fatalf("want one visit to A, got\n%s", day.Encode())
	}
	if v := a[0]; v.Start.Before(hm(9, 15, 0)) || v.CheckInRequestID != "in-a" || v.Verification != dwell.VerificationVerified || v.Source != SourceBoth {
		t.Errorf("A's visit from %v check_in=%q %v source %v; want from about 09:16, in-a, VERIFIED, BOTH\n%s",
			v.Start.Format("15:04:05"), v.CheckInRequestID, verificationName(v.Verification), v.Source, day.Encode())
	}
	if closedBy(day)["in-a"] != "out-a" || day.Flags.ForgottenCheckOuts != 0 {
		t.Errorf("in-a closed by %q, %d forgotten; want out-a, 0", closedBy(day)["in-a"], day.Flags.ForgottenCheckOuts)
	}
	if day.Totals.Idle < 14*time.Minute {
		t.Errorf("idle %v, want the quarter of an hour at the café\n%s", day.Totals.Idle, day.Encode())
	}
}

// A store B (a circle of 20 m) inside a mall A (150 m). The rep stands at
// B's centre for half an hour and checks in at A (the mall's office:
// verified, inside A), checking out before leaving; the still phone
// samples every 5 min (the server's stationary interval) or every
// minute. The claim is carved out of B's stop, and the pieces of the
// stop left before and after it were visits to B of 20.8 s and 59 s, or
// 2m59s (DESIGN: a VISIT lasts visit_min inside a site or lies between a
// verified check-in and its check-out; these are neither). They are the
// claimed visit's: one meeting, one visit.
func TestClaimLeavesNoSliverVisit(t *testing.T) {
	A, B := offset(0, 0), offset(50, 0)
	ix, cm := circleClients(t, circle("A", A, 150), circle("B", B, 20))
	for _, c := range []struct {
		step    time.Duration
		in, out time.Time
		leave   time.Time
	}{
		{5 * time.Minute, hm(9, 5, 20), hm(9, 30, 0), hm(9, 31, 0)},
		{time.Minute, hm(9, 2, 0), hm(9, 27, 0), hm(9, 30, 0)},
	} {
		var tr track
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(50, -3000), B, 30*time.Second, 8)
		tr.stay(hm(9, 0, 0), c.leave, B, c.step, 10, 3)
		tr.move(c.leave, c.leave.Add(10*time.Minute), B, offset(50, 3000), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns:  []dwell.CheckIn{checkInAt("in-a", "A", c.in, B)},
			CheckOuts: []dwell.CheckOut{{RequestID: "out-a", Client: "A", Time: c.out}}})
		checkInvariants(t, "sliver", day)
		if len(day.Visits) != 1 || day.Totals.Visits != 1 || len(visitsTo(day, "A")) != 1 {
			t.Errorf("every %v: want one visit, to A, got\n%s", c.step, day.Encode())
			continue
		}
		if v := day.Visits[0]; v.CheckInRequestID != "in-a" || v.Start.After(hm(9, 0, 0)) || v.End.Before(c.leave.Add(-time.Minute)) ||
			(day.Totals.Visit-c.leave.Sub(hm(9, 0, 0))).Abs() > time.Minute {
			t.Errorf("every %v: A's visit %v-%v (%v) check_in=%q; want in-a's, the whole stop 09:00-%v\n%s", c.step,
				v.Start.Format("15:04:05"), v.End.Format("15:04:05"), day.Totals.Visit, v.CheckInRequestID, c.leave.Format("15:04"), day.Encode())
		}
	}
}

// TestLateCheckOutKeepsNextVisit: a rep checks in at A at 09:00, works
// there to 09:35, walks to B and stays there 09:36-09:45 (inside B's site
// longer than visit_min), and checks out of A late, from B. B keeps a
// visit of its own and A's ends at its check-out: only a claim made from
// the sliver's own stop takes it (TestClaimLeavesNoSliverVisit). Next door
// (A 40 m, B 20 m, 100 m apart) and in a mall (A 150 m with its office at
// the centre, B a store 80 m inside it).
func TestLateCheckOutKeepsNextVisit(t *testing.T) {
	for _, tc := range []struct {
		name         string
		radiusA, toB float64
		outs         []int
	}{{"next door", 40, 100, []int{41}}, {"mall", 150, 80, []int{38, 40, 41, 42}}} {
		A, B := offset(0, 0), offset(tc.toB, 0)
		ix, cm := circleClients(t, circle("A", A, tc.radiusA), circle("B", B, 20))
		for _, out := range tc.outs {
			var tr track
			tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(0, -3000), A, 30*time.Second, 8)
			tr.stay(hm(9, 0, 0), hm(9, 35, 0), A, time.Minute, 10, 3)
			tr.move(hm(9, 35, 0), hm(9, 36, 0), A, B, 20*time.Second, 8)
			tr.stay(hm(9, 36, 0), hm(9, 45, 0), B, time.Minute, 8, 2)
			tr.move(hm(9, 45, 0), hm(9, 55, 0), B, offset(tc.toB, 3000), 30*time.Second, 8)
			day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
				CheckIns:  []dwell.CheckIn{checkInAt("in-a", "A", hm(9, 0, 30), A)},
				CheckOuts: []dwell.CheckOut{{RequestID: "out-a", Client: "A", Time: hm(9, out, 0)}}})
			if len(visitsTo(day, "B")) != 1 {
				t.Errorf("%s, check-out of A at 09:%02d: no visit to B (in B 09:36-09:45)\n%s", tc.name, out, day.Encode())
			}
			for _, v := range visitsTo(day, "A") {
				if v.End.After(hm(9, out, 0)) {
					t.Errorf("%s, check-out of A at 09:%02d: A's visit ends %s, after its check-out", tc.name, out, v.End.Format("15:04:05"))
				}
			}
		}
	}
}
