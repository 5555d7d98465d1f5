package events

import (
	"slices"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

var t9 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// at returns 09:00 plus m minutes.
func at(m float64) time.Time { return t9.Add(time.Duration(m * float64(time.Minute))) }

// day builds a timeline.Day from segments; visit segments become visits
// with the given source.
func day(segs ...timeline.Segment) *timeline.Day {
	d := &timeline.Day{Segments: segs}
	if len(segs) > 0 {
		d.Start, d.End = segs[0].Start, segs[len(segs)-1].End
	}
	for _, s := range segs {
		if s.Kind == timeline.KindVisit {
			d.Visits = append(d.Visits, timeline.Visit{Client: s.Client, Start: s.Start, End: s.End, Source: s.Source})
		}
	}
	return d
}

func seg(k timeline.Kind, from, to float64) timeline.Segment {
	return timeline.Segment{Kind: k, Start: at(from), End: at(to)}
}

func visit(client string, from, to float64, src timeline.Source) timeline.Segment {
	s := seg(timeline.KindVisit, from, to)
	s.Client, s.Source = dwell.ClientID(client), src
	return s
}

func travel(from, to float64) timeline.Segment { return seg(timeline.KindTravel, from, to) }
func idle(from, to float64) timeline.Segment   { return seg(timeline.KindIdle, from, to) }

// ev is an expected event: type, client, minute.
type ev struct {
	typ    dwell.EventType
	client string
	min    float64
	late   bool
}

func summary(evs []dwell.Event) []ev {
	out := []ev{}
	for _, e := range evs {
		out = append(out, ev{e.Type, string(e.Client), e.Time.Sub(t9).Minutes(), e.Late})
	}
	return out
}

func TestDiff(t *testing.T) {
	geo, both, claim := timeline.SourceGeofence, timeline.SourceBoth, timeline.SourceCheckIn
	opts := Options{Rep: "r1", Team: "north", DetectTime: at(40)}
	tests := []struct {
		name       string
		prev, next *timeline.Day
		want       []ev
	}{{
		name: "nothing known",
		prev: nil, next: &timeline.Day{},
		want: []ev{},
	}, {
		name: "an open visit starts but has not ended",
		prev: nil, next: day(travel(0, 10), visit("c1", 10, 30, geo)),
		want: []ev{{dwell.EventGeofenceEntered, "c1", 10, false}, {dwell.EventVisitStarted, "c1", 10, false}},
	}, {
		name: "the same open visit, longer: nothing new",
		prev: day(travel(0, 10), visit("c1", 10, 30, geo)),
		next: day(travel(0, 10), visit("c1", 10, 36, geo)),
		want: []ev{},
	}, {
		name: "the visit's start moved with late fixes: the same visit",
		prev: day(travel(0, 10), visit("c1", 10, 30, geo)),
		next: day(travel(0, 8), visit("c1", 8.5, 31, geo)),
		want: []ev{},
	}, {
		name: "the rep is seen leaving: ended and exited once, idle started",
		prev: day(travel(0, 10), visit("c1", 10, 30, geo)),
		next: day(travel(0, 10), visit("c1", 10, 33, geo), travel(33, 36), idle(36, 45)),
		want: []ev{{dwell.EventGeofenceExited, "c1", 33, false}, {dwell.EventVisitEnded, "c1", 33, false}, {dwell.EventIdleStarted, "", 36, false}},
	}, {
		name: "an ended visit whose end moved: no second end",
		prev: day(travel(0, 10), visit("c1", 10, 33, geo), travel(33, 40)),
		next: day(travel(0, 10), visit("c1", 10, 34.5, geo), travel(34.5, 41)),
		want: []ev{},
	}, {
		name: "a whole visit seen at once (prev nil): started and ended",
		prev: nil,
		next: day(visit("c1", 0, 10, both), travel(10, 15), visit("c2", 15, 25, claim), travel(25, 36)),
		want: []ev{
			{dwell.EventGeofenceEntered, "c1", 0, true}, {dwell.EventVisitStarted, "c1", 0, true},
			{dwell.EventGeofenceExited, "c1", 10, false}, {dwell.EventVisitEnded, "c1", 10, false},
			{dwell.EventVisitStarted, "c2", 15, false}, {dwell.EventVisitEnded, "c2", 25, false},
		},
	}, {
		name: "a claimed visit the fixes come to back: the fence events follow",
		prev: day(travel(0, 10), visit("c1", 10, 20, claim), travel(20, 31)),
		next: day(travel(0, 10), visit("c1", 10, 20, both), travel(20, 31)),
		want: []ev{{dwell.EventGeofenceEntered, "c1", 10, false}, {dwell.EventGeofenceExited, "c1", 20, false}},
	}, {
		name: "another client at the same time is another visit",
		prev: day(travel(0, 10), visit("c1", 10, 30, geo)),
		next: day(travel(0, 10), visit("c2", 10, 30, geo)),
		want: []ev{{dwell.EventGeofenceEntered, "c2", 10, false}, {dwell.EventVisitStarted, "c2", 10, false}},
	}, {
		name: "seen away for less than SettleAfter: not ended yet",
		prev: nil,
		next: day(travel(0, 10), visit("c1", 10, 30, geo), travel(30, 39)),
		want: []ev{{dwell.EventGeofenceEntered, "c1", 10, false}, {dwell.EventVisitStarted, "c1", 10, false}},
	}, {
		name: "stopped elsewhere sooner: ended",
		prev: day(travel(0, 10), visit("c1", 10, 30, geo), travel(30, 33)),
		next: day(travel(0, 10), visit("c1", 10, 30, geo), travel(30, 33), idle(33, 39)),
		want: []ev{{dwell.EventGeofenceExited, "c1", 30, false}, {dwell.EventVisitEnded, "c1", 30, false}, {dwell.EventIdleStarted, "", 33, false}},
	}, {
		name: "an idle stop split by late fixes is not new",
		prev: day(travel(0, 5), idle(5, 30)),
		next: day(travel(0, 5), idle(5, 15), travel(15, 16), idle(16, 30)),
		want: []ev{},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff(tc.prev, tc.next, opts)
			if s := summary(got); !slices.Equal(s, tc.want) {
				t.Errorf("Diff = %v, want %v", s, tc.want)
			}
			for _, e := range got {
				if e.Rep != "r1" || e.Team != "north" || !e.DetectTime.Equal(opts.DetectTime) || e.Key == "" {
					t.Errorf("event %+v: rep, team, detect time or key not set", e)
				}
			}
			if again := Diff(tc.next, tc.next, opts); len(again) != 0 {
				t.Errorf("Diff(next, next) = %v, want nothing", summary(again))
			}
		})
	}
}

