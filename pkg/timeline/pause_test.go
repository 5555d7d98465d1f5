package timeline

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
)

func pause(id string, at time.Time, paused bool) dwell.TrackingChange {
	return dwell.TrackingChange{RequestID: id, Rep: "r", Time: at, Paused: paused}
}

// pauseSpans returns the paused intervals of changes within [lo, hi), as
// deriveLaidOver makes them: spansOf their Pauses, with the fixes of
// firstAfter (nil: none).
func pauseSpans(changes []dwell.TrackingChange, openUntil, lo, hi time.Time, firstAfter func(time.Time) time.Time) []span {
	return spansOf(Pauses(changes, fixBetween(firstAfter)), openUntil, lo, hi, firstAfter)
}

func TestPauseSpans(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	h := func(x float64) time.Time { return t0.Add(time.Duration(x * float64(time.Hour))) }
	lo, hi := h(0), h(24)
	for _, c := range []struct {
		name      string
		changes   []dwell.TrackingChange
		openUntil time.Time
		want      []span
	}{
		{"pause and resume", []dwell.TrackingChange{pause("p", h(12), true), pause("r", h(13), false)}, time.Time{}, []span{{h(12), h(13)}}},
		{"resume alone", []dwell.TrackingChange{pause("r", h(13), false)}, time.Time{}, nil},
		{"open, until the end of the day", []dwell.TrackingChange{pause("p", h(20), true)}, time.Time{}, []span{{h(20), h(24)}}},
		{"open, until the present", []dwell.TrackingChange{pause("p", h(20), true)}, h(21), []span{{h(20), h(21)}}},
		{"paused the day before", []dwell.TrackingChange{pause("p", h(-3), true), pause("r", h(7), false)}, time.Time{}, []span{{h(0), h(7)}}},
		{"over by the day before", []dwell.TrackingChange{pause("p", h(-3), true), pause("r", h(-1), false)}, time.Time{}, nil},
		{"a second pause inside the first", []dwell.TrackingChange{pause("p1", h(9), true), pause("p2", h(10), true), pause("r", h(11), false)}, time.Time{}, []span{{h(9), h(11)}}},
		{"resume and pause at one instant", []dwell.TrackingChange{pause("p1", h(9), true), pause("p2", h(10), true), pause("r", h(10), false), pause("r2", h(12), false)}, time.Time{}, []span{{h(9), h(12)}}},
		{"two pauses", []dwell.TrackingChange{pause("r2", h(15), false), pause("p1", h(9), true), pause("p2", h(14), true), pause("r1", h(10), false)}, time.Time{}, []span{{h(9), h(10)}, {h(14), h(15)}}},
		{"a repeated pause", []dwell.TrackingChange{pause("p", h(9), true), pause("r", h(10), false), pause("p", h(9), true)}, time.Time{}, []span{{h(9), h(10)}}},
	} {
		got := pauseSpans(c.changes, c.openUntil, lo, hi, nil)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: pauseSpans = %v, want %v", c.name, got, c.want)
		}
	}
	// An open pause ends at the first fix after it.
	fixAt := func(t time.Time) time.Time {
		if t.Before(h(21.5)) {
			return h(21.5)
		}
		return time.Time{}
	}
	if got := pauseSpans([]dwell.TrackingChange{pause("p", h(20), true)}, time.Time{}, lo, hi, fixAt); !slices.Equal(got, []span{{h(20), h(21.5)}}) {
		t.Errorf("an open pause before a fix: %v, want until the fix", got)
	}
	if got := pauseSpans([]dwell.TrackingChange{pause("p", h(20), true), pause("r", h(21), false)}, time.Time{}, lo, hi, fixAt); !slices.Equal(got, []span{{h(20), h(21)}}) {
		t.Errorf("a closed pause: %v, want until its resume", got)
	}
	// Instants inside, at the edges and outside.
	ps := []span{{h(9), h(10)}, {h(14), h(15)}}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{h(8), false}, {h(9), true}, {h(9.5), true}, {h(10), false}, {h(14.99), true}, {h(15), false}, {h(20), false}} {
		if got := inSpans(c.at, ps); got != c.want {
			t.Errorf("inSpans(%v) = %v, want %v", c.at.Format("15:04"), got, c.want)
		}
	}
}

