package timeline

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// DESIGN: mock locations (the OS flag, or an impossible speed) are never
// evidence of a visit. These tests hold a check-in or check-out whose fix
// is a mock location, or is dated far from the action, to that: it names,
// splits and rules out no site, and verifies nothing.

// mallWithShop is a mall (a circle of 150 m) with a shop (12 m) inside it,
// 30 m west of the mall's centre, and a rep who stays 40 min at the shop.
func mallWithShop(t *testing.T) Input {
	t.Helper()
	shop := offset(-30, 0)
	ix, cm := circleClients(t, circle("mall", offset(0, 0), 150), circle("shop", shop, 12))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), shop, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 40, 0), shop, time.Minute, 25, 10)
	tr.move(hm(9, 40, 0), hm(9, 50, 0), shop, offset(-3000, 0), 30*time.Second, 8)
	return Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm}
}

// visitClients returns the clients of d's visits, in order.
func visitClients(d Day) []dwell.ClientID {
	var out []dwell.ClientID
	for _, v := range d.Visits {
		out = append(out, v.Client)
	}
	return out
}

// TestSpoofedClaimNamesNoSite: the rep stays 40 min at a shop inside a
// mall; the fixes alone give the visit to the shop. A check-in at the
// mall made with a fix 40 km away (no OS flag; every fix of the phone is
// at the shop, so reaching it needs far more than MaxSpeedMPS: verdict
// MOCK_LOCATION) must change that no more than the same check-in with the
// OS flag set: made as the stop began (claimed), in the middle of the stop
// (splitAtClaim), or a check-out of the shop with such a fix as the stop
// began (released). Before, the first gave the whole visit to the mall
// (source BOTH, verification MOCK_LOCATION), the second the stop's second
// half, the third the whole visit.
func TestSpoofedClaimNamesNoSite(t *testing.T) {
	base := mallWithShop(t)
	if got := visitClients(Derive(base)); len(got) != 1 || got[0] != "shop" {
		t.Fatalf("setup: no claims gives visits %v, want [shop]\n%s", got, Derive(base).Encode())
	}
	far := offset(40000, 0)
	fix := func(at time.Time, mock bool) *dwell.Fix {
		return &dwell.Fix{ID: "f", Time: at, Pos: far, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1, Mock: mock}
	}
	for _, mock := range []bool{true, false} {
		for _, c := range []struct {
			name string
			ins  []dwell.CheckIn
			outs []dwell.CheckOut
		}{
			{"check-in at the mall as the stop began", []dwell.CheckIn{{RequestID: "in", Client: "mall", Time: hm(9, 1, 0), Fix: fix(hm(9, 1, 0), mock)}}, nil},
			{"check-in at the mall in the middle of the stop", []dwell.CheckIn{{RequestID: "in", Client: "mall", Time: hm(9, 20, 0), Fix: fix(hm(9, 20, 0), mock)}}, nil},
			{"check-out of the shop as the stop began", nil, []dwell.CheckOut{{RequestID: "out", Client: "shop", Time: hm(9, 0, 30), Fix: fix(hm(9, 0, 30), mock),
				Outcome: dwell.OutcomePositive}}},
		} {
			in := base
			in.CheckIns, in.CheckOuts = c.ins, c.outs
			day := Derive(in)
			if got := visitClients(day); len(got) != 1 || got[0] != "shop" {
				t.Errorf("%s, OS flag %v: visits %v, want [shop]\n%s", c.name, mock, got, day.Encode())
			}
			if len(c.ins) > 0 {
				if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationMockLocation {
					t.Errorf("%s, OS flag %v: check-ins %+v, want one, MOCK_LOCATION", c.name, mock, ci)
				}
				if v := day.Visits; len(v) == 1 && (v[0].CheckInRequestID != "" || v[0].Source != SourceGeofence) {
					t.Errorf("%s, OS flag %v: visit %+v names the spoofed check-in", c.name, mock, v[0])
				}
			}
		}
	}

	// An honest check-in at the mall from the shop (its fix at the shop)
	// still names the visit: a claim counts where the fixes agree.
	in := base
	in.CheckIns = []dwell.CheckIn{checkInAt("in", "mall", hm(9, 1, 0), offset(-30, 0))}
	day := Derive(in)
	if got := visitClients(day); len(got) != 1 || got[0] != "mall" {
		t.Errorf("honest check-in at the mall: visits %v, want [mall]\n%s", got, day.Encode())
	}
}