func TestDiffCheckIns(t *testing.T) {
	opts := Options{Rep: "r1", DetectTime: at(5)}
	ci := func(rid string, v dwell.Verification) timeline.CheckInResult {
		return timeline.CheckInResult{RequestID: rid, Client: "c1", Time: at(1), Verification: v}
	}
	prev := &timeline.Day{CheckIns: []timeline.CheckInResult{ci("a", dwell.VerificationVerified), ci("b", dwell.VerificationOutsideGeofence)}}
	next := &timeline.Day{CheckIns: []timeline.CheckInResult{
		ci("a", dwell.VerificationVerified), ci("b", dwell.VerificationOutsideGeofence),
		ci("c", dwell.VerificationMockLocation), ci("d", dwell.VerificationNoFix), ci("e", dwell.VerificationVerified),
	}}
	got := Diff(prev, next, opts)
	var rids []string
	for _, e := range got {
		if e.Type != dwell.EventCheckInUnverified || e.Client != "c1" || !e.Time.Equal(at(1)) {
			t.Errorf("unexpected event %+v", e)
		}
		rids = append(rids, e.Key)
	}
	want := []string{Key(dwell.EventCheckInUnverified, "r1", "c1", "rid:c"), Key(dwell.EventCheckInUnverified, "r1", "c1", "rid:d")}
	if !slices.Equal(rids, want) {
		t.Errorf("keys %q, want %q", rids, want)
	}
}