// TestPausedDay pauses a realistic simulated day three times: in the
// middle of the day, across its last hours (still open) and before its
// first fix. Paused time is PAUSED and nothing else, fixes sent inside a
// pause change nothing, and the answer does not depend on the order or
// repeats of the tracking changes.
func TestPausedDay(t *testing.T) {
	w := newSimWorld(t, 5)
	for n := range 6 {
		res := w.simDay(t, sim.Realistic(), uint64(100+n), n)
		in := w.input(res, res.AllFixes())
		in.Window = Window{} // the whole day: the first pause is before the working window
		plain := Derive(in)
		if len(plain.Segments) == 0 {
			continue
		}
		length := plain.End.Sub(plain.Start)
		mid := plain.Start.Add(length * 2 / 5)
		pauses := []span{
			{plain.Start.Add(-40 * time.Minute), plain.Start.Add(-10 * time.Minute)},
			{mid, mid.Add(70 * time.Minute)},
			{plain.End.Add(-90 * time.Minute), plain.End.Add(-30 * time.Minute)},
		}
		in.Tracking = []dwell.TrackingChange{
			pause("p0", pauses[0].start, true), pause("r0", pauses[0].end, false),
			pause("p1", pauses[1].start, true), pause("r1", pauses[1].end, false),
			pause("p2", pauses[2].start, true), // still paused: open until the present
		}
		in.OpenUntil = pauses[2].end
		// The phone honours the last pause: it sends nothing after it.
		var sent []dwell.Fix
		for _, f := range in.Fixes {
			if f.Time.Before(pauses[2].start) {
				sent = append(sent, f)
			}
		}
		in.Fixes = sent
		got := Derive(in)
		name := fmt.Sprintf("day %d", n)
		checkInvariants(t, name, got)
		var paused []span
		var pausedTotal time.Duration
		for _, s := range got.Segments {
			if s.Kind == KindPaused {
				paused = append(paused, span{s.Start, s.End})
				pausedTotal += s.Duration()
				continue
			}
			for _, p := range pauses {
				if s.Start.Before(p.end) && p.start.Before(s.End) {
					t.Errorf("%s: %v segment %v..%v overlaps the pause %v..%v", name, s.Kind, s.Start, s.End, p.start, p.end)
				}
			}
		}
		if !slices.Equal(paused, pauses) {
			t.Errorf("%s: paused segments %v, want the pauses %v", name, paused, pauses)
		}
		if got.Totals.Paused != pausedTotal || pausedTotal != 160*time.Minute {
			t.Errorf("%s: Totals.Paused = %v, segments %v, want 2h40m", name, got.Totals.Paused, pausedTotal)
		}
		if !got.Start.Equal(pauses[0].start) {
			t.Errorf("%s: day starts at %v, want the first pause's start %v", name, got.Start, pauses[0].start)
		}
		// A visit starts and ends outside the pauses; a pause inside it is
		// its paused time.
		for _, v := range got.Visits {
			var overlap time.Duration
			for _, p := range pauses {
				if inSpans(v.Start, []span{p}) || v.End.After(p.start) && !v.End.After(p.end) {
					t.Errorf("%s: visit %v..%v starts or ends in the pause %v..%v", name, v.Start, v.End, p.start, p.end)
				}
				if lo, hi := maxT(v.Start, p.start), minT(v.End, p.end); hi.After(lo) {
					overlap += hi.Sub(lo)
				}
			}
			if overlap != v.Paused {
				t.Errorf("%s: visit %v..%v has %v paused, the pauses overlap it by %v", name, v.Start, v.End, v.Paused, overlap)
			}
		}
		var sum time.Duration
		for _, d := range []time.Duration{got.Totals.Visit, got.Totals.Idle, got.Totals.Travel, got.Totals.Gap, got.Totals.Paused} {
			sum += d
		}
		if sum != got.End.Sub(got.Start) {
			t.Errorf("%s: totals sum to %v, the day spans %v", name, sum, got.End.Sub(got.Start))
		}
		want := got.Encode()
		if !bytes.Contains(want, []byte(" paused=2h40m0s")) {
			t.Errorf("%s: the encoding does not give the paused total:\n%s", name, want)
		}

		// Fixes sent during a pause that was resumed are not evidence of
		// anything.
		noisy := in
		noisy.Fixes = slices.Clone(in.Fixes)
		r := rand.New(rand.NewPCG(uint64(n), 9))
		for k := range 40 {
			p := pauses[1]
			at := p.start.Add(time.Duration(r.Int64N(int64(p.end.Sub(p.start)))))
			noisy.Fixes = append(noisy.Fixes, dwell.Fix{ID: fmt.Sprintf("paused-%d", k), Time: at,
				Pos: dwell.LatLng{Lat: plain.Segments[0].Location.Lat + r.Float64()*0.01, Lng: 106.8 + r.Float64()*0.01}, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1})
		}
		if b := Derive(noisy).Encode(); !bytes.Equal(b, want) {
			t.Errorf("%s: fixes inside the pauses changed the day", name)
		}
		// A fix after a pause left open means the phone tracks again: the
		// pause ends there (a lost resume must not hide a working day).
		again := in
		resumedAt := pauses[2].start.Add(20 * time.Minute)
		again.Fixes = append(slices.Clone(in.Fixes), dwell.Fix{ID: "again", Time: resumedAt,
			Pos: got.Segments[len(got.Segments)-2].Location, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1})
		if d := Derive(again); d.Totals.Paused != 70*time.Minute+30*time.Minute+20*time.Minute {
			t.Errorf("%s: with a fix 20 min into the open pause, paused %v, want 2h0m", name, d.Totals.Paused)
		}
		// Order and repeats of the tracking changes do not matter.
		for k := range 20 {
			shuffled := in
			shuffled.Tracking = append(slices.Clone(in.Tracking), in.Tracking[k%len(in.Tracking)])
			r.Shuffle(len(shuffled.Tracking), func(i, j int) {
				shuffled.Tracking[i], shuffled.Tracking[j] = shuffled.Tracking[j], shuffled.Tracking[i]
			})
			if b := Derive(shuffled).Encode(); !bytes.Equal(b, want) {
				t.Fatalf("%s: tracking changes in another order gave another day", name)
			}
		}
	}
}

