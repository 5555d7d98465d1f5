package dwell

import (
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

// TestDateAt checks the one mapping of a wall time to instants: a skipped
// time maps to the jump, a repeated one to both occurrences.
func TestDateAt(t *testing.T) {
	santiago, ny, cairo, berlin := mustZone(t, "America/Santiago"), mustZone(t, "America/New_York"), mustZone(t, "Africa/Cairo"), mustZone(t, "Europe/Berlin")
	for _, c := range []struct {
		name        string
		d           Date
		minute      int
		loc         *time.Location
		first, last time.Time
	}{
		{"ordinary", Date{2026, 6, 10}, 9*60 + 15, ny, utc(2026, 6, 10, 13, 15), utc(2026, 6, 10, 13, 15)},
		{"Santiago skipped midnight", Date{2026, 9, 6}, 0, santiago, utc(2026, 9, 6, 4, 0), utc(2026, 9, 6, 4, 0)},
		{"Santiago skipped 00:30", Date{2026, 9, 6}, 30, santiago, utc(2026, 9, 6, 4, 0), utc(2026, 9, 6, 4, 0)},
		{"Santiago 24:00 before the jump", Date{2026, 9, 5}, 24 * 60, santiago, utc(2026, 9, 6, 4, 0), utc(2026, 9, 6, 4, 0)},
		{"Santiago 01:00 after the jump", Date{2026, 9, 6}, 60, santiago, utc(2026, 9, 6, 4, 0), utc(2026, 9, 6, 4, 0)},
		{"Santiago repeated 23:30", Date{2026, 4, 4}, 23*60 + 30, santiago, utc(2026, 4, 5, 2, 30), utc(2026, 4, 5, 3, 30)},
		{"Santiago 24:00 after the repeat", Date{2026, 4, 4}, 24 * 60, santiago, utc(2026, 4, 5, 4, 0), utc(2026, 4, 5, 4, 0)},
		{"New York skipped 02:30", Date{2026, 3, 8}, 150, ny, utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 7, 0)},
		{"New York repeated 01:30", Date{2026, 11, 1}, 90, ny, utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)},
		{"Cairo repeated 23:15", Date{2026, 10, 29}, 23*60 + 15, cairo, utc(2026, 10, 29, 20, 15), utc(2026, 10, 29, 21, 15)},
		{"Berlin skipped 02:30", Date{2026, 3, 29}, 150, berlin, utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 0)},
		{"Berlin repeated 02:30", Date{2026, 10, 25}, 150, berlin, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)},
	} {
		first, last := c.d.At(c.minute, c.loc)
		if !first.Equal(c.first) || !last.Equal(c.last) {
			t.Errorf("%s: %v.At(%d) = %v, %v; want %v, %v", c.name, c.d, c.minute, first.UTC(), last.UTC(), c.first, c.last)
		}
	}
}