// TestStaleCheckInFix: every fix of the phone is at a café 5 km from
// client A; the rep checks in at A with a fix at A dated 90 min before
// the check-in (a cached last-known location, or a position replayed with
// an old date) and checks out 40 min later. Before, the spoof test judged
// the fix at its own time, when no fix of the stream was near enough to
// condemn it: VERIFIED, and a 40-minute visit to A. A fix dated more than
// MaxFixAge from the check-in is STALE_FIX (Verify says so at once) and
// claims nothing.
func TestStaleCheckInFix(t *testing.T) {
	A, cafe := offset(0, 0), offset(5000, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	var tr track
	tr.stay(hm(10, 0, 0), hm(11, 0, 0), cafe, time.Minute, 10, 5)
	ciAt := hm(10, 10, 0)
	in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{{RequestID: "in", Client: "A", Time: ciAt, Fix: checkInFix("cf", ciAt.Add(-90*time.Minute), A, 10)}},
		CheckOuts: []dwell.CheckOut{{RequestID: "out", Client: "A", Time: ciAt.Add(40 * time.Minute), Outcome: dwell.OutcomePositive}}}
	day := Derive(in)
	if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationStaleFix {
		t.Errorf("check-ins %+v, want one, STALE_FIX", ci)
	}
	if day.Totals.Visit != 0 || len(day.Visits) != 0 {
		t.Errorf("visit %v in %d visits from a check-in fix 90 min old, every fix 5 km away:\n%s", day.Totals.Visit, len(day.Visits), day.Encode())
	}
	if day.Flags.UnverifiedCheckIns != 1 {
		t.Errorf("unverified check-ins %d, want 1", day.Flags.UnverifiedCheckIns)
	}
	if v, _ := Verify(cm["A"], in.CheckIns[0].Fix, ciAt); v != dwell.VerificationStaleFix {
		t.Errorf("Verify = %v, want STALE_FIX", v)
	}
}

// TestCheckInFixAge: what the app sends, the fix it had when the rep
// tapped, seconds to minutes old or acquired just after, verifies a
// check-in made at the site; one dated further than MaxFixAge off does
// not, wherever it is; and within MaxFixAge a fix dated before the
// check-in must be within reach of the rep's fixes at the check-in's
// time, not only at its own: a fix at A taken 9 minutes earlier, sent
// from a café 5 km away the rep drove to since, is a mock location though
// the rep was at A when it was taken. A fix at A dated after a check-in
// made from the café is one too: the rep's fixes around its own time put
// the rep at the café (TestCheckInFixAcquiredAfterTap has the honest
// one).
func TestCheckInFixAge(t *testing.T) {
	A, cafe := offset(0, 0), offset(5000, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
	// A still phone at A samples every 5 min (the longest stationary
	// interval the server sends).
	tr.stay(hm(9, 0, 0), hm(10, 0, 0), A, 5*time.Minute, 10, 5)
	tr.move(hm(10, 0, 0), hm(10, 5, 0), A, cafe, 30*time.Second, 8)
	tr.stay(hm(10, 5, 0), hm(11, 0, 0), cafe, time.Minute, 10, 5)
	for _, c := range []struct {
		name      string
		ciAt, fix time.Time
		want      dwell.Verification
		visit     bool // a visit to A after the check-in
	}{
		{"fix of the same second", hm(9, 7, 0), hm(9, 7, 0), dwell.VerificationVerified, true},
		{"fix a minute old", hm(9, 7, 0), hm(9, 6, 0), dwell.VerificationVerified, true},
		{"last fix of a still phone, 5 min old", hm(9, 14, 59), hm(9, 10, 0), dwell.VerificationVerified, true},
		{"fix acquired 40 s after the tap", hm(9, 7, 0), hm(9, 7, 40), dwell.VerificationVerified, true},
		{"fix MaxFixAge old", hm(9, 30, 0), hm(9, 30, 0).Add(-MaxFixAge), dwell.VerificationVerified, true},
		{"fix just over MaxFixAge old", hm(9, 30, 0), hm(9, 30, 0).Add(-MaxFixAge - time.Second), dwell.VerificationStaleFix, true},
		{"fix dated just over MaxFixAge after", hm(9, 30, 0), hm(9, 30, 0).Add(MaxFixAge + time.Second), dwell.VerificationStaleFix, true},
		{"from the café, fix at A 9 min old", hm(10, 7, 0), hm(9, 58, 0), dwell.VerificationMockLocation, false},
		{"from the café, fix at A dated 30 s after the tap", hm(10, 7, 0), hm(10, 7, 30), dwell.VerificationMockLocation, false},
	} {
		in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns:  []dwell.CheckIn{{RequestID: "in", Client: "A", Time: c.ciAt, Fix: checkInFix("cf", c.fix, A, 10)}},
			CheckOuts: []dwell.CheckOut{{RequestID: "out", Client: "A", Time: c.ciAt.Add(40 * time.Minute), Outcome: dwell.OutcomePositive}}}
		day := Derive(in)
		if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != c.want {
			t.Errorf("%s: check-ins %+v, want one, %v", c.name, ci, c.want)
		}
		var after time.Duration
		for _, v := range visitsTo(day, "A") {
			if v.End.After(c.ciAt) {
				after += v.End.Sub(maxT(v.Start, c.ciAt))
			}
		}
		if (after > 0) != c.visit {
			t.Errorf("%s: %v of visit to A after the check-in, want any: %v\n%s", c.name, after, c.visit, day.Encode())
		}
		if want := c.want; want != dwell.VerificationMockLocation {
			// Verify, with no fixes to judge by, agrees but for the
			// impossible speed.
			if v, _ := Verify(cm["A"], in.CheckIns[0].Fix, c.ciAt); v != want {
				t.Errorf("%s: Verify = %v, want %v", c.name, v, want)
			}
		}
	}
}

