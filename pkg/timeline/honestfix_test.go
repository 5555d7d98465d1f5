package timeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// An honest rep drives up at 20 m/s, taps 40 s before arriving; at the
// shop the phone's 1 Hz stream gives Wi-Fi fixes (20 m) placed 150 m off
// for 20 s, then GPS (5 m) at the shop. The check-in's fix is a GPS fix at
// the shop dated 9:00:20.5, between the last Wi-Fi fix and the first GPS
// one: both kept by clean.
func TestHonestFixNextToWiFiRun(t *testing.T) {
	shop := offset(-30, 0)
	ix, cm := circleClients(t, circle("shop", shop, 20))
	var tr track
	tr.move(hm(8, 57, 30), hm(9, 0, 0), offset(-3030, 0), shop, time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 0, 21), offset(-30, 150), time.Second, 20, 0)
	tr.stay(hm(9, 0, 21), hm(9, 40, 0), shop, time.Second, 5, 0)
	ciAt := hm(8, 59, 20)
	fix := checkInFix("cf", hm(9, 0, 20).Add(500*time.Millisecond), shop, 5)
	in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{{RequestID: "in", Client: "shop", Time: ciAt, Fix: fix}},
		CheckOuts: []dwell.CheckOut{{RequestID: "out", Client: "shop", Time: hm(9, 39, 0), Outcome: dwell.OutcomePositive}}}
	day := Derive(in)
	t.Logf("flags %+v", day.Flags)
	if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationVerified {
		t.Errorf("check-ins %+v, want one, VERIFIED", ci)
	}
	if v, _ := Verify(cm["shop"], fix, ciAt); v != dwell.VerificationVerified {
		t.Errorf("Verify = %v", v)
	}
}

// The same drive, an all-GPS 1 Hz stream at the shop, and a check-in fix
// (a network fix, 20 m) dated at the same second as a stream fix, 60 m
// from it, inside the shop's 80 m fence.
func TestHonestFixSameInstantAsStreamFix(t *testing.T) {
	shop := offset(-30, 0)
	ix, cm := circleClients(t, circle("shop", shop, 80))
	var tr track
	tr.move(hm(8, 57, 30), hm(9, 0, 0), offset(-3030, 0), shop, time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 40, 0), shop, time.Second, 5, 0)
	ciAt := hm(8, 59, 20)
	fix := checkInFix("cf", hm(9, 0, 30), offset(30, 0), 20)
	in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{{RequestID: "in", Client: "shop", Time: ciAt, Fix: fix}},
		CheckOuts: []dwell.CheckOut{{RequestID: "out", Client: "shop", Time: hm(9, 39, 0), Outcome: dwell.OutcomePositive}}}
	day := Derive(in)
	if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationVerified {
		t.Errorf("check-ins %+v, want one, VERIFIED", ci)
	}
	if v, _ := Verify(cm["shop"], fix, ciAt); v != dwell.VerificationVerified {
		t.Errorf("Verify = %v", v)
	}
	if v := visitsTo(day, "shop"); len(v) != 1 || v[0].CheckInRequestID != "in" {
		t.Errorf("visits %+v", v)
	}
}

// TestSpoofUnderAKilometreNextToSilence: TestCheckInFixDatedNextToSilence
// with the café 1.9 km (and 1.2 km with a 10 s stream) from A instead of
// 20 km: every fix of the phone puts the rep at the café, so the fix at A
// dated after the tap next to a silence is a mock location, held to the
// stream fix seconds from it (strayJumpM), not only one kilometres off.
func TestSpoofUnderAKilometreNextToSilence(t *testing.T) {
	A := offset(0, 0)
	for _, c := range []struct {
		name                string
		dist                float64
		step                time.Duration
		silence, silenceEnd time.Time
		ciAt, fix           time.Time
	}{
		{"1.9 km, 30 s stream, silence after the fix", 1900, 30 * time.Second, hm(10, 0, 31), hm(10, 12, 0), hm(10, 0, 10), hm(10, 1, 0)},
		{"1.9 km, 30 s stream, silence before the fix", 1900, 30 * time.Second, hm(10, 0, 1), hm(10, 2, 30), hm(9, 59, 50), hm(10, 2, 0)},
		{"1.2 km, 10 s stream, silence after the fix", 1200, 10 * time.Second, hm(10, 0, 11), hm(10, 12, 0), hm(10, 0, 5), hm(10, 0, 20)},
	} {
		cafe := offset(c.dist, 0)
		ix, cm := circleClients(t, circle("A", A, 40))
		var tr track
		tr.stay(hm(9, 0, 0), c.silence, cafe, c.step, 10, 5)
		tr.stay(c.silenceEnd, hm(11, 0, 0), cafe, c.step, 10, 5)
		in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns:  []dwell.CheckIn{{RequestID: "in", Client: "A", Time: c.ciAt, Fix: checkInFix("cf", c.fix, A, 10)}},
			CheckOuts: []dwell.CheckOut{{RequestID: "out", Client: "A", Time: hm(10, 40, 0), Outcome: dwell.OutcomePositive}}}
		day := Derive(in)
		var vis string
		for _, v := range visitsTo(day, "A") {
			vis += fmt.Sprintf(" [%s-%s]", v.Start.Format("15:04:05"), v.End.Format("15:04:05"))
		}
		t.Logf("%s: check-in %v, unverified %d, visits to A:%s", c.name, day.CheckIns[0].Verification, day.Flags.UnverifiedCheckIns, vis)
		if ci := day.CheckIns; len(ci) != 1 || ci[0].Verification != dwell.VerificationMockLocation {
			t.Errorf("%s: check-in %v, want MOCK_LOCATION", c.name, ci[0].Verification)
		}
		if v := visitsTo(day, "A"); len(v) != 0 {
			t.Errorf("%s: %d visits to A, want none", c.name, len(v))
		}
	}
}
