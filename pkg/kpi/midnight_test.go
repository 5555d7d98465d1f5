package kpi

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// midnightDays are a UTC rep's 18 and 19 November 2026: at client at from
// 23:00 to 00:40, after a drive there from 22:40 and before one away
// until 01:00; the 19th's second visit, if second is set, is at it from
// 09:00 to 09:20.
func midnightDays(at, second dwell.ClientID) []*Day {
	t := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	d18 := &timeline.Day{Start: t(18, 22, 40), End: t(19, 0, 0), Segments: []timeline.Segment{
		{Kind: timeline.KindTravel, Start: t(18, 22, 40), End: t(18, 23, 0)},
		{Kind: timeline.KindVisit, Start: t(18, 23, 0), End: t(19, 0, 0), Client: at, Source: timeline.SourceBoth},
	}, Visits: []timeline.Visit{{Client: at, Start: t(18, 23, 0), End: t(19, 0, 0), Source: timeline.SourceBoth, CheckInRequestID: "ci"}}}
	d19 := &timeline.Day{Start: t(19, 0, 0), End: t(19, 1, 0), Segments: []timeline.Segment{
		{Kind: timeline.KindVisit, Start: t(19, 0, 0), End: t(19, 0, 40), Client: at, Source: timeline.SourceGeofence},
		{Kind: timeline.KindTravel, Start: t(19, 0, 40), End: t(19, 1, 0)},
	}, Visits: []timeline.Visit{{Client: at, Start: t(19, 0, 0), End: t(19, 0, 40), Source: timeline.SourceGeofence}}}
	if second != "" {
		d19.End = t(19, 9, 20)
		d19.Segments = append(d19.Segments, timeline.Segment{Kind: timeline.KindTravel, Start: t(19, 1, 0), End: t(19, 9, 0)},
			timeline.Segment{Kind: timeline.KindVisit, Start: t(19, 9, 0), End: t(19, 9, 20), Client: second, Source: timeline.SourceGeofence})
		d19.Visits = append(d19.Visits, timeline.Visit{Client: second, Start: t(19, 9, 0), End: t(19, 9, 20), Source: timeline.SourceGeofence})
	}
	co := []dwell.CheckOut{{RequestID: "co", Client: at, Time: t(19, 0, 35), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionPrice}}
	d18.CheckIns = []timeline.CheckInResult{{RequestID: "ci", Client: at, Time: t(18, 23, 5), Verification: dwell.VerificationVerified, CheckOutRequestID: "co"}}
	return []*Day{
		Summarize("r", dwell.Date{Year: 2026, Month: 11, Day: 18}, d18, 0, nil, co, nil, kindOf),
		Summarize("r", dwell.Date{Year: 2026, Month: 11, Day: 19}, d19, 0, co, nil, nil, kindOf),
	}
}