// TestPausedOnly is a day with a pause and no fixes: paused, nothing else.
func TestPausedOnly(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, wib)
	d := Derive(Input{Day: dwell.Date{Year: 2026, Month: 3, Day: 2}, Loc: wib,
		Tracking: []dwell.TrackingChange{pause("p", t0, true), pause("r", t0.Add(time.Hour), false)}})
	if len(d.Segments) != 1 || d.Segments[0].Kind != KindPaused || d.Totals.Paused != time.Hour || len(d.Visits) != 0 {
		t.Fatalf("a paused hour without fixes:\n%s", d.Encode())
	}
}

// TestPauseInsideVisit: a rep pauses tracking for ten minutes in the middle
// of an hour at a client (a private call) and sends no fix meanwhile. The
// segments show VISIT, PAUSED, VISIT, but it is one meeting: one visit,
// with its check-in, whose paused time is counted apart, so that meetings
// per day and the average visit are not distorted.
func TestPauseInsideVisit(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 20, 0), A, time.Minute, 10, 5)
	tr.stay(hm(9, 30, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
	tr.move(hm(10, 0, 30), hm(10, 10, 0), A, offset(3000, 0), 30*time.Second, 8)
	in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		Tracking:  []dwell.TrackingChange{pause("p", hm(9, 20, 0), true), pause("r", hm(9, 30, 0), false)},
		CheckIns:  []dwell.CheckIn{{RequestID: "in", Client: "acme", Time: hm(9, 1, 0), Fix: &dwell.Fix{Time: hm(9, 1, 0), Pos: A, AccuracyM: 10}}},
		CheckOuts: []dwell.CheckOut{{RequestID: "out", Client: "acme", Time: hm(9, 59, 0), Outcome: dwell.OutcomePositive}},
	}
	day := Derive(in)
	checkInvariants(t, "pause in a visit", day)
	if n := len(segmentsOf(day, KindVisit)); n != 2 || len(segmentsOf(day, KindPaused)) != 1 {
		t.Fatalf("want VISIT, PAUSED, VISIT segments, got\n%s", day.Encode())
	}
	if len(day.Visits) != 1 {
		t.Fatalf("%d visits, want one meeting:\n%s", len(day.Visits), day.Encode())
	}
	v := day.Visits[0]
	if v.Paused != 10*time.Minute || v.CheckInRequestID != "in" || v.Duration() != v.End.Sub(v.Start)-10*time.Minute || day.Totals.Visits != 1 {
		t.Errorf("visit %+v (%v observed), want one with check-in \"in\" and 10m paused\n%s", v, v.Duration(), day.Encode())
	}
	if day.Totals.Visit != v.Duration() {
		t.Errorf("Totals.Visit = %v, the visit's observed time %v", day.Totals.Visit, v.Duration())
	}
	if !bytes.Contains(day.Encode(), []byte(" paused=10m0s\n")) {
		t.Errorf("the encoding does not give the visit's paused time:\n%s", day.Encode())
	}
}

