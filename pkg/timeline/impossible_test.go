package timeline

// Tests of DESIGN's "Mock locations (OS flag, or impossible speed) are
// never evidence of a visit; they are counted and reported" for fixes
// that carry no OS flag: runs of fixes reached or left at a speed no rep
// reaches (see dropRuns).

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// visitTime returns how long day's visits to client c last, and how many
// there are.
func visitTime(day Day, c dwell.ClientID) (time.Duration, int) {
	var d time.Duration
	vs := visitsTo(day, c)
	for _, v := range vs {
		d += v.Duration()
	}
	return d, len(vs)
}

// TestImpossibleSpeedRun is a reviewer's case: a spoofing app that does
// not set the OS flag puts the phone at client A, 5 km from home, for half
// an hour, reached and left in a minute (300 km/h). The fixes are not
// evidence of a visit, they are counted as impossible speed, and the rep
// is at home throughout: the half hour is a silence at one place, part
// of that stop, and there is no travel.
func TestImpossibleSpeedRun(t *testing.T) {
	A, home := offset(0, 0), offset(5000, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	var tr track
	tr.stay(hm(9, 0, 0), hm(9, 30, 0), home, time.Minute, 10, 5)
	tr.stay(hm(9, 30, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
	tr.stay(hm(10, 0, 0), hm(10, 30, 0), home, time.Minute, 10, 5)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "speed run", day)
	if day.Totals.Visit > 0 && day.Flags.ImpossibleSpeedFixes == 0 {
		t.Errorf("visit %v from fixes reached and left at 300 km/h, none flagged", day.Totals.Visit)
	}
	if day.Totals.Visit != 0 || len(day.Visits) != 0 {
		t.Errorf("visit time %v, %d visits; want none: the fixes at A are not evidence\n%s", day.Totals.Visit, len(day.Visits), day.Encode())
	}
	if got := day.Flags.ImpossibleSpeedFixes; got != 30 {
		t.Errorf("impossible-speed fixes = %d, want the 30 at A\n%s", got, day.Encode())
	}
	if day.Flags.OutlierFixes != 0 {
		t.Errorf("outlier fixes = %d, want 0: the run is counted once, as impossible speed", day.Flags.OutlierFixes)
	}
	if day.Totals.Travel != 0 || day.Totals.TravelDistanceM != 0 || day.Totals.Gap != 0 {
		t.Errorf("travel %v (%.0f m), gap %v; want none: the rep stayed at home\n%s",
			day.Totals.Travel, day.Totals.TravelDistanceM, day.Totals.Gap, day.Encode())
	}
	if day.Totals.Idle < 85*time.Minute {
		t.Errorf("idle %v, want the whole span at home (89 min)\n%s", day.Totals.Idle, day.Encode())
	}
	// The same set in another order, with repeats, gives the same bytes.
	want := day.Encode()
	r := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		fs := append(append([]dwell.Fix(nil), tr.fixes...), tr.fixes[r.IntN(len(tr.fixes))])
		r.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
		if got := Derive(Input{Day: huntDay, Fixes: fs, Fences: ix, Clients: cm}).Encode(); !bytes.Equal(got, want) {
			t.Fatalf("shuffled input gives another day:\n%s\nwant\n%s", got, want)
		}
	}
}

// TestImpossibleSpeedShortRuns: runs of 1 to 5 fake fixes at A, 5 km from
// a stop at home, a minute apart: a run of 1 is the single-fix rule's,
// 2 and 3 the multipath rule's (a run of up to 3 far from where the fixes
// around it say the rep was), longer ones dropRuns'; all of them are
// counted as impossible speed, none as an outlier (no multipath error is
// 5 km), and the stop at home is one idle stop.
func TestImpossibleSpeedShortRuns(t *testing.T) {
	A, home := offset(0, 0), offset(5000, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	for _, run := range []int{1, 2, 3, 4, 5} {
		var tr track
		tr.stay(hm(9, 0, 0), hm(9, 30, 0), home, time.Minute, 10, 5)
		end := hm(9, 30, 0).Add(time.Duration(run) * time.Minute)
		tr.stay(hm(9, 30, 0), end, A, time.Minute, 10, 5)
		tr.stay(end, hm(10, 30, 0), home, time.Minute, 10, 5)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		checkInvariants(t, "short run", day)
		if got := day.Flags.ImpossibleSpeedFixes; got != run || day.Flags.OutlierFixes != 0 {
			t.Errorf("run of %d: impossible-speed fixes %d, outliers %d; want %d and 0\n%s",
				run, got, day.Flags.OutlierFixes, run, day.Encode())
		}
		if len(day.Segments) != 1 || day.Segments[0].Kind != KindIdle {
			t.Errorf("run of %d: want one IDLE stop at home, got\n%s", run, day.Encode())
		}
	}
}

// TestImpossibleSpeedOneWay: the rep's fixes jump once, 5 km in a minute,
// and stay there. The fixes cannot tell which side is real; the shorter
// side in time is dropped and counted, and the longer one is evidence, so
// one jump never costs more than the shorter side of the day: here the
// half hour at A before the jump (a spoof switched off, or a stale
// position) or the half hour at B after it (a spoof switched on).
func TestImpossibleSpeedOneWay(t *testing.T) {
	A, B := offset(0, 0), offset(5000, 0)
	ix, cm := circleClients(t, circle("A", A, 40), circle("B", B, 40))
	for _, tc := range []struct {
		name          string
		jump          time.Time // the first fix at B
		lost, kept    dwell.ClientID
		keptMin       time.Duration // at least this long a visit to kept
		lostFixes     int
		start, dayEnd time.Time
	}{
		{"A short, then B", hm(9, 30, 0), "A", "B", 145 * time.Minute, 30, hm(9, 30, 0), hm(11, 59, 0)},
		{"A, then B short", hm(11, 30, 0), "B", "A", 145 * time.Minute, 30, hm(9, 0, 0), hm(11, 29, 0)},
	} {
		var tr track
		tr.stay(hm(9, 0, 0), tc.jump, A, time.Minute, 10, 5)
		tr.stay(tc.jump, hm(12, 0, 0), B, time.Minute, 10, 5)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		checkInvariants(t, tc.name, day)
		if d, n := visitTime(day, tc.lost); n != 0 {
			t.Errorf("%s: %d visits (%v) to %s, whose fixes are the shorter side of the jump\n%s", tc.name, n, d, tc.lost, day.Encode())
		}
		if d, n := visitTime(day, tc.kept); n != 1 || d < tc.keptMin {
			t.Errorf("%s: %d visits (%v) to %s, want one of at least %v: the longer side is evidence\n%s",
				tc.name, n, d, tc.kept, tc.keptMin, day.Encode())
		}
		if got := day.Flags.ImpossibleSpeedFixes; got != tc.lostFixes {
			t.Errorf("%s: impossible-speed fixes = %d, want %d", tc.name, got, tc.lostFixes)
		}
		if !day.Start.Equal(tc.start) || !day.End.Equal(tc.dayEnd) {
			t.Errorf("%s: day spans %v..%v, want %v..%v", tc.name, day.Start, day.End, tc.start, tc.dayEnd)
		}
	}
}

// TestImpossibleSpeedAtTheEdges: a fake run at the start of the day (the
// spoof switched off at 9:20, or a phone's stale cold-start position) and
// one at its end (switched on at 16:40), each at client A 5 km from the
// rep's real visit to B, are dropped and counted; the visit to B stays.
// Both at once are two one-way jumps whose outside ends are reachable
// from each other in the 7 h between them: the visit to B between them is
// no excursion, being the longer side.
// Two stale cold-start fixes alone are dropped too.
func TestImpossibleSpeedAtTheEdges(t *testing.T) {
	A, B := offset(0, 0), offset(5000, 0)
	ix, cm := circleClients(t, circle("A", A, 40), circle("B", B, 40))
	for _, tc := range []struct {
		name  string
		build func(tr *track)
		fake  int
	}{
		{"fake start", func(tr *track) {
			tr.stay(hm(9, 0, 0), hm(9, 20, 0), A, time.Minute, 10, 5)
			tr.stay(hm(9, 20, 0), hm(17, 0, 0), B, time.Minute, 10, 5)
		}, 20},
		{"fake end", func(tr *track) {
			tr.stay(hm(9, 0, 0), hm(16, 40, 0), B, time.Minute, 10, 5)
			tr.stay(hm(16, 40, 0), hm(17, 0, 0), A, time.Minute, 10, 5)
		}, 20},
		{"both ends", func(tr *track) {
			tr.stay(hm(9, 0, 0), hm(9, 20, 0), A, time.Minute, 10, 5)
			tr.stay(hm(9, 20, 0), hm(16, 40, 0), B, time.Minute, 10, 5)
			tr.stay(hm(16, 40, 0), hm(17, 0, 0), A, time.Minute, 10, 5)
		}, 40},
		{"cold start", func(tr *track) {
			tr.stay(hm(9, 0, 0), hm(9, 0, 20), A, 10*time.Second, 10, 5)
			tr.stay(hm(9, 0, 20), hm(17, 0, 0), B, time.Minute, 10, 5)
		}, 2},
	} {
		var tr track
		tc.build(&tr)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		checkInvariants(t, tc.name, day)
		if d, n := visitTime(day, "A"); n != 0 {
			t.Errorf("%s: %d visits (%v) to A from fake fixes\n%s", tc.name, n, d, day.Encode())
		}
		if d, n := visitTime(day, "B"); n != 1 || d < 7*time.Hour {
			t.Errorf("%s: %d visits (%v) to B, want one of at least 7 h\n%s", tc.name, n, d, day.Encode())
		}
		if got := day.Flags.ImpossibleSpeedFixes; got != tc.fake {
			t.Errorf("%s: impossible-speed fixes = %d, want %d\n%s", tc.name, got, tc.fake, day.Encode())
		}
		if len(day.Segments) != 1 {
			t.Errorf("%s: want the visit to B alone, got\n%s", tc.name, day.Encode())
		}
	}
}

// TestFastButPossible: what is fast but real keeps every fix: a drive at
// 45 m/s (162 km/h) between two visits; a flight with the phone off, 200
// km in 40 min (83 m/s) but across a silence longer than GapMin; and a stay whose fixes wander by their poor accuracy (300 m
// apart a minute apart, within 200 m accuracy each).
func TestFastButPossible(t *testing.T) {
	A, B, C := offset(0, 0), offset(27000, 0), offset(227000, 0)
	ix, cm := circleClients(t, circle("A", A, 40), circle("B", B, 40), circle("C", C, 40))
	var tr track
	tr.stay(hm(9, 0, 0), hm(9, 30, 0), A, time.Minute, 10, 5)
	tr.move(hm(9, 30, 0), hm(9, 40, 0), A, B, 30*time.Second, 8)
	tr.stay(hm(9, 40, 0), hm(10, 20, 0), B, time.Minute, 10, 5)
	tr.stay(hm(11, 0, 0), hm(11, 40, 0), C, time.Minute, 10, 5)
	for i, ts := 0, hm(11, 40, 0); ts.Before(hm(12, 0, 0)); i, ts = i+1, ts.Add(time.Minute) {
		tr.add(dwell.Fix{Time: ts, Pos: offset(227000+float64(i%2)*300, 2000), AccuracyM: 200, BearingDeg: -1})
	}
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "fast", day)
	if f := day.Flags; f.ImpossibleSpeedFixes != 0 || f.OutlierFixes != 0 {
		t.Errorf("dropped %d impossible-speed and %d outlier fixes, want none\n%s", f.ImpossibleSpeedFixes, f.OutlierFixes, day.Encode())
	}
	for _, c := range []dwell.ClientID{"A", "B", "C"} {
		if _, n := visitTime(day, c); n != 1 {
			t.Errorf("%d visits to %s, want 1\n%s", n, c, day.Encode())
		}
	}
}

// TestImpossibleSpeedHops: a spoof that hops from client A to client C
// (3 km apart) before the phone is back at home is one excursion of two
// runs: all of it is dropped and counted.
func TestImpossibleSpeedHops(t *testing.T) {
	A, C, home := offset(0, 0), offset(0, 3000), offset(5000, 0)
	ix, cm := circleClients(t, circle("A", A, 40), circle("C", C, 40))
	var tr track
	tr.stay(hm(9, 0, 0), hm(9, 30, 0), home, time.Minute, 10, 5)
	tr.stay(hm(9, 30, 0), hm(9, 45, 0), A, time.Minute, 10, 5)
	tr.stay(hm(9, 45, 0), hm(10, 0, 0), C, time.Minute, 10, 5)
	tr.stay(hm(10, 0, 0), hm(10, 30, 0), home, time.Minute, 10, 5)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "hops", day)
	if len(day.Visits) != 0 || day.Flags.ImpossibleSpeedFixes != 30 || len(day.Segments) != 1 {
		t.Errorf("want one IDLE stop at home and the 30 fixes at A and C counted, got\n%s", day.Encode())
	}
}