// TestLate checks the lateness rule at its edges: the derivation's own
// delay (visit_min for a start) is not lateness.
func TestLate(t *testing.T) {
	set := dwell.Settings{VisitMin: 10 * time.Minute, IdleMin: 5 * time.Minute}
	next := day(travel(0, 10), visit("c1", 10, 60, timeline.SourceGeofence), travel(60, 61))
	for _, tc := range []struct {
		detect    float64
		startLate bool
		endLate   bool
	}{
		{45, false, false},
		{10 + 10 + 30, false, false},  // exactly LateAfter beyond visit_min
		{10 + 10 + 30.5, true, false}, // just beyond
		{60 + 30.5, true, true},       // the end too
		{60 + 30, true, false},        // the end exactly LateAfter after
	} {
		got := Diff(nil, next, Options{Rep: "r1", DetectTime: at(tc.detect), Settings: set})
		for _, e := range got {
			want := tc.startLate
			if e.Type == dwell.EventVisitEnded || e.Type == dwell.EventGeofenceExited {
				want = tc.endLate
			}
			if e.Late != want {
				t.Errorf("detected at +%vmin: %v at +%vmin late = %v, want %v", tc.detect, e.Type, e.Time.Sub(t9).Minutes(), e.Late, want)
			}
		}
	}
}

// TestDiffPauseInVisit: a rep pauses tracking at a client. While the pause
// lasts, the visit has not ended: the rep may resume there, and the pause
// is then inside one visit (timeline.Visit.Paused). Resumed at the client,
// the visit ends once, when the rep leaves; resumed elsewhere, it ended
// when the pause began.
func TestDiffPauseInVisit(t *testing.T) {
	geo := timeline.SourceGeofence
	opts := Options{Rep: "r1", DetectTime: at(90)}
	paused := func(from, to float64) timeline.Segment { return seg(timeline.KindPaused, from, to) }
	withVisits := func(d *timeline.Day, vs ...timeline.Visit) *timeline.Day {
		d.Visits = vs
		return d
	}
	c1 := func(from, to, pausedMin float64) timeline.Visit {
		return timeline.Visit{Client: "c1", Start: at(from), End: at(to), Source: geo, Paused: time.Duration(pausedMin * float64(time.Minute))}
	}
	stillPaused := withVisits(day(travel(0, 10), visit("c1", 10, 30, geo), paused(30, 60)), c1(10, 30, 0))
	tests := []struct {
		name       string
		prev, next *timeline.Day
		want       []ev
	}{{
		name: "paused at the client for half an hour: not ended",
		prev: day(travel(0, 10), visit("c1", 10, 30, geo)),
		next: stillPaused,
		want: []ev{},
	}, {
		// The day shows the seconds between the last fix and the pause as
		// GAP: the rep paused where it was, at the client.
		name: "paused at the client, seconds after its last fix: not ended",
		prev: day(travel(0, 10), visit("c1", 10, 30, geo)),
		next: withVisits(day(travel(0, 10), visit("c1", 10, 30, geo), seg(timeline.KindGap, 30, 30.5), paused(30.5, 60)), c1(10, 30, 0)),
		want: []ev{},
	}, {
		name: "silent for longer than GapMin, then paused: ended",
		prev: day(travel(0, 10), visit("c1", 10, 30, geo)),
		next: withVisits(day(travel(0, 10), visit("c1", 10, 30, geo), seg(timeline.KindGap, 30, 45), paused(45, 60)), c1(10, 30, 0)),
		want: []ev{{dwell.EventGeofenceExited, "c1", 30, true}, {dwell.EventVisitEnded, "c1", 30, true}},
	}, {
		name: "resumed at the client: one visit, ended once when the rep leaves",
		prev: stillPaused,
		next: withVisits(day(travel(0, 10), visit("c1", 10, 30, geo), paused(30, 60), visit("c1", 60, 70, geo), travel(70, 85)), c1(10, 70, 30)),
		want: []ev{{dwell.EventGeofenceExited, "c1", 70, false}, {dwell.EventVisitEnded, "c1", 70, false}},
	}, {
		name: "resumed elsewhere: the visit ended when the pause began",
		prev: stillPaused,
		next: withVisits(day(travel(0, 10), visit("c1", 10, 30, geo), paused(30, 60), travel(60, 70), idle(70, 80)), c1(10, 30, 0)),
		want: []ev{{dwell.EventGeofenceExited, "c1", 30, true}, {dwell.EventVisitEnded, "c1", 30, true}, {dwell.EventIdleStarted, "", 70, false}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s := summary(Diff(tc.prev, tc.next, opts)); !slices.Equal(s, tc.want) {
				t.Errorf("Diff = %v, want %v", s, tc.want)
			}
		})
	}
}

