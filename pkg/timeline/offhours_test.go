package timeline

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// splitShift is a rep's split shift on huntDay: 09:00-12:00 and
// 13:00-17:00, the break 12:00-13:00.
var splitShift = []Window{{Start: hm(13, 0, 0), End: hm(17, 0, 0)}, {Start: hm(9, 0, 0), End: hm(12, 0, 0)}}

// stored returns the fixes outside the split shift's break: what ingest
// keeps.
func stored(fixes []dwell.Fix) []dwell.Fix {
	var out []dwell.Fix
	for _, f := range fixes {
		if f.Time.Before(hm(12, 0, 0)) || !f.Time.Before(hm(13, 0, 0)) {
			out = append(out, f)
		}
	}
	return out
}

// checkBreak fails unless the only segment overlapping the break is one
// OFF_HOURS segment of exactly the break, and no total counts it.
func checkBreak(t *testing.T, day Day) {
	t.Helper()
	b0, b1 := hm(12, 0, 0), hm(13, 0, 0)
	var off []Segment
	for _, s := range day.Segments {
		if s.End.After(b0) && s.Start.Before(b1) {
			off = append(off, s)
		}
	}
	if len(off) != 1 || off[0].Kind != KindOffHours || !off[0].Start.Equal(b0) || !off[0].End.Equal(b1) {
		t.Errorf("segments over the break: %v, want one OFF_HOURS 12:00-13:00\n%s", off, day.Encode())
	}
	for i := 1; i < len(day.Segments); i++ {
		if !day.Segments[i].Start.Equal(day.Segments[i-1].End) {
			t.Errorf("segments %d and %d are not contiguous\n%s", i-1, i, day.Encode())
		}
	}
	tot := day.Totals
	if sum := tot.Visit + tot.Idle + tot.Travel + tot.Gap + tot.Paused; sum != day.End.Sub(day.Start)-time.Hour {
		t.Errorf("totals sum to %v, want the span %v less the break", sum, day.End.Sub(day.Start))
	}
}

// TestSplitShiftLunchIsIdle (a reviewer's case): a rep with a split shift
// 09:00-12:00 and 13:00-17:00 parked at a non-client place 11:50-13:10.
// The break is off hours, not idle: 20 minutes idle, not 80.
func TestSplitShiftLunchIsIdle(t *testing.T) {
	P := offset(0, 0)
	var tr track
	tr.move(hm(11, 40, 0), hm(11, 50, 0), offset(-3000, 0), P, 30*time.Second, 8)
	tr.stay(hm(11, 50, 0), hm(13, 10, 0), P, time.Minute, 10, 5)
	tr.move(hm(13, 10, 0), hm(13, 20, 0), P, offset(3000, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: stored(tr.fixes), Windows: splitShift})
	if day.Totals.Idle > 21*time.Minute || day.Totals.Idle < 19*time.Minute {
		t.Errorf("idle %v, want 20m (11:50-12:00 and 13:00-13:10)", day.Totals.Idle)
	}
	if got := segmentsOf(day, KindIdle); len(got) != 2 {
		t.Errorf("%d idle segments, want 2, one each side of the break\n%s", len(got), day.Encode())
	}
	checkBreak(t, day)

	// The same day with one window 09:00-17:00 counts the whole stop: the
	// break is what Windows adds.
	whole := Derive(Input{Day: huntDay, Fixes: stored(tr.fixes), Window: Window{Start: hm(9, 0, 0), End: hm(17, 0, 0)}})
	if whole.Totals.Idle < 79*time.Minute {
		t.Errorf("one window: idle %v, want the whole 80m stop", whole.Totals.Idle)
	}
}