// TestJumpsThatAreNot: what looks like a jump but is not one keeps the
// day: two fixes of one instant 70 m apart with accuracies of 8 and 10 m
// (a check-in's fix uploaded beside the track's; accuracy is a 68 %
// radius), and a multipath run 1.5 km off 3 s after a fix (the
// simulator's harsh profile), which the multipath rule drops and counts
// as an outlier, not as impossible speed.
func TestJumpsThatAreNot(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	var tr track
	tr.stay(hm(9, 0, 0), hm(12, 0, 0), A, time.Minute, 10, 5)
	tr.add(dwell.Fix{Time: hm(10, 0, 0), Pos: offset(70, 0), AccuracyM: 8, BearingDeg: -1})
	tr.add(dwell.Fix{Time: hm(11, 0, 3), Pos: offset(1500, 0), AccuracyM: 8, BearingDeg: -1})
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "not jumps", day)
	if d, n := visitTime(day, "A"); n != 1 || d < 170*time.Minute || day.Flags.ImpossibleSpeedFixes != 0 || day.Flags.OutlierFixes != 1 {
		t.Errorf("want one visit to A of about 3 h, the 1.5 km fix an outlier, got\n%s", day.Encode())
	}
}

// TestFastTrain: a train at 83 m/s (300 km/h) sampled every 30 s between
// visits to A and C 100 km apart. The single-fix rule drops the fixes on
// board, each reached and left too fast (as before dropRuns); the leg
// left, from A to the station at C, is longer than GapMin and so no jump:
// both visits stay.
func TestFastTrain(t *testing.T) {
	A, C := offset(0, 0), offset(100000, 0)
	ix, cm := circleClients(t, circle("A", A, 40), circle("C", C, 40))
	var tr track
	tr.stay(hm(9, 0, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
	tr.move(hm(10, 0, 0), hm(10, 20, 0), A, C, 30*time.Second, 8)
	tr.stay(hm(10, 20, 0), hm(11, 20, 0), C, time.Minute, 10, 5)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "train", day)
	for _, c := range []dwell.ClientID{"A", "C"} {
		if d, n := visitTime(day, c); n != 1 || d < 55*time.Minute {
			t.Errorf("%d visits (%v) to %s, want one of about an hour\n%s", n, d, c, day.Encode())
		}
	}
}