// TestMeetingAcrossMidnight: a visit that the next day's first visit
// carries on (same client, from that day's start, nothing but the
// midnight between) is one meeting in the KPIs that count meetings: one
// visit of 100 minutes (KPI 2's count, mean, histogram and sweet spot),
// one verified visit (KPI 3), one meeting of the win (KPI 5), one
// customer visit (KPI 8); it carries its check-in's outcome, and KPI 6
// counts the check-out once, on its own day. Over decoded summaries too.
// A range that begins on the second day counts that day's part; a next
// day that begins at another client is two meetings.
func TestMeetingAcrossMidnight(t *testing.T) {
	d18, d19 := dwell.Date{Year: 2026, Month: 11, Day: 18}, dwell.Date{Year: 2026, Month: 11, Day: 19}
	win := dwell.Opportunity{ID: "o", Rep: "r", Client: "C1", Stage: dwell.StageWon,
		OpenTime: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), CloseTime: time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC)}
	compute := func(days []*Day, from dwell.Date) Result {
		return Compute(Input{Start: from, End: d19, Reps: []Rep{{ID: "r", Days: days}}, Opportunities: []dwell.Opportunity{win}, ClientKind: kindOf})
	}
	days := midnightDays("C1", "")
	if v := days[0].Visits[0]; v.Outcome != dwell.OutcomeRejected || v.CheckOutRequestID != "co" {
		t.Fatalf("the 18th's visit carries %v (%q), want REJECTED from the check-out after midnight", v.Outcome, v.CheckOutRequestID)
	}
	var bs [][]byte
	for _, d := range days {
		bs = append(bs, d.EncodeSummary())
	}
	decoded, err := DecodeSummaries(bs)
	if err != nil {
		t.Fatal(err)
	}
	for name, days := range map[string][]*Day{"in memory": days, "decoded": decoded, "reversed": {days[1], days[0]}} {
		r := compute(days, d18)
		vt := r.VisitTime
		if vt.Records != 1 || vt.CustomerS != 100*60 || vt.CustomerMeanS != 100*60 || vt.Histogram != [5]int{0, 0, 0, 0, 1} || vt.WonMeanS != 100*60 {
			t.Errorf("%s: KPI 2 %+v, want one visit of 100 minutes (a win's)", name, vt)
		}
		near(t, name+": verified visits per day", r.Meetings.VisitsPerDay, 0.5)
		if r.WinRatio.Meetings != 1 || r.Engagement.CustomerVisits != 1 {
			t.Errorf("%s: KPI 5 meetings %d, KPI 8 customer visits %d; want 1 and 1", name, r.WinRatio.Meetings, r.Engagement.CustomerVisits)
		}
		if r.Rejection.Rejections != 1 || r.Rejection.WithOutcome != 1 {
			t.Errorf("%s: KPI 6 %+v, want one rejection of one meeting with an outcome", name, r.Rejection)
		}
		// From the second day on: its part is a visit of the range.
		if r := compute(days, d19); r.VisitTime.Records != 1 || r.VisitTime.CustomerS != 40*60 || r.WinRatio.Meetings != 1 {
			t.Errorf("%s: over the 19th alone KPI 2 %+v and KPI 5 meetings %d, want one visit of 40 minutes, one meeting", name, r.VisitTime, r.WinRatio.Meetings)
		}
	}
	// Summaries of version 5 did not tell a day's ends: each visit is a
	// meeting of its own.
	old, err := DecodeSummaries([][]byte{days[0].encodeSummary(summaryV5), days[1].encodeSummary(summaryV5)})
	if err != nil {
		t.Fatal(err)
	}
	if r := compute(old, d18); r.VisitTime.Records != 2 {
		t.Errorf("over version 5 summaries KPI 2 counts %d visits, want 2", r.VisitTime.Records)
	}
	// A prospect's stay the same way, and a later visit apart.
	r := compute(midnightDays("P1", "P2"), d18)
	if vt := r.VisitTime; vt.Records != 2 || vt.ProspectS != 120*60 || vt.ProspectMeanS != 60*60 || vt.Histogram != [5]int{0, 0, 1, 0, 1} {
		t.Errorf("a prospect's stay and a later visit: KPI 2 %+v, want 2 visits of 100 and 20 minutes", vt)
	}
	// The next day beginning at another client: two meetings.
	other := midnightDays("P1", "")
	d19Other := midnightDays("P2", "")[1]
	if r := compute([]*Day{other[0], d19Other}, d18); r.VisitTime.Records != 2 || r.VisitTime.Histogram != [5]int{0, 0, 0, 1, 1} {
		t.Errorf("another client after midnight: KPI 2 %+v, want two visits (60 and 40 minutes)", r.VisitTime)
	}
}

// TestStationedAtOneClient: a rep at one client from the start of each
// day's working hours (09:00-17:00, off hours around them) to their end
// holds a meeting a day, not one for the week: the parts are 16 hours
// apart (timeline.StayGapMax). So is a rep whose phone was off there overnight.
func TestStationedAtOneClient(t *testing.T) {
	t0 := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	var days []*Day
	for d := 16; d <= 20; d++ {
		day := &timeline.Day{Start: t0(d, 9), End: t0(d, 17), Segments: []timeline.Segment{
			{Kind: timeline.KindOffHours, Start: t0(d, 0), End: t0(d, 9)},
			{Kind: timeline.KindVisit, Start: t0(d, 9), End: t0(d, 17), Client: "C1", Source: timeline.SourceGeofence},
			{Kind: timeline.KindOffHours, Start: t0(d, 17), End: t0(d+1, 0)},
		}, Visits: []timeline.Visit{{Client: "C1", Start: t0(d, 9), End: t0(d, 17), Source: timeline.SourceGeofence}}}
		days = append(days, Summarize("r", dwell.Date{Year: 2026, Month: 11, Day: d}, day, 0, nil, nil, nil, kindOf))
	}
	r := Compute(Input{Start: dwell.Date{Year: 2026, Month: 11, Day: 16}, End: dwell.Date{Year: 2026, Month: 11, Day: 20},
		Reps: []Rep{{ID: "r", Days: days}}, ClientKind: kindOf})
	if r.VisitTime.Records != 5 {
		t.Errorf("visits %d, want 5 (one a day)", r.VisitTime.Records)
	}
	near(t, "visits per field day", r.Meetings.VisitsPerDay, 1)
	if got := r.VisitTime.Histogram[4]; got != 5 {
		t.Errorf("visits of 60 minutes and more %d, want 5 of 8 hours each", got)
	}
}

