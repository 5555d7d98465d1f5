package baseline

import (
	"math"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// SlidingConfig holds the parameters of trackintel's sliding staypoint
// detector. Values are used as given: a zero threshold is a threshold of
// zero, not "the default"; start from DefaultSliding.
type SlidingConfig struct {
	// DistThresholdM is how far, in metres, a fix must be from the anchor
	// fix to end the run (trackintel dist_threshold, default 100).
	DistThresholdM float64
	// TimeThreshold is how long a run must last to be a staypoint
	// (trackintel time_threshold, default 5 min).
	TimeThreshold time.Duration
	// GapThreshold is the longest silence between consecutive fixes that
	// keeps the open run; a longer one drops it (trackintel gap_threshold,
	// default 15 min).
	GapThreshold time.Duration
	// IncludeLast makes the run still open at the end of the trace a
	// staypoint if it lasted at least TimeThreshold (trackintel
	// include_last, default false).
	IncludeLast bool
}

// DefaultSliding returns trackintel's documented defaults: 100 m, 5 min,
// gap 15 min, last run not included.
func DefaultSliding() SlidingConfig {
	return SlidingConfig{
		DistThresholdM: 100,
		TimeThreshold:  5 * time.Minute,
		GapThreshold:   15 * time.Minute,
	}
}

// slidingRules selects the comparison at the distance and time thresholds.
// The zero value is trackintel's rule (>= at both); the other settings
// exist only for the tests, which show that trackintel's golden output
// cannot tell them apart and that its own test_sliding_min can.
type slidingRules struct {
	distStrict bool // end the run only when distance > threshold
	timeStrict bool // staypoint only when duration > threshold
}

// Sliding runs trackintel's sliding staypoint detector
// (generate_staypoints(method="sliding"), v1.4.2) on one user's fixes and
// returns the staypoints in time order. The fixes may come in any order and
// with repeats (see the package doc); they are not modified. Mock flags,
// accuracy and speed are ignored, as trackintel ignores them.
//
// The rule, in trackintel's exact comparisons: the anchor is the first fix.
// For each next fix, if it came more than GapThreshold after the previous
// fix, the open run is dropped (even if it was long enough) and that fix
// becomes the anchor. Otherwise, if its great-circle distance from the
// anchor is >= DistThresholdM, the run from the anchor up to but not
// including it is a staypoint when the fix came >= TimeThreshold after the
// anchor, and the anchor moves to that fix either way. A staypoint starts
// at the anchor's time, finishes at the time of the first fix outside, and
// counts the fixes of the run. The run open at the end of the trace is a
// staypoint only with IncludeLast (finishing at the last fix, which it
// then includes).
//
// Center is trackintel's angle_centroid_multipoints of the run's distinct
// positions: the arithmetic mean of latitudes and the circular mean of
// longitudes.
func Sliding(fixes []dwell.Fix, cfg SlidingConfig) []Staypoint {
	return sliding(fixes, cfg, slidingRules{})
}

func sliding(fixes []dwell.Fix, cfg SlidingConfig, r slidingRules) []Staypoint {
	fs := prepare(fixes)
	if len(fs) == 0 {
		return nil
	}
	var out []Staypoint
	start := 0
	for curr := 1; curr < len(fs); curr++ {
		if fs[curr].Time.Sub(fs[curr-1].Time) > cfg.GapThreshold {
			start = curr
			continue
		}
		d := trackintelDistanceM(fs[start].Pos, fs[curr].Pos)
		if d > cfg.DistThresholdM || !r.distStrict && d == cfg.DistThresholdM {
			lasted := fs[curr].Time.Sub(fs[start].Time)
			if lasted > cfg.TimeThreshold || !r.timeStrict && lasted == cfg.TimeThreshold {
				out = append(out, slidingStaypoint(fs[start:curr], fs[curr].Time))
			}
			start = curr
		}
	}
	if cfg.IncludeLast {
		last := len(fs) - 1
		if lasted := fs[last].Time.Sub(fs[start].Time); lasted > cfg.TimeThreshold ||
			!r.timeStrict && lasted == cfg.TimeThreshold {
			out = append(out, slidingStaypoint(fs[start:], fs[last].Time))
		}
	}
	return out
}

// slidingStaypoint builds the staypoint of run, finishing at end.
func slidingStaypoint(run []dwell.Fix, end time.Time) Staypoint {
	return Staypoint{
		Start:  run[0].Time,
		End:    end,
		Center: angleCentroid(run),
		Fixes:  len(run),
	}
}

// angleCentroid is trackintel's angle_centroid_multipoints applied to the
// union of the fixes' points: distinct positions only, latitude averaged,
// longitude averaged on the circle (so a run across the antimeridian stays
// there).
func angleCentroid(run []dwell.Fix) dwell.LatLng {
	seen := make(map[dwell.LatLng]bool, len(run))
	var lat, sin, cos float64
	n := 0
	for _, f := range run {
		if seen[f.Pos] {
			continue
		}
		seen[f.Pos] = true
		n++
		lat += f.Pos.Lat
		s, c := math.Sincos(f.Pos.Lng * degToRad)
		sin += s
		cos += c
	}
	k := float64(n)
	return dwell.LatLng{
		Lat: lat / k,
		Lng: math.Atan2(sin/k, cos/k) / degToRad,
	}
}

// trackintelEarthRadiusM is the sphere radius of trackintel's
// point_haversine_dist.
const trackintelEarthRadiusM = 6371000

// trackintelDistanceM is trackintel's point_haversine_dist with
// float_flag=True, the form its sliding detector calls: the great-circle
// distance in metres written with the spherical law of cosines. It is the
// haversine distance in exact arithmetic; the same floating-point
// expression, in the same order and without fused multiply-adds (the
// float64 conversions forbid them), is kept so that a fix near the
// distance threshold falls on the same side as in trackintel.
func trackintelDistanceM(a, b dwell.LatLng) float64 {
	lng1, lat1 := float64(a.Lng*degToRad), float64(a.Lat*degToRad)
	lng2, lat2 := float64(b.Lng*degToRad), float64(b.Lat*degToRad)
	cosLat2 := math.Cos(lat2)
	cosLat1 := math.Cos(lat1)
	cosLatD := math.Cos(lat1 - lat2)
	cosLngD := math.Cos(lng1 - lng2)
	return trackintelEarthRadiusM * math.Acos(cosLatD-float64(float64(cosLat1*cosLat2)*(1-cosLngD)))
}