// A stop's length is its unpaused time: the rep stands at P for before,
// pauses tracking for an hour there, resumes and stands for after, then
// drives on. Under idle_min and visit_min (5 min) unpaused, the stop is
// travel (a short stop), at a site or not; from 5 min it is idle or a
// visit, the pause inside it counted apart. Before, the hour paused made
// every such stop long enough: a 3.5-minute stop was idle, or a meeting.
func TestPauseInsideShortStop(t *testing.T) {
	P := offset(0, 0)
	for _, tc := range []struct {
		before, after time.Duration
		long          bool // at least 5 min unpaused
	}{
		{90 * time.Second, 2 * time.Minute, false},
		{2 * time.Minute, 2 * time.Minute, false},
		{3 * time.Minute, 3 * time.Minute, true},
		{10 * time.Minute, 10 * time.Minute, true},
	} {
		for _, site := range []bool{false, true} {
			name := fmt.Sprintf("%v+%v site=%v", tc.before, tc.after, site)
			at := hm(10, 30, 0)
			pause, resume := at.Add(tc.before), at.Add(tc.before+time.Hour)
			var tr track
			tr.move(hm(10, 0, 0), at, offset(-9000, 0), P, 30*time.Second, 8)
			tr.stay(at, pause, P, 30*time.Second, 10, 3)
			tr.stay(resume, resume.Add(tc.after), P, 30*time.Second, 10, 3)
			tr.move(resume.Add(tc.after), resume.Add(tc.after+30*time.Minute), P, offset(9000, 0), 30*time.Second, 8)
			in := Input{Day: huntDay, Fixes: tr.fixes, Tracking: []dwell.TrackingChange{
				{RequestID: "p", Time: pause, Paused: true}, {RequestID: "r", Time: resume}}}
			if site {
				in.Fences, in.Clients = circleClients(t, circle("K", P, 40))
			}
			day := Derive(in)
			if day.Totals.Paused != time.Hour {
				t.Errorf("%s: paused %v, want 1h", name, day.Totals.Paused)
			}
			stopped := day.Totals.Idle
			if site {
				stopped = day.Totals.Visit
				if want := map[bool]int{false: 0, true: 1}[tc.long]; len(day.Visits) != want {
					t.Errorf("%s: %d visits, want %d:\n%s", name, len(day.Visits), want, day.Encode())
				} else if want == 1 && day.Visits[0].Paused != time.Hour {
					t.Errorf("%s: the visit's paused time %v, want 1h (one meeting, the pause inside it)", name, day.Visits[0].Paused)
				}
			}
			switch {
			case !tc.long && stopped != 0:
				t.Errorf("%s: %v of idle or visit from a stop of %v unpaused:\n%s", name, stopped, tc.before+tc.after, day.Encode())
			case tc.long && stopped < tc.before+tc.after-2*time.Minute:
				t.Errorf("%s: %v of idle or visit, want about %v:\n%s", name, stopped, tc.before+tc.after, day.Encode())
			}
		}
	}
}