// TestMeetingResumedAfterPause: a UTC rep at C1 from 23:00 pauses
// tracking there at 23:50:10 on the 18th (a GAP of seconds after its last
// fix) and resumes there at 00:05 on the 19th, its first fix g later (a
// GAP after the PAUSED time), then leaves at 00:40. One meeting of 100
// minutes, as package events tells one stay; with a first fix more than
// timeline.GapMin after the resume, two. A pause there overnight (from
// 18:00 to 08:00) is two meetings (timeline.StayGapMax), however the fixes
// around it look.
func TestMeetingResumedAfterPause(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	d18, d19 := dwell.Date{Year: 2026, Month: 11, Day: 18}, dwell.Date{Year: 2026, Month: 11, Day: 19}
	for _, tc := range []struct {
		last, resume time.Time
		g            time.Duration
		want         int
	}{
		{at(18, 23, 50), at(19, 0, 5), 0, 1},
		{at(18, 23, 50), at(19, 0, 5), 30 * time.Second, 1},
		{at(18, 23, 50), at(19, 0, 5), 2 * time.Minute, 1},
		{at(18, 23, 50), at(19, 0, 5), 15 * time.Minute, 2},
		{at(18, 18, 0), at(19, 8, 0), 30 * time.Second, 2},
	} {
		start := tc.last.Add(-time.Hour)
		day18 := &timeline.Day{Start: start.Add(-15 * time.Minute), End: at(19, 0, 0), Segments: []timeline.Segment{
			{Kind: timeline.KindTravel, Start: start.Add(-15 * time.Minute), End: start},
			{Kind: timeline.KindVisit, Start: start, End: tc.last, Client: "C1", Source: timeline.SourceGeofence},
			{Kind: timeline.KindGap, Start: tc.last, End: tc.last.Add(10 * time.Second)},
			{Kind: timeline.KindPaused, Start: tc.last.Add(10 * time.Second), End: at(19, 0, 0)},
		}, Visits: []timeline.Visit{{Client: "C1", Start: start, End: tc.last, Source: timeline.SourceGeofence}}}
		first := tc.resume.Add(tc.g)
		end := tc.resume.Add(35 * time.Minute)
		segs := []timeline.Segment{{Kind: timeline.KindPaused, Start: at(19, 0, 0), End: tc.resume}}
		if tc.g > 0 {
			segs = append(segs, timeline.Segment{Kind: timeline.KindGap, Start: tc.resume, End: first})
		}
		segs = append(segs, timeline.Segment{Kind: timeline.KindVisit, Start: first, End: end, Client: "C1", Source: timeline.SourceGeofence},
			timeline.Segment{Kind: timeline.KindTravel, Start: end, End: end.Add(20 * time.Minute)})
		day19 := &timeline.Day{Start: at(19, 0, 0), End: end.Add(20 * time.Minute), Segments: segs,
			Visits: []timeline.Visit{{Client: "C1", Start: first, End: end, Source: timeline.SourceGeofence}}}
		days := []*Day{
			Summarize("r", d18, day18, 0, nil, nil, nil, kindOf),
			Summarize("r", d19, day19, 0, nil, nil, nil, kindOf),
		}
		r := Compute(Input{Start: d18, End: d19, Reps: []Rep{{ID: "r", Days: days}}, ClientKind: kindOf})
		if r.VisitTime.Records != tc.want {
			t.Errorf("last fix %v, resume %v, first fix %v after it: KPI 2 counts %d visits, want %d",
				tc.last.Format("15:04"), tc.resume.Format("15:04"), tc.g, r.VisitTime.Records, tc.want)
		}
	}
}

