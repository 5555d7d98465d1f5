package dwell

import (
	"testing"
	"time"
)

func TestValidateInstant(t *testing.T) {
	jakarta := time.FixedZone("WIB", 7*3600)
	cases := []struct {
		t  time.Time
		ok bool
	}{
		{time.Time{}, true}, // not examined: required is the caller's rule
		{time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(1677, 12, 31, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(2261, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), false},
		// The year is the UTC year: 2262-01-01 06:00 in Jakarta is still
		// 2261 in UTC.
		{time.Date(2262, 1, 1, 6, 0, 0, 0, jakarta), true},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), false},
		{time.Unix(0, 0), true},
	}
	for _, c := range cases {
		vs := ValidateInstant("a.planned_start_time", c.t)
		if (vs == nil) != c.ok {
			t.Errorf("ValidateInstant(%v) = %v, want valid %v", c.t, vs, c.ok)
		}
		if vs != nil && (len(vs) != 1 || vs[0].Field != "a.planned_start_time") {
			t.Errorf("ValidateInstant(%v) = %v, want one violation on a.planned_start_time", c.t, vs)
		}
	}
	// Every instant it accepts is one a store keeps in int64 nanoseconds.
	for _, tt := range []time.Time{time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2261, 12, 31, 23, 59, 59, 999999999, time.UTC)} {
		if got := time.Unix(0, tt.UnixNano()).UTC(); !got.Equal(tt) {
			t.Errorf("%v does not round-trip through UnixNano: %v", tt, got)
		}
	}
}
