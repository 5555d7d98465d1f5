package baseline

import (
	"math"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

const sec = time.Second

// odometerM returns the odometer of the fix at time t0+at in fixes, as
// Motion computes it: great-circle steps summed along the prepared trace.
func odometerM(fixes []dwell.Fix, at time.Duration) float64 {
	fs := prepare(fixes)
	var odo float64
	for i := range fs {
		if i > 0 {
			odo += traccarDistanceM(fs[i-1].Pos, fs[i].Pos)
		}
		if fs[i].Time.Equal(t0.Add(at)) {
			return odo
		}
	}
	panic("no fix at that time")
}

func TestMotion(t *testing.T) {
	def := DefaultMotion()

	// A 100 m move between two moving fixes after a stop; exactPath is the
	// path that move puts on the odometer, in Motion's arithmetic.
	shortMove := trace(
		drive(0, 4*minute+50*sec, 10*sec, 0, 10),
		still(5*minute, 14*minute+50*sec, 10*sec, 3000),
		[]pt{{15 * minute, 3000, 10}, {15*minute + 10*sec, 3100, 10}},
		still(15*minute+20*sec, 25*minute+20*sec, 10*sec, 3100))
	exactPath := odometerM(shortMove, 15*minute+10*sec) - odometerM(shortMove, 15*minute)

	tests := []struct {
		name  string
		cfg   func(*MotionConfig)
		fixes []dwell.Fix
		want  []Staypoint
	}{
		{
			name: "no fixes",
		},
		{
			name:  "one still fix is a stop of no length",
			fixes: trace(still(0, 0, 10*sec, 0)),
			want:  []Staypoint{sp(0, 0, 0, 1)},
		},
		{
			name: "single stop runs from its first still fix to the first fix of the trip",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				still(5*minute, 14*minute+50*sec, 10*sec, 3000),
				drive(15*minute, 20*minute, 10*sec, 3000, 10)),
			want: []Staypoint{sp(5*minute, 15*minute, 3000, 60)},
		},
		{
			name: "a halt shorter than MinDuration is no stop",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				still(5*minute, 7*minute+50*sec, 10*sec, 3000),
				drive(8*minute, 12*minute, 10*sec, 3000, 10)),
		},
		{
			name: "a halt of exactly MinDuration is a stop",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				still(5*minute, 8*minute, 10*sec, 3000),
				drive(8*minute+10*sec, 12*minute, 10*sec, 3000, 10)),
			want: []Staypoint{sp(5*minute, 8*minute+10*sec, 3000, 19)},
		},
		{
			name: "a halt a nanosecond short of MinDuration is not",
			cfg:  func(c *MotionConfig) { c.MinDuration = 180*sec + 1 },
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				still(5*minute, 8*minute, 10*sec, 3000),
				drive(8*minute+10*sec, 12*minute, 10*sec, 3000, 10)),
		},
		{
			name: "a movement under both thresholds leaves the device stopped",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				still(5*minute, 14*minute+50*sec, 10*sec, 3000),
				drive(15*minute, 15*minute+50*sec, 10*sec, 3000, 1),
				still(16*minute, 26*minute, 10*sec, 3060)),
			want: []Staypoint{sp(5*minute, 26*minute, 3000, 127)},
		},
		{
			name: "a movement over MinDistanceM in less than MinDuration is a trip",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				still(5*minute, 14*minute+50*sec, 10*sec, 3000),
				drive(15*minute, 15*minute+50*sec, 10*sec, 3000, 10),
				still(16*minute, 26*minute, 10*sec, 3510)),
			want: []Staypoint{
				sp(5*minute, 15*minute, 3000, 60),
				sp(16*minute, 26*minute, 3510, 61),
			},
		},
		{
			name:  "a path of exactly MinDistanceM confirms the trip",
			cfg:   func(c *MotionConfig) { c.MinDistanceM = exactPath },
			fixes: shortMove,
			want: []Staypoint{
				sp(5*minute, 15*minute, 3000, 60),
				sp(15*minute+20*sec, 25*minute+20*sec, 3100, 61),
			},
		},
		{
			name:  "a path just under MinDistanceM does not",
			cfg:   func(c *MotionConfig) { c.MinDistanceM = math.Nextafter(exactPath, math.Inf(1)) },
			fixes: shortMove,
			want:  []Staypoint{sp(5*minute, 25*minute+20*sec, 3000, 123)},
		},
		{
			name: "a speed of exactly the threshold is still",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				withSpeed(def.SpeedThresholdMPS, still(5*minute, 14*minute+50*sec, 10*sec, 3000)),
				drive(15*minute, 20*minute, 10*sec, 3000, 10)),
			want: []Staypoint{sp(5*minute, 15*minute, 3000, 60)},
		},
		{
			name: "a speed just over the threshold is moving",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				withSpeed(math.Nextafter(def.SpeedThresholdMPS, 1), still(5*minute, 14*minute+50*sec, 10*sec, 3000)),
				drive(15*minute, 20*minute, 10*sec, 3000, 10)),
		},
		{
			name: "a silence while stopped stays in the stop",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				still(5*minute, 10*minute, 10*sec, 3000),
				still(130*minute, 131*minute, 10*sec, 3000),
				drive(131*minute+10*sec, 136*minute, 10*sec, 3000, 10)),
			want: []Staypoint{sp(5*minute, 131*minute+10*sec, 3000, 38)},
		},
		{
			name: "a silence of exactly NoDataDuration on a trip is a stop from the last fix before it",
			fixes: trace(
				drive(0, 10*minute, 10*sec, 0, 10),
				drive(70*minute, 80*minute, 10*sec, 9000, 10)),
			want: []Staypoint{sp(10*minute, 70*minute+10*sec, 6000, 2)},
		},
		{
			name: "a silence a nanosecond short of NoDataDuration is not",
			cfg:  func(c *MotionConfig) { c.NoDataDuration = time.Hour + 1 },
			fixes: trace(
				drive(0, 10*minute, 10*sec, 0, 10),
				drive(70*minute, 80*minute, 10*sec, 9000, 10)),
		},
		{
			name: "NoDataDuration 0 disables the silence rule",
			cfg:  func(c *MotionConfig) { c.NoDataDuration = 0 },
			fixes: trace(
				drive(0, 10*minute, 10*sec, 0, 10),
				drive(70*minute, 80*minute, 10*sec, 9000, 10)),
		},
		{
			name: "a trace that starts still has its first stop from the first fix, however short",
			fixes: trace(
				still(0, 30*sec, 10*sec, 0),
				drive(40*sec, 6*minute, 10*sec, 0, 10)),
			want: []Staypoint{sp(0, 40*sec, 0, 4)},
		},
		{
			// Wi-Fi fixes indoors: no speed, positions 20 m apart in 10 s
			// (2 m/s from the positions). Traccar stores speed 0 for them.
			name: "a fix without a speed is still however far it is from the previous fix",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				jitter(10, withSpeed(-1, still(5*minute, 14*minute+50*sec, 10*sec, 3000))),
				drive(15*minute, 20*minute, 10*sec, 3100, 10)),
			want: []Staypoint{sp(5*minute, 15*minute, 3010, 60)},
		},
		{
			name: "a NaN speed is no speed",
			fixes: trace(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				jitter(10, withSpeed(math.NaN(), still(5*minute, 14*minute+50*sec, 10*sec, 3000))),
				drive(15*minute, 20*minute, 10*sec, 3100, 10)),
			want: []Staypoint{sp(5*minute, 15*minute, 3010, 60)},
		},
		{
			name: "a drive without speeds is one stop, as in Traccar",
			fixes: trace(withSpeed(-1, append(append(
				drive(0, 4*minute+50*sec, 10*sec, 0, 10),
				still(5*minute, 14*minute+50*sec, 10*sec, 3000)...),
				drive(15*minute, 20*minute, 10*sec, 3100, 10)...))),
			want: []Staypoint{sp(0, 20*minute, 0, 121)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := def
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			got := Motion(tc.fixes, cfg)
			if !sameStaypoints(got, tc.want) {
				t.Fatalf("Motion = %s\nwant %s", format(got), format(tc.want))
			}
			for seed := range uint64(5) {
				if again := Motion(scramble(tc.fixes, seed), cfg); !sameStaypoints(again, got) {
					t.Errorf("Motion(shuffled with repeats, seed %d) = %s\nwant %s", seed, format(again), format(got))
				}
			}
		})
	}
}

func TestDefaultMotionSpeedThreshold(t *testing.T) {
	// 0.01 knots by Traccar's ratio, 1 m/s = 1.94384 kn.
	if got, want := DefaultMotion().SpeedThresholdMPS, 0.01/1.94384; math.Abs(got-want) > 1e-15 {
		t.Errorf("SpeedThresholdMPS = %g, want %g", got, want)
	}
}

func TestTraccarDistance(t *testing.T) {
	// One degree of longitude on the equator of Traccar's sphere.
	got := traccarDistanceM(dwell.LatLng{}, dwell.LatLng{Lng: 1})
	if want := 2 * math.Pi * 6378137 / 360; math.Abs(got-want) > 1e-6 {
		t.Errorf("traccarDistanceM = %.9f, want %.9f", got, want)
	}
}