// TestCheckInFixAcquiredAfterTap: the app may send a fix acquired just
// after the tap, dated up to MaxFixAge after the check-in. Such a fix is
// real when the rep's fixes around its own time reach it, though the rep
// was elsewhere at the tap. A rep driving up to a shop (20 m/s, a fix
// every 30 s, arriving at 09:00) taps check-in at 08:59:20, 800 m out, and
// the app sends the fix it acquired at 09:00:20, at the shop. Before, the
// impossible-speed test judged that fix at the check-in's time only, when
// no fix of the rep within reach put the rep at the shop: MOCK_LOCATION,
// an unverified check-in, and a rep's day flagged for a mock location,
// while CheckIn had answered VERIFIED. A rep walking in from the car park
// (1.1 m/s), whose fix at the shop is dated a minute after the tap, is
// verified too.
func TestCheckInFixAcquiredAfterTap(t *testing.T) {
	shop := offset(-30, 0)
	for _, c := range []struct {
		name      string
		way       func(tr *track) // the way in, ending at the shop at 09:00
		ciAt, fix time.Time
	}{
		{"driving up at 20 m/s", func(tr *track) {
			tr.move(hm(8, 57, 30), hm(9, 0, 0), offset(-3030, 0), shop, 30*time.Second, 8)
		}, hm(8, 59, 20), hm(9, 0, 20)},
		{"walking in from the car park at 1.1 m/s", func(tr *track) {
			tr.move(hm(8, 50, 0), hm(8, 58, 30), offset(-5130, 0), offset(-130, 0), 30*time.Second, 8)
			tr.move(hm(8, 58, 30), hm(9, 0, 0), offset(-130, 0), shop, 30*time.Second, 8)
		}, hm(8, 58, 40), hm(8, 59, 40)},
	} {
		ix, cm := circleClients(t, circle("shop", shop, 20))
		var tr track
		c.way(&tr)
		tr.stay(hm(9, 0, 0), hm(9, 40, 0), shop, time.Minute, 10, 10)
		in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns:  []dwell.CheckIn{{RequestID: "in", Client: "shop", Time: c.ciAt, Fix: checkInFix("cf", c.fix, shop, 8)}},
			CheckOuts: []dwell.CheckOut{{RequestID: "out", Client: "shop", Time: hm(9, 39, 0), Outcome: dwell.OutcomePositive}}}
		day := Derive(in)
		if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationVerified {
			t.Errorf("%s: check-ins %+v, want one, VERIFIED", c.name, ci)
		}
		if v, _ := Verify(cm["shop"], in.CheckIns[0].Fix, c.ciAt); v != dwell.VerificationVerified {
			t.Errorf("%s: Verify = %v, want VERIFIED (what CheckIn answers)", c.name, v)
		}
		if day.Flags.UnverifiedCheckIns != 0 {
			t.Errorf("%s: unverified check-ins %d, want 0", c.name, day.Flags.UnverifiedCheckIns)
		}
		if v := visitsTo(day, "shop"); len(v) != 1 || v[0].CheckInRequestID != "in" || v[0].Verification != dwell.VerificationVerified ||
			v[0].End.Sub(v[0].Start) < 38*time.Minute {
			t.Errorf("%s: visits to the shop %+v, want one of about 40 min, VERIFIED, naming the check-in\n%s", c.name, v, day.Encode())
		}
	}
}

