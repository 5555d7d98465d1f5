package timeline

// Tests of DESIGN's GAP rule: "A silence at one place, same spot before
// and after, belongs to that stop", also when the fixes on both sides of
// the silence are moving (the rep walks in, the phone gets no fix indoors,
// the rep walks out at the same door), and a silence between two places
// is still a GAP.

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// walkInSilenceOut is a rep who walks 900 m to client A's door (arriving
// at 09:00, a fix every 30 s with accuracy acc), whose phone gets no fix
// for 45 min, and who walks out from the same door at 09:45 towards out.
func walkInSilenceOut(from, out dwell.LatLng, acc float64) track {
	A := offset(0, 0)
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), from, A, 30*time.Second, acc)
	tr.move(hm(9, 45, 0), hm(9, 55, 0), A, out, 30*time.Second, acc)
	return tr
}

// oneVisitTo checks that day has no GAP and one visit, to client, from
// within 45 s of start to within 45 s of end: the rep walks through a
// 40 m fence in 27 s at 1.5 m/s, and the fix before (after) the silence
// is 30 s from the door.
func oneVisitTo(t *testing.T, name string, day Day, client dwell.ClientID, start, end time.Time) {
	t.Helper()
	checkInvariants(t, name, day)
	visits := segmentsOf(day, KindVisit)
	if day.Totals.Gap > 0 || len(visits) != 1 || len(day.Visits) != 1 || visits[0].Client != client ||
		(visits[0].Start.Sub(start)).Abs() > 45*time.Second || (visits[0].End.Sub(end)).Abs() > 45*time.Second {
		t.Errorf("%s: want no GAP and one VISIT to %s %v..%v (within 45 s), got\n%s",
			name, client, start.Format("15:04:05"), end.Format("15:04:05"), day.Encode())
	}
}

// TestSilenceAtOnePlaceWalking: the rep walks into client A's building
// (walking fixes), the phone gets no fix indoors for 45 min, then the rep
// walks out (walking fixes) at the same door: the 45 min are a VISIT to A,
// from the fixes alone, not a GAP.
func TestSilenceAtOnePlaceWalking(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	for _, c := range []struct {
		name      string
		from, out dwell.LatLng
		acc       float64
	}{
		{"in from the west, out to the east", offset(-900, 0), offset(900, 0), 8},
		{"in and out the same way", offset(-900, 0), offset(-900, 0), 8},
		{"in from the north, indoor accuracy", offset(0, 900), offset(900, 0), 25},
	} {
		tr := walkInSilenceOut(c.from, c.out, c.acc)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		oneVisitTo(t, c.name, day, "A", hm(9, 0, 0), hm(9, 45, 0))
		if len(day.Visits) == 1 && day.Visits[0].Source != SourceGeofence {
			t.Errorf("%s: visit source %v, want GEOFENCE (the fixes alone)", c.name, day.Visits[0].Source)
		}
	}
	// Away from every site the same silence is an idle stop.
	tr := walkInSilenceOut(offset(-900, 0), offset(900, 0), 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes})
	checkInvariants(t, "no sites", day)
	idle := segmentsOf(day, KindIdle)
	if day.Totals.Gap > 0 || len(idle) != 1 || (idle[0].Start.Sub(hm(9, 0, 0))).Abs() > 45*time.Second ||
		(idle[0].End.Sub(hm(9, 45, 0))).Abs() > 45*time.Second {
		t.Errorf("no sites: want no GAP and one IDLE 09:00..09:45, got\n%s", day.Encode())
	}
}

// TestSilenceAtOnePlaceNoisyEnd: one noisy fix at an end of the silence
// does not break it: a multipath jump next to it (dropped as a jump, the
// fixes around it at one place), or a fix of poor accuracy tens of metres
// off (its stop allowance grows with its accuracy).
func TestSilenceAtOnePlaceNoisyEnd(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	jump := func(at time.Time) dwell.Fix {
		return dwell.Fix{ID: "jump", Time: at, Pos: offset(0, 300), AccuracyM: 10, SpeedMPS: 0, BearingDeg: -1}
	}
	for _, c := range []struct {
		name     string
		noise    func(tr *track)
		outliers int
	}{
		{"a jump just before the silence", func(tr *track) { tr.add(jump(hm(8, 59, 50))) }, 1},
		{"a jump just after the silence", func(tr *track) { tr.add(jump(hm(9, 44, 50))) }, 1},
		{"the last fix before it 70 m off, accuracy 60 m", func(tr *track) {
			last := &tr.fixes[len(tr.fixes)/2-1] // 08:59:30, 45 m west of A
			last.Pos, last.AccuracyM = offset(-45, 70), 60
		}, 0},
		{"the first fix after it 70 m off, accuracy 60 m", func(tr *track) {
			first := &tr.fixes[len(tr.fixes)/2] // 09:45:00, at A
			first.Pos, first.AccuracyM = offset(0, -70), 60
		}, 0},
	} {
		tr := walkInSilenceOut(offset(-900, 0), offset(900, 0), 8)
		c.noise(&tr)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		oneVisitTo(t, c.name, day, "A", hm(9, 0, 0), hm(9, 45, 0))
		if day.Flags.OutlierFixes != c.outliers {
			t.Errorf("%s: %d outliers, want %d", c.name, day.Flags.OutlierFixes, c.outliers)
		}
	}
}

