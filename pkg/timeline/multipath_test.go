package timeline

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Multipath jumps near a stop's approach: one bad fix must not split a
// visit, end a stop or create a trip (DESIGN).

// jumpStay returns a 60-min visit at A (a circle of 40 m) 09:00-10:00, the
// still phone sampling every step at accuracy acc, driven to from 3 km
// west and away to 3 km east, with its fixes, and the day derived from
// them.
func jumpStay(t *testing.T, step time.Duration, acc float64) (Input, Day) {
	t.Helper()
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("A", A, 40))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(10, 0, 0), A, step, acc, acc/3)
	tr.move(hm(10, 0, 0), hm(10, 10, 0), A, offset(3000, 0), 30*time.Second, 8)
	in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm}
	return in, Derive(in)
}

// withFix returns in with the fix taken at `at` moved to p, accuracy acc.
func withFix(t *testing.T, in Input, at time.Time, p dwell.LatLng, acc float64) Input {
	t.Helper()
	fs := slices.Clone(in.Fixes)
	k := slices.IndexFunc(fs, func(f dwell.Fix) bool { return f.Time.Equal(at) })
	if k < 0 {
		t.Fatalf("no fix at %v", at)
	}
	fs[k].Pos, fs[k].AccuracyM = p, acc
	in.Fixes = fs
	return in
}

// TestJumpTowardApproach: a 60-min visit, a fix every 3 min at 15 m, the
// 09:09 fix a jump 110 m (or 250 m) west, towards the road the rep came
// in on, where a fix on the way in was taken. Before, the jump was the
// anchor of a run of the first three fixes at A, dropped as the jump in
// its place: 10m48s of IDLE at the jump's spot, the visit from 09:10:26,
// outlier_fixes 3. A jump of 110 m is within outlierMinM of the stop and
// kept as noise (the stop's hysteresis holds); one of 250 m is dropped.
func TestJumpTowardApproach(t *testing.T) {
	in, base := jumpStay(t, 3*time.Minute, 15)
	for _, c := range []struct {
		west     float64
		outliers int
	}{{110, 0}, {250, 1}} {
		day := Derive(withFix(t, in, hm(9, 9, 0), offset(-c.west, 0), 5))
		checkInvariants(t, "jump towards the approach", day)
		if len(day.Visits) != 1 || (day.Totals.Visit-base.Totals.Visit).Abs() > 30*time.Second || day.Totals.Idle != 0 ||
			day.Flags.OutlierFixes != c.outliers {
			t.Errorf("a jump %.0f m west at 09:09: want the visit of %v, no idle, %d outliers; got\n%s",
				c.west, base.Totals.Visit, c.outliers, day.Encode())
		}
	}
}

// TestJumpSweepInsideStop replaces each fix of the 60-min visit but the
// first and the last by a jump 110 m to 1.5 km off (east, towards the
// way out; north; west, towards the way in), of 5 m or 30 m accuracy,
// with the phone sampling every 1, 3 or 5 min at 5, 15 or 40 m, and wants
// the day unchanged: as many visits and trips, no gap, the visit within
// 3 min. Before, 159 of these 9,288 days changed (a jump near a fix of
// the way in or out anchoring a run of good fixes, dropped in its
// place). The stop's first and last fixes are left out: a jump in place
// of the only fix at an end, where a fix of the way in or out could be,
// is a rep who arrived a sampling interval later (or left earlier) as
// far as any fix can tell.
func TestJumpSweepInsideStop(t *testing.T) {
	for _, step := range []time.Duration{time.Minute, 3 * time.Minute, 5 * time.Minute} {
		for _, acc := range []float64{5, 15, 40} {
			in, base := jumpStay(t, step, acc)
			trips := len(segmentsOf(base, KindTravel))
			first, last := hm(9, 0, 0), hm(10, 0, 0).Add(-step)
			for _, f := range in.Fixes {
				if !f.Time.After(first) || !f.Time.Before(last) {
					continue
				}
				for _, off := range []float64{110, 150, 250, 400, 800, 1500} {
					for _, ang := range []float64{0, 90, 180} {
						for _, jacc := range []float64{5, 30} {
							a := ang * math.Pi / 180
							p := offset(off*math.Cos(a), off*math.Sin(a))
							day := Derive(withFix(t, in, f.Time, p, jacc))
							if len(day.Visits) != len(base.Visits) || len(segmentsOf(day, KindTravel)) != trips ||
								(day.Totals.Visit-base.Totals.Visit).Abs() > 3*time.Minute || day.Totals.Gap != base.Totals.Gap {
								t.Errorf("every %v at %.0f m: a jump of %.0f m at %.0f° (accuracy %.0f m) at %v changed the day:\n%s",
									step, acc, off, ang, jacc, f.Time.Format("15:04:05"), day.Encode())
							}
						}
					}
				}
			}
		}
	}
}