// TestDiffIdleAcrossBreak: an idle stop across a split shift's break
// (IDLE, OFF_HOURS, IDLE at one place) started once, before the break;
// its part after the break is no new idle stop, also when the day is
// derived again from scratch. An idle stop elsewhere after the break is.
func TestDiffIdleAcrossBreak(t *testing.T) {
	opts := Options{Rep: "r1", DetectTime: at(200)}
	off := seg(timeline.KindOffHours, 60, 120)
	at := func(s timeline.Segment, lat float64) timeline.Segment {
		s.Location = dwell.LatLng{Lat: lat, Lng: 106.8}
		return s
	}
	before := day(travel(0, 40), at(idle(40, 60), -6.2))
	across := day(travel(0, 40), at(idle(40, 60), -6.2), off, at(idle(120, 140), -6.2), travel(140, 150))
	elsewhere := day(travel(0, 40), at(idle(40, 60), -6.2), off, at(idle(120, 140), -6.3), travel(140, 150))
	for _, tc := range []struct {
		name       string
		prev, next *timeline.Day
		want       []ev
	}{
		{"seen before the break", before, across, []ev{}},
		{"from scratch", nil, across, []ev{{dwell.EventIdleStarted, "", 40, true}}},
		{"another place after the break", before, elsewhere, []ev{{dwell.EventIdleStarted, "", 120, true}}},
	} {
		if s := summary(Diff(tc.prev, tc.next, opts)); !slices.Equal(s, tc.want) {
			t.Errorf("%s: Diff = %v, want %v", tc.name, s, tc.want)
		}
	}
}

// logOf runs Diff over successive derivations of a day, as the refresher
// does, and returns what the event log keeps: each key once, in order.
// carry is handed to every derivation.
func logOf(carry Carry, days ...*timeline.Day) []dwell.Event {
	var out []dwell.Event
	seen := map[string]bool{}
	var prev *timeline.Day
	for _, d := range days {
		for _, e := range Diff(prev, d, Options{Rep: "r1", DetectTime: at(300), Carry: carry}) {
			if !seen[e.Key] {
				seen[e.Key] = true
				out = append(out, e)
			}
		}
		prev = d
	}
	return out
}

// pairs counts the log's stay events of client c1 by type.
func pairs(evs []dwell.Event) map[dwell.EventType]int {
	n := map[dwell.EventType]int{}
	for _, e := range evs {
		if e.Client == "c1" {
			n[e.Type]++
		}
	}
	return n
}

// wantPaired checks that the log holds n starts and n ends of visits and
// of fence stays at c1.
func wantPaired(t *testing.T, what string, evs []dwell.Event, n int) {
	t.Helper()
	got := pairs(evs)
	for _, typ := range []dwell.EventType{dwell.EventVisitStarted, dwell.EventVisitEnded, dwell.EventGeofenceEntered, dwell.EventGeofenceExited} {
		if got[typ] != n {
			t.Errorf("%s: %d %v, want %d; the log: %v", what, got[typ], typ, n, summary(evs))
		}
	}
}