// TestNextWorkingChangeSkippedWallTimes: a window edge the clocks skip is
// the jump, not an instant before it that is then discarded (the phone
// was told next week's change and stayed off for working time).
func TestNextWorkingChangeSkippedWallTimes(t *testing.T) {
	santiago, ny := mustZone(t, "America/Santiago"), mustZone(t, "America/New_York")
	jump := utc(2026, 9, 6, 4, 0) // Santiago 00:00 -04 -> 01:00 -03
	for _, c := range []struct {
		name string
		r    Rep
		loc  *time.Location
		t    time.Time
		want time.Time
	}{
		{"Santiago Sat 20:00-24:00, at 22:00: ends at the jump",
			Rep{WorkingHours: []WorkingHours{{Weekday: time.Saturday, StartMinute: 20 * 60, EndMinute: 24 * 60}}},
			santiago, time.Date(2026, 9, 5, 22, 0, 0, 0, santiago), jump},
		{"Santiago Sun 00:00-08:00, at Sat 22:00: starts at the jump",
			Rep{WorkingHours: []WorkingHours{{Weekday: time.Sunday, StartMinute: 0, EndMinute: 8 * 60}}},
			santiago, time.Date(2026, 9, 5, 22, 0, 0, 0, santiago), jump},
		{"New York Sun 02:30-10:00, at 01:00 EST: starts at 03:00 EDT",
			Rep{WorkingHours: []WorkingHours{{Weekday: time.Sunday, StartMinute: 150, EndMinute: 600}}},
			ny, time.Date(2026, 3, 8, 1, 0, 0, 0, ny), utc(2026, 3, 8, 7, 0)},
		{"Santiago Sat 16:00-23:30 on the night 23:00-24:00 repeats: ends at the second 23:30",
			Rep{WorkingHours: []WorkingHours{{Weekday: time.Saturday, StartMinute: 16 * 60, EndMinute: 23*60 + 30}}},
			santiago, utc(2026, 4, 5, 2, 0), utc(2026, 4, 5, 3, 30)},
	} {
		got := c.r.NextWorkingChange(c.t, c.loc)
		if !got.Equal(c.want) {
			t.Errorf("%s: NextWorkingChange = %v, want %v", c.name, got.UTC(), c.want.UTC())
		}
		if c.r.InWorkingHours(c.want.Add(-time.Nanosecond), c.loc) == c.r.InWorkingHours(c.want, c.loc) {
			t.Errorf("%s: InWorkingHours does not change at %v", c.name, c.want.UTC())
		}
	}
}

// TestWorkingHoursOneDefinition walks the days around daylight-saving
// changes in zones that skip or repeat midnight, 02:00 or 23:00, minute by
// minute, and checks that InWorkingHours (ingest's refusal, with its fast
// path on ordinary days) says exactly what the day's WorkingWindows (the
// derivation's bounds) say, and that NextWorkingChange finds each change.
func TestWorkingHoursOneDefinition(t *testing.T) {
	var hours []WorkingHours
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		hours = append(hours,
			WorkingHours{Weekday: wd, StartMinute: 0, EndMinute: 90},
			WorkingHours{Weekday: wd, StartMinute: 150, EndMinute: 8 * 60},
			WorkingHours{Weekday: wd, StartMinute: 9 * 60, EndMinute: 23*60 + 30},
			WorkingHours{Weekday: wd, StartMinute: 23*60 + 45, EndMinute: 24 * 60})
	}
	r := Rep{WorkingHours: hours}
	for _, c := range []struct {
		zone string
		day  Date // the day of a change; the days around it are walked too
	}{
		{"America/Santiago", Date{2026, 9, 6}}, {"America/Santiago", Date{2026, 4, 4}},
		{"America/Havana", Date{2026, 3, 8}}, {"America/Havana", Date{2026, 11, 1}},
		{"Asia/Beirut", Date{2026, 3, 29}}, {"Asia/Beirut", Date{2026, 10, 25}},
		{"Africa/Cairo", Date{2026, 4, 24}}, {"Africa/Cairo", Date{2026, 10, 29}},
		{"America/New_York", Date{2026, 3, 8}}, {"America/New_York", Date{2026, 11, 1}},
		{"Australia/Lord_Howe", Date{2026, 4, 5}}, {"Australia/Lord_Howe", Date{2026, 10, 4}},
		{"Asia/Tokyo", Date{2026, 6, 1}},
	} {
		loc := mustZone(t, c.zone)
		from, to := c.day.AddDays(-1).Start(loc), c.day.AddDays(2).Start(loc)
		prev := r.InWorkingHours(from.Add(-time.Minute), loc)
		next := r.NextWorkingChange(from.Add(-time.Minute), loc)
		for at := from; at.Before(to); at = at.Add(time.Minute) {
			in := false
			for _, w := range r.WorkingWindows(DateOf(at, loc), loc) {
				if !at.Before(w.Start) && at.Before(w.End) {
					in = true
				}
			}
			got := r.InWorkingHours(at, loc)
			if got != in {
				t.Fatalf("%s %v (%v): InWorkingHours %v, the day's windows say %v", c.zone, at.In(loc), at.UTC(), got, in)
			}
			if got != prev && !at.Equal(next) {
				t.Fatalf("%s: InWorkingHours changes at %v, NextWorkingChange said %v", c.zone, at.UTC(), next.UTC())
			}
			if got != prev {
				next = r.NextWorkingChange(at, loc)
			}
			prev = got
		}
	}
}

