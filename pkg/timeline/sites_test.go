package timeline

import (
	"strconv"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// square returns the corners of a square of half side half metres centred
// east cx and north cy metres from huntOrigin.
func square(cx, cy, half float64) []dwell.LatLng {
	return []dwell.LatLng{offset(cx-half, cy-half), offset(cx+half, cy-half), offset(cx+half, cy+half), offset(cx-half, cy+half)}
}

// wantOneIdle checks that day has no visit and one IDLE segment lasting
// want within 90 s (the timing of a stop's ends is estimated).
func wantOneIdle(t *testing.T, name string, day Day, want time.Duration) {
	t.Helper()
	checkInvariants(t, name, day)
	idle := segmentsOf(day, KindIdle)
	if len(day.Visits) != 0 || len(idle) != 1 || (idle[0].Duration()-want).Abs() > 90*time.Second {
		t.Errorf("%s: want no visit and one IDLE of %v, got %d visits, %d IDLE\n%s", name, want, len(day.Visits), len(idle), day.Encode())
	}
}

// TestCafeNextDoor: a rep has lunch 15 to 29 m outside a client's 40 m
// fence with good GPS (5 or 10 m), farther than twice the accuracy. The
// fixes say the rep was not at the site, so the 40 min are IDLE, not a
// visit. The same stop 5 m inside the fence, or outside it within twice
// the fixes' accuracy (10 m accuracy 15 m out, 30 m accuracy 25 m out),
// where the fixes one by one cannot rule the site out, is a visit.
func TestCafeNextDoor(t *testing.T) {
	cases := []struct {
		acc, out float64 // metres: the fixes' accuracy, the stop's distance outside the fence
		visit    bool
	}{
		{5, 15, false}, {5, 25, false}, {5, 29, false},
		{10, 25, false}, {10, 29, false},
		{5, -5, true}, {10, 15, true}, {30, 25, true},
	}
	for _, c := range cases {
		A := offset(0, 0)
		ix, cm := circleClients(t, circle("acme", A, 40))
		var tr track
		cafe := offset(40+c.out, 0)
		tr.move(hm(11, 50, 0), hm(12, 0, 0), offset(3000, 0), cafe, 30*time.Second, 8)
		tr.stay(hm(12, 0, 0), hm(12, 40, 0), cafe, time.Minute, c.acc, 3)
		tr.move(hm(12, 40, 0), hm(12, 50, 0), cafe, offset(3000, 2000), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		name := "accuracy " + ftoa(c.acc) + " m, " + ftoa(c.out) + " m outside"
		if !c.visit {
			wantOneIdle(t, name, day, 40*time.Minute)
			continue
		}
		checkInvariants(t, name, day)
		if len(day.Visits) != 1 || day.Visits[0].Client != "acme" || day.Totals.Visit < 39*time.Minute {
			t.Errorf("%s: want one 40-min visit to acme, got\n%s", name, day.Encode())
		}
	}
}

// TestCourtyard: a rep idles in the courtyard (a hole) of a client's
// building, at its middle, half the hole's side from the building: not at
// the site when that is farther than twice the fixes' accuracy; at it
// (the fixes cannot rule it out) when nearer (60 m courtyard, 30 m from
// the building, accuracy 20 m).
func TestCourtyard(t *testing.T) {
	for _, c := range []struct {
		hole, acc float64 // metres: the courtyard's side, the fixes' accuracy
		visit     bool
	}{{100, 10, false}, {60, 10, false}, {60, 5, false}, {100, 20, false}, {200, 5, false}, {60, 20, true}} {
		bld := dwell.Client{ID: "hq", Fence: dwell.Geofence{Polygon: &dwell.Polygon{
			Shell: square(0, 0, c.hole/2+40), Holes: [][]dwell.LatLng{square(0, 0, c.hole/2)}}}}
		ix, cm := circleClients(t, bld)
		var tr track
		P := offset(0, 0)
		tr.move(hm(11, 50, 0), hm(12, 0, 0), offset(0, -3000), P, 30*time.Second, 8)
		tr.stay(hm(12, 0, 0), hm(12, 40, 0), P, time.Minute, c.acc, 3)
		tr.move(hm(12, 40, 0), hm(12, 50, 0), P, offset(0, 3000), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		name := "courtyard " + ftoa(c.hole) + " m, accuracy " + ftoa(c.acc) + " m"
		if !c.visit {
			wantOneIdle(t, name, day, 40*time.Minute)
			continue
		}
		checkInvariants(t, name, day)
		if len(day.Visits) != 1 || day.Visits[0].Client != "hq" || day.Totals.Visit < 39*time.Minute {
			t.Errorf("%s: want one 40-min visit to hq, got\n%s", name, day.Encode())
		}
	}
}

// TestVoteStillFindsDriftedVisit: the vote is still there for what it is
// for: a visit whose indoor fixes (accuracy 30 m) are correlated and
// drift, centre and all, 20 m off a small fence is a visit.
func TestVoteStillFindsDriftedVisit(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 15))
	var tr track
	drift := offset(35, 0) // 20 m outside the fence
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), drift, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 40, 0), drift, time.Minute, 30, 5)
	tr.move(hm(9, 40, 0), hm(9, 50, 0), drift, offset(3000, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "drift", day)
	if len(day.Visits) != 1 || day.Visits[0].Client != "acme" || day.Totals.Visit < 39*time.Minute {
		t.Errorf("indoor fixes 20 m off a 15 m fence, accuracy 30 m: want one 40-min visit, got\n%s", day.Encode())
	}
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