// TestDiffSplitVisit: late fixes split a visit in two (the rep walked
// away in a silence at the client and came back) and show both parts
// ended. Each part is started once and ended once: one earlier visit is
// the same as one new visit, not as every new visit it overlaps.
func TestDiffSplitVisit(t *testing.T) {
	geo := timeline.SourceGeofence
	// 09:00-09:05 and 09:13-09:30 at c1, a silence between: one visit.
	onTime := day(travel(-10, 0), visit("c1", 0, 30, geo))
	for _, tc := range []struct {
		name string
		next *timeline.Day
		// scratch: the log is the same after a derivation from scratch
		// (the keys name the starts, so not if the first one moved).
		scratch bool
	}{{
		name: "the first part keeps the start", scratch: true,
		next: day(travel(-10, 0), visit("c1", 0, 5, geo), travel(5, 13), visit("c1", 13, 30, geo), travel(30, 45), idle(45, 60)),
	}, {
		name: "both boundaries moved",
		next: day(travel(-10, 1), visit("c1", 1, 5, geo), travel(5, 13), visit("c1", 13, 31, geo), travel(31, 45), idle(45, 60)),
	}, {
		name: "split in three", scratch: true,
		next: day(travel(-10, 0), visit("c1", 0, 5, geo), travel(5, 8), visit("c1", 8, 11, geo), travel(11, 13), visit("c1", 13, 30, geo), travel(30, 45), idle(45, 60)),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.next.Visits)
			wantPaired(t, "split", logOf(Carry{}, onTime, tc.next), n)
			// A derivation with nothing new says nothing, and neither does
			// one from scratch when the starts are those logged.
			if again := Diff(tc.next, tc.next, Options{Rep: "r1"}); len(again) != 0 {
				t.Errorf("Diff(next, next) = %v", summary(again))
			}
			if tc.scratch {
				wantPaired(t, "split, then derived from scratch", logOf(Carry{}, onTime, tc.next, nil, tc.next), n)
			}
		})
	}
	// Two visits that a later derivation finds were one stay apart: the
	// earlier one pairs with only one of them.
	if got := pair(onTime.Visits, day(visit("c1", 0, 5, geo), travel(5, 13), visit("c1", 13, 30, geo)).Visits); !slices.Equal(got, []int{0, -1}) {
		t.Errorf("pair = %v, want the part with the same start paired, the other new", got)
	}
	if got := pair(day(visit("c1", 2, 30, geo)).Visits, day(visit("c1", 0, 5, geo), travel(5, 13), visit("c1", 13, 30, geo)).Visits); !slices.Equal(got, []int{-1, 0}) {
		t.Errorf("pair = %v, want the greatest overlap paired", got)
	}
}

