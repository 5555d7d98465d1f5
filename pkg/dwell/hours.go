package dwell

import (
	"slices"
	"time"
)

// minutesPerDay is the length of a day in minutes, the upper bound of a
// working window.
const minutesPerDay = 24 * 60

// At returns the instants at which local day d's clock in loc reads minute
// (minutes after midnight, 0 to 1440; 1440 is the next day's start, as
// Start gives it). It is the one mapping of a wall-clock time to an
// instant that working hours are read with (WorkingWindows):
//
//   - A time the clock shows once maps to that instant, first and last
//     alike.
//   - A time the clocks skip (they jump forward over it, as in the US at
//     02:00, or in Chile and Cuba at midnight) maps to the instant of the
//     jump, first and last alike: the first instant after it, which the
//     clock reads as a later time of day d. Start does the same for a
//     skipped midnight.
//   - A time the clocks show twice (they go back over it: 01:00-02:00 in
//     the US, 23:00-24:00 in Chile and Egypt) has two instants: first is
//     its earlier occurrence, last its later one.
//
// d must be valid. A minute outside 0 to 1440 is read as time.Date reads
// it, as a time of the day before or after.
func (d Date) At(minute int, loc *time.Location) (first, last time.Time) {
	if minute == minutesPerDay {
		s := d.AddDays(1).Start(loc)
		return s, s
	}
	wall := time.Date(d.Year, d.Month, d.Day, 0, minute, 0, 0, time.UTC)
	guess := time.Date(d.Year, d.Month, d.Day, 0, minute, 0, 0, loc)
	// The wall time may belong to the zone period of time.Date's guess or
	// to either of its neighbours (time.Date picks one occurrence of a
	// repeated time, and reads a skipped one with either offset). Each
	// offset gives one candidate; a candidate counts only if the clock
	// does read the wall time there.
	zs, ze := guess.ZoneBounds()
	cands := [3]time.Time{guess}
	if !zs.IsZero() {
		_, off := zs.Add(-time.Nanosecond).In(loc).Zone()
		cands[1] = wall.Add(-time.Duration(off) * time.Second)
	}
	if !ze.IsZero() {
		_, off := ze.In(loc).Zone()
		cands[2] = wall.Add(-time.Duration(off) * time.Second)
	}
	for _, c := range cands {
		if c.IsZero() || !readsWall(c, loc, wall) {
			continue
		}
		if first.IsZero() || c.Before(first) {
			first = c
		}
		if last.IsZero() || c.After(last) {
			last = c
		}
	}
	if !first.IsZero() {
		return first.In(loc), last.In(loc)
	}
	// Skipped: the guess reads the wall time with the offset of one side
	// of the jump, which is the end of its zone period when it reads
	// earlier and the start when it reads later.
	if readsAsUTC(guess, loc).Before(wall) {
		return ze.In(loc), ze.In(loc)
	}
	return zs.In(loc), zs.In(loc)
}

// readsAsUTC returns the wall-clock reading of t in loc as a UTC instant
// with the same date and time of day, so readings compare as instants do.
func readsAsUTC(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), time.UTC)
}

// readsWall reports whether loc's clock reads wall (a reading as
// readsAsUTC gives it) at instant t.
func readsWall(t time.Time, loc *time.Location, wall time.Time) bool {
	return readsAsUTC(t, loc).Equal(wall)
}

// Interval is the time from Start up to, not including, End.
type Interval struct {
	Start, End time.Time
}

