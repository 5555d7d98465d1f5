package main

import (
	"fmt"
	"strconv"
	"strings"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// Working hours syntax (reps create --hours):
//
//	mon-fri 08:00-17:00, sat 09:00-13:00
//
// A comma-separated list of entries "DAYS HH:MM-HH:MM". DAYS is one day or
// a range of days, written as three-letter names or full names in any case
// (mon tue wed thu fri sat sun); a range runs forward through the week and
// may wrap ("fri-mon" is Friday to Monday). Times are local to the rep's
// time zone, on a 24-hour clock; the end may be 24:00 and must be after the
// start (a night shift is two entries). A day may have several windows.

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var fullDayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// parseDay returns the day of the week (0 is Sunday) named s.
func parseDay(s string) (int, error) {
	s = strings.ToLower(s)
	for i := range dayNames {
		if s == dayNames[i] || s == fullDayNames[i] {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun)", s)
}

// parseClock parses H:MM or HH:MM into minutes after midnight, 0 to 1440.
func parseClock(s string) (int, error) {
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !allDigits(hs) || !allDigits(ms) {
		return 0, fmt.Errorf("%q is not a time HH:MM", s)
	}
	h, _ := strconv.Atoi(hs)
	m, _ := strconv.Atoi(ms)
	if h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, fmt.Errorf("%q is not a time of day from 00:00 to 24:00", s)
	}
	return h*60 + m, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseHours parses the working hours syntax. An empty string means no
// working hours.
func parseHours(s string) ([]*dwellv1.WorkingHours, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []*dwellv1.WorkingHours
	for i, entry := range strings.Split(s, ",") {
		fields := strings.Fields(entry)
		if len(fields) != 2 {
			return nil, fmt.Errorf("hours entry %d %q: want DAYS HH:MM-HH:MM, such as \"mon-fri 08:00-17:00\"", i+1, strings.TrimSpace(entry))
		}
		days, err := parseDays(fields[0])
		if err != nil {
			return nil, fmt.Errorf("hours entry %d: %v", i+1, err)
		}
		from, to, ok := strings.Cut(fields[1], "-")
		if !ok {
			return nil, fmt.Errorf("hours entry %d: %q: want a window HH:MM-HH:MM", i+1, fields[1])
		}
		start, err := parseClock(from)
		if err != nil {
			return nil, fmt.Errorf("hours entry %d: %v", i+1, err)
		}
		end, err := parseClock(to)
		if err != nil {
			return nil, fmt.Errorf("hours entry %d: %v", i+1, err)
		}
		if start == 1440 {
			return nil, fmt.Errorf("hours entry %d: a window cannot start at 24:00", i+1)
		}
		if end <= start {
			return nil, fmt.Errorf("hours entry %d: the window %s must end after it starts (split a night shift in two entries)", i+1, fields[1])
		}
		for _, d := range days {
			out = append(out, &dwellv1.WorkingHours{DayOfWeek: int32(d), StartMinute: int32(start), EndMinute: int32(end)})
		}
	}
	return out, nil
}

// parseDays parses "mon" or "mon-fri" into days of the week.
func parseDays(s string) ([]int, error) {
	from, to, isRange := strings.Cut(s, "-")
	a, err := parseDay(from)
	if err != nil {
		return nil, err
	}
	if !isRange {
		return []int{a}, nil
	}
	b, err := parseDay(to)
	if err != nil {
		return nil, err
	}
	days := []int{a}
	for d := a; d != b; {
		d = (d + 1) % 7
		days = append(days, d)
	}
	return days, nil
}

// formatHours writes working hours back in the syntax parseHours reads,
// grouping the days that share a window into ranges, Monday first.
func formatHours(ws []*dwellv1.WorkingHours) string {
	type window struct{ start, end int32 }
	var order []window
	days := map[window]*[7]bool{}
	for _, w := range ws {
		k := window{w.GetStartMinute(), w.GetEndMinute()}
		if days[k] == nil {
			days[k] = new([7]bool)
			order = append(order, k)
		}
		if d := w.GetDayOfWeek(); d >= 0 && d < 7 {
			days[k][d] = true
		}
	}
	var entries []string
	for _, k := range order {
		set := days[k]
		span := fmt.Sprintf("%s-%s", clock(k.start), clock(k.end))
		// Walk Monday..Sunday and cut runs of consecutive days.
		for i := 0; i < 7; {
			d := (i + 1) % 7
			if !set[d] {
				i++
				continue
			}
			j := i
			for j+1 < 7 && set[(j+2)%7] {
				j++
			}
			name := dayNames[d]
			if j > i {
				name += "-" + dayNames[(j+1)%7]
			}
			entries = append(entries, name+" "+span)
			i = j + 1
		}
	}
	return strings.Join(entries, ", ")
}

func clock(min int32) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }
