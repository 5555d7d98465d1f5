package kpi

import (
	"testing"

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
		return Summarize("ani", d, &td, 0, nil, nil, kindOf)
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
	if d := Summarize("ani", date(3, 9), &td, 0, nil, nil, kindOf); d.Totals.PausedS != 8*3600 {
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