// TestOpenPause: Day.OpenPause says whether the day's last pause has no
// resume (so it ends at the first fix after it, at OpenUntil or at the
// day's end), and the days without it are the same whatever OpenUntil is:
// the server reads their stored summaries for today rather than derive
// them again (server.liveStale). A fix after an unresumed pause does not
// clear the flag: dated after the present (a phone's clock ahead), it ends
// the pause later than the present does.
func TestOpenPause(t *testing.T) {
	date := dwell.Date{Year: 2026, Month: 3, Day: 2}
	h := func(x float64) time.Time {
		return time.Date(2026, 3, 2, 0, 0, 0, 0, wib).Add(time.Duration(x * float64(time.Hour)))
	}
	fixesAt := func(hours ...float64) []dwell.Fix {
		var out []dwell.Fix
		for i, x := range hours {
			out = append(out, dwell.Fix{ID: fmt.Sprint("f", i), Time: h(x), Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1})
		}
		return out
	}
	present := h(15)
	for _, c := range []struct {
		name     string
		tracking []dwell.TrackingChange
		fixes    []dwell.Fix
		window   Window
		open     bool // OpenPause
		differ   bool // derived with OpenUntil = present, the day differs
	}{
		{"no pause", nil, fixesAt(9, 10), Window{}, false, false},
		{"paused and resumed", []dwell.TrackingChange{pause("p", h(12), true), pause("r", h(13), false)}, fixesAt(9, 14), Window{}, false, false},
		{"resumed after the present", []dwell.TrackingChange{pause("p", h(12), true), pause("r", h(16), false)}, fixesAt(9, 11.5), Window{}, false, false},
		{"paused, not resumed", []dwell.TrackingChange{pause("p", h(12), true)}, fixesAt(9, 11.5), Window{}, true, true},
		{"paused again after a resume", []dwell.TrackingChange{pause("p", h(10), true), pause("r", h(11), false), pause("p2", h(12), true)}, fixesAt(9, 11.5), Window{}, true, true},
		{"not resumed, a fix after it", []dwell.TrackingChange{pause("p", h(12), true)}, fixesAt(9, 12.5), Window{}, true, false},
		{"not resumed, a fix after it and after the present", []dwell.TrackingChange{pause("p", h(12), true)}, fixesAt(9, 16), Window{}, true, true},
		{"a lost resume, then paused and resumed", []dwell.TrackingChange{pause("p", h(10), true), pause("p2", h(12), true), pause("r", h(13), false)}, fixesAt(9, 11, 14), Window{}, false, false},
		{"paused since before the day", []dwell.TrackingChange{pause("p", h(-3), true)}, nil, Window{}, true, true},
		{"paused after working hours", []dwell.TrackingChange{pause("p", h(18), true)}, fixesAt(9, 14), Window{Start: h(8), End: h(17)}, false, false},
	} {
		in := Input{Day: date, Loc: wib, Window: c.window, Tracking: c.tracking, Fixes: c.fixes}
		stored := Derive(in)
		if stored.OpenPause != c.open {
			t.Errorf("%s: OpenPause = %v, want %v\n%s", c.name, stored.OpenPause, c.open, stored.Encode())
		}
		in.OpenUntil = present
		live := Derive(in)
		if live.OpenPause != c.open {
			t.Errorf("%s: with OpenUntil, OpenPause = %v, want %v", c.name, live.OpenPause, c.open)
		}
		if differ := !bytes.Equal(stored.Encode(), live.Encode()); differ != c.differ {
			t.Errorf("%s: derived with and without OpenUntil, the days differ: %v, want %v\n%s\n%s", c.name, differ, c.differ, stored.Encode(), live.Encode())
		}
		if c.differ && !c.open {
			t.Errorf("%s: the day depends on the present but does not say so", c.name)
		}
	}
}