// TestSplitShiftVisitAcrossBreak: a meeting at a client that runs across
// the break is one visit, VISIT, OFF_HOURS, VISIT, whose duration leaves
// the break out.
func TestSplitShiftVisitAcrossBreak(t *testing.T) {
	P := offset(0, 0)
	ix, cm := circleClients(t, circle("shop", P, 40))
	var tr track
	tr.move(hm(11, 30, 0), hm(11, 40, 0), offset(-3000, 0), P, 30*time.Second, 8)
	tr.stay(hm(11, 40, 0), hm(13, 20, 0), P, time.Minute, 15, 5)
	tr.move(hm(13, 20, 0), hm(13, 30, 0), P, offset(3000, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: stored(tr.fixes), Windows: splitShift, Fences: ix, Clients: cm})
	if len(day.Visits) != 1 {
		t.Fatalf("%d visits, want 1\n%s", len(day.Visits), day.Encode())
	}
	v := day.Visits[0]
	if v.Client != "shop" || v.OffHours != time.Hour || v.Paused != 0 {
		t.Errorf("visit %+v, want shop with an hour off", v)
	}
	if d := v.Duration(); d < 39*time.Minute || d > 41*time.Minute {
		t.Errorf("visit lasts %v, want 40m (11:40-12:00 and 13:00-13:20)", d)
	}
	if day.Totals.Visit != v.Duration() {
		t.Errorf("visit total %v, want the visit's %v", day.Totals.Visit, v.Duration())
	}
	var kinds []Kind
	for _, s := range day.Segments {
		if s.End.After(v.Start) && s.Start.Before(v.End) {
			kinds = append(kinds, s.Kind)
		}
	}
	if !slices.Equal(kinds, []Kind{KindVisit, KindOffHours, KindVisit}) {
		t.Errorf("segments over the visit %v, want VISIT OFF_HOURS VISIT", kinds)
	}
	checkBreak(t, day)
}

// TestSplitShiftElsewhereAfterBreak: a rep who leaves a client at the
// break and is at another place after it has no gap or travel in the
// break; fixes a phone sent in the break (ingest refuses them) are
// ignored, like fixes outside working hours.
func TestSplitShiftElsewhereAfterBreak(t *testing.T) {
	A, B := offset(0, 0), offset(6000, 0)
	ix, cm := circleClients(t, circle("a", A, 40), circle("b", B, 40))
	var tr track
	tr.stay(hm(11, 20, 0), hm(11, 59, 0), A, time.Minute, 15, 5)
	tr.move(hm(11, 59, 0), hm(12, 20, 0), A, offset(3000, 3000), 30*time.Second, 8)
	tr.stay(hm(12, 20, 0), hm(12, 50, 0), offset(3000, 3000), time.Minute, 10, 5)
	tr.stay(hm(13, 1, 0), hm(13, 40, 0), B, time.Minute, 15, 5)
	in := Input{Day: huntDay, Fixes: tr.fixes, Windows: splitShift, Fences: ix, Clients: cm}
	day := Derive(in)
	in.Fixes = stored(tr.fixes)
	if got := Derive(in); !bytes.Equal(got.Encode(), day.Encode()) {
		t.Errorf("fixes in the break changed the day:\n%s\nwithout them:\n%s", day.Encode(), got.Encode())
	}
	if len(day.Visits) != 2 || day.Visits[0].Client != "a" || day.Visits[1].Client != "b" {
		t.Fatalf("visits %+v, want a then b\n%s", day.Visits, day.Encode())
	}
	for _, v := range day.Visits {
		if v.OffHours != 0 || v.End.After(hm(12, 0, 0)) && v.Start.Before(hm(13, 0, 0)) {
			t.Errorf("visit %+v reaches into the break", v)
		}
	}
	checkBreak(t, day)
}