// TestFollowUpNotDoneByItsOwnMeeting: a UTC rep checks out FOLLOW_UP (due
// on the 20th) at 23:30 on 18 November but stays at the client until
// 00:40, then drives away. Derived from fixes, as the server does, the
// meeting is two visits, one on each day, and one meeting to KPI 2; its
// second part, from 00:00, carries it on and is no contact to KPI 7, so
// the follow-up is not done, whether its day is in the range or in the
// look-back. A call to the client on the 19th does it.
func TestFollowUpNotDoneByItsOwnMeeting(t *testing.T) {
	o := dwell.LatLng{Lat: -6.2, Lng: 106.8}
	off := func(m float64) dwell.LatLng { // m metres east of o
		return dwell.LatLng{Lat: o.Lat, Lng: o.Lng + m/(111195*math.Cos(o.Lat*math.Pi/180))}
	}
	ix := geofence.New(geofence.Options{})
	cl := dwell.Client{ID: "P1", Fence: dwell.Geofence{Circle: &dwell.Circle{Center: o, RadiusM: 40}}}
	if err := ix.Put("P1", cl.Fence); err != nil {
		t.Fatal(err)
	}
	u := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	var fixes []dwell.Fix
	add := func(ts time.Time, p dwell.LatLng, v float64) {
		fixes = append(fixes, dwell.Fix{ID: fmt.Sprint("f", len(fixes)), Time: ts, Pos: p, AccuracyM: 8, SpeedMPS: v, BearingDeg: -1})
	}
	// A drive of 3 km to the client from 22:40, the stay from 23:00 to
	// 00:40, a drive of 3 km away until 01:00.
	for ts := u(18, 22, 40); ts.Before(u(18, 23, 0)); ts = ts.Add(30 * time.Second) {
		add(ts, off(-3000*(1-float64(ts.Sub(u(18, 22, 40)))/float64(20*time.Minute))), 2.5)
	}
	for ts := u(18, 23, 0); ts.Before(u(19, 0, 40)); ts = ts.Add(time.Minute) {
		add(ts, o, 0)
	}
	for ts := u(19, 0, 40); ts.Before(u(19, 1, 0)); ts = ts.Add(30 * time.Second) {
		add(ts, off(3000*float64(ts.Sub(u(19, 0, 40)))/float64(20*time.Minute)), 2.5)
	}
	cis := []dwell.CheckIn{{RequestID: "ci", Client: "P1", Time: u(18, 23, 5),
		Fix: &dwell.Fix{ID: "c", Time: u(18, 23, 5), Pos: o, AccuracyM: 8, SpeedMPS: -1, BearingDeg: -1}}}
	d18, d19, due := dwell.Date{Year: 2026, Month: 11, Day: 18}, dwell.Date{Year: 2026, Month: 11, Day: 19}, dwell.Date{Year: 2026, Month: 11, Day: 20}
	cos := []dwell.CheckOut{{RequestID: "co", Client: "P1", Time: u(18, 23, 30), Outcome: dwell.OutcomeFollowUp, FollowUpDate: due}}
	summarize := func(calls []dwell.Call) []*Day {
		var days []*Day
		for _, date := range []dwell.Date{d18, d19} {
			td := timeline.Derive(timeline.Input{Day: date, Fixes: fixes, Fences: ix, Clients: timeline.ClientMap{"P1": cl}, CheckIns: cis, CheckOuts: cos})
			var own []dwell.CheckOut
			var dayCalls []dwell.Call
			if date == d18 {
				own = cos
			} else {
				dayCalls = calls
			}
			days = append(days, Summarize("r", date, &td, len(fixes), own, nil, dayCalls, kindOf))
		}
		return days
	}
	days := summarize(nil)
	if n := len(days[1].Visits); n != 1 || days[1].Visits[0].Start != u(19, 0, 0) {
		t.Fatalf("the 19th has %d visits (%+v), want the meeting's part from midnight", n, days[1].Visits)
	}
	for _, in := range []Input{
		{Start: d18, End: due},
		{Start: d19, End: due, Since: d18}, // the follow-up given in the look-back
	} {
		in.Reps, in.ClientKind = []Rep{{ID: "r", Days: days}}, kindOf
		r := Compute(in)
		if in.Since.IsZero() && r.VisitTime.Records != 1 {
			t.Fatalf("KPI 2 counts %d visits, want the one meeting", r.VisitTime.Records)
		}
		if c := r.Cadence; c.Due != 1 || c.Done != 0 || c.MedianDays != 0 {
			t.Errorf("from %v (look-back from %v): KPI 7 %+v, want 1 follow-up due, none done (no contact after the check-out but the meeting's own part)", in.Start, in.lookBack(), c)
		}
	}
	// A call on the 19th at 10:00 is a contact: done, a day after.
	call := dwell.Call{Client: "P1", StartTime: u(19, 10, 0), TalkSeconds: 60, Outcome: dwell.CallConnected}
	r := Compute(Input{Start: d18, End: due, Reps: []Rep{{ID: "r", Days: summarize([]dwell.Call{call})}}, ClientKind: kindOf})
	if c := r.Cadence; c.Due != 1 || c.Done != 1 || c.MedianDays != 1 {
		t.Errorf("with a call on the 19th: KPI 7 %+v, want 1 due, 1 done, median 1 day", c)
	}
}
