package events

import (
	"slices"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// dedupLogs returns what the event log keeps of the lists, appended in
// order: each key once.
func dedupLogs(lists ...[]dwell.Event) []dwell.Event {
	seen := map[string]bool{}
	var out []dwell.Event
	for _, l := range lists {
		for _, e := range l {
			if !seen[e.Key] {
				seen[e.Key] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// stayEvents returns the log's events at c1, in order.
func stayEvents(evs []dwell.Event) []ev {
	out := []ev{}
	for _, e := range summary(evs) {
		if e.client == "c1" {
			e.late = false // checked apart (TestDiffOpenAtDayEndLate)
			out = append(out, e)
		}
	}
	return out
}

// logWith is logOf with the later day: Diff of each derivation in turn,
// given carry and later, each key kept once.
func logWith(carry Carry, later Later, days ...*timeline.Day) []dwell.Event {
	var out [][]dwell.Event
	var prev *timeline.Day
	for _, d := range days {
		out = append(out, Diff(prev, d, Options{Rep: "r1", DetectTime: at(300), Carry: carry, Later: later}))
		prev = d
	}
	return dedupLogs(out...)
}

// TestDiffOpenAtDayEnd: a visit open at its day's end (working hours
// over, or the phone switched off, at the client) ends when the rep's
// next day with data shows the rep did not carry the stay on: one
// VISIT_ENDED (and GEOFENCE_EXITED, for a fix-backed visit), at the
// visit's end as its day has it, under its own key, whichever day is
// derived first and however often.
func TestDiffOpenAtDayEnd(t *testing.T) {
	geo, claim := timeline.SourceGeofence, timeline.SourceCheckIn
	// Day 1 ends at minute 30 (18:00) at c1; day 2 begins at minute 60.
	day1 := day(travel(0, 10), visit("c1", 10, 30, geo))
	elsewhere := day(visit("c2", 60, 90, geo), travel(90, 100))
	carry := CarryOut(day1, Carry{})
	ended := []ev{
		{dwell.EventGeofenceEntered, "c1", 10, false}, {dwell.EventVisitStarted, "c1", 10, false},
		{dwell.EventGeofenceExited, "c1", 30, false}, {dwell.EventVisitEnded, "c1", 30, false},
	}
	open := ended[:2]
	if !NeedsLater(nil, day1) || NeedsLater(day1, day1) || NeedsLater(day1, day(travel(0, 10), visit("c1", 10, 30, geo))) {
		t.Errorf("NeedsLater: a newly open last visit needs the later day, the same one again not")
	}
	if !NeedsCarry(nil, elsewhere, dwell.Settings{}) || NeedsCarry(elsewhere, elsewhere, dwell.Settings{}) {
		t.Errorf("NeedsCarry: a day whose data first decides the stay needs the day before, once")
	}

	first := logWith(Carry{}, Later{}, day1)
	if got := stayEvents(first); !slices.Equal(got, open) {
		t.Fatalf("day 1 alone: %v, want %v", got, open)
	}
	// Day 2 grows: too little of it to tell at first (3 minutes of
	// travel), then at c2.
	usual := dedupLogs(first, logWith(carry, Later{}, day(travel(60, 63)), elsewhere, nil, elsewhere))
	if got := stayEvents(usual); !slices.Equal(got, ended) {
		t.Errorf("day 1, then day 2: %v, want %v", got, ended)
	}
	// Late upload: day 2 derived first (day 1 had no data: no carry), then
	// day 1, which reads day 2 (and again from scratch).
	second := logWith(Carry{}, Later{}, elsewhere)
	if got := stayEvents(second); len(got) != 0 {
		t.Fatalf("day 2 alone: %v at c1", got)
	}
	reverse := dedupLogs(second, logWith(Carry{}, Later{Day: elsewhere}, day1, nil, day1))
	if got := stayEvents(reverse); !slices.Equal(got, ended) {
		t.Errorf("day 2, then day 1: %v, want %v", got, ended)
	}
	// Day 1 derived again with a newly open last visit (its first
	// derivation, before day 2's data, had no visit yet): the later day
	// ends it.
	rederived := dedupLogs(logWith(Carry{}, Later{}, day(travel(0, 10))), second,
		logWith(Carry{}, Later{Day: elsewhere}, day(travel(0, 10)), day1))
	if got := stayEvents(rederived); !slices.Equal(got, ended) {
		t.Errorf("day 1 derived again with an open last visit: %v, want %v", got, ended)
	}
	// The keys are those day 1 would have given the ends had it shown
	// them: its stay's start.
	for _, e := range usual {
		if e.Client == "c1" && (e.Type == dwell.EventVisitEnded || e.Type == dwell.EventGeofenceExited) {
			if want := Key(e.Type, "r1", "c1", stamp(at(10))); e.Key != want {
				t.Errorf("%v key %q, want %q", e.Type, e.Key, want)
			}
		}
	}

	for _, tc := range []struct {
		name       string
		day1, day2 *timeline.Day
		carry      func(Carry) Carry
		want       []ev
	}{{
		name: "day 2 continues the stay: no end on day 1",
		day1: day1, day2: day(visit("c1", 60, 90, geo), travel(90, 100)),
		want: []ev{ended[0], ended[1], {dwell.EventGeofenceExited, "c1", 90, false}, {dwell.EventVisitEnded, "c1", 90, false}},
	}, {
		name: "day 2 begins idle",
		day1: day1, day2: day(idle(60, 80), travel(80, 90)),
		want: ended,
	}, {
		name: "day 2 begins travelling",
		day1: day1, day2: day(travel(60, 80)),
		want: ended,
	}, {
		name: "day 2 at c1 after travel: two stays",
		day1: day1, day2: day(travel(60, 63), visit("c1", 63, 90, geo)),
		want: append(slices.Clone(ended), ev{dwell.EventGeofenceEntered, "c1", 63, false}, ev{dwell.EventVisitStarted, "c1", 63, false}),
	}, {
		name: "day 2 at c1 from its start after days without data: two stays",
		day1: day1, day2: day(visit("c1", 60, 90, geo)),
		carry: func(c Carry) Carry { c.Gap = true; return c },
		want:  append(slices.Clone(ended), ev{dwell.EventGeofenceEntered, "c1", 60, false}, ev{dwell.EventVisitStarted, "c1", 60, false}),
	}, {
		name: "day 1 left c1 less than SettleAfter before its end, day 2 at c1: two stays",
		day1: day(travel(0, 10), visit("c1", 10, 25, geo), travel(25, 30)), day2: day(visit("c1", 60, 90, geo)),
		want: []ev{ended[0], ended[1], {dwell.EventGeofenceExited, "c1", 25, false}, {dwell.EventVisitEnded, "c1", 25, false},
			{dwell.EventGeofenceEntered, "c1", 60, false}, {dwell.EventVisitStarted, "c1", 60, false}},
	}, {
		name: "paused at c1 to day 1's end, an empty day 2",
		day1: day(travel(0, 10), visit("c1", 10, 25, geo), seg(timeline.KindPaused, 25, 30)),
		day2: day(seg(timeline.KindPaused, 60, 120)),
		want: open,
	}, {
		name: "paused at c1 to day 1's end, day 2 elsewhere after paused time",
		day1: day(travel(0, 10), visit("c1", 10, 25, geo), seg(timeline.KindPaused, 25, 30)),
		day2: day(seg(timeline.KindPaused, 60, 70), travel(70, 80), idle(80, 95)),
		want: []ev{ended[0], ended[1], {dwell.EventGeofenceExited, "c1", 25, false}, {dwell.EventVisitEnded, "c1", 25, false}},
	}, {
		name: "day 1 ends on a claim alone: the visit ends, no fence stay",
		day1: day(travel(0, 10), visit("c1", 10, 30, claim)), day2: elsewhere,
		want: []ev{{dwell.EventVisitStarted, "c1", 10, false}, {dwell.EventVisitEnded, "c1", 30, false}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := CarryOut(tc.day1, Carry{})
			later := Later{Day: tc.day2}
			if tc.carry != nil {
				c = tc.carry(c)
				later.Gap = c.Gap
			}
			log1, log2 := logWith(Carry{}, Later{}, tc.day1), logWith(c, Later{}, tc.day2)
			if got := stayEvents(dedupLogs(log1, log2)); !slices.Equal(got, tc.want) {
				t.Errorf("day 1, then day 2: %v, want %v", got, tc.want)
			}
			// Day 2 first (without day 1's carry), then day 1 reading it.
			rev := dedupLogs(logWith(Carry{}, Later{}, tc.day2), logWith(Carry{}, later, tc.day1))
			// Day 2 alone, without the carry, starts its visit at c1 on
			// its own (the caveat of a second day told of first); leave
			// out what it would not have started given the carry.
			want := slices.DeleteFunc(slices.Clone(tc.want), func(e ev) bool { return e.min >= 60 })
			got := slices.DeleteFunc(stayEvents(rev), func(e ev) bool { return e.min >= 60 })
			if !slices.Equal(got, want) {
				t.Errorf("day 2, then day 1: %v, want %v", got, want)
			}
		})
	}

	// A stay across several midnights ends once, at the end of the last
	// day it filled, under the first day's anchor.
	mid := day(visit("c1", 30, 60, geo))
	c2 := CarryOut(mid, carry)
	day3 := day(visit("c2", 90, 110, geo), travel(110, 120))
	log := dedupLogs(logWith(Carry{}, Later{}, day1), logWith(carry, Later{}, mid), logWith(c2, Later{}, day3))
	want := []ev{ended[0], ended[1], {dwell.EventGeofenceExited, "c1", 60, false}, {dwell.EventVisitEnded, "c1", 60, false}}
	if got := stayEvents(log); !slices.Equal(got, want) {
		t.Errorf("across two midnights: %v, want %v", got, want)
	}
	// The day between derived last, reading day 3: the same.
	log = dedupLogs(logWith(Carry{}, Later{}, day1), logWith(c2, Later{}, day3), logWith(carry, Later{Day: day3}, mid))
	if got := stayEvents(log); !slices.Equal(got, want) {
		t.Errorf("across two midnights, the day between last: %v, want %v", got, want)
	}
}

// TestDiffOpenAtDayEndLate: the end of a stay open at its day's end could
// first have been told once the next day's data showed the rep elsewhere:
// settle (SettleAfter past visit_min) after that day's first tracked
// instant. It is late when detected more than LateAfter after that, not
// after the night the phone was off.
func TestDiffOpenAtDayEndLate(t *testing.T) {
	geo := timeline.SourceGeofence
	day1 := day(travel(0, 10), visit("c1", 10, 30, geo))
	day2 := day(visit("c2", 600, 630, geo), travel(630, 640))
	carry := CarryOut(day1, Carry{})
	settle := (SettleAfter + dwell.DefaultSettings().VisitMin).Minutes()
	for _, tc := range []struct {
		detect float64
		late   bool
	}{
		{600 + settle + 30, false},
		{600 + settle + 30.5, true},
	} {
		for what, evs := range map[string][]dwell.Event{
			"day 2 derived after day 1": Diff(nil, day2, Options{Rep: "r1", DetectTime: at(tc.detect), Carry: carry}),
			"day 1 derived after day 2": Diff(nil, day1, Options{Rep: "r1", DetectTime: at(tc.detect), Later: Later{Day: day2}}),
		} {
			n := 0
			for _, e := range evs {
				if e.Client == "c1" && (e.Type == dwell.EventVisitEnded || e.Type == dwell.EventGeofenceExited) {
					n++
					if e.Late != tc.late {
						t.Errorf("%s, detected at +%vmin: %v late = %v, want %v", what, tc.detect, e.Type, e.Late, tc.late)
					}
				}
			}
			if n != 2 {
				t.Errorf("%s: %d ends at c1, want 2: %v", what, n, summary(evs))
			}
		}
	}
}

// carryBefore returns what the days before a day (consecutive days with
// data, in date order) hand on to it, as the server's carryInto builds
// it: from the last day back across the days that CarriesOn, then
// CarryOut of each in date order.
func carryBefore(days ...*timeline.Day) Carry {
	first := len(days) - 1
	for first > 0 && CarriesOn(days[first]) {
		first--
	}
	var c Carry
	for _, d := range days[first:] {
		c = CarryOut(d, c)
	}
	return c
}

// TestDiffCarriedStayLeftAtDayEnd: a stay carried across midnight (day 1
// ends at c1, day 2 begins there) that the rep leaves less than
// SettleAfter before day 2's end is open at day 2's end, Left, and day 3
// elsewhere ends it. Its one end is under the anchor where it began on
// day 1, as its start, whichever of day 2 and day 3 tells it: day 2,
// reading day 3 (both derived in one pass), or day 3, reading what day 2
// hands on, which depends on what day 1 handed day 2 (CarriesOn).
func TestDiffCarriedStayLeftAtDayEnd(t *testing.T) {
	geo := timeline.SourceGeofence
	day1 := day(travel(0, 10), visit("c1", 10, 30, geo))
	day2 := day(visit("c1", 60, 85, geo), travel(85, 90))
	day3 := day(visit("c2", 120, 150, geo), travel(150, 160))
	if !CarriesOn(day2) {
		t.Errorf("CarriesOn(day 2) = false: what day 2 hands on depends on day 1's stay it began with")
	}
	if c := carryBefore(day1, day2); c.Visit != (Stay{Client: "c1", Since: at(10), End: at(85), Left: true}) {
		t.Errorf("what day 2 hands on: %+v, want the stay since day 1, Left", c.Visit)
	}
	want := []ev{
		{dwell.EventGeofenceEntered, "c1", 10, false}, {dwell.EventVisitStarted, "c1", 10, false},
		{dwell.EventGeofenceExited, "c1", 85, false}, {dwell.EventVisitEnded, "c1", 85, false},
	}
	for name, log := range map[string][]dwell.Event{
		"in order": dedupLogs(logWith(Carry{}, Later{}, day1), logWith(carryBefore(day1), Later{}, day2),
			logWith(carryBefore(day1, day2), Later{}, day3)),
		"days 2 and 3 in one pass": dedupLogs(logWith(Carry{}, Later{}, day1),
			logWith(carryBefore(day1), Later{Day: day3}, day2), logWith(carryBefore(day1, day2), Later{}, day3)),
		"day 3, then day 2": dedupLogs(logWith(Carry{}, Later{}, day1), logWith(carryBefore(day1, day2), Later{}, day3),
			logWith(carryBefore(day1), Later{Day: day3}, day2)),
	} {
		if got := stayEvents(log); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		for _, e := range log {
			if e.Client == "c1" {
				if k := Key(e.Type, "r1", "c1", stamp(at(10))); e.Key != k {
					t.Errorf("%s: %v key %q, want %q (the stay's start on day 1)", name, e.Type, e.Key, k)
				}
			}
		}
	}
}

// TestDiffOpenAtDayEndMovedStart: day 1's visit to c1, open at its end,
// was ended by day 2 (the rep at c2); then late fixes of day 1 move the
// visit's start earlier. The visit pairs with the one ended: it is not a
// newly open stay (NeedsLater), and Diff, even given day 2, tells no
// second end, as within a day a moved boundary of a visit whose end was
// told tells nothing. Late fixes that split off a new last part (the rep
// left c1 and came back) do make a new stay, started and ended.
func TestDiffOpenAtDayEndMovedStart(t *testing.T) {
	geo := timeline.SourceGeofence
	onTime := day(visit("c1", 15, 30, geo))
	day2 := day(visit("c2", 60, 90, geo), travel(90, 100))
	told := dedupLogs(logWith(Carry{}, Later{}, onTime), logWith(CarryOut(onTime, Carry{}), Later{}, day2))
	ended := []ev{
		{dwell.EventGeofenceEntered, "c1", 15, false}, {dwell.EventVisitStarted, "c1", 15, false},
		{dwell.EventGeofenceExited, "c1", 30, false}, {dwell.EventVisitEnded, "c1", 30, false},
	}
	if got := stayEvents(told); !slices.Equal(got, ended) {
		t.Fatalf("day 1, then day 2: %v, want %v", got, ended)
	}

	moved := day(travel(0, 14), visit("c1", 14, 30, geo))
	if NeedsLater(onTime, moved) {
		t.Errorf("NeedsLater: a moved start of the same open visit is no newly open stay")
	}
	log := dedupLogs(told, Diff(onTime, moved, Options{Rep: "r1", DetectTime: at(300), Later: Later{Day: day2}}))
	if got := stayEvents(log); !slices.Equal(got, ended) {
		t.Errorf("day 1's start moved, given day 2: %v, want %v", got, ended)
	}

	split := day(visit("c1", 15, 20, geo), travel(20, 24), visit("c1", 24, 30, geo))
	if !NeedsLater(onTime, split) {
		t.Errorf("NeedsLater: a new last part split off the visit is a newly open stay")
	}
	log = dedupLogs(told, Diff(onTime, split, Options{Rep: "r1", DetectTime: at(300), Later: Later{Day: day2}}))
	want := append(slices.Clone(ended), ev{dwell.EventGeofenceEntered, "c1", 24, false}, ev{dwell.EventVisitStarted, "c1", 24, false},
		ev{dwell.EventGeofenceExited, "c1", 30, false}, ev{dwell.EventVisitEnded, "c1", 30, false})
	if got := stayEvents(log); !slices.Equal(got, want) {
		t.Errorf("day 1 split, given day 2: %v, want %v", got, want)
	}
}

// TestDiffResumedAtClient: a rep at c1 pauses tracking there ten minutes
// before day 1's end (a GAP of seconds between its last fix and the
// pause) and resumes there five minutes into day 2, whose first fix comes
// a little after the resume (a GAP between the PAUSED time and the
// visit): at most timeline.StayGapMax between the parts. The pause is
// inside one visit, whichever day is derived first: one start (day 1's)
// and one end (day 2's, when the rep leaves), no end at the pause. A GAP
// after the resume longer than timeline.GapMin is the rep unobserved,
// not paused: day 2's visit is then a stay of its own. (A pause there
// overnight is two stays: TestDiffStayGap.)
func TestDiffResumedAtClient(t *testing.T) {
	geo := timeline.SourceGeofence
	day1 := day(travel(0, 10), visit("c1", 10, 50, geo), seg(timeline.KindGap, 50, 50.2), seg(timeline.KindPaused, 50.2, 60))
	// day2 resumes at minute 65, its first fix g minutes later.
	day2 := func(g float64) *timeline.Day {
		segs := []timeline.Segment{seg(timeline.KindPaused, 60, 65)}
		if g > 0 {
			segs = append(segs, seg(timeline.KindGap, 65, 65+g))
		}
		return day(append(segs, visit("c1", 65+g, 160, geo), travel(160, 175), visit("c2", 175, 200, geo))...)
	}
	one := []ev{
		{dwell.EventGeofenceEntered, "c1", 10, false}, {dwell.EventVisitStarted, "c1", 10, false},
		{dwell.EventGeofenceExited, "c1", 160, false}, {dwell.EventVisitEnded, "c1", 160, false},
	}
	for _, g := range []float64{0, 0.5, 2, 10} {
		d2 := day2(g)
		c := CarryOut(day1, Carry{})
		inOrder := dedupLogs(logWith(Carry{}, Later{}, day1), logWith(c, Later{}, d2))
		if got := stayEvents(inOrder); !slices.Equal(got, one) {
			t.Errorf("first fix %v min after the resume, day 1 then day 2: %v, want %v", g, got, one)
		}
		reverse := dedupLogs(logWith(Carry{}, Later{}, d2), logWith(Carry{}, Later{Day: d2}, day1))
		// Day 2 derived first, without day 1's carry, starts its visit on
		// its own (a second day told of first); day 1 must not end the
		// stay at the pause.
		for _, e := range stayEvents(reverse) {
			if e.min == 50 {
				t.Errorf("first fix %v min after the resume, day 2 then day 1: an end at the pause: %v", g, stayEvents(reverse))
				break
			}
		}
		if !NeedsCarry(nil, d2, dwell.Settings{}) {
			t.Errorf("first fix %v min after the resume: NeedsCarry = false for a first visit that begins the day", g)
		}
	}
	late := day2(15)
	want := []ev{
		{dwell.EventGeofenceEntered, "c1", 10, false}, {dwell.EventVisitStarted, "c1", 10, false},
		{dwell.EventGeofenceExited, "c1", 50, false}, {dwell.EventVisitEnded, "c1", 50, false},
		{dwell.EventGeofenceEntered, "c1", 80, false}, {dwell.EventVisitStarted, "c1", 80, false},
		{dwell.EventGeofenceExited, "c1", 160, false}, {dwell.EventVisitEnded, "c1", 160, false},
	}
	if got := stayEvents(dedupLogs(logWith(Carry{}, Later{}, day1), logWith(CarryOut(day1, Carry{}), Later{}, late))); !slices.Equal(got, want) {
		t.Errorf("first fix 15 min after the resume: %v, want %v", got, want)
	}

	// An idle stop across the night, paused and resumed at one place, is
	// one idle stop too.
	idle1 := day(travel(0, 10), idle(10, 50), seg(timeline.KindPaused, 50, 60))
	idle2 := day(seg(timeline.KindPaused, 60, 65), seg(timeline.KindGap, 65, 65.5), idle(65.5, 150), travel(150, 160))
	log := dedupLogs(logWith(Carry{}, Later{}, idle1), logWith(CarryOut(idle1, Carry{}), Later{}, idle2))
	got := summary(log)
	for i := range got {
		got[i].late = false
	}
	if !slices.Equal(got, []ev{{dwell.EventIdleStarted, "", 10, false}}) {
		t.Errorf("idle, paused and resumed at one place: %v, want one IDLE_STARTED at 10", got)
	}
	if !CarriesOn(day(seg(timeline.KindPaused, 60, 65), seg(timeline.KindGap, 65, 65.5), idle(65.5, 180), seg(timeline.KindPaused, 180, 240))) {
		t.Errorf("CarriesOn: a day idle at one place from its resume to its pause carries on the idle stop before it")
	}
}
