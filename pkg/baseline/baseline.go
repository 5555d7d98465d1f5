package baseline

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Staypoint is one stop found by a baseline detector.
type Staypoint struct {
	// Start is the time of the stop's first fix.
	Start time.Time
	// End is when the stop ended; what that instant is depends on the
	// detector (see Sliding and Motion).
	End time.Time
	// Center is the stop's position in degrees; how it is chosen depends on
	// the detector.
	Center dwell.LatLng
	// Fixes is the number of fixes that belong to the stop.
	Fixes int
}

// Duration returns End - Start.
func (s Staypoint) Duration() time.Duration { return s.End.Sub(s.Start) }

// prepare returns a copy of fixes sorted by time, then ID, then latitude and
// longitude, without the fixes that repeat an earlier fix's time and
// position. The sort makes the detectors independent of input order; the
// de-duplication makes them independent of repeats, as trackintel's
// drop_duplicates does (Dwell's own duplicates share an ID and so also a
// time and position). The input is not modified.
func prepare(fixes []dwell.Fix) []dwell.Fix {
	fs := slices.Clone(fixes)
	slices.SortFunc(fs, compareFix)
	out := fs[:0]
	group := 0 // index in out of the first kept fix with the current time
	for _, f := range fs {
		if len(out) > 0 && !out[len(out)-1].Time.Equal(f.Time) {
			group = len(out)
		}
		dup := false
		for _, g := range out[group:] {
			if g.Pos == f.Pos {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

func compareFix(a, b dwell.Fix) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Pos.Lat, b.Pos.Lat); c != 0 {
		return c
	}
	return cmp.Compare(a.Pos.Lng, b.Pos.Lng)
}

// degToRad is computed in float64 arithmetic, not as an exact constant, so
// that it has the same bits as CPython's math.radians factor (pi / 180.0
// in C doubles).
var degToRad = pi64 / 180

var pi64 = math.Pi