// TestDiffAcrossMidnight: a stay at c1 that runs from one local day into
// the next is one visit to the log: started once, where it began on the
// first day, and ended once, when the second day shows the rep gone;
// whichever day is derived first, and however often.
func TestDiffAcrossMidnight(t *testing.T) {
	geo, claim := timeline.SourceGeofence, timeline.SourceCheckIn
	// Day 1 ends at minute 30 (midnight) at c1; day 2 begins there.
	day1 := day(travel(0, 10), visit("c1", 10, 30, geo))
	day2 := day(visit("c1", 30, 50, geo), travel(50, 60), idle(60, 75))
	carry := CarryOut(day1, Carry{})
	if want := (Carry{Visit: Stay{Client: "c1", Since: at(10), End: at(30)}, Fence: Stay{Client: "c1", Since: at(10), End: at(30)}}); carry != want {
		t.Fatalf("CarryOut(day 1) = %+v, want %+v", carry, want)
	}
	if !NeedsCarry(nil, day2, dwell.Settings{}) || NeedsCarry(day2, day2, dwell.Settings{}) {
		t.Errorf("NeedsCarry: a new first visit at the day's start needs it, the same one again not")
	}
	first := logOf(Carry{}, day1)
	second := logOf(carry, day2)
	both := append(append([]dwell.Event(nil), first...), second...)
	dedup := func(evs []dwell.Event) []dwell.Event {
		seen := map[string]bool{}
		var out []dwell.Event
		for _, e := range evs {
			if !seen[e.Key] {
				seen[e.Key] = true
				out = append(out, e)
			}
		}
		return out
	}
	log := dedup(both)
	wantPaired(t, "day 1, then day 2", log, 1)
	for _, e := range log {
		if e.Client != "c1" {
			continue
		}
		switch e.Type {
		case dwell.EventVisitStarted, dwell.EventGeofenceEntered:
			if !e.Time.Equal(at(10)) {
				t.Errorf("%v at +%vmin, want the stay's start on day 1", e.Type, e.Time.Sub(t9).Minutes())
			}
		default:
			if !e.Time.Equal(at(50)) {
				t.Errorf("%v at +%vmin, want the stay's end on day 2", e.Type, e.Time.Sub(t9).Minutes())
			}
		}
	}
	// Day 2 first: the same facts under the same keys.
	if rev := dedup(append(append([]dwell.Event(nil), second...), first...)); len(rev) != len(log) {
		t.Errorf("day 2, then day 1: %v, want %v", summary(rev), summary(log))
	}
	// Day 2 derived again as it grows, and from scratch: nothing more.
	open2 := day(visit("c1", 30, 45, geo))
	wantPaired(t, "day 2 growing", dedup(append(first, logOf(carry, open2, day2, nil, day2)...)), 1)

	for _, tc := range []struct {
		name        string
		day1, day2  *timeline.Day
		visit, geof int // starts in the log
	}{{
		name: "another client after midnight: two stays",
		day1: day1, day2: day(visit("c2", 30, 50, geo), travel(50, 60)),
		visit: 1, geof: 1,
	}, {
		name: "day 2 begins elsewhere: two stays",
		day1: day1, day2: day(travel(30, 35), visit("c1", 35, 50, geo), travel(50, 60)),
		visit: 2, geof: 2,
	}, {
		name: "day 1 left the client: two stays",
		day1: day(travel(0, 10), visit("c1", 10, 25, geo), travel(25, 30)), day2: day2,
		visit: 2, geof: 2,
	}, {
		name:  "paused at the client over midnight, resumed there: one stay",
		day1:  day(travel(0, 10), visit("c1", 10, 25, geo), seg(timeline.KindPaused, 25, 30)),
		day2:  day(seg(timeline.KindPaused, 30, 35), visit("c1", 35, 50, geo), travel(50, 60)),
		visit: 1, geof: 1,
	}, {
		name:  "day 1 ends on a claim alone: one visit, two fence stays' starts",
		day1:  day(travel(0, 10), visit("c1", 10, 20, geo), travel(20, 22), visit("c1", 22, 30, claim)),
		day2:  day2,
		visit: 2, geof: 2,
	}} {
		c := CarryOut(tc.day1, Carry{})
		log := dedup(append(logOf(Carry{}, tc.day1), logOf(c, tc.day2)...))
		got := pairs(log)
		if got[dwell.EventVisitStarted] != tc.visit || got[dwell.EventGeofenceEntered] != tc.geof {
			t.Errorf("%s: %d visits and %d fence stays started at c1, want %d and %d; the log: %v", tc.name,
				got[dwell.EventVisitStarted], got[dwell.EventGeofenceEntered], tc.visit, tc.geof, summary(log))
		}
	}

	// A stay across two midnights: the day between is one visit from its
	// start to its end, and carries the stay on from where it began.
	mid := day(visit("c1", 30, 60, geo))
	if !CarriesOn(mid) || CarriesOn(day1) || CarriesOn(day2) {
		t.Errorf("CarriesOn: the day between is one visit from start to end, day 1 and day 2 are not")
	}
	day3 := day(visit("c1", 60, 70, geo), travel(70, 80), idle(80, 95))
	c2 := CarryOut(mid, carry)
	if c2.Visit != (Stay{Client: "c1", Since: at(10), End: at(60)}) {
		t.Errorf("CarryOut(the day between) = %+v, want the stay from day 1", c2)
	}
	log = dedup(append(append(logOf(Carry{}, day1), logOf(carry, mid)...), logOf(c2, day3)...))
	wantPaired(t, "across two midnights", log, 1)
}

