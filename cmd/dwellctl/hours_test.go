package main

import (
	"strings"
	"testing"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

func wh(day, start, end int32) *dwellv1.WorkingHours {
	return &dwellv1.WorkingHours{DayOfWeek: day, StartMinute: start, EndMinute: end}
}

func TestParseHours(t *testing.T) {
	tests := []struct {
		in   string
		want []*dwellv1.WorkingHours
	}{
		{"", nil},
		{"  ", nil},
		{"mon 08:00-17:00", []*dwellv1.WorkingHours{wh(1, 480, 1020)}},
		{"mon-wed 08:00-17:00", []*dwellv1.WorkingHours{wh(1, 480, 1020), wh(2, 480, 1020), wh(3, 480, 1020)}},
		{"Monday-Tuesday 8:30-12:00", []*dwellv1.WorkingHours{wh(1, 510, 720), wh(2, 510, 720)}},
		{"fri-mon 00:00-24:00", []*dwellv1.WorkingHours{wh(5, 0, 1440), wh(6, 0, 1440), wh(0, 0, 1440), wh(1, 0, 1440)}},
		{"sat 09:00-13:00, sun 10:00-11:00", []*dwellv1.WorkingHours{wh(6, 540, 780), wh(0, 600, 660)}},
		{"mon 08:00-12:00,mon 13:00-17:00", []*dwellv1.WorkingHours{wh(1, 480, 720), wh(1, 780, 1020)}},
	}
	for _, tt := range tests {
		got, err := parseHours(tt.in)
		if err != nil {
			t.Errorf("parseHours(%q) error %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("parseHours(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i].String() != tt.want[i].String() {
				t.Errorf("parseHours(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestParseHoursErrors(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"mon", "entry 1"},
		{"mon-fri", "want DAYS HH:MM-HH:MM"},
		{"mon-fri 08:00", "want a window"},
		{"mon-fri 8-17", "not a time"},
		{"mon-fri 08:00-17:00, xyz 09:00-10:00", `entry 2: "xyz" is not a day`},
		{"mon-fri 17:00-08:00", "must end after it starts"},
		{"mon 09:00-09:00", "must end after it starts"},
		{"mon 24:00-24:00", "cannot start at 24:00"},
		{"mon 08:00-24:30", "from 00:00 to 24:00"},
		{"mon 08:60-09:00", "from 00:00 to 24:00"},
		{"mon 08:0x-09:00", "not a time"},
		{"mon 08:00-17:00,", "entry 2"},
		{"mon 08:00 - 17:00", "entry 1"},
		{"mon-funday 08:00-17:00", `"funday" is not a day`},
	}
	for _, tt := range tests {
		_, err := parseHours(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("parseHours(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestFormatHoursRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mon-fri 08:00-17:00", "mon-fri 08:00-17:00"},
		{"mon-sun 00:00-24:00", "mon-sun 00:00-24:00"},
		{"sun 10:00-11:00, sat 10:00-11:00", "sat-sun 10:00-11:00"},
		{"mon-wed 08:00-17:00, fri 08:00-17:00, sat 09:00-13:00", "mon-wed 08:00-17:00, fri 08:00-17:00, sat 09:00-13:00"},
		{"fri-mon 07:05-08:10", "mon 07:05-08:10, fri-sun 07:05-08:10"},
	}
	for _, tt := range tests {
		ws, err := parseHours(tt.in)
		if err != nil {
			t.Fatalf("parseHours(%q): %v", tt.in, err)
		}
		got := formatHours(ws)
		if got != tt.want {
			t.Errorf("formatHours(parseHours(%q)) = %q, want %q", tt.in, got, tt.want)
		}
		again, err := parseHours(got)
		if err != nil || formatHours(again) != got {
			t.Errorf("formatHours output %q does not parse back the same: %v", got, err)
		}
	}
}