// TestCheckInFixDatedNextToSilence: a spoofer who dates the check-in's
// fix after the tap, next to a silence of the phone, is still condemned.
// The rep sits at a café 20 km from A, its phone fixing every 30 s. In
// the first case the phone is silent from 10:00:30 to 10:12 and the rep
// checks in at A at 10:00:10 with a fix at A dated 10:01:00: the fixes
// around the check-in put the rep at the café, and so does the one before
// the fix's date (10:00:30: 20 km in 30 s, 660 m/s), but the one after it
// is 11 minutes away, in reach of A at 30 m/s. In the second the silence
// is before the fix: 09:55 to 10:02:30, a check-in at 10:00:00 with a fix
// at A dated 10:02:00, the fix before it 7 minutes away (48 m/s), the one
// after it 30 s. Before, a fix dated after the tap was condemned only when
// both fixes around its date were out of reach: VERIFIED, and a visit to
// A claimed from the café. The fix on the silence's near side condemns it
// now: MOCK_LOCATION, no visit.
func TestCheckInFixDatedNextToSilence(t *testing.T) {
	A, cafe := offset(0, 0), offset(20000, 0)
	for _, c := range []struct {
		name                string
		silence, silenceEnd time.Time
		ciAt, fix           time.Time
	}{
		{"silence after the fix", hm(10, 0, 31), hm(10, 12, 0), hm(10, 0, 10), hm(10, 1, 0)},
		{"silence before the fix", hm(9, 55, 1), hm(10, 2, 30), hm(10, 0, 0), hm(10, 2, 0)},
	} {
		ix, cm := circleClients(t, circle("A", A, 40))
		var tr track
		tr.stay(hm(9, 0, 0), c.silence, cafe, 30*time.Second, 10, 5)
		tr.stay(c.silenceEnd, hm(11, 0, 0), cafe, 30*time.Second, 10, 5)
		in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns:  []dwell.CheckIn{{RequestID: "in", Client: "A", Time: c.ciAt, Fix: checkInFix("cf", c.fix, A, 10)}},
			CheckOuts: []dwell.CheckOut{{RequestID: "out", Client: "A", Time: hm(10, 40, 0), Outcome: dwell.OutcomePositive}}}
		day := Derive(in)
		if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationMockLocation {
			t.Errorf("%s: check-ins %+v, want one, MOCK_LOCATION", c.name, ci)
		}
		if day.Flags.UnverifiedCheckIns != 1 {
			t.Errorf("%s: unverified check-ins %d, want 1", c.name, day.Flags.UnverifiedCheckIns)
		}
		if v := visitsTo(day, "A"); len(v) != 0 {
			t.Errorf("%s: visits to A %+v, want none\n%s", c.name, v, day.Encode())
		}
		// CheckIn, which has no fixes to judge by, answered VERIFIED.
		if v, _ := Verify(cm["A"], in.CheckIns[0].Fix, c.ciAt); v != dwell.VerificationVerified {
			t.Errorf("%s: Verify = %v, want VERIFIED", c.name, v)
		}
	}
}
