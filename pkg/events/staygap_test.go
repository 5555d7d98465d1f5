package events

import (
	"slices"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// hm returns the minute (as at and seg take it) of hour h and minute m of
// day d, day 0 being t9's (2 March 2026, UTC).
func hm(d int, h, m float64) float64 { return float64(d)*24*60 + (h-9)*60 + m }

// carryOf returns what the days before days[i] hand on to it, as the
// server's carryInto reads them (the days are consecutive, each with
// data): back from the day before across the days that CarriesOn.
func carryOf(days []*timeline.Day, i int) Carry {
	j := i - 1
	for j > 0 && CarriesOn(days[j]) {
		j--
	}
	var c Carry
	for k := max(j, 0); k < i; k++ {
		c = CarryOut(days[k], c)
	}
	return c
}

// inOrder returns what the log keeps when each of the consecutive days
// is derived once, in order, with what the days before hand on.
func inOrder(days ...*timeline.Day) []dwell.Event {
	var out [][]dwell.Event
	for i, d := range days {
		out = append(out, Diff(nil, d, Options{Rep: "r1", DetectTime: at(hm(9, 0, 0)), Carry: carryOf(days, i)}))
	}
	return dedupLogs(out...)
}

// of returns the events of types ts in evs, at their minutes.
func of(evs []dwell.Event, ts ...dwell.EventType) []ev {
	out := []ev{}
	for _, e := range summary(evs) {
		if slices.Contains(ts, e.typ) {
			e.late = false
			out = append(out, e)
		}
	}
	return out
}

// TestDiffStayGap: a stay at one client, or an idle stop at one place,
// carries across the rep's midnight only when the next day's part
// begins at most timeline.StayGapMax after the previous day's part
// ended, as package kpi counts one meeting. The hours between one day's
// working hours and the next's, a night with the phone off, or a night
// with tracking paused (the rep's night) make two visits, the first
// ended at its end by the next day with data; a stay observed across
// midnight, a short pause across it, and a day filled wholly by the stay
// are one.
func TestDiffStayGap(t *testing.T) {
	geo := timeline.SourceGeofence
	started, ended := dwell.EventVisitStarted, dwell.EventVisitEnded

	t.Run("merchandiser week", func(t *testing.T) {
		// Monday to Friday at c1 for the working hours 09:00-17:00, off
		// hours around them; the next Monday (after a weekend without
		// data) at c1 again.
		work := func(d int) *timeline.Day {
			return day(seg(timeline.KindOffHours, hm(d, 0, 0), hm(d, 9, 0)), visit("c1", hm(d, 9, 0), hm(d, 17, 0), geo),
				seg(timeline.KindOffHours, hm(d, 17, 0), hm(d, 24, 0)))
		}
		var week []*timeline.Day
		for d := range 5 {
			week = append(week, work(d))
			if CarriesOn(work(d)) {
				t.Errorf("CarriesOn(day %d) = true: a visit that begins 9 hours into the day carries nothing in", d)
			}
		}
		log := inOrder(week...)
		next := work(7)
		log = dedupLogs(log, Diff(nil, next, Options{Rep: "r1", DetectTime: at(hm(9, 0, 0)), Carry: func() Carry {
			c := CarryOut(week[4], carryOf(week, 4))
			c.Gap = true
			return c
		}()}))
		var want []ev
		for d := range 5 {
			want = append(want, ev{ended, "c1", hm(d, 17, 0), false})
		}
		if got := of(log, ended); !slices.Equal(got, want) {
			t.Errorf("ends %v, want one a day at 17:00: %v", got, want)
		}
		want = want[:0]
		for _, d := range []int{0, 1, 2, 3, 4, 7} {
			want = append(want, ev{started, "c1", hm(d, 9, 0), false})
		}
		if got := of(log, started); !slices.Equal(got, want) {
			t.Errorf("starts %v, want one a day at 09:00: %v", got, want)
		}
		if got, want := len(of(log, dwell.EventGeofenceEntered)), 6; got != want {
			t.Errorf("%d fence entries, want %d", got, want)
		}
		// Tuesday derived before Monday: Monday, given Tuesday as its
		// later day, ends its visit at 17:00.
		rev := dedupLogs(Diff(nil, week[1], Options{Rep: "r1"}), Diff(nil, week[0], Options{Rep: "r1", Later: Later{Day: week[1]}}))
		if got, want := of(rev, started, ended), []ev{
			{started, "c1", hm(0, 9, 0), false}, {ended, "c1", hm(0, 17, 0), false}, {started, "c1", hm(1, 9, 0), false},
		}; !slices.Equal(sortEv(got), want) {
			t.Errorf("Tuesday, then Monday: %v, want %v", got, want)
		}
	})

	for _, tc := range []struct {
		name       string
		day1, day2 *timeline.Day
		want       []ev
	}{{
		name: "phone off overnight at the client",
		day1: day(travel(hm(0, 8, 30), hm(0, 9, 0)), visit("c1", hm(0, 9, 0), hm(0, 19, 0), geo)),
		day2: day(visit("c1", hm(1, 7, 0), hm(1, 10, 0), geo), travel(hm(1, 10, 0), hm(1, 10, 30))),
		want: []ev{{started, "c1", hm(0, 9, 0), false}, {ended, "c1", hm(0, 19, 0), false},
			{started, "c1", hm(1, 7, 0), false}, {ended, "c1", hm(1, 10, 0), false}},
	}, {
		name: "paused overnight at the client",
		day1: day(travel(hm(0, 8, 30), hm(0, 9, 0)), visit("c1", hm(0, 9, 0), hm(0, 18, 0), geo),
			seg(timeline.KindGap, hm(0, 18, 0), hm(0, 18, 0.2)), seg(timeline.KindPaused, hm(0, 18, 0.2), hm(0, 24, 0))),
		day2: day(seg(timeline.KindPaused, hm(1, 0, 0), hm(1, 8, 0)), seg(timeline.KindGap, hm(1, 8, 0), hm(1, 8, 1)),
			visit("c1", hm(1, 8, 1), hm(1, 10, 0), geo), travel(hm(1, 10, 0), hm(1, 10, 30))),
		want: []ev{{started, "c1", hm(0, 9, 0), false}, {ended, "c1", hm(0, 18, 0), false},
			{started, "c1", hm(1, 8, 1), false}, {ended, "c1", hm(1, 10, 0), false}},
	}, {
		name: "observed across midnight",
		day1: day(travel(hm(0, 22, 30), hm(0, 23, 0)), visit("c1", hm(0, 23, 0), hm(0, 23, 58), geo)),
		day2: day(visit("c1", hm(1, 0, 2), hm(1, 0, 40), geo), travel(hm(1, 0, 40), hm(1, 1, 0))),
		want: []ev{{started, "c1", hm(0, 23, 0), false}, {ended, "c1", hm(1, 0, 40), false}},
	}, {
		name: "short pause across midnight",
		day1: day(travel(hm(0, 22, 30), hm(0, 23, 0)), visit("c1", hm(0, 23, 0), hm(0, 23, 50), geo),
			seg(timeline.KindGap, hm(0, 23, 50), hm(0, 23, 50.2)), seg(timeline.KindPaused, hm(0, 23, 50.2), hm(0, 24, 0))),
		day2: day(seg(timeline.KindPaused, hm(1, 0, 0), hm(1, 0, 5)), seg(timeline.KindGap, hm(1, 0, 5), hm(1, 0, 6)),
			visit("c1", hm(1, 0, 6), hm(1, 0, 40), geo), travel(hm(1, 0, 40), hm(1, 1, 0))),
		want: []ev{{started, "c1", hm(0, 23, 0), false}, {ended, "c1", hm(1, 0, 40), false}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := of(inOrder(tc.day1, tc.day2), started, ended); !slices.Equal(got, tc.want) {
				t.Errorf("day 1, then day 2: %v, want %v", got, tc.want)
			}
			rev := dedupLogs(Diff(nil, tc.day2, Options{Rep: "r1"}), Diff(nil, tc.day1, Options{Rep: "r1", Later: Later{Day: tc.day2}}))
			// Day 2 derived first starts its visit on its own (a second
			// day told of first: the package doc's caveat), so only the
			// two-visit cases are the same in either order.
			if len(tc.want) == 4 {
				if got := sortEv(of(rev, started, ended)); !slices.Equal(got, tc.want) {
					t.Errorf("day 2, then day 1: %v, want %v", got, tc.want)
				}
			}
		})
	}

	t.Run("a day filled by the stay", func(t *testing.T) {
		days := []*timeline.Day{
			day(travel(hm(0, 19, 30), hm(0, 20, 0)), visit("c1", hm(0, 20, 0), hm(0, 24, 0), geo)),
			day(visit("c1", hm(1, 0, 0), hm(1, 24, 0), geo)),
			day(visit("c1", hm(2, 0, 0), hm(2, 8, 0), geo), travel(hm(2, 8, 0), hm(2, 8, 30))),
		}
		if !CarriesOn(days[1]) {
			t.Errorf("CarriesOn(a day at c1 from its start to its end) = false")
		}
		want := []ev{{started, "c1", hm(0, 20, 0), false}, {ended, "c1", hm(2, 8, 0), false}}
		if got := of(inOrder(days...), started, ended); !slices.Equal(got, want) {
			t.Errorf("%v, want one visit: %v", got, want)
		}
	})

	t.Run("idle", func(t *testing.T) {
		// A car parked overnight (phone off, or tracking paused) is two
		// idle stops, one a day; idle across midnight, observed, is one.
		parked := day(travel(hm(0, 17, 0), hm(0, 17, 30)), idle(hm(0, 17, 30), hm(0, 19, 0)))
		morning := day(idle(hm(1, 7, 0), hm(1, 8, 0)), travel(hm(1, 8, 0), hm(1, 8, 30)))
		paused := day(travel(hm(0, 17, 0), hm(0, 17, 30)), idle(hm(0, 17, 30), hm(0, 19, 0)), seg(timeline.KindPaused, hm(0, 19, 0), hm(0, 24, 0)))
		pausedMorning := day(seg(timeline.KindPaused, hm(1, 0, 0), hm(1, 7, 0)), idle(hm(1, 7, 0), hm(1, 8, 0)), travel(hm(1, 8, 0), hm(1, 8, 30)))
		two := []ev{{dwell.EventIdleStarted, "", hm(0, 17, 30), false}, {dwell.EventIdleStarted, "", hm(1, 7, 0), false}}
		if got := of(inOrder(parked, morning), dwell.EventIdleStarted); !slices.Equal(got, two) {
			t.Errorf("parked overnight, phone off: %v, want %v", got, two)
		}
		if got := of(inOrder(paused, pausedMorning), dwell.EventIdleStarted); !slices.Equal(got, two) {
			t.Errorf("parked overnight, paused: %v, want %v", got, two)
		}
		if CarriesOn(pausedMorning) {
			t.Errorf("CarriesOn(a day idle from 07:00) = true")
		}
		late := day(travel(hm(0, 23, 0), hm(0, 23, 30)), idle(hm(0, 23, 30), hm(0, 23, 58)))
		early := day(idle(hm(1, 0, 1), hm(1, 0, 40)), travel(hm(1, 0, 40), hm(1, 1, 0)))
		if got, want := of(inOrder(late, early), dwell.EventIdleStarted), []ev{{dwell.EventIdleStarted, "", hm(0, 23, 30), false}}; !slices.Equal(got, want) {
			t.Errorf("idle across midnight, observed: %v, want %v", got, want)
		}
	})
}

// sortEv returns evs ordered by minute, then type.
func sortEv(evs []ev) []ev {
	slices.SortStableFunc(evs, func(a, b ev) int {
		if a.min != b.min {
			if a.min < b.min {
				return -1
			}
			return 1
		}
		return int(a.typ) - int(b.typ)
	})
	return evs
}

// TestNeedsCarryFirstVisitMovedPastGap: day 2's first visit continued the
// stay day 1 ended with (it began 15 minutes after it), until a pause
// recorded late moved its start to 45 minutes after: more than
// timeline.StayGapMax, so the stay carried in has now ended, and the
// derivation that shows it reads the carry (NeedsCarry) and tells the end.
func TestNeedsCarryFirstVisitMovedPastGap(t *testing.T) {
	geo := timeline.SourceGeofence
	day1 := day(travel(hm(0, 23, 0), hm(0, 23, 20)), visit("c1", hm(0, 23, 20), hm(0, 23, 55), geo))
	prev := day(visit("c1", hm(1, 0, 10), hm(1, 1, 0), geo), travel(hm(1, 1, 0), hm(1, 1, 30)))
	next := day(seg(timeline.KindPaused, hm(1, 0, 0), hm(1, 0, 40)), visit("c1", hm(1, 0, 40), hm(1, 1, 0), geo), travel(hm(1, 1, 0), hm(1, 1, 30)))
	c := CarryOut(day1, Carry{})
	if got := of(Diff(nil, prev, Options{Rep: "r1", Carry: c}), dwell.EventVisitEnded); len(got) != 1 || got[0].min != hm(1, 1, 0) {
		t.Fatalf("day 2 at first: ends %v, want the stay's one end at 01:00", got)
	}
	if !NeedsCarry(prev, next, dwell.Settings{}) {
		t.Errorf("NeedsCarry = false for a first visit moved past timeline.StayGapMax after the stay carried in")
	}
	want := []ev{{dwell.EventVisitEnded, "c1", hm(0, 23, 55), false}}
	if got := of(Diff(prev, next, Options{Rep: "r1", Carry: c}), dwell.EventVisitEnded); !slices.Equal(got, want) {
		t.Errorf("day 2 moved: ends %v, want day 1's stay ended at its end: %v", got, want)
	}
}

// TestDiffFirstVisitPartedFromStay: day 2's first visit to c1 continued
// the stay day 1 ended with (it began 15 minutes after it), so its start
// was told only as the stay's, on day 1; then late data show it did not:
// a pause recorded late moves its start to 45 minutes after the stay's
// end (more than timeline.StayGapMax), or late fixes show the rep left
// and came back before it. The stay carried in ends at its end as day 1
// has it, and the visit starts on its own (VISIT_STARTED and
// GEOFENCE_ENTERED once, at its start, under its own anchor), so that its
// end, when the rep leaves, pairs with a start the stream has. A visit
// whose end was told as the stay's before the late data stays as told.
func TestDiffFirstVisitPartedFromStay(t *testing.T) {
	geo := timeline.SourceGeofence
	started, ended := dwell.EventVisitStarted, dwell.EventVisitEnded
	entered, exited := dwell.EventGeofenceEntered, dwell.EventGeofenceExited
	day1 := day(travel(hm(0, 23, 0), hm(0, 23, 20)), visit("c1", hm(0, 23, 20), hm(0, 23, 55), geo))
	c := CarryOut(day1, Carry{})
	carried := day(visit("c1", hm(1, 0, 10), hm(1, 0, 50), geo))
	for _, tc := range []struct {
		name        string
		moved, left *timeline.Day // day 2 with the late data, open, then left
		start       float64       // the visit's start in moved
	}{{
		name:  "a pause recorded late",
		moved: day(seg(timeline.KindPaused, hm(1, 0, 0), hm(1, 0, 40)), visit("c1", hm(1, 0, 40), hm(1, 0, 50), geo)),
		left: day(seg(timeline.KindPaused, hm(1, 0, 0), hm(1, 0, 40)), visit("c1", hm(1, 0, 40), hm(1, 0, 50), geo),
			travel(hm(1, 0, 50), hm(1, 1, 20))),
		start: hm(1, 0, 40),
	}, {
		name:  "the rep left and came back",
		moved: day(travel(hm(1, 0, 10), hm(1, 0, 20)), visit("c1", hm(1, 0, 20), hm(1, 0, 50), geo)),
		left:  day(travel(hm(1, 0, 10), hm(1, 0, 20)), visit("c1", hm(1, 0, 20), hm(1, 0, 50), geo), travel(hm(1, 0, 50), hm(1, 1, 20))),
		start: hm(1, 0, 20),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Rep: "r1", DetectTime: at(hm(1, 2, 0)), Carry: c}
			told := dedupLogs(Diff(nil, day1, Options{Rep: "r1", DetectTime: at(hm(1, 2, 0))}), Diff(nil, carried, opts))
			if got, want := of(told, started, ended), []ev{{started, "c1", hm(0, 23, 20), false}}; !slices.Equal(got, want) {
				t.Fatalf("day 1, then day 2 carrying the stay on: %v, want %v", got, want)
			}
			if !NeedsCarry(carried, tc.moved, dwell.Settings{}) {
				t.Errorf("NeedsCarry = false for day 2's first visit moved off the stay carried in")
			}
			evs := Diff(carried, tc.moved, opts)
			var starts []dwell.Event
			for _, e := range evs {
				if e.Type == started {
					starts = append(starts, e)
				}
			}
			if len(starts) != 1 || starts[0].Client != "c1" || !starts[0].Time.Equal(at(tc.start)) ||
				starts[0].Key != Key(started, "r1", "c1", stamp(at(tc.start))) {
				t.Fatalf("the late data: VISIT_STARTED %v, want one at c1 at minute %v under its own anchor", starts, tc.start)
			}
			log := dedupLogs(told, evs)
			if again := dedupLogs(log, Diff(carried, tc.moved, opts)); len(again) != len(log) {
				t.Errorf("Diff again on the same pair added %v", summary(again[len(log):]))
			}
			log = dedupLogs(log, Diff(carried, tc.moved, opts), Diff(tc.moved, tc.left, opts), Diff(nil, tc.left, opts))
			want := []ev{
				{entered, "c1", hm(0, 23, 20), false}, {started, "c1", hm(0, 23, 20), false},
				{exited, "c1", hm(0, 23, 55), false}, {ended, "c1", hm(0, 23, 55), false},
				{entered, "c1", tc.start, false}, {started, "c1", tc.start, false},
				{exited, "c1", hm(1, 0, 50), false}, {ended, "c1", hm(1, 0, 50), false},
			}
			if got := sortEv(of(log, started, ended, entered, exited)); !slices.Equal(got, sortEv(want)) {
				t.Errorf("the stay, then the visit parted from it: %v, want %v", got, want)
			}
			// Each end is under the anchor of a start the log holds.
			keys := map[string]bool{}
			for _, e := range log {
				keys[e.Key] = true
			}
			for _, e := range log {
				if e.Type == ended || e.Type == exited {
					st := map[dwell.EventType]dwell.EventType{ended: started, exited: entered}[e.Type]
					if k := st.String() + e.Key[len(e.Type.String()):]; !keys[k] {
						t.Errorf("%v at minute %v: no start under its anchor (%q)", e.Type, e.Time.Sub(t9).Minutes(), k)
					}
				}
			}
		})
	}

	// Day 2's visit had ended, told as the stay's end, when the pause
	// arrived: it was told whole (one start, one end), and stays so.
	whole := day(visit("c1", hm(1, 0, 10), hm(1, 0, 50), geo), travel(hm(1, 0, 50), hm(1, 1, 20)))
	moved := day(seg(timeline.KindPaused, hm(1, 0, 0), hm(1, 0, 40)), visit("c1", hm(1, 0, 40), hm(1, 0, 50), geo), travel(hm(1, 0, 50), hm(1, 1, 20)))
	opts := Options{Rep: "r1", DetectTime: at(hm(1, 2, 0)), Carry: c}
	log := dedupLogs(Diff(nil, day1, Options{Rep: "r1"}), Diff(nil, whole, opts), Diff(whole, moved, opts))
	if got, want := of(log, started, ended), []ev{{started, "c1", hm(0, 23, 20), false}, {ended, "c1", hm(1, 0, 50), false}}; !slices.Equal(got, want) {
		t.Errorf("a visit told whole, then moved: %v, want %v", got, want)
	}
}

