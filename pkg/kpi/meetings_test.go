package kpi

import (
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// meetingDay derives, as the server does, a UTC day of 20 November 2026
// on which the rep is at prospect P1's site from 10:00 to 11:00 (one
// visit), with the given check-ins and check-outs; prospect P2's site is
// 14 km away, where the rep never is.
func meetingDay(t *testing.T, cis []dwell.CheckIn, cos []dwell.CheckOut) *Day {
	t.Helper()
	a, b := dwell.LatLng{Lat: -6.2, Lng: 106.8}, dwell.LatLng{Lat: -6.3, Lng: 106.9}
	ix := geofence.New(geofence.Options{})
	clients := timeline.ClientMap{}
	for id, at := range map[dwell.ClientID]dwell.LatLng{"P1": a, "P2": b} {
		c := dwell.Client{ID: id, Fence: dwell.Geofence{Circle: &dwell.Circle{Center: at, RadiusM: 40}}}
		if err := ix.Put(string(id), c.Fence); err != nil {
			t.Fatal(err)
		}
		clients[id] = c
	}
	var fixes []dwell.Fix
	for m := 0; m <= 60; m++ {
		fixes = append(fixes, dwell.Fix{ID: fmt.Sprint("f", m), Time: meetingAt(10, m, 0), Pos: a, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1})
	}
	date := dwell.Date{Year: 2026, Month: 11, Day: 20}
	td := timeline.Derive(timeline.Input{Day: date, Fixes: fixes, Fences: ix, Clients: clients, CheckIns: cis, CheckOuts: cos})
	if len(td.Visits) != 1 {
		t.Fatalf("%d visits, want the one at P1: %+v", len(td.Visits), td.Visits)
	}
	return Summarize("ida", date, &td, len(fixes), cos, nil, nil, kindOf)
}

// meetingAt returns h:m:s UTC on 20 November 2026.
func meetingAt(h, m, s int) time.Time { return time.Date(2026, 11, 20, h, m, s, 0, time.UTC) }

// TestOutcomesPerMeeting: KPI 6 counts meetings with an outcome, not
// check-outs. A verified check-in at P1 and an hour there (one visit),
// its check-out REJECTED, the same tapped again 2 s later (a new request
// id), and a check-out REJECTED at P2, where the rep never was: one
// meeting with an outcome, one rejection, and one check-out of no
// meeting (it used to be 3 and 3). A double tap's later outcome wins, for
// KPI 7's positives too; a check-out without check-in during a visit of
// its client is that meeting's outcome. The counts survive the summary's
// encoding.
func TestOutcomesPerMeeting(t *testing.T) {
	ci := []dwell.CheckIn{{RequestID: "ci-1", Client: "P1", Time: meetingAt(10, 5, 0),
		Fix: &dwell.Fix{Time: meetingAt(10, 5, 0), Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}}}
	out := func(id string, client dwell.ClientID, at time.Time, o dwell.Outcome) dwell.CheckOut {
		co := dwell.CheckOut{RequestID: id, Client: client, Time: at, Outcome: o}
		if o == dwell.OutcomeRejected {
			co.RejectionReason = dwell.RejectionPrice
		}
		return co
	}
	day := dwell.Date{Year: 2026, Month: 11, Day: 20}
	for _, c := range []struct {
		name                   string
		cis                    []dwell.CheckIn
		cos                    []dwell.CheckOut
		with, rejections, none int
		positive               float64 // per field day, the day being one
	}{
		{"a double tap and a check-out where the rep never was", ci, []dwell.CheckOut{
			out("co-0", "P1", meetingAt(10, 55, 0), dwell.OutcomeRejected),
			out("co-1", "P1", meetingAt(10, 55, 2), dwell.OutcomeRejected),
			out("co-2", "P2", meetingAt(10, 58, 0), dwell.OutcomeRejected),
		}, 1, 1, 1, 0},
		{"a double tap correcting the outcome", ci, []dwell.CheckOut{
			out("co-0", "P1", meetingAt(10, 55, 0), dwell.OutcomeRejected),
			out("co-1", "P1", meetingAt(10, 55, 2), dwell.OutcomePositive),
		}, 1, 0, 0, 1},
		{"a check-out without check-in in the visit", nil, []dwell.CheckOut{
			out("co-0", "P1", meetingAt(10, 59, 0), dwell.OutcomePositive),
		}, 1, 0, 0, 1},
		{"a check-out without check-in after the visit, tapped twice", nil, []dwell.CheckOut{
			out("co-0", "P1", meetingAt(11, 20, 0), dwell.OutcomePositive),
			out("co-1", "P1", meetingAt(11, 20, 1), dwell.OutcomePositive),
		}, 1, 0, 0, 1},
	} {
		d := meetingDay(t, c.cis, c.cos)
		decoded, err := DecodeSummaries([][]byte{d.EncodeSummary()})
		if err != nil {
			t.Fatal(err)
		}
		for name, d := range map[string]*Day{"in memory": d, "decoded": decoded[0]} {
			r := Compute(Input{Start: day, End: day, Reps: []Rep{{ID: "ida", Days: []*Day{d}}}, ClientKind: kindOf})
			rj := r.Rejection
			if rj.WithOutcome != c.with || rj.Rejections != c.rejections || rj.WithoutMeeting != c.none || rj.Records != c.with {
				t.Errorf("%s, %s: KPI 6 %+v; want %d meeting(s) with an outcome, %d rejection(s), %d check-out(s) of no meeting",
					c.name, name, rj, c.with, c.rejections, c.none)
			}
			if c.rejections > 0 && (len(rj.Reasons) != 1 || rj.Reasons[0] != (ReasonCount{dwell.RejectionPrice, c.rejections})) {
				t.Errorf("%s, %s: reasons %+v, want %d for price", c.name, name, rj.Reasons, c.rejections)
			}
			near(t, c.name+", "+name+": positive per day", r.Cadence.PositivePerDay, c.positive)
		}
	}
}

// TestFollowUpOncePerMeeting: a FOLLOW_UP tapped twice for one meeting is
// one follow-up due (KPI 7), and a FOLLOW_UP made where the rep met no one
// is none.
func TestFollowUpOncePerMeeting(t *testing.T) {
	due := dwell.Date{Year: 2026, Month: 11, Day: 23}
	fu := func(id string, client dwell.ClientID, at time.Time) dwell.CheckOut {
		return dwell.CheckOut{RequestID: id, Client: client, Time: at, Outcome: dwell.OutcomeFollowUp, FollowUpDate: due}
	}
	d := meetingDay(t, nil, []dwell.CheckOut{
		fu("co-0", "P1", meetingAt(10, 55, 0)), fu("co-1", "P1", meetingAt(10, 55, 3)), fu("co-2", "P2", meetingAt(10, 58, 0))})
	r := Compute(Input{Start: d.Date, End: due, Reps: []Rep{{ID: "ida", Days: []*Day{d}}}, ClientKind: kindOf})
	if r.Cadence.Due != 1 || r.Rejection.WithOutcome != 1 || r.Rejection.WithoutMeeting != 1 {
		t.Errorf("KPI 7 %+v, KPI 6 %+v; want 1 follow-up due of 1 meeting with an outcome, 1 check-out of no meeting", r.Cadence, r.Rejection)
	}
}

// TestCheckOutAfterMidnightOfMeetingBefore: a UTC rep checks in at P1 at
// 23:05 on 18 November, leaves at 23:50 and checks out REJECTED at 00:10,
// tapping it twice. The check-out closes the check-in of the day before
// (timeline.Input), so it is that meeting's outcome, counted once on the
// 19th, though the 19th has no visit of P1; the day before must be read
// (the range or its look-back): without it, both are of no meeting.
func TestCheckOutAfterMidnightOfMeetingBefore(t *testing.T) {
	a, far := dwell.LatLng{Lat: -6.2, Lng: 106.8}, dwell.LatLng{Lat: -6.2, Lng: 106.85}
	ix := geofence.New(geofence.Options{})
	cl := dwell.Client{ID: "P1", Fence: dwell.Geofence{Circle: &dwell.Circle{Center: a, RadiusM: 40}}}
	if err := ix.Put("P1", cl.Fence); err != nil {
		t.Fatal(err)
	}
	u := func(d, h, m, s int) time.Time { return time.Date(2026, 11, d, h, m, s, 0, time.UTC) }
	var fixes []dwell.Fix
	for ts := u(18, 23, 0, 0); ts.Before(u(19, 0, 30, 0)); ts = ts.Add(time.Minute) {
		p := a
		if !ts.Before(u(18, 23, 50, 0)) {
			p = far
		}
		fixes = append(fixes, dwell.Fix{ID: fmt.Sprint("f", len(fixes)), Time: ts, Pos: p, AccuracyM: 8, SpeedMPS: -1, BearingDeg: -1})
	}
	cis := []dwell.CheckIn{{RequestID: "ci", Client: "P1", Time: u(18, 23, 5, 0),
		Fix: &dwell.Fix{Time: u(18, 23, 5, 0), Pos: a, AccuracyM: 8, SpeedMPS: -1, BearingDeg: -1}}}
	cos := []dwell.CheckOut{
		{RequestID: "co-0", Client: "P1", Time: u(19, 0, 10, 0), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionTiming},
		{RequestID: "co-1", Client: "P1", Time: u(19, 0, 10, 2), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionTiming},
	}
	d18, d19 := dwell.Date{Year: 2026, Month: 11, Day: 18}, dwell.Date{Year: 2026, Month: 11, Day: 19}
	var days []*Day
	for _, date := range []dwell.Date{d18, d19} {
		td := timeline.Derive(timeline.Input{Day: date, Fixes: fixes, Fences: ix, Clients: timeline.ClientMap{"P1": cl}, CheckIns: cis, CheckOuts: cos})
		own, later := []dwell.CheckOut(nil), cos
		if date == d19 {
			own, later = cos, nil
		}
		days = append(days, Summarize("r", date, &td, len(fixes), own, later, nil, kindOf))
	}
	if len(days[0].Visits) != 1 || days[0].Visits[0].CheckOutRequestID != "co-0" || len(days[1].Visits) != 0 {
		t.Fatalf("visits %+v and %+v; want one on the 18th closed by co-0 and none on the 19th", days[0].Visits, days[1].Visits)
	}
	var bs [][]byte
	for _, d := range days {
		bs = append(bs, d.EncodeSummary())
	}
	decoded, err := DecodeSummaries(bs)
	if err != nil {
		t.Fatal(err)
	}
	for name, days := range map[string][]*Day{"in memory": days, "decoded": decoded} {
		for _, c := range []struct {
			in         Input
			with, none int
		}{
			{Input{Start: d18, End: d19}, 1, 0},
			{Input{Start: d19, End: d19, Since: d18}, 1, 0}, // the day before in the look-back
			{Input{Start: d19, End: d19}, 0, 2},             // and not given
		} {
			in := c.in
			in.Reps, in.ClientKind = []Rep{{ID: "r", Days: days}}, kindOf
			if in.Since.IsZero() && in.Start == d19 {
				in.Reps[0].Days = days[1:]
			}
			rj := Compute(in).Rejection
			if rj.WithOutcome != c.with || rj.Rejections != c.with || rj.WithoutMeeting != c.none {
				t.Errorf("%s, %v to %v (since %v): KPI 6 %+v; want %d meeting(s) with an outcome rejected, %d of no meeting",
					name, in.Start, in.End, in.Since, rj, c.with, c.none)
			}
		}
	}
}

// lateDays derives a UTC rep's 18 and 19 November 2026 as the server
// does, at prospect P1's site from fixes[0] on, with the given check-ins
// and check-outs (those of the 19th also handed to the 18th as the next
// day's, timeline.Input), and returns them in memory and decoded from
// their summaries, the 18th's written in format v18 (the current one if
// 0).
func lateDays(t *testing.T, fixes []dwell.Fix, cis []dwell.CheckIn, cos []dwell.CheckOut, v18 byte) map[string][]*Day {
	t.Helper()
	return derivedDays(t, fixes, cis, map[int][]dwell.CheckOut{19: cos}, []int{18, 19}, func(day int) byte {
		if day == 18 {
			return v18
		}
		return 0
	})
}

var (
	lateAt, lateFar = dwell.LatLng{Lat: -6.2, Lng: 106.8}, dwell.LatLng{Lat: -6.2, Lng: 106.85}
	late18, late19  = dwell.Date{Year: 2026, Month: 11, Day: 18}, dwell.Date{Year: 2026, Month: 11, Day: 19}
)

// lateU returns d November 2026 h:m UTC.
func lateU(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }

// lateFixes returns a fix a minute from from to to at p, after fixes.
func lateFixes(fixes []dwell.Fix, from, to time.Time, p dwell.LatLng) []dwell.Fix {
	for ts := from; ts.Before(to); ts = ts.Add(time.Minute) {
		fixes = append(fixes, dwell.Fix{ID: fmt.Sprint("f", len(fixes)), Time: ts, Pos: p, AccuracyM: 8, SpeedMPS: -1, BearingDeg: -1})
	}
	return fixes
}

// lateCheckIn returns a check-in at P1 at t, its fix there.
func lateCheckIn(id string, t time.Time) dwell.CheckIn {
	return dwell.CheckIn{RequestID: id, Client: "P1", Time: t, Fix: &dwell.Fix{Time: t, Pos: lateAt, AccuracyM: 8, SpeedMPS: -1, BearingDeg: -1}}
}

// checkRejection computes KPI 6 over the 18th and 19th of each set of
// days and checks its counts.
func checkRejection(t *testing.T, sets map[string][]*Day, with, rejections, none int) {
	t.Helper()
	for name, days := range sets {
		rj := Compute(Input{Start: late18, End: late19, Reps: []Rep{{ID: "r", Days: days}}, ClientKind: kindOf}).Rejection
		if rj.WithOutcome != with || rj.Rejections != rejections || rj.WithoutMeeting != none {
			t.Errorf("%s: KPI 6 %+v; want %d meeting(s) with an outcome, %d rejected, %d check-out(s) of no meeting", name, rj, with, rejections, none)
		}
	}
}

// TestLateCheckOutNotMergedIntoNextMeeting: a rep checks in at P1 at
// 23:05 on the 18th, leaves at 23:50, checks out REJECTED at 00:10 on the
// 19th (closing the 18th's check-in), and meets P1 again on the 19th from
// 10:00 to 11:00 (check-in 10:05, check-out 10:55 POSITIVE). Two
// meetings, two outcomes: the 00:10 check-out is the 18th's meeting's,
// not merged into the 19th's (it was, and the later outcome won).
func TestLateCheckOutNotMergedIntoNextMeeting(t *testing.T) {
	fixes := lateFixes(nil, lateU(18, 23, 0), lateU(18, 23, 50), lateAt)
	fixes = lateFixes(fixes, lateU(18, 23, 50), lateU(19, 10, 0), lateFar)
	fixes = lateFixes(fixes, lateU(19, 10, 0), lateU(19, 11, 0), lateAt)
	fixes = lateFixes(fixes, lateU(19, 11, 0), lateU(19, 11, 30), lateFar)
	cis := []dwell.CheckIn{lateCheckIn("ci", lateU(18, 23, 5)), lateCheckIn("ci2", lateU(19, 10, 5))}
	cos := []dwell.CheckOut{
		{RequestID: "co-0", Client: "P1", Time: lateU(19, 0, 10), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionTiming},
		{RequestID: "co-1", Client: "P1", Time: lateU(19, 10, 55), Outcome: dwell.OutcomePositive},
	}
	checkRejection(t, lateDays(t, fixes, cis, cos, 0), 2, 1, 0)
}

// TestLateCheckOutAfterOlderSummary: the 00:10 check-out of
// TestCheckOutAfterMidnightOfMeetingBefore, the 18th's summary written in
// format 7 (a day older than the server derives again keeps it), which
// does not tell the next day's check-outs that closed its check-ins: the
// check-out counts as a meeting's outcome, as format 7 counted it (it was
// of no meeting).
func TestLateCheckOutAfterOlderSummary(t *testing.T) {
	fixes := lateFixes(nil, lateU(18, 23, 0), lateU(18, 23, 50), lateAt)
	fixes = lateFixes(fixes, lateU(18, 23, 50), lateU(19, 0, 30), lateFar)
	cos := []dwell.CheckOut{{RequestID: "co-0", Client: "P1", Time: lateU(19, 0, 10), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionTiming}}
	checkRejection(t, lateDays(t, fixes, []dwell.CheckIn{lateCheckIn("ci", lateU(18, 23, 5))}, cos, summaryV7), 1, 1, 0)
}

// TestLateCheckOutOfVisitWithoutCheckIn: the rep is at P1 from 23:00 to
// 23:50 on the 18th without checking in (a visit of the fixes alone) and
// checks out REJECTED at 00:10 and again at 00:11 (a double tap): that
// visit's outcome, counted once, for it ended at most
// timeline.StayGapMax before (it was of no meeting). At 00:25, 35
// minutes after the visit, with the double tap's at 00:26, it is of none.
// The 18th's summary written in format 8 (which does not keep the
// visits' ends) counts it as of no meeting either way.
func TestLateCheckOutOfVisitWithoutCheckIn(t *testing.T) {
	fixes := lateFixes(nil, lateU(18, 23, 0), lateU(18, 23, 50), lateAt)
	fixes = lateFixes(fixes, lateU(18, 23, 50), lateU(19, 0, 30), lateFar)
	out := func(id string, m int) dwell.CheckOut {
		return dwell.CheckOut{RequestID: id, Client: "P1", Time: lateU(19, 0, m), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionTiming}
	}
	checkRejection(t, lateDays(t, fixes, nil, []dwell.CheckOut{out("co-0", 10), out("co-1", 11)}, 0), 1, 1, 0)
	checkRejection(t, lateDays(t, fixes, nil, []dwell.CheckOut{out("co-0", 25), out("co-1", 26)}, 0), 0, 0, 2)
	checkRejection(t, lateDays(t, fixes, nil, []dwell.CheckOut{out("co-0", 10), out("co-1", 11)}, summaryV8), 0, 0, 2)
}

// TestTwoMeetingsOneStay: one continuous stay at P1 from 10:00 to 11:00
// (one visit) holding two meetings, each with its own check-in and
// check-out: 10:05-10:25 REJECTED and 10:30-10:55 POSITIVE, the second
// tapped again at 10:55:02 (closing nothing): two meetings with an
// outcome, one rejected (they were one, the later outcome winning). A
// check-out that closed nothing 40 minutes after the first check-out,
// with no check-in between, is still the first check-in's meeting's (a
// correction); one before the visit, when no other check-out is of it,
// is the visit's.
func TestTwoMeetingsOneStay(t *testing.T) {
	fx := func(h, m int) *dwell.Fix {
		return &dwell.Fix{Time: meetingAt(h, m, 0), Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}
	}
	cis := []dwell.CheckIn{
		{RequestID: "ci-1", Client: "P1", Time: meetingAt(10, 5, 0), Fix: fx(10, 5)},
		{RequestID: "ci-2", Client: "P1", Time: meetingAt(10, 30, 0), Fix: fx(10, 30)},
	}
	out := func(id string, at time.Time, o dwell.Outcome) dwell.CheckOut {
		co := dwell.CheckOut{RequestID: id, Client: "P1", Time: at, Outcome: o}
		if o == dwell.OutcomeRejected {
			co.RejectionReason = dwell.RejectionPrice
		}
		return co
	}
	for _, c := range []struct {
		name             string
		cis              []dwell.CheckIn
		cos              []dwell.CheckOut
		with, rejections int
	}{
		{"two meetings in one stay", cis, []dwell.CheckOut{
			out("co-1", meetingAt(10, 25, 0), dwell.OutcomeRejected),
			out("co-2", meetingAt(10, 55, 0), dwell.OutcomePositive),
			out("co-3", meetingAt(10, 55, 2), dwell.OutcomePositive),
		}, 2, 1},
		{"a correction without check-in", cis[:1], []dwell.CheckOut{
			out("co-1", meetingAt(10, 15, 0), dwell.OutcomeRejected),
			out("co-2", meetingAt(10, 55, 0), dwell.OutcomePositive),
		}, 1, 0},
		{"a check-out before the visit", nil, []dwell.CheckOut{
			out("co-1", meetingAt(9, 50, 0), dwell.OutcomeRejected),
		}, 1, 1},
		{"a check-out before the visit and one in it", nil, []dwell.CheckOut{
			out("co-1", meetingAt(9, 50, 0), dwell.OutcomeRejected),
			out("co-2", meetingAt(10, 55, 0), dwell.OutcomePositive),
		}, 1, 0},
	} {
		d := meetingDay(t, c.cis, c.cos)
		decoded, err := DecodeSummaries([][]byte{d.EncodeSummary()})
		if err != nil {
			t.Fatal(err)
		}
		for name, d := range map[string]*Day{"in memory": d, "decoded": decoded[0]} {
			rj := Compute(Input{Start: d.Date, End: d.Date, Reps: []Rep{{ID: "ida", Days: []*Day{d}}}, ClientKind: kindOf}).Rejection
			if rj.WithOutcome != c.with || rj.Rejections != c.rejections || rj.WithoutMeeting != 0 {
				t.Errorf("%s, %s: KPI 6 %+v; want %d meeting(s) with an outcome, %d rejected", c.name, name, rj, c.with, c.rejections)
			}
		}
	}
}
