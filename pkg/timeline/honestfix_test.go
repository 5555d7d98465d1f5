package timeline

import (
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