// TestSilenceBetweenPlacesNoisyEnd: a silence between two places 200 m
// apart stays a GAP when one noisy fix at an end of it, a walking fix,
// lands at the other place: a multipath jump with a good accuracy, or a
// fix 145 m off with an accuracy of 40 m, whose allowance (70 m) reaches
// the fix across the silence. The fix next to it, away from the silence,
// is not at that place.
func TestSilenceBetweenPlacesNoisyEnd(t *testing.T) {
	A, B := offset(0, 0), offset(200, 0)
	ix, cm := circleClients(t, circle("A", A, 40), circle("B", B, 40))
	for _, c := range []struct {
		name string
		// at moves the fix at index i (counted from the silence: -1 the
		// last before it, 0 the first after it).
		i   int
		pos dwell.LatLng
		acc float64
	}{
		{"the first fix after it a jump back to A", 0, offset(-10, 5), 8},
		{"the last fix before it a jump ahead to B", -1, offset(210, 5), 8},
		{"the first fix after it 145 m towards A, accuracy 40 m", 0, offset(55, 0), 40},
		{"the last fix before it 145 m towards B, accuracy 40 m", -1, offset(100, 0), 40},
	} {
		// The rep walks to A (09:00), the phone is silent 45 min, and
		// the rep walks on from B at 09:45.
		var tr track
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-900, 0), A, 30*time.Second, 8)
		before := len(tr.fixes)
		tr.move(hm(9, 45, 0), hm(9, 55, 0), B, offset(1300, 0), 30*time.Second, 8)
		f := &tr.fixes[before+c.i]
		f.Pos, f.AccuracyM = c.pos, c.acc
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		checkInvariants(t, c.name, day)
		if day.Totals.Gap < 44*time.Minute || len(day.Visits) != 0 || day.Totals.Idle != 0 {
			t.Errorf("%s: want a GAP over the 45 min silence and no visit or idle, got\n%s", c.name, day.Encode())
		}
	}
}

// TestShortSilenceAtOnePlaceIsTravel: a silence at one place too short to
// be an idle stop is travel, as any short stop is: 4 min with the default
// settings (no GAP either, under GapMin), and 12 min for a tenant whose
// IdleMin is 20 min (longer than GapMin, yet one place's: no GAP).
func TestShortSilenceAtOnePlaceIsTravel(t *testing.T) {
	P := offset(0, 0) // at no site
	for _, c := range []struct {
		name    string
		silence time.Duration
		idleMin time.Duration
	}{
		{"4 min, default settings", 4 * time.Minute, 0},
		{"12 min, IdleMin 20 min", 12 * time.Minute, 20 * time.Minute},
	} {
		var tr track
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-900, 0), P, 30*time.Second, 8)
		back := hm(9, 0, 0).Add(c.silence)
		tr.move(back, back.Add(10*time.Minute), P, offset(900, 0), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Settings: dwell.Settings{IdleMin: c.idleMin}})
		checkInvariants(t, c.name, day)
		if len(day.Segments) != 1 || day.Segments[0].Kind != KindTravel {
			t.Errorf("%s: want one TRAVEL segment, got\n%s", c.name, day.Encode())
		}
	}
}

// TestTunnelPastASiteIsGap: walking or driving past client A's site with
// an 11-min silence (a tunnel, an underpass) whose two ends are far apart
// is a GAP, not a stop at A.
func TestTunnelPastASiteIsGap(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	for _, c := range []struct {
		name string
		mps  float64
	}{{"walking", 1.5}, {"driving", 10}} {
		// The phone goes silent at A at 09:00 and comes back 11 min on,
		// where the rep got to at the same pace.
		var tr track
		d := c.mps * 600
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-d, 0), A, 30*time.Second, 8)
		far := offset(c.mps*660, 0)
		tr.move(hm(9, 11, 0), hm(9, 21, 0), far, offset(c.mps*660+d, 0), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		checkInvariants(t, c.name, day)
		gaps := segmentsOf(day, KindGap)
		if len(gaps) != 1 || gaps[0].Duration() < 11*time.Minute || len(day.Visits) != 0 || day.Totals.Idle != 0 {
			t.Errorf("%s: want one GAP over the 11 min silence and no visit or idle, got\n%s", c.name, day.Encode())
		}
	}
}

// TestSilenceInAPauseIsNotAStop: a silence at one place that a pause of
// tracking overlaps is explained by the pause: no stop is inferred from it
// (its unpaused ends would be a visit of seconds), and the walks on both
// sides keep their distances (a travel across the pause would share its
// distance with it by time).
func TestSilenceInAPauseIsNotAStop(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	tr := walkInSilenceOut(offset(-900, 0), offset(900, 0), 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm, Tracking: []dwell.TrackingChange{
		{RequestID: "p", Time: hm(9, 0, 0), Paused: true}, {RequestID: "r", Time: hm(9, 44, 50)}}})
	checkInvariants(t, "pause", day)
	trips := segmentsOf(day, KindTravel)
	if len(day.Visits) != 0 || day.Totals.Paused != 44*time.Minute+50*time.Second || len(trips) != 2 ||
		trips[0].DistanceM < 850 || trips[1].DistanceM < 850 {
		t.Errorf("want no visit, 44m50s PAUSED and two walks of 855 m, got\n%s", day.Encode())
	}
}
