package baseline

import (
	"math"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// knotMPS is one knot in metres per second, by Traccar's UnitsConverter
// ratio (1 m/s = 1.94384 kn).
const knotMPS = 1 / 1.94384

// MotionConfig holds the parameters of Traccar's motion logic. Values are
// used as given: start from DefaultMotion.
type MotionConfig struct {
	// SpeedThresholdMPS is the speed in metres per second above which a fix
	// is moving (Traccar event.motion.speedThreshold, default 0.01 knots).
	SpeedThresholdMPS float64
	// MinDistanceM is the path length in metres, from the first moving fix,
	// that confirms a trip however short it was; a movement shorter than
	// this and than MinDuration leaves the device stopped (Traccar
	// report.trip.minimalTripDistance, default 500; ours 200).
	MinDistanceM float64
	// MinDuration is how long a run of still fixes must last to confirm a
	// stop, and how long a run of moving fixes must last to confirm a trip
	// (Traccar report.trip.minimalParkingDuration and minimalTripDuration,
	// both 300 s by default; ours 180 s for both).
	MinDuration time.Duration
	// NoDataDuration is the silence between consecutive fixes that ends a
	// trip with a stop at the last fix before it (Traccar
	// report.trip.minimalNoDataDuration, default 1 h). Zero or less
	// disables the rule.
	NoDataDuration time.Duration
}

// DefaultMotion returns the parameters Dwell compares against: speed
// threshold 0.01 knots (Traccar's default), 200 m, 180 s, no-data 1 h
// (Traccar's default).
func DefaultMotion() MotionConfig {
	return MotionConfig{
		SpeedThresholdMPS: 0.01 * knotMPS,
		MinDistanceM:      200,
		MinDuration:       180 * time.Second,
		NoDataDuration:    time.Hour,
	}
}

// Motion runs Traccar's classic motion logic (MotionHandler,
// MotionProcessor and the stops report of ReportUtils.slowTripsAndStops,
// Traccar 6) on one device's fixes and returns the stops in time order.
// The fixes may come in any order and with repeats (see the package doc);
// they are not modified. Mock flags and accuracy are ignored, as Traccar
// ignores them.
//
// Rules reproduced:
//
//   - A fix is moving when its speed is > SpeedThresholdMPS. A fix
//     without a speed (SpeedMPS < 0 or NaN, a phone's Wi-Fi fix) has speed
//     0 and is still, however far it lies from the previous fix: Traccar's
//     Position keeps speed 0 when the protocol sends none (its OsmAnd
//     decoder, used by the Traccar Client app, sets it only from a speed
//     parameter, and the app sends 0 when the OS gives none), MotionHandler
//     reads that speed alone, and distance over time is used only by the
//     optional filter.maxSpeed filter, not reproduced.
//   - The confirmed state starts as the first fix's state. When a fix's
//     state differs from the previous fix's and from the confirmed state,
//     it becomes the candidate; when it differs from the previous fix's
//     but equals the confirmed state, the candidate is dropped (a short
//     movement or a short halt is forgotten).
//   - A later fix in the candidate's state confirms it: a stop when the
//     fix came >= MinDuration after the candidate; a trip when it came
//     >= MinDuration after it or the path from the candidate is
//     >= MinDistanceM. The confirmed stop or trip starts at the candidate.
//   - While a trip is confirmed, a silence >= NoDataDuration before a fix
//     confirms a stop at the last fix before the silence, and that fix is
//     not otherwise processed.
//   - A stop runs from its start to the start of the next confirmed trip.
//     If the trace starts still, the first stop starts at the first fix,
//     however short it turns out to be (Traccar does not filter it). A
//     stop still open at the end of the trace ends at the last fix.
//
// Center is the position of the stop's first fix (Traccar reports the
// stop's start position). Fixes counts the fixes from the stop's first fix
// up to but not including the first fix of the trip that ends it (up to
// and including the last fix for a stop open at the end).
//
// Simplified: the odometer is the sum of great-circle steps (Traccar's
// DistanceCalculator, radius 6,378,137 m) along the time-sorted fixes,
// where Traccar sums in arrival order and may filter with
// coordinates.minError and maxError (off by default); ignition, engine
// hours and a device-reported motion flag do not exist here; idle-time
// accounting, the fast report path over stored events (ranges longer than
// report.fastThreshold, one day) and Traccar's optional new distance-only
// logic (report.trip.newLogic) are not reproduced.
func Motion(fixes []dwell.Fix, cfg MotionConfig) []Staypoint {
	fs := prepare(fixes)
	n := len(fs)
	if n == 0 {
		return nil
	}
	moving := make([]bool, n)
	odo := make([]float64, n) // Traccar's totalDistance, metres
	for i := range fs {
		if i > 0 {
			odo[i] = odo[i-1] + traccarDistanceM(fs[i-1].Pos, fs[i].Pos)
		}
	}
	for i, f := range fs {
		speed := f.SpeedMPS
		if speed < 0 || math.IsNaN(speed) {
			speed = 0 // no speed reported: Traccar's Position keeps 0
		}
		moving[i] = speed > cfg.SpeedThresholdMPS
	}

	var out []Staypoint
	streak := moving[0] // confirmed state: true on a trip
	state := moving[0]  // state of the previous fix
	cand := -1          // index of the candidate fix, or -1
	stop := -1          // index of the open stop's first fix, or -1
	if !streak {
		stop = 0
	}
	closeStop := func(end int) {
		if stop >= 0 {
			out = append(out, Staypoint{
				Start:  fs[stop].Time,
				End:    fs[end].Time,
				Center: fs[stop].Pos,
				Fixes:  end - stop,
			})
			stop = -1
		}
	}
	for i := range fs {
		if i > 0 && cfg.NoDataDuration > 0 && streak &&
			fs[i].Time.Sub(fs[i-1].Time) >= cfg.NoDataDuration {
			streak, state, cand = false, false, -1
			stop = i - 1
			continue
		}
		if state != moving[i] {
			state = moving[i]
			if streak == state {
				cand = -1
			} else {
				cand = i
			}
			continue
		}
		if cand < 0 {
			continue
		}
		lasted := fs[i].Time.Sub(fs[cand].Time)
		if state {
			if lasted >= cfg.MinDuration || odo[i]-odo[cand] >= cfg.MinDistanceM {
				closeStop(cand)
				streak, cand = true, -1
			}
		} else if lasted >= cfg.MinDuration {
			stop = cand
			streak, cand = false, -1
		}
	}
	if stop >= 0 {
		out = append(out, Staypoint{
			Start:  fs[stop].Time,
			End:    fs[n-1].Time,
			Center: fs[stop].Pos,
			Fixes:  n - stop,
		})
	}
	return out
}

// traccarEarthRadiusKm is the sphere radius of Traccar's
// DistanceCalculator (the WGS84 equatorial radius), in kilometres as
// Traccar writes it.
const traccarEarthRadiusKm = 6378.1370

// traccarDistanceM is Traccar's DistanceCalculator.distance: the haversine
// distance in metres on a sphere of 6,378,137 m, in Traccar's order of
// operations and without fused multiply-adds.
func traccarDistanceM(a, b dwell.LatLng) float64 {
	dLng := float64((b.Lng - a.Lng) * degToRad)
	dLat := float64((b.Lat - a.Lat) * degToRad)
	sLat, sLng := math.Sin(dLat/2), math.Sin(dLng/2)
	h := float64(sLat*sLat) + float64(float64(math.Cos(a.Lat*degToRad)*math.Cos(b.Lat*degToRad))*float64(sLng*sLng))
	c := 2 * math.Atan2(math.Sqrt(h), math.Sqrt(1-h))
	return float64(traccarEarthRadiusKm*c) * 1000
}