// WorkingWindows returns the rep's working windows on local day d in loc
// as instants, in time order, or none if the rep has no working hours that
// weekday (or none at all: see InWorkingHours). It is the one definition
// of a working window that ingest's refusal of fixes (InWorkingHours), the
// phone's tracking changes (NextWorkingChange), the day's derivation and
// the rep's status all read:
//
// A window runs from the first instant its start_minute is read on d's
// clock to the last instant its end_minute is (Date.At): where the clocks
// skip a window's edge, the edge is the jump; where they go back over it,
// the window starts at the start's earlier occurrence and ends at the
// end's later one, so a window is never shorter than its wall-clock
// length and holds every instant whose wall-clock reading is inside it.
// Windows the clocks skip whole are left out, and windows that overlap
// once so read (one ending and the next starting in a repeated hour) are
// merged. Every window lies within the day, from d.Start to the next
// day's start.
func (r Rep) WorkingWindows(d Date, loc *time.Location) []Interval {
	var ws []Interval
	weekday := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
	for _, h := range r.WorkingHours {
		if h.Weekday != weekday {
			continue
		}
		start, _ := d.At(h.StartMinute, loc)
		_, end := d.At(h.EndMinute, loc)
		if !start.Before(end) {
			continue
		}
		ws = append(ws, Interval{Start: start, End: end})
	}
	slices.SortFunc(ws, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	out := ws[:0]
	for _, w := range ws {
		if n := len(out); n > 0 && w.Start.Before(out[n-1].End) {
			if w.End.After(out[n-1].End) {
				out[n-1].End = w.End
			}
			continue
		}
		out = append(out, w)
	}
	return out
}

// InWorkingHours reports whether the instant t falls inside one of the
// rep's working windows of its local day in the rep's zone loc
// (WorkingWindows). A rep without working hours always works.
func (r Rep) InWorkingHours(t time.Time, loc *time.Location) bool {
	if len(r.WorkingHours) == 0 {
		return true
	}
	lt := t.In(loc)
	if uniformDay(lt) {
		// The clock keeps one offset all day, so its readings and the
		// windows' instants are in the same order: compare minutes, as
		// ingest does for each fix, without building the windows.
		m := lt.Hour()*60 + lt.Minute()
		for _, w := range r.WorkingHours {
			if w.Weekday == lt.Weekday() && m >= w.StartMinute && m < w.EndMinute {
				return true
			}
		}
		return false
	}
	for _, w := range r.WorkingWindows(DateOf(t, loc), loc) {
		if !t.Before(w.Start) && t.Before(w.End) {
			return true
		}
	}
	return false
}

// uniformDay reports whether the local day of lt (an instant in its
// zone) keeps one zone offset from its midnight until strictly after the
// next midnight, so that no wall time of it is skipped or repeated and the
// next day starts 24 hours after it. The midnight it computes is lt less
// its clock time at lt's offset, which is the day's start only if that
// offset held before it: a period that begins exactly there (Havana's
// clocks going back from 01:00 to 00:00, so that the computed midnight is
// the second 00:00 while the day began at the first) is not uniform.
func uniformDay(lt time.Time) bool {
	zs, ze := lt.ZoneBounds()
	sinceMidnight := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	midnight := lt.Add(-sinceMidnight)
	return (zs.IsZero() || midnight.After(zs)) && (ze.IsZero() || ze.After(midnight.Add(24*time.Hour)))
}

// NextWorkingChange returns the first instant after t, within 8 days, at
// which InWorkingHours changes value, or the zero time if it never does
// (no working hours). The instants are the edges of WorkingWindows, so
// they stay right across daylight-saving changes, skipped and repeated
// wall times included.
func (r Rep) NextWorkingChange(t time.Time, loc *time.Location) time.Time {
	if len(r.WorkingHours) == 0 {
		return time.Time{}
	}
	now := r.InWorkingHours(t, loc)
	today := DateOf(t, loc)
	for k := 0; k <= 8; k++ {
		// Windows of day k all lie after those of day k-1, so the first
		// edge that changes the answer is on the first day that has one.
		for _, w := range r.WorkingWindows(today.AddDays(k), loc) {
			for _, c := range [2]time.Time{w.Start, w.End} {
				if c.After(t) && r.InWorkingHours(c, loc) != now {
					return c
				}
			}
		}
	}
	return time.Time{}
}
