package timeline

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Paused tracking (DESIGN.md: "time a rep paused tracking is reported as
// paused, never as idle").
//
// A pause lasts from a pause to the first resume after it. A pause with no
// resume yet lasts until the first fix after it (a phone that sends fixes
// again is tracking again: a lost or forgotten resume must not hide a
// working day), else until Input.OpenUntil (the present) or the end of the
// day. So does a pause followed by a fix and then by another pause: its
// resume was lost, it ends at the first fix after it, and the later pause
// starts a paused interval of its own (a pause repeated with no fix
// between changes nothing). Fixes here are those the day is derived from:
// inside the day's working hours and outside their breaks (Pauses). Pauses are cut to the day and merged. The day is then derived from
// the fixes outside them, as if those inside had never been sent (the rep
// asked not to be tracked), a stop as long as its unpaused time (a pause
// makes no short stop idle or a visit), and the paused intervals are laid over the
// result, winning over every other kind: segments are cut around them
// (a cut travel or gap keeps the share of its distance that its time
// bears), visits are trimmed to their unpaused time (a pause inside one
// stays one visit, its paused time in Visit.Paused), and the totals count
// them apart. A pause outside the observed span extends the day, with GAP for
// the unobserved time between. Check-ins keep their verdicts: they are
// claims the rep made, not tracking.

// span is an interval [start, end) of instants.
type span struct{ start, end time.Time }

// deriveLaidOver is Derive for a day with tracking changes or several
// working-hours windows: the day is derived from the fixes outside the
// pauses and the breaks between windows, then the pauses and the breaks
// are laid over it (applyPauses, applyOffHours). A pause is cut to the
// windows: the break is off hours whether or not the rep had paused.
func deriveLaidOver(in Input) Day {
	lo, hi := bounds(in)
	bs := breakSpans(in.Windows, lo, hi)
	// Only a pause left open at the end asks, once: a scan, not a sort.
	firstAfter := func(t time.Time) time.Time {
		var first time.Time
		for _, f := range in.Fixes {
			if f.Time.After(t) && (first.IsZero() || f.Time.Before(first)) &&
				(lo.IsZero() || !f.Time.Before(lo)) && (hi.IsZero() || f.Time.Before(hi)) && !inSpans(f.Time, bs) {
				first = f.Time
			}
		}
		return first
	}
	pauses := Pauses(in.Tracking, fixBetween(firstAfter))
	ps := minusSpans(spansOf(pauses, in.OpenUntil, lo, hi, firstAfter), bs)
	rest := in
	rest.Tracking = nil
	if len(in.Windows) > 0 {
		rest.Windows = nil
		rest.Window = Window{Start: lo, End: hi}
	}
	if len(ps) > 0 || len(bs) > 0 {
		rest.Fixes = make([]dwell.Fix, 0, len(in.Fixes))
		for _, f := range in.Fixes {
			if !inSpans(f.Time, ps) && !inSpans(f.Time, bs) {
				rest.Fixes = append(rest.Fixes, f)
			}
		}
	}
	day := derive(rest, ps, bs)
	applyPauses(&day, ps)
	applyOffHours(&day, bs)
	day.OpenPause = openPause(pauses, hi)
	day.openFrom = openFrom(&day, pauses, ps, lo, hi)
	return day
}

// openFrom returns Day.OpenPauseFrom's answer for day, derived with
// pauses and their spans ps within [lo, hi): the start of the last span
// when the last pause is open (Day.OpenPause), its span runs to hi and
// begins no earlier than the pause (or lo), and the day's last segment is
// that span, PAUSED; zero otherwise.
func openFrom(day *Day, pauses []Pause, ps []span, lo, hi time.Time) time.Time {
	n, m := len(ps), len(day.Segments)
	if !day.OpenPause || hi.IsZero() || n == 0 || m == 0 {
		return time.Time{}
	}
	last, seg := ps[n-1], day.Segments[m-1]
	begin := pauses[len(pauses)-1].Start
	if !lo.IsZero() && begin.Before(lo) {
		begin = lo
	}
	if !last.end.Equal(hi) || last.start.Before(begin) || seg.Kind != KindPaused ||
		!seg.Start.Equal(last.start) || !seg.End.Equal(hi) || !day.End.Equal(hi) {
		return time.Time{}
	}
	return last.start
}

// openPause reports whether the last of pauses (Pauses) has no resume and
// begins before hi (zero: no bound), so that it ends at the first of
// Input.OpenUntil, the first fix after it and the day's end
// (Day.OpenPause). A fix after it does not make it closed: the fix may be
// dated after the present (a phone's clock ahead), where a derivation
// with OpenUntil ends the pause sooner than one without.
func openPause(pauses []Pause, hi time.Time) bool {
	if len(pauses) == 0 {
		return false
	}
	last := pauses[len(pauses)-1]
	return last.End.IsZero() && (hi.IsZero() || last.Start.Before(hi))
}

// Pause is a paused interval [Start, End) of a rep; a zero End: not resumed
// (yet), and no later pause after a fix.
type Pause struct {
	Start, End time.Time
	// ByFix reports that End is the first fix after Start, not a resume:
	// the pause was followed by fixes and then by another pause, so its
	// resume was lost (Pauses). A fix sent late for a time between Start
	// and End would be the first fix after Start instead, and would end
	// the pause itself: only Start is certainly paused.
	ByFix bool
}

// Pauses returns the paused intervals of a rep's tracking changes, in any
// order and with any repeats (a change counts once by RequestID), sorted
// and disjoint. A pause lasts to the first resume after it; a resume while
// not paused changes nothing; an empty pause is none. A pause while
// paused changes nothing either, unless a fix came between the two: then
// the first pause's resume was lost (the phone was tracking again), it
// ends at the first fix after it (ByFix), and the second starts an
// interval of its own. A resume and a pause at one instant: the resume
// first, so the pause holds (and GetTrackingConfig reports the rep
// paused); two pauses at one instant are one.
//
// firstFix(after, before) returns the time of the rep's first fix strictly
// after after and strictly before before, or the zero time if there is
// none; nil: no fixes. The answer depends only on the set of changes and
// on firstFix, so on the set of fixes: not on their order. This is the
// rule of Derive (which also ends the last pause, if not resumed, at the
// first fix after it) and of the server's ingest, pause sweep, tracking
// configuration and silence sweeper.
func Pauses(changes []dwell.TrackingChange, firstFix func(after, before time.Time) time.Time) []Pause {
	cs := slices.Clone(changes)
	slices.SortFunc(cs, func(a, b dwell.TrackingChange) int {
		return cmp.Or(a.Time.Compare(b.Time), cmpBool(a.Paused, b.Paused), strings.Compare(a.RequestID, b.RequestID))
	})
	cs = slices.CompactFunc(cs, func(a, b dwell.TrackingChange) bool {
		return a.RequestID != "" && a.RequestID == b.RequestID
	})
	var out []Pause
	paused := false
	for _, c := range cs {
		switch {
		case c.Paused && !paused:
			paused = true
			out = append(out, Pause{Start: c.Time})
		case c.Paused && firstFix != nil:
			p := &out[len(out)-1]
			if f := firstFix(p.Start, c.Time); !f.IsZero() {
				p.End, p.ByFix = f, true
				out = append(out, Pause{Start: c.Time})
			}
		case !c.Paused && paused:
			paused = false
			if p := &out[len(out)-1]; p.Start.Before(c.Time) {
				p.End = c.Time
			} else {
				out = out[:len(out)-1]
			}
		}
	}
	return out
}

// fixBetween turns firstAfter (the first fix after an instant, zero if
// none; nil: no fixes) into the firstFix of Pauses.
func fixBetween(firstAfter func(time.Time) time.Time) func(after, before time.Time) time.Time {
	if firstAfter == nil {
		return nil
	}
	return func(after, before time.Time) time.Time {
		if f := firstAfter(after); !f.IsZero() && f.Before(before) {
			return f
		}
		return time.Time{}
	}
}

// spansOf returns pauses (Pauses) as intervals within [lo, hi), sorted and
// disjoint. A pause left open ends at firstAfter(its start), else at
// openUntil, else at hi. A zero lo or hi bounds nothing; an open pause
// with no end is dropped.
func spansOf(pauses []Pause, openUntil, lo, hi time.Time, firstAfter func(time.Time) time.Time) []span {
	var out []span
	add := func(s span) {
		if !lo.IsZero() && s.start.Before(lo) {
			s.start = lo
		}
		if !hi.IsZero() && s.end.After(hi) {
			s.end = hi
		}
		if !s.start.Before(s.end) {
			return
		}
		if n := len(out); n > 0 && !s.start.After(out[n-1].end) {
			out[n-1].end = maxT(out[n-1].end, s.end)
			return
		}
		out = append(out, s)
	}
	for _, p := range pauses {
		if !p.End.IsZero() {
			add(span{p.Start, p.End})
			continue
		}
		end := openUntil // the last pause, not resumed
		if end.IsZero() || (!hi.IsZero() && end.After(hi)) {
			end = hi
		}
		if firstAfter != nil {
			if f := firstAfter(p.Start); !f.IsZero() && (end.IsZero() || f.Before(end)) {
				end = f
			}
		}
		if !end.IsZero() {
			add(span{p.Start, end})
		}
	}
	return out
}

// inSpans reports whether t falls in one of the sorted spans.
func inSpans(t time.Time, ps []span) bool {
	i, _ := slices.BinarySearchFunc(ps, t, func(s span, t time.Time) int {
		if !s.end.After(t) {
			return -1
		}
		return 1
	})
	return i < len(ps) && !t.Before(ps[i].start)
}

// pausedWithin returns how much of [start, end) the sorted spans cover.
func pausedWithin(ps []span, start, end time.Time) time.Duration {
	var in time.Duration
	for _, p := range ps {
		if a, b := maxT(p.start, start), minT(p.end, end); a.Before(b) {
			in += b.Sub(a)
		}
	}
	return in
}

// overlaps reports whether [start, end) shares an instant with one of the
// spans.
func overlaps(start, end time.Time, ps []span) bool {
	for _, p := range ps {
		if p.start.Before(end) && p.end.After(start) {
			return true
		}
	}
	return false
}

// outside returns the pieces of [start, end) outside the sorted spans.
func outside(start, end time.Time, ps []span) []span {
	var out []span
	at := start
	for _, p := range ps {
		if !p.end.After(at) {
			continue
		}
		if !p.start.Before(end) {
			break
		}
		if p.start.After(at) {
			out = append(out, span{at, p.start})
		}
		at = maxT(at, p.end)
	}
	if at.Before(end) {
		out = append(out, span{at, end})
	}
	return out
}

// applyPauses lays the paused spans over a derived day.
func applyPauses(day *Day, ps []span) {
	if len(ps) == 0 {
		return
	}
	segs := layOver(day.Segments, ps, KindPaused)
	// The time between the observed span and a pause outside it was not
	// observed.
	filled := make([]Segment, 0, len(segs)+2)
	for i, s := range segs {
		if i > 0 && segs[i-1].End.Before(s.Start) {
			filled = append(filled, Segment{Kind: KindGap, Start: segs[i-1].End, End: s.Start})
		}
		filled = append(filled, s)
	}
	day.Segments = filled
	day.Start, day.End = filled[0].Start, filled[len(filled)-1].End

	// A visit is trimmed to its unpaused time; a pause inside it leaves one
	// visit (one meeting) with the paused time counted apart.
	day.Visits = trimVisits(day.Visits, ps, func(v *Visit, d time.Duration) { v.Paused = d })
	day.Totals = day.SumTotals()
}

// layOver returns segs cut around the sorted spans ps, a cut travel or gap
// keeping the share of its distance that its time bears, with a segment of
// kind over each span, in time order.
func layOver(segs []Segment, ps []span, kind Kind) []Segment {
	out := make([]Segment, 0, len(segs)+2*len(ps))
	for _, s := range segs {
		for _, piece := range outside(s.Start, s.End, ps) {
			c := s
			if d := s.Duration(); d > 0 && c.DistanceM != 0 {
				c.DistanceM = s.DistanceM * float64(piece.end.Sub(piece.start)) / float64(d)
			}
			c.Start, c.End = piece.start, piece.end
			out = append(out, c)
		}
	}
	for _, p := range ps {
		out = append(out, Segment{Kind: kind, Start: p.start, End: p.end})
	}
	slices.SortFunc(out, func(a, b Segment) int { return a.Start.Compare(b.Start) })
	return out
}

// trimVisits trims each visit to its time outside the sorted spans ps,
// dropping a visit wholly inside them; the time of the spans between its
// first and last piece (one meeting across them) is given to apart.
func trimVisits(vs []Visit, ps []span, apart func(v *Visit, d time.Duration)) []Visit {
	var out []Visit
	for _, v := range vs {
		pieces := outside(v.Start, v.End, ps)
		if len(pieces) == 0 {
			continue
		}
		c := v
		c.Start, c.End = pieces[0].start, pieces[len(pieces)-1].end
		var d time.Duration
		for i := 1; i < len(pieces); i++ {
			d += pieces[i].start.Sub(pieces[i-1].end)
		}
		apart(&c, d)
		out = append(out, c)
	}
	return out
}