// TestLostResume: a pause whose resume was lost, followed by fixes (the
// phone tracked again) and later by another pause and its resume. The
// first pause ends at its first fix and the second is a pause of its own:
// the fixes between are a working day, not paused time, whatever the order
// of the changes and fixes. A pause and a resume at one instant count as a
// pause (the resume first) and end the same way; a pause repeated with no
// fix between changes nothing.
func TestLostResume(t *testing.T) {
	date := dwell.Date{Year: 2026, Month: 3, Day: 2}
	h := func(x float64) time.Time {
		return time.Date(2026, 3, 2, 0, 0, 0, 0, wib).Add(time.Duration(x * float64(time.Hour)))
	}
	var fixes []dwell.Fix
	for m := 1; m <= 300; m++ { // 04:01 to 09:00, a minute apart
		fixes = append(fixes, dwell.Fix{ID: fmt.Sprint("f", m), Time: h(4).Add(time.Duration(m) * time.Minute),
			Pos: dwell.LatLng{Lat: -6.2 + float64(m)*1e-4, Lng: 106.8}, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1})
	}
	for _, c := range []struct {
		name     string
		tracking []dwell.TrackingChange
		want     []span
	}{
		{"a lost resume", []dwell.TrackingChange{pause("p1", h(4), true), pause("p2", h(9.5), true), pause("r2", h(10), false)},
			[]span{{h(4), h(4)}, {h(9.5), h(10)}}},
		{"a pause and a resume at one instant", []dwell.TrackingChange{pause("p1", h(4), true), pause("r1", h(4), false), pause("p2", h(9.5), true), pause("r2", h(10), false)},
			[]span{{h(4), h(4)}, {h(9.5), h(10)}}},
		{"a pause repeated with no fix between", []dwell.TrackingChange{pause("p0", h(3), true), pause("p1", h(3.5), true), pause("p2", h(9.5), true), pause("r2", h(10), false)},
			[]span{{h(3), h(3)}, {h(9.5), h(10)}}},
	} {
		for i := range c.want {
			if c.want[i].start.Equal(c.want[i].end) {
				c.want[i].end = h(4).Add(time.Minute) // the first fix after the pause (a zero-length want)
			}
		}
		in := Input{Day: date, Loc: wib, Tracking: c.tracking, Fixes: fixes, OpenUntil: h(11)}
		got := Derive(in)
		var paused []span
		for _, s := range got.Segments {
			if s.Kind == KindPaused {
				paused = append(paused, span{s.Start, s.End})
			}
		}
		if !slices.Equal(paused, c.want) {
			t.Errorf("%s: paused %v, want %v\n%s", c.name, paused, c.want, got.Encode())
		}
		if got.OpenPause {
			t.Errorf("%s: OpenPause, want the last pause resumed", c.name)
		}
		want := got.Encode()
		r := rand.New(rand.NewPCG(7, uint64(len(c.tracking))))
		for k := range 10 {
			shuffled := in
			shuffled.Tracking = append(slices.Clone(in.Tracking), in.Tracking[k%len(in.Tracking)])
			shuffled.Fixes = slices.Clone(in.Fixes)
			r.Shuffle(len(shuffled.Tracking), func(i, j int) {
				shuffled.Tracking[i], shuffled.Tracking[j] = shuffled.Tracking[j], shuffled.Tracking[i]
			})
			r.Shuffle(len(shuffled.Fixes), func(i, j int) { shuffled.Fixes[i], shuffled.Fixes[j] = shuffled.Fixes[j], shuffled.Fixes[i] })
			if b := Derive(shuffled).Encode(); !bytes.Equal(b, want) {
				t.Fatalf("%s: changes and fixes in another order gave another day:\n%s\nwant\n%s", c.name, b, want)
			}
		}
	}
	// Pauses itself: ByFix marks the pause ended by a fix.
	firstFix := func(after, before time.Time) time.Time {
		for _, f := range fixes {
			if f.Time.After(after) && f.Time.Before(before) {
				return f.Time
			}
		}
		return time.Time{}
	}
	got := Pauses([]dwell.TrackingChange{pause("p1", h(4), true), pause("p2", h(9.5), true), pause("r2", h(10), false)}, firstFix)
	want := []Pause{{Start: h(4), End: h(4).Add(time.Minute), ByFix: true}, {Start: h(9.5), End: h(10)}}
	if !slices.Equal(got, want) {
		t.Errorf("Pauses = %v, want %v", got, want)
	}
	if got := Pauses([]dwell.TrackingChange{pause("p1", h(4), true), pause("p2", h(9.5), true), pause("r2", h(10), false)}, nil); !slices.Equal(got, []Pause{{Start: h(4), End: h(10)}}) {
		t.Errorf("Pauses without fixes = %v, want one pause 04:00 to 10:00", got)
	}
}