// TestWorkingWindowsRepeatedAndSkipped checks the windows of the days the
// reviewer's cases fall on.
func TestWorkingWindowsRepeatedAndSkipped(t *testing.T) {
	santiago := mustZone(t, "America/Santiago")
	sat := Rep{WorkingHours: []WorkingHours{{Weekday: time.Saturday, StartMinute: 16 * 60, EndMinute: 23*60 + 30}}}
	ws := sat.WorkingWindows(Date{2026, 4, 4}, santiago)
	if len(ws) != 1 || !ws[0].Start.Equal(utc(2026, 4, 4, 19, 0)) || !ws[0].End.Equal(utc(2026, 4, 5, 3, 30)) {
		t.Errorf("Santiago 4 April 2026 16:00-23:30: windows %v, want 19:00Z to 03:30Z (the second 23:30)", ws)
	}
	sun := Rep{WorkingHours: []WorkingHours{{Weekday: time.Sunday, StartMinute: 0, EndMinute: 30}, {Weekday: time.Sunday, StartMinute: 30, EndMinute: 8 * 60}}}
	ws = sun.WorkingWindows(Date{2026, 9, 6}, santiago)
	if len(ws) != 1 || !ws[0].Start.Equal(utc(2026, 9, 6, 4, 0)) || !ws[0].End.Equal(utc(2026, 9, 6, 11, 0)) {
		t.Errorf("Santiago 6 September 2026 00:00-00:30, 00:30-08:00: windows %v, want one, 04:00Z (the jump) to 11:00Z", ws)
	}
}

// TestFastPathRepeatedMidnightHour: in America/Havana the clocks go back
// from 01:00 CDT to 00:00 CST on 2 November 2025, so 00:00-01:00 happens
// twice. A window of Sunday 00:30-08:00 starts at the first 00:30 (CDT);
// a fix at the second 00:10 (CST) is inside it, and InWorkingHours must
// say so (its one-offset fast path took the second 00:00 for the day's
// midnight and compared minutes), and NextWorkingChange must agree.
func TestFastPathRepeatedMidnightHour(t *testing.T) {
	loc, err := time.LoadLocation("America/Havana")
	if err != nil {
		t.Fatal(err)
	}
	r := Rep{WorkingHours: []WorkingHours{{Weekday: time.Sunday, StartMinute: 30, EndMinute: 8 * 60}}}
	fix := time.Date(2025, 11, 2, 5, 10, 0, 0, time.UTC) // 00:10 CST, the second 00:10
	ws := r.WorkingWindows(Date{2025, 11, 2}, loc)
	if len(ws) != 1 || fix.Before(ws[0].Start) || !fix.Before(ws[0].End) {
		t.Fatalf("windows %v do not hold %v", ws, fix.In(loc))
	}
	if !r.InWorkingHours(fix, loc) {
		t.Errorf("InWorkingHours(%v) = false, but the fix is in the day's window %v", fix.In(loc), ws[0])
	}
	at := time.Date(2025, 11, 2, 4, 45, 0, 0, time.UTC) // 00:45 CDT, working
	if next := r.NextWorkingChange(at, loc); !next.Equal(ws[0].End) {
		t.Errorf("NextWorkingChange(%v) = %v, want the window's end %v", at.In(loc), next.In(loc), ws[0].End.In(loc))
	}
	for m := at; m.Before(ws[0].End); m = m.Add(time.Minute) {
		if !r.InWorkingHours(m, loc) {
			t.Fatalf("InWorkingHours(%v) = false inside the window", m.In(loc))
		}
	}
}
