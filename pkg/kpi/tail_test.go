package kpi

import (
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// threeDays derives a UTC rep's 18 to 20 November 2026 as the server
// does (each day handed the next day's check-outs), at prospect P1's
// site, and returns them in memory and decoded from their summaries, all
// written in format version (the current one if 0).
func threeDays(t *testing.T, fixes []dwell.Fix, cis []dwell.CheckIn, cos map[int][]dwell.CheckOut, version byte) map[string][]*Day {
	t.Helper()
	return derivedDays(t, fixes, cis, cos, []int{18, 19, 20}, func(int) byte { return version })
}

// derivedDays derives a UTC rep's given days of November 2026 as the
// server does, at prospect P1's site: every day sees every check-out
// (timeline.Input), keeps those of its own date (cos, by day of the
// month) and is handed the next day's. It returns them in memory and
// decoded from their summaries, each written in format version(day) (the
// current one if 0); only decoded when a day is written in an older one.
func derivedDays(t *testing.T, fixes []dwell.Fix, cis []dwell.CheckIn, cos map[int][]dwell.CheckOut, dates []int, version func(day int) byte) map[string][]*Day {
	t.Helper()
	ix := geofence.New(geofence.Options{})
	cl := dwell.Client{ID: "P1", Fence: dwell.Geofence{Circle: &dwell.Circle{Center: lateAt, RadiusM: 40}}}
	if err := ix.Put("P1", cl.Fence); err != nil {
		t.Fatal(err)
	}
	var all []dwell.CheckOut
	for _, d := range dates {
		all = append(all, cos[d]...)
	}
	var days []*Day
	var bs [][]byte
	older := false
	for _, dd := range dates {
		date := dwell.Date{Year: 2026, Month: 11, Day: dd}
		td := timeline.Derive(timeline.Input{Day: date, Fixes: fixes, Fences: ix, Clients: timeline.ClientMap{"P1": cl}, CheckIns: cis, CheckOuts: all})
		d := Summarize("r", date, &td, len(fixes), cos[dd], cos[dd+1], nil, kindOf)
		days = append(days, d)
		if v := version(dd); v != 0 {
			older = true
			bs = append(bs, d.encodeSummary(v))
		} else {
			bs = append(bs, d.EncodeSummary())
		}
	}
	decoded, err := DecodeSummaries(bs)
	if err != nil {
		t.Fatal(err)
	}
	if older {
		return map[string][]*Day{"decoded": decoded}
	}
	return map[string][]*Day{"in memory": days, "decoded": decoded}
}

// lateMove returns a fix a minute from from to to, moving from a to b,
// after fixes.
func lateMove(fixes []dwell.Fix, from, to time.Time, a, b dwell.LatLng) []dwell.Fix {
	n := to.Sub(from).Minutes()
	for ts := from; ts.Before(to); ts = ts.Add(time.Minute) {
		f := ts.Sub(from).Minutes() / n
		p := dwell.LatLng{Lat: a.Lat + (b.Lat-a.Lat)*f, Lng: a.Lng + (b.Lng-a.Lng)*f}
		fixes = append(fixes, dwell.Fix{ID: fmt.Sprint("f", len(fixes)), Time: ts, Pos: p, AccuracyM: 8, SpeedMPS: -1, BearingDeg: -1})
	}
	return fixes
}

// tailFixes returns the rep at P1 on the 18th from start18 to 23:50, then
// away, and at P1 again on the 19th from 23:00 to 23:50 (driving up from
// 22:40), then away until 01:00 on the 20th.
func tailFixes(start18 time.Time) []dwell.Fix {
	fixes := lateFixes(nil, start18, lateU(18, 23, 50), lateAt)
	fixes = lateFixes(fixes, lateU(18, 23, 50), lateU(19, 22, 40), lateFar)
	fixes = lateMove(fixes, lateU(19, 22, 40), lateU(19, 23, 0), lateFar, lateAt)
	fixes = lateFixes(fixes, lateU(19, 23, 0), lateU(19, 23, 50), lateAt)
	return lateFixes(fixes, lateU(19, 23, 50), lateU(20, 1, 0), lateFar)
}

// checkThreeDays computes KPIs 6 and 7 over the 18th to the 20th of each
// set of days and checks KPI 6's counts and KPI 7's POSITIVE outcomes
// per field day.
func checkThreeDays(t *testing.T, sets map[string][]*Day, with, rejections, none int, positivePerDay float64) {
	t.Helper()
	for name, days := range sets {
		r := Compute(Input{Start: late18, End: dwell.Date{Year: 2026, Month: 11, Day: 20}, Reps: []Rep{{ID: "r", Days: days}}, ClientKind: kindOf})
		if rj := r.Rejection; rj.WithOutcome != with || rj.Rejections != rejections || rj.WithoutMeeting != none {
			t.Errorf("%s: KPI 6 %+v; want %d meeting(s) with an outcome, %d rejected, %d check-out(s) of no meeting", name, rj, with, rejections, none)
		}
		if got := r.Cadence.PositivePerDay; got != positivePerDay {
			t.Errorf("%s: KPI 7 POSITIVE per field day %v; want %v", name, got, positivePerDay)
		}
	}
}

// TestTailAfterLateClose: on the 18th the rep checks in at P1 at 22:00
// and leaves at 23:50; at 00:05 on the 19th it checks out REJECTED,
// closing that check-in (a meeting of the 18th). On the 19th it is at P1
// again from 23:00 to 23:50 without checking in, and checks out POSITIVE
// at 00:10 on the 20th: that visit's outcome (its last visit of P1, no
// check-out of the 19th is of it, ended 20 minutes before). Two meetings
// with an outcome, one of them POSITIVE, none without (the 00:05
// check-out, before the 19th's visit, was taken as that visit's outcome
// when the 19th was summarized, which hid the visit from the 00:10 one).
func TestTailAfterLateClose(t *testing.T) {
	cis := []dwell.CheckIn{lateCheckIn("ci", lateU(18, 22, 0))}
	cos := map[int][]dwell.CheckOut{
		19: {{RequestID: "co-a", Client: "P1", Time: lateU(19, 0, 5), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionTiming}},
		20: {{RequestID: "co-b", Client: "P1", Time: lateU(20, 0, 10), Outcome: dwell.OutcomePositive}},
	}
	// Three field days, one POSITIVE.
	checkThreeDays(t, threeDays(t, tailFixes(lateU(18, 22, 0)), cis, cos, 0), 2, 1, 0, 1.0/3)
	// Without the 00:05 check-out the 00:10 one is the 19th's visit's.
	checkThreeDays(t, threeDays(t, tailFixes(lateU(18, 22, 0)), nil, map[int][]dwell.CheckOut{20: cos[20]}, 0), 1, 0, 0, 1.0/3)
	// Summaries of format 9 do not keep the end of a visit that only a
	// check-out before it gave an outcome: the 00:10 one is of no meeting
	// there.
	checkThreeDays(t, threeDays(t, tailFixes(lateU(18, 22, 0)), cis, cos, summaryV9), 1, 1, 1, 0)
}

// TestTailOfOwnFallback: as TestTailAfterLateClose, but the rep was at P1
// on the 18th from 20:00 to 21:00 only, without checking in, so the 00:05
// check-out is of no meeting of the 18th (three hours after) and is the
// outcome of the 19th's visit after it (its fallback): the 00:10 one is
// then of no meeting, that visit having its outcome.
func TestTailOfOwnFallback(t *testing.T) {
	fixes := lateFixes(nil, lateU(18, 20, 0), lateU(18, 21, 0), lateAt)
	fixes = append(fixes, tailFixes(lateU(18, 21, 0))[len(fixes):]...)
	for i := range fixes {
		if !fixes[i].Time.Before(lateU(18, 21, 0)) && fixes[i].Time.Before(lateU(18, 23, 50)) {
			fixes[i].Pos = lateFar
		}
	}
	cos := map[int][]dwell.CheckOut{
		19: {{RequestID: "co-a", Client: "P1", Time: lateU(19, 0, 5), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionTiming}},
		20: {{RequestID: "co-b", Client: "P1", Time: lateU(20, 0, 10), Outcome: dwell.OutcomePositive}},
	}
	checkThreeDays(t, threeDays(t, fixes, nil, cos, 0), 1, 1, 1, 0)
}