// TestOpenPauseFrom checks Day.OpenPauseFrom: a day whose open pause ran
// to the end of its bounds, derived again with Input.OpenUntil t after the
// start it names, differs only in its last segment (and End and the
// paused total) ending at t; and it names none where that would not hold:
// a fix after the pause, a pause joined to a paused time before it, a
// present inside the pause.
func TestOpenPauseFrom(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	h := func(x float64) time.Time { return t0.Add(time.Duration(x * float64(time.Hour))) }
	// A walk from 07:00 to 08:00, then a stop until 09:00.
	var fs []dwell.Fix
	for at := h(7); at.Before(h(9)); at = at.Add(30 * time.Second) {
		m := min(at.Sub(h(7)).Hours(), 1) * 4000
		fs = append(fs, dwell.Fix{ID: fmt.Sprint(at.Unix()), Time: at, Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8 + m/110_574}, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1})
	}
	ci := []dwell.CheckIn{{RequestID: "ci", Rep: "r", Client: "c", Time: h(8.5)}}
	day := dwell.Date{Year: 2026, Month: 3, Day: 2}
	for _, c := range []struct {
		name    string
		windows []Window
		fixes   []dwell.Fix
		changes []dwell.TrackingChange
		want    time.Time // zero: none
	}{
		{"paused at the stop", nil, fs, []dwell.TrackingChange{pause("p", h(9), true)}, h(9)},
		{"paused mid-walk", nil, fs[:60], []dwell.TrackingChange{pause("p", h(7.5), true)}, h(7.5)},
		{"after a resumed pause", nil, fs, []dwell.TrackingChange{pause("p1", h(7.2), true), pause("r1", h(7.4), false), pause("p", h(9), true)}, h(9)},
		{"paused since the day before", nil, nil, []dwell.TrackingChange{pause("p", h(-2), true)}, h(0)},
		{"until the working hours end", []Window{{h(6), h(17)}}, fs, []dwell.TrackingChange{pause("p", h(9), true)}, h(9)},
		{"across a break", []Window{{h(6), h(10)}, {h(11), h(17)}}, fs, []dwell.TrackingChange{pause("p", h(9), true)}, h(11)},
		{"a fix after the pause", nil, fs, []dwell.TrackingChange{pause("p", h(8.9), true)}, time.Time{}},
		{"joined to a resumed pause", nil, fs[:60], []dwell.TrackingChange{pause("p1", h(7.2), true), pause("r1", h(7.5), false), pause("p", h(7.5), true)}, time.Time{}},
		{"resumed", nil, fs, []dwell.TrackingChange{pause("p", h(9), true), pause("r", h(10), false)}, time.Time{}},
	} {
		in := Input{Day: day, Loc: time.UTC, Windows: c.windows, Fixes: c.fixes, CheckIns: ci, Tracking: c.changes}
		d := Derive(in)
		from, ok := d.OpenPauseFrom()
		if !from.Equal(c.want) || ok != !c.want.IsZero() {
			t.Errorf("%s: OpenPauseFrom = %v, %v, want %v", c.name, from, ok, c.want)
			continue
		}
		if !ok {
			continue
		}
		for _, until := range []time.Time{from.Add(time.Millisecond), from.Add(17*time.Minute + 300*time.Millisecond), d.End.Add(-time.Nanosecond)} {
			in.OpenUntil = until
			live := Derive(in)
			want := d
			want.Segments = slices.Clone(d.Segments)
			want.Segments[len(want.Segments)-1].End = until
			want.End = until
			want.Totals = want.SumTotals()
			if g, w := live.Encode(), want.Encode(); !bytes.Equal(g, w) {
				t.Errorf("%s, until %v:\n%s\nwant\n%s", c.name, until.Format("15:04:05.000"), g, w)
			}
			if _, ok := live.OpenPauseFrom(); ok {
				t.Errorf("%s, until %v: the pause no longer runs to the day's end, yet OpenPauseFrom names it", c.name, until)
			}
		}
		// Until the end of the bounds or after, the day is d.
		in.OpenUntil = d.End
		if g, w := Derive(in).Encode(), d.Encode(); !bytes.Equal(g, w) {
			t.Errorf("%s, until the day's end:\n%s\nwant\n%s", c.name, g, w)
		}
	}
}