// TestSplitShiftPauseAcrossBreak: a pause from before the break to after
// it is paused only in working time; the break stays off hours, and a
// visit across both leaves both out.
func TestSplitShiftPauseAcrossBreak(t *testing.T) {
	P := offset(0, 0)
	ix, cm := circleClients(t, circle("shop", P, 40))
	var tr track
	tr.move(hm(11, 0, 0), hm(11, 10, 0), offset(-3000, 0), P, 30*time.Second, 8)
	tr.stay(hm(11, 10, 0), hm(13, 50, 0), P, time.Minute, 15, 5)
	tr.move(hm(13, 50, 0), hm(14, 0, 0), P, offset(3000, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: stored(tr.fixes), Windows: splitShift, Fences: ix, Clients: cm,
		Tracking: []dwell.TrackingChange{pause("p", hm(11, 30, 0), true), pause("r", hm(13, 30, 0), false)}})
	if day.Totals.Paused != time.Hour {
		t.Errorf("paused %v, want 1h (11:30-12:00 and 13:00-13:30)\n%s", day.Totals.Paused, day.Encode())
	}
	var kinds []Kind
	for _, s := range day.Segments {
		if s.End.After(hm(11, 30, 0)) && s.Start.Before(hm(13, 30, 0)) {
			kinds = append(kinds, s.Kind)
		}
	}
	if !slices.Equal(kinds, []Kind{KindPaused, KindOffHours, KindPaused}) {
		t.Errorf("segments 11:30-13:30 %v, want PAUSED OFF_HOURS PAUSED\n%s", kinds, day.Encode())
	}
	if len(day.Visits) != 1 {
		t.Fatalf("%d visits, want 1\n%s", len(day.Visits), day.Encode())
	}
	v := day.Visits[0]
	if v.Paused != time.Hour || v.OffHours != time.Hour {
		t.Errorf("visit paused %v, off hours %v, want 1h each", v.Paused, v.OffHours)
	}
	if d := v.Duration(); d < 39*time.Minute || d > 41*time.Minute {
		t.Errorf("visit lasts %v, want 40m (11:10-11:30 and 13:30-13:50)", d)
	}
	checkBreak(t, day)
}

// TestWindowsLikeWindow: one window, or windows that touch or overlap,
// derive the day Window derives; the order of the windows does not
// matter; a break outside the observed span shows nothing.
func TestWindowsLikeWindow(t *testing.T) {
	P, Q := offset(0, 0), offset(2000, 0)
	var tr track
	tr.stay(hm(9, 0, 0), hm(9, 30, 0), P, time.Minute, 10, 5)
	tr.move(hm(9, 30, 0), hm(9, 40, 0), P, Q, 30*time.Second, 8)
	tr.stay(hm(9, 40, 0), hm(10, 30, 0), Q, time.Minute, 10, 5)
	want := Derive(Input{Day: huntDay, Fixes: tr.fixes, Window: Window{Start: hm(8, 0, 0), End: hm(17, 0, 0)}}).Encode()
	for name, ws := range map[string][]Window{
		"one":      {{Start: hm(8, 0, 0), End: hm(17, 0, 0)}},
		"touching": {{Start: hm(12, 0, 0), End: hm(17, 0, 0)}, {Start: hm(8, 0, 0), End: hm(12, 0, 0)}},
		"overlapping": {{Start: hm(8, 0, 0), End: hm(12, 0, 0)}, {Start: hm(11, 0, 0), End: hm(17, 0, 0)},
			{Start: hm(13, 0, 0), End: hm(13, 0, 0)}},
		"a break after the last fix": {{Start: hm(8, 0, 0), End: hm(12, 0, 0)}, {Start: hm(13, 0, 0), End: hm(17, 0, 0)}},
	} {
		if got := Derive(Input{Day: huntDay, Fixes: tr.fixes, Windows: ws}).Encode(); !bytes.Equal(got, want) {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
		}
	}
	// Split windows in either order give the same bytes.
	var lunch track
	lunch.stay(hm(11, 0, 0), hm(14, 0, 0), P, time.Minute, 10, 5)
	a := Derive(Input{Day: huntDay, Fixes: lunch.fixes, Windows: splitShift}).Encode()
	b := Derive(Input{Day: huntDay, Fixes: lunch.fixes, Windows: []Window{splitShift[1], splitShift[0]}}).Encode()
	if !bytes.Equal(a, b) {
		t.Errorf("the order of the windows changed the day:\n%s\n%s", a, b)
	}
	if !bytes.Contains(a, []byte("segment OFF_HOURS 2026-03-02T12:00:00.000Z 2026-03-02T13:00:00.000Z 1h0m0s")) {
		t.Errorf("no OFF_HOURS segment for the break:\n%s", a)
	}
}

