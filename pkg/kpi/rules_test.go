package kpi

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// TestWhollyPausedDayIsNoFieldDay: a rep who pauses tracking on Friday
// evening and resumes on Monday morning was not in the field on the
// Saturday between. The derivation lays a PAUSED segment over the whole
// Saturday (so the day has a span), but no second of it is field time:
// it must not count as a field day, or every per-field-day figure of a
// range that holds it (idle per day, visits per day, positives per day)
// is divided by one day too many.
func TestWhollyPausedDayIsNoFieldDay(t *testing.T) {
	fri, sat, sun := date(3, 6), date(3, 7), date(3, 8)
	tracking := []dwell.TrackingChange{
		{RequestID: "p", Rep: "ani", Time: at(jakarta, 6, 18, 0), Paused: true},
		{RequestID: "r", Rep: "ani", Time: at(jakarta, 9, 8, 0)},
	}
	paused := func(d dwell.Date) *Day {
		td := timeline.Derive(timeline.Input{Day: d, Loc: jakarta, Tracking: tracking})
		return Summarize("ani", d, &td, 0, nil, nil, nil, kindOf)
	}
	// Friday: a visit and an idle hour before the pause.
	friday := day("ani", jakarta, 6, []gv{{client: "P1", h: 9, min: 30, outcome: pos}}, 60, 0, 0, 0, nil)
	weekend := []*Day{paused(sat), paused(sun)}
	for _, d := range weekend {
		if d.Totals.PausedS != 24*3600 || d.Totals.FieldS() != 0 {
			t.Fatalf("%v: paused %d s, field %d s; want a whole paused day", d.Date, d.Totals.PausedS, d.Totals.FieldS())
		}
		if d.Field() {
			t.Errorf("%v, paused from start to end, is a field day", d.Date)
		}
	}
	in := Input{Start: fri, End: sun, Reps: []Rep{{ID: "ani", Loc: jakarta, Days: append([]*Day{friday}, weekend...)}}}
	r := Compute(in)
	wantBasis(t, "idle", r.Idle.Basis, 1, 1)
	near(t, "idle per day", r.Idle.IdleSPerDay, 3600)
	near(t, "visits per day", r.Meetings.VisitsPerDay, 1)
	near(t, "positive per day", r.Cadence.PositivePerDay, 1)
	// Through the encoded summaries, as the server reads them.
	var bs [][]byte
	for _, d := range in.Reps[0].Days {
		bs = append(bs, d.EncodeSummary())
	}
	decoded, err := DecodeSummaries(bs)
	if err != nil {
		t.Fatal(err)
	}
	in.Reps[0].Days = decoded
	if got := Compute(in); got.Idle.Basis != r.Idle.Basis {
		t.Errorf("over decoded summaries: idle basis %+v, want %+v", got.Idle.Basis, r.Idle.Basis)
	}
	// The breakdown counts the weekend's paused time but no field day.
	rows := Breakdown(in.Reps, fri, sun, false)
	if len(rows) != 1 || rows[0].FieldDays != 1 || rows[0].Totals.PausedS != 2*24*3600 {
		t.Errorf("breakdown %+v, want 1 field day and 48 h paused", rows)
	}
	// A day with a pause and field time beside it stays a field day.
	td := timeline.Derive(timeline.Input{Day: date(3, 9), Loc: jakarta, Tracking: tracking})
	if d := Summarize("ani", date(3, 9), &td, 0, nil, nil, nil, kindOf); d.Totals.PausedS != 8*3600 {
		t.Fatalf("Monday paused %d s, want 8 h", d.Totals.PausedS)
	}
	mixed := &Day{Rep: "ani", Date: date(3, 9), Start: at(jakarta, 9, 0, 0), End: at(jakarta, 9, 9, 0),
		Totals: Totals{PausedS: 8 * 3600, IdleS: 3600}}
	if !mixed.Field() {
		t.Error("a day with a pause and an idle hour is not a field day")
	}
	// A day of one fix, no pause, has an observed span of no length: a
	// field day, as before pauses existed.
	one := &Day{Rep: "ani", Date: date(3, 10), Start: at(jakarta, 10, 9, 0), End: at(jakarta, 10, 9, 0)}
	if !one.Field() {
		t.Error("a day of one fix is not a field day")
	}
}

// TestVisitAcrossBreak: a meeting across a split shift's break is one
// visit whose length leaves the break out (timeline.Visit.OffHours), in
// the visit time, its mean, the histogram and the sweet spot, and through
// the encoded summaries as the server reads them; the OFF_HOURS segment
// is in no total.
func TestVisitAcrossBreak(t *testing.T) {
	d0 := date(3, 2)
	v := timeline.Visit{Client: "toko", Start: at(jakarta, 2, 11, 40), End: at(jakarta, 2, 13, 20), Source: timeline.SourceGeofence,
		OffHours: time.Hour}
	td := timeline.Day{Start: v.Start, End: v.End, Visits: []timeline.Visit{v}, Segments: []timeline.Segment{
		{Kind: timeline.KindVisit, Client: "toko", Start: v.Start, End: at(jakarta, 2, 12, 0)},
		{Kind: timeline.KindOffHours, Start: at(jakarta, 2, 12, 0), End: at(jakarta, 2, 13, 0)},
		{Kind: timeline.KindVisit, Client: "toko", Start: at(jakarta, 2, 13, 0), End: v.End},
	}}
	d := Summarize("ani", d0, &td, 100, nil, nil, nil, func(dwell.ClientID) dwell.ClientKind { return dwell.ClientKindProspect })
	if d.Totals.VisitProspectS != 40*60 || d.Totals.FieldS() != 40*60 || d.Totals.PausedS != 0 {
		t.Fatalf("totals %+v, want 40 min of visit and nothing else", d.Totals)
	}
	decoded, err := DecodeSummaries([][]byte{d.EncodeSummary()})
	if err != nil {
		t.Fatal(err)
	}
	for name, day := range map[string]*Day{"summarized": d, "decoded": decoded[0]} {
		r := Compute(Input{Start: d0, End: d0, Reps: []Rep{{ID: "ani", Loc: jakarta, Days: []*Day{day}}}})
		vt := r.VisitTime
		if vt.ProspectS != 40*60 || vt.ProspectMeanS != 40*60 || vt.NotWonMeanS != 40*60 || vt.Histogram != [5]int{0, 0, 0, 1, 0} {
			t.Errorf("%s: visit time %+v, want one visit of 40 min", name, vt)
		}
	}
	full, err := DecodeDay(d.EncodeSummary(), d.EncodeDetail())
	if err != nil || full.Visits[0].OffHours != time.Hour || full.Timeline().Segments[1].Kind != timeline.KindOffHours {
		t.Errorf("decoded day %+v, %v: want the visit's hour off and the OFF_HOURS segment", full, err)
	}
}
