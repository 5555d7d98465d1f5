package timeline

import (
	"slices"
	"time"
)

// Split shifts: several working-hours windows in one day (Input.Windows).
//
// The server refuses fixes outside working hours, so the break between two
// windows (12:00-13:00 of 09:00-12:00 and 13:00-17:00) holds no fixes. A
// rep at one place before and after it would be a silence at one place,
// which belongs to the stop (step 3), and the break would count as idle or
// visit time; a rep elsewhere after it would be a GAP. Neither is field
// time: the rep was not working. So the day is derived from the fixes
// outside the breaks (deriveLaidOver), and each break within the observed
// span is laid over the result as KindOffHours, winning over every other
// kind, PAUSED too (a pause is cut to the windows): segments are cut
// around it (a cut travel or gap keeps the share of its distance that its
// time bears, as for a pause), a visit across it stays one visit (one
// meeting) with the break's time in Visit.OffHours, and no total counts
// it. A break outside the observed span (before the first fix or after
// the last) is not shown, as the time before the first window is not.
// Whether a stop across a break lasts VisitMin or IdleMin is judged on its
// working time, the break left out, as a pause is (deriver.lasts): a few
// minutes at a client either side of lunch are no meeting.

// AfterBreak reports whether segment i of segs (a day's segments) is the
// part after a split shift's break of the segment before the break: the
// one before segs[i-1], an OFF_HOURS, is of the same kind, client and
// place (VISIT, OFF_HOURS, VISIT of one client; IDLE, OFF_HOURS, IDLE at
// one place; PAUSED, OFF_HOURS, PAUSED). A stop or pause across a break
// is one: it began before it.
func AfterBreak(segs []Segment, i int) bool {
	if i < 2 || i >= len(segs) || segs[i-1].Kind != KindOffHours {
		return false
	}
	a, b := segs[i-2], segs[i]
	return a.Kind == b.Kind && a.Client == b.Client && a.Location == b.Location
}

// windowSpans returns the windows as spans, sorted, with overlapping or
// touching ones joined and empty ones dropped.
func windowSpans(ws []Window) []span {
	out := make([]span, 0, len(ws))
	for _, w := range ws {
		if w.Start.Before(w.End) {
			out = append(out, span{w.Start, w.End})
		}
	}
	slices.SortFunc(out, func(a, b span) int { return a.start.Compare(b.start) })
	joined := out[:0]
	for _, s := range out {
		if n := len(joined); n > 0 && !s.start.After(joined[n-1].end) {
			joined[n-1].end = maxT(joined[n-1].end, s.end)
			continue
		}
		joined = append(joined, s)
	}
	return joined
}

// breakSpans returns the time between consecutive windows within [lo, hi)
// (a zero lo or hi bounds nothing), sorted and disjoint.
func breakSpans(ws []Window, lo, hi time.Time) []span {
	sp := windowSpans(ws)
	var out []span
	for i := 1; i < len(sp); i++ {
		b := span{sp[i-1].end, sp[i].start}
		if !lo.IsZero() && b.start.Before(lo) {
			b.start = lo
		}
		if !hi.IsZero() && b.end.After(hi) {
			b.end = hi
		}
		if b.start.Before(b.end) {
			out = append(out, b)
		}
	}
	return out
}

// minusSpans returns the parts of the sorted, disjoint spans ps outside
// the sorted, disjoint spans qs.
func minusSpans(ps, qs []span) []span {
	if len(qs) == 0 {
		return ps
	}
	var out []span
	for _, p := range ps {
		out = append(out, outside(p.start, p.end, qs)...)
	}
	return out
}

// applyOffHours lays the breaks bs over a derived day, within its span.
func applyOffHours(day *Day, bs []span) {
	var in []span
	for _, b := range bs {
		b.start, b.end = maxT(b.start, day.Start), minT(b.end, day.End)
		if b.start.Before(b.end) {
			in = append(in, b)
		}
	}
	if len(in) == 0 || len(day.Segments) == 0 {
		return
	}
	// The segments cover [Start, End) without holes (build, applyPauses),
	// so cutting them around the breaks and adding these leaves none.
	day.Segments = layOver(day.Segments, in, KindOffHours)
	// A visit is trimmed to its working time; a break inside it leaves one
	// visit (one meeting) with the break's time counted apart. The trimmed
	// ends lie in breaks, which no pause overlaps (deriveLaidOver), so
	// Paused is unchanged.
	day.Visits = trimVisits(day.Visits, in, func(v *Visit, d time.Duration) { v.OffHours = d })
	day.Totals = day.SumTotals()
}

// PausedBefore reports whether nothing but paused time comes before start
// in segs (a day's segments): PAUSED, OFF_HOURS, or a GAP of at most
// GapMin right after a PAUSED one (the seconds between a resume and the
// first fix after it, which a phone takes to get one: the rep seen
// nowhere). A stay or idle stop that begins so carries on what the day
// before ended with (packages events and kpi).
func PausedBefore(segs []Segment, start time.Time) bool {
	for i, s := range segs {
		if !s.Start.Before(start) {
			break
		}
		switch {
		case s.Kind == KindPaused, s.Kind == KindOffHours:
		case s.Kind == KindGap && s.Duration() <= GapMin && i > 0 && segs[i-1].Kind == KindPaused:
		default:
			return false
		}
	}
	return true
}

// PausedAfter reports whether nothing but paused time comes after end in
// segs: PAUSED, OFF_HOURS, or a GAP of at most GapMin right before a
// PAUSED one (the seconds between the last fix and a pause). A stay that
// ends so runs to its day's end.
func PausedAfter(segs []Segment, end time.Time) bool {
	for i, s := range segs {
		if !s.End.After(end) {
			continue
		}
		switch {
		case s.Kind == KindPaused, s.Kind == KindOffHours:
		case s.Kind == KindGap && s.Duration() <= GapMin && i+1 < len(segs) && segs[i+1].Kind == KindPaused:
		default:
			return false
		}
	}
	return true
}