func TestBreakSpans(t *testing.T) {
	h := func(x int) time.Time { return hm(x, 0, 0) }
	w := func(a, b int) Window { return Window{Start: h(a), End: h(b)} }
	for _, c := range []struct {
		name   string
		ws     []Window
		lo, hi time.Time
		want   []span
	}{
		{"none", nil, time.Time{}, time.Time{}, nil},
		{"one window", []Window{w(9, 17)}, time.Time{}, time.Time{}, nil},
		{"a split shift", []Window{w(13, 17), w(9, 12)}, time.Time{}, time.Time{}, []span{{h(12), h(13)}}},
		{"three windows", []Window{w(9, 11), w(12, 14), w(15, 17)}, time.Time{}, time.Time{}, []span{{h(11), h(12)}, {h(14), h(15)}}},
		{"touching", []Window{w(9, 12), w(12, 17)}, time.Time{}, time.Time{}, nil},
		{"overlapping", []Window{w(9, 13), w(12, 17), w(18, 19)}, time.Time{}, time.Time{}, []span{{h(17), h(18)}}},
		{"an empty window", []Window{w(9, 12), w(12, 12), w(13, 17)}, time.Time{}, time.Time{}, []span{{h(12), h(13)}}},
		{"cut to the bounds", []Window{w(9, 11), w(12, 14), w(15, 17)}, h(11), h(14), []span{{h(11), h(12)}}},
	} {
		if got := breakSpans(c.ws, c.lo, c.hi); !slices.Equal(got, c.want) {
			t.Errorf("%s: breakSpans = %v, want %v", c.name, got, c.want)
		}
	}
}

// A stop at a client of 2 minutes before a split shift's break and 2
// after is no visit, as with a pause in place of the break: its length is
// its working time. (The rule was once the whole stop, break included,
// while a pause was left out: the same fixes made a meeting of 4 minutes
// or none depending on what the hour was.) At 3 + 3 minutes it is one
// visit, the break in its OffHours.
func TestShortStopAcrossBreak(t *testing.T) {
	P := offset(0, 0)
	ix, cm := circleClients(t, circle("shop", P, 40))
	for _, tc := range []struct {
		either time.Duration
		visits int
	}{{2 * time.Minute, 0}, {3 * time.Minute, 1}} {
		var tr track
		arrive, leave := hm(12, 0, 0).Add(-tc.either), hm(13, 0, 0).Add(tc.either)
		tr.move(arrive.Add(-10*time.Minute), arrive, offset(-3000, 0), P, 30*time.Second, 8)
		tr.stay(arrive, leave, P, 30*time.Second, 10, 5)
		tr.move(leave, leave.Add(10*time.Minute), P, offset(3000, 0), 30*time.Second, 8)
		fixes := stored(tr.fixes)
		day := Derive(Input{Day: huntDay, Fixes: fixes, Windows: splitShift, Fences: ix, Clients: cm})
		paused := Derive(Input{Day: huntDay, Fixes: fixes, Window: Window{Start: hm(9, 0, 0), End: hm(17, 0, 0)}, Fences: ix, Clients: cm,
			Tracking: []dwell.TrackingChange{{RequestID: "p", Time: hm(12, 0, 0), Paused: true}, {RequestID: "r", Time: hm(13, 0, 0)}}})
		if len(day.Visits) != tc.visits || len(paused.Visits) != tc.visits {
			t.Errorf("%v either side of the break: %d visits, with a pause instead %d; want %d:\n%s", tc.either, len(day.Visits), len(paused.Visits), tc.visits, day.Encode())
			continue
		}
		if tc.visits == 1 && day.Visits[0].OffHours != time.Hour {
			t.Errorf("%v either side: the visit's off hours %v, want 1h", tc.either, day.Visits[0].OffHours)
		}
		if tc.visits == 0 && day.Totals.Idle != 0 {
			t.Errorf("%v either side: idle %v from a stop of %v working time at a site", tc.either, day.Totals.Idle, 2*tc.either)
		}
	}
}