// TestDiffFirstVisitPartedByDayBefore: as TestDiffFirstVisitPartedFromStay,
// but the late data are day 1's: they show the rep leaving c1 before the
// day's end (Left), or a pause from 23:30 (the stay now ends 40 minutes
// before day 2's visit, more than timeline.StayGapMax). Day 1's
// derivation reads day 2 (NeedsLater), ends the stay and starts day 2's
// visit on its own, once; day 2's derivation that shows the rep leave
// ends that visit under the same anchor.
func TestDiffFirstVisitPartedByDayBefore(t *testing.T) {
	geo := timeline.SourceGeofence
	started, ended := dwell.EventVisitStarted, dwell.EventVisitEnded
	day1 := day(travel(hm(0, 23, 0), hm(0, 23, 20)), visit("c1", hm(0, 23, 20), hm(0, 23, 55), geo))
	day2 := day(visit("c1", hm(1, 0, 10), hm(1, 0, 50), geo))
	left2 := day(visit("c1", hm(1, 0, 10), hm(1, 0, 50), geo), travel(hm(1, 0, 50), hm(1, 1, 20)))
	for _, tc := range []struct {
		name string
		late *timeline.Day // day 1 with the late data
		end  float64       // the stay's end in late
	}{{
		name: "left",
		late: day(travel(hm(0, 23, 0), hm(0, 23, 20)), visit("c1", hm(0, 23, 20), hm(0, 23, 52), geo), travel(hm(0, 23, 52), hm(0, 23, 55))),
		end:  hm(0, 23, 52),
	}, {
		name: "a pause recorded late",
		late: day(travel(hm(0, 23, 0), hm(0, 23, 20)), visit("c1", hm(0, 23, 20), hm(0, 23, 30), geo), seg(timeline.KindPaused, hm(0, 23, 30), hm(0, 24, 0))),
		end:  hm(0, 23, 30),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Rep: "r1", DetectTime: at(hm(1, 2, 0))}
			told := dedupLogs(Diff(nil, day1, o), Diff(nil, day2, Options{Rep: "r1", Carry: CarryOut(day1, Carry{})}))
			if !NeedsLater(day1, tc.late) {
				t.Errorf("NeedsLater = false for day 1's late data parting the stay from day 2")
			}
			lo := o
			lo.Later = Later{Day: day2}
			evs := Diff(day1, tc.late, lo)
			if got, want := of(evs, started, ended), []ev{{ended, "c1", tc.end, false}, {started, "c1", hm(1, 0, 10), false}}; !slices.Equal(got, want) {
				t.Fatalf("day 1's late data, given day 2: %v, want %v", got, want)
			}
			log := dedupLogs(told, evs)
			if again := dedupLogs(log, Diff(day1, tc.late, lo)); len(again) != len(log) {
				t.Errorf("Diff again on the same pair added %v", summary(again[len(log):]))
			}
			c := CarryOut(tc.late, Carry{})
			if !NeedsCarry(day2, left2, dwell.Settings{}) {
				t.Errorf("NeedsCarry = false for day 2's visit newly ended")
			}
			log = dedupLogs(log, Diff(day2, left2, Options{Rep: "r1", Carry: c}))
			want := []ev{{started, "c1", hm(0, 23, 20), false}, {ended, "c1", tc.end, false},
				{started, "c1", hm(1, 0, 10), false}, {ended, "c1", hm(1, 0, 50), false}}
			if got := sortEv(of(log, started, ended)); !slices.Equal(got, sortEv(want)) {
				t.Errorf("the stay, then the visit parted from it: %v, want %v", got, want)
			}
			for _, e := range log {
				if e.Type == ended && e.Time.Equal(at(hm(1, 0, 50))) {
					if k := Key(ended, "r1", "c1", stamp(at(hm(1, 0, 10)))); e.Key != k {
						t.Errorf("day 2's visit ended under %q, want its start's anchor %q", e.Key, k)
					}
				}
			}
		})
	}
}
