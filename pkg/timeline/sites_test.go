package timeline

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
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

// TestShortStopAtSiteLongVisitMin: with the tenant's visit_min at 30 min
// and idle_min at 5, a 20-min stop at a client is no visit, but the rep
// stood still: IDLE (DESIGN's TRAVEL takes only stops shorter than
// idle_min). A 3-min stop there, shorter than idle_min, stays travel, and
// a 35-min one is a visit.
func TestShortStopAtSiteLongVisitMin(t *testing.T) {
	for _, c := range []struct {
		stay time.Duration
		want Kind
	}{{20 * time.Minute, KindIdle}, {3 * time.Minute, KindTravel}, {35 * time.Minute, KindVisit}} {
		A := offset(0, 0)
		ix, cm := circleClients(t, circle("acme", A, 40))
		var tr track
		end := hm(12, 0, 0).Add(c.stay)
		tr.move(hm(11, 50, 0), hm(12, 0, 0), offset(3000, 0), A, 30*time.Second, 8)
		tr.stay(hm(12, 0, 0), end, A, 30*time.Second, 10, 3)
		tr.move(end, end.Add(10*time.Minute), A, offset(3000, 2000), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			Settings: dwell.Settings{VisitMin: 30 * time.Minute, IdleMin: 5 * time.Minute}})
		name := c.stay.String() + " at a client"
		checkInvariants(t, name, day)
		switch c.want {
		case KindIdle:
			wantOneIdle(t, name, day, c.stay)
			if s := segmentsOf(day, KindIdle); len(s) == 1 && haversineM(s[0].Location, A) > 10 {
				t.Errorf("%s: IDLE at %v, %.0f m from where the rep stood", name, s[0].Location, haversineM(s[0].Location, A))
			}
		case KindTravel:
			if len(day.Segments) != 1 || day.Segments[0].Kind != KindTravel {
				t.Errorf("%s: want one TRAVEL segment, got\n%s", name, day.Encode())
			}
		case KindVisit:
			if len(day.Visits) != 1 || day.Totals.Idle != 0 || (day.Totals.Visit-c.stay).Abs() > 90*time.Second {
				t.Errorf("%s: want one visit of %v, got\n%s", name, c.stay, day.Encode())
			}
		}
	}
}

// TestShortStopAtSiteClaimed: a verified check-in made 2 min into such a
// stop (visit_min 30 min, the stop 20 min) claims a visit from the stop's
// start, as in any stop, until its check-out.
func TestShortStopAtSiteClaimed(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	var tr track
	tr.move(hm(11, 50, 0), hm(12, 0, 0), offset(3000, 0), A, 30*time.Second, 8)
	tr.stay(hm(12, 0, 0), hm(12, 20, 0), A, 30*time.Second, 10, 3)
	tr.move(hm(12, 20, 0), hm(12, 30, 0), A, offset(3000, 2000), 30*time.Second, 8)
	f := dwell.Fix{ID: "c1", Time: hm(12, 2, 0), Pos: A, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{{RequestID: "in-1", Client: "acme", Time: f.Time, Fix: &f}},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-1", Client: "acme", Time: hm(12, 19, 0)}},
		Settings:  dwell.Settings{VisitMin: 30 * time.Minute, IdleMin: 5 * time.Minute}})
	checkInvariants(t, "claimed", day)
	if len(day.Visits) != 1 || day.Visits[0].Source != SourceCheckIn || day.Visits[0].Start.Sub(hm(12, 0, 0)).Abs() > time.Minute ||
		!day.Visits[0].End.Equal(hm(12, 19, 0)) || day.Totals.Idle > 2*time.Minute {
		t.Errorf("want a CHECK_IN visit 12:00-12:19 and at most a minute of IDLE after it, got\n%s", day.Encode())
	}
}

// TestClaimInsideLeg: a rep drives past a client and taps a check-in and
// a check-out 10 s apart between two fixes 30 s apart. The short claimed
// visit cuts the trip in two, and the leg it falls in is shared between
// the two trips by their time in it: together they are the path along
// the fixes, not one leg more.
func TestClaimInsideLeg(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 10, 0), offset(-9000, 0), offset(9000, 0), 30*time.Second, 8)
	path := 0.0
	for k := 1; k < len(tr.fixes); k++ {
		path += haversineM(tr.fixes[k-1].Pos, tr.fixes[k].Pos)
	}
	f1 := dwell.Fix{ID: "c1", Time: hm(9, 0, 10), Pos: A, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{{RequestID: "in-1", Client: "acme", Time: f1.Time, Fix: &f1}},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-1", Client: "acme", Time: hm(9, 0, 20)}}})
	checkInvariants(t, "claim inside a leg", day)
	trips := segmentsOf(day, KindTravel)
	if len(trips) != 2 || len(day.Visits) != 1 {
		t.Fatalf("want a 10-s claimed visit between two trips, got\n%s", day.Encode())
	}
	// The leg 09:00:00-09:00:30 (450 m) has 10 s of each trip in it.
	want := []float64{9000 + 225, path - 9000 - 225}
	for i, s := range trips {
		if math.Abs(s.DistanceM-want[i]) > 0.001*want[i] {
			t.Errorf("trip %d (%v..%v) distance %.1f m, want %.1f m", i, s.Start.Format("15:04:05"), s.End.Format("15:04:05"), s.DistanceM, want[i])
		}
	}
	if got := day.Totals.TravelDistanceM; math.Abs(got-path) > 0.001*path {
		t.Errorf("travel distance %.1f m, want the path along the fixes, %.1f m", got, path)
	}
}

// TestTravelDistanceAtMostPath: over simulated days, the TRAVEL distances
// add up to no more than the path along the clean fixes (a leg is counted
// once, whatever segments cut it).
func TestTravelDistanceAtMostPath(t *testing.T) {
	w := newSimWorld(t, 7)
	for _, p := range []sim.Profile{sim.Realistic(), sim.Harsh(), sim.Canvassing()} {
		for n := 0; n < 30; n++ {
			res := w.simDay(t, p, uint64(100+n), n)
			in := w.input(res, res.AllFixes())
			day := Derive(in)
			lo, hi := bounds(in)
			var scratch Day
			clean := scratch.clean(in.Fixes, prepare(in.Fixes, lo, hi))
			path := 0.0
			for k := 1; k < len(clean); k++ {
				path += dist(clean[k-1], clean[k])
			}
			if got := day.Totals.TravelDistanceM; got > path*(1+1e-9) {
				t.Errorf("%s day %d: travel distance %.1f m, path along the clean fixes %.1f m", p.Name, n, got, path)
			}
		}
	}
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