// TestDiffIdleAcrossMidnight: an idle stop that runs from one local day
// into the next at one place (a café from 23:30 to 00:40) is one idle
// stop to the log: one IDLE_STARTED, where it began on the first day,
// whichever day is derived first, and however often; one that the next
// day begins elsewhere is two.
func TestDiffIdleAcrossMidnight(t *testing.T) {
	place := func(s timeline.Segment, eastM float64) timeline.Segment {
		s.Location = dwell.LatLng{Lat: -6.2, Lng: 106.8 + eastM/110_574}
		return s
	}
	// Day 1 ends at minute 30 (midnight) idle; day 2 begins there, its
	// stop's centre 8 m from day 1's (each day's fixes averaged apart).
	day1 := day(travel(0, 10), place(idle(10, 30), 0))
	day2 := day(place(idle(30, 70), 8), travel(70, 80), place(idle(80, 95), 2000))
	carry := CarryOut(day1, Carry{})
	if want := (IdleStay{Location: day1.Segments[1].Location, Since: at(10), End: at(30)}); carry.Idle != want {
		t.Fatalf("CarryOut(day 1).Idle = %+v, want %+v", carry.Idle, want)
	}
	if !NeedsCarry(nil, day2, dwell.Settings{}) || NeedsCarry(day2, day2, dwell.Settings{}) {
		t.Errorf("NeedsCarry: a new first idle stop at the day's start needs it, the same one again not")
	}
	// A day that begins travelling needs it once, when its data first
	// shows enough of the rep to end a stay carried in; not again.
	travelling := day(travel(30, 40), place(idle(40, 70), 0))
	if !NeedsCarry(nil, travelling, dwell.Settings{}) || NeedsCarry(travelling, day(travel(30, 40), place(idle(40, 75), 0)), dwell.Settings{}) {
		t.Errorf("NeedsCarry: a day that begins travelling needs it once, when its data first decides a stay carried in")
	}
	idleStarts := func(evs []dwell.Event) []ev {
		out := []ev{}
		for _, e := range summary(evs) {
			if e.typ == dwell.EventIdleStarted {
				out = append(out, e)
			}
		}
		return out
	}
	dedup := func(evs ...[]dwell.Event) []dwell.Event {
		seen := map[string]bool{}
		var out []dwell.Event
		for _, l := range evs {
			for _, e := range l {
				if !seen[e.Key] {
					seen[e.Key] = true
					out = append(out, e)
				}
			}
		}
		return out
	}
	// The stop at 10 (from day 1) and the one at 80 on day 2, nothing at
	// midnight; all late (detected at minute 300).
	want := []ev{{dwell.EventIdleStarted, "", 10, true}, {dwell.EventIdleStarted, "", 80, true}}
	first, second := logOf(Carry{}, day1), logOf(carry, day2)
	for _, tc := range []struct {
		name string
		log  []dwell.Event
	}{
		{"day 1, then day 2", dedup(first, second)},
		{"day 2, then day 1", dedup(second, first)},
		{"day 2 growing, then from scratch", dedup(first, logOf(carry, day(place(idle(30, 50), 5)), day2, nil, day2))},
		{"both from scratch again", dedup(first, second, logOf(Carry{}, nil, day1), logOf(carry, nil, day2))},
	} {
		if got := idleStarts(tc.log); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc.name, got, want)
		}
	}

	// Elsewhere after midnight, or day 1 not idle to its end: two stops.
	for _, tc := range []struct {
		name       string
		day1, day2 *timeline.Day
		want       []ev
	}{{
		name: "day 2 begins idle 300 m away",
		day1: day1, day2: day(place(idle(30, 70), 300), travel(70, 80)),
		want: []ev{{dwell.EventIdleStarted, "", 10, true}, {dwell.EventIdleStarted, "", 30, true}},
	}, {
		name: "day 1 left before midnight",
		day1: day(travel(0, 10), place(idle(10, 25), 0), travel(25, 30)), day2: day(place(idle(30, 70), 0), travel(70, 80)),
		want: []ev{{dwell.EventIdleStarted, "", 10, true}, {dwell.EventIdleStarted, "", 30, true}},
	}, {
		name: "paused over midnight, resumed at the same place: one stop",
		day1: day(travel(0, 10), place(idle(10, 25), 0), seg(timeline.KindPaused, 25, 30)),
		day2: day(seg(timeline.KindPaused, 30, 35), place(idle(35, 70), 10), travel(70, 80)),
		want: []ev{{dwell.EventIdleStarted, "", 10, true}},
	}} {
		c := CarryOut(tc.day1, Carry{})
		if got := idleStarts(dedup(logOf(Carry{}, tc.day1), logOf(c, tc.day2))); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Parked across two midnights: the day between is one idle stop from
	// its start to its end and carries the stop on from where it began.
	mid := day(place(idle(30, 60), 3))
	if !CarriesOn(mid) || CarriesOn(day1) || CarriesOn(day2) {
		t.Errorf("CarriesOn: the day between is one idle stop from start to end, day 1 and day 2 are not")
	}
	c2 := CarryOut(mid, carry)
	if c2.Idle.Since != at(10) {
		t.Errorf("CarryOut(the day between).Idle = %+v, want the stop from day 1", c2.Idle)
	}
	day3 := day(place(idle(60, 70), 6), travel(70, 80))
	if got := idleStarts(dedup(first, logOf(carry, mid), logOf(c2, day3))); !slices.Equal(got, want[:1]) {
		t.Errorf("across two midnights: %v, want %v", got, want[:1])
	}
}
