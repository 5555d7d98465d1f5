package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// Santiago's clocks jump from 00:00 to 01:00 on Sunday 6 September 2026
// (04:00 UTC): that day begins at the jump and is 23 hours long.

// TestParseDateSkippedMidnight: "yesterday" is the calendar day before
// today, not the day of the instant 24 hours ago, which 30 minutes into
// Monday 7 September is still Saturday the 5th.
func TestParseDateSkippedMidnight(t *testing.T) {
	santiago := mustLoad(t, "America/Santiago")
	now := time.Date(2026, 9, 7, 0, 30, 0, 0, santiago)
	for _, c := range []struct{ s, want string }{{"today", "2026-09-07"}, {"yesterday", "2026-09-06"}, {"2026-02-28", "2026-02-28"}} {
		d, err := parseDate(c.s, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatDate(d); got != c.want {
			t.Errorf("parseDate(%q, %v) = %s, want %s", c.s, now, got, c.want)
		}
	}
}

// TestDayAnchorsSkippedMidnight: the rep-day, visit and status tables
// and the day's picture show an instant of Sunday 6 September on that day,
// without a "+0d" mark, and one of Monday the 7th with "+1d".
func TestDayAnchorsSkippedMidnight(t *testing.T) {
	santiago := mustLoad(t, "America/Santiago")
	sun := &dwellv1.Date{Year: 2026, Month: 9, Day: 6}
	start := time.Date(2026, 9, 6, 9, 15, 0, 0, santiago)
	end := time.Date(2026, 9, 7, 0, 30, 0, 0, santiago)
	seg := []*dwellv1.Segment{{Kind: dwellv1.SegmentKind_SEGMENT_KIND_IDLE, StartTime: timestamppb.New(start), EndTime: timestamppb.New(end)}}
	day := &dwellv1.GetRepDayResponse{Rep: "reps/nico", Date: sun, TimeZone: "America/Santiago", Segments: seg}

	var b bytes.Buffer
	printRepDay(&b, day, nil)
	if !strings.Contains(b.String(), "Sunday 6 September 2026") || !strings.Contains(b.String(), "09:15 to 00:30 +1d") {
		t.Errorf("printRepDay: want Sunday 6 September 2026, observed 09:15 to 00:30 +1d:\n%s", b.String())
	}

	b.Reset()
	printVisits(&b, []*dwellv1.Visit{{Rep: "reps/nico", Date: sun, Client: "clients/toko", StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour))}},
		map[string]*time.Location{"reps/nico": santiago})
	if out := b.String(); !strings.Contains(out, "09:15 ") || !strings.Contains(out, "10:15 ") || strings.Contains(out, "d ") {
		t.Errorf("printVisits: want 09:15 to 10:15 with no day mark:\n%s", out)
	}

	b.Reset()
	asOf := time.Date(2026, 9, 6, 5, 0, 0, 0, time.UTC) // 02:00 -03
	printStatuses(&b, []*dwellv1.RepStatus{{Rep: "reps/nico", TimeZone: "America/Santiago", State: dwellv1.RepState_REP_STATE_NO_DATA,
		SinceTime: timestamppb.New(time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC))}}, asOf)
	if out := b.String(); !strings.Contains(out, "01:00 ") || strings.Contains(out, "d ") {
		t.Errorf("printStatuses: want since 01:00 with no day mark:\n%s", out)
	}

	p, err := newDayPicture(day, "Nico", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC); !p.day.Equal(want) {
		t.Errorf("the picture's day starts at %v, want %v, the jump", p.day.UTC(), want)
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
