package baseline

import (
	"math"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

const minute = time.Minute

func TestSliding(t *testing.T) {
	def := DefaultSliding()
	// exact is the distance threshold that a fix 100 m north of base meets
	// exactly, in trackintel's arithmetic.
	exact := trackintelDistanceM(base, north(100))
	tests := []struct {
		name  string
		cfg   func(*SlidingConfig)
		fixes []dwell.Fix
		want  []Staypoint
	}{
		{
			name:  "no fixes",
			fixes: nil,
		},
		{
			name:  "one fix",
			fixes: trace(still(0, 0, minute, 0)),
		},
		{
			name: "single stop ends at the first fix outside",
			fixes: trace(
				still(0, 9*minute+30*time.Second, 30*time.Second, 0),
				drive(10*minute, 14*minute, 30*time.Second, 200, 2)),
			want: []Staypoint{sp(0, 10*minute, 0, 20)},
		},
		{
			name: "a silence over the gap threshold drops the open run",
			fixes: trace(
				still(0, 6*minute, minute, 0),
				still(22*minute, 30*minute, minute, 0),
				still(31*minute, 31*minute, minute, 200)),
			want: []Staypoint{sp(22*minute, 31*minute, 0, 9)},
		},
		{
			name: "a silence of exactly the gap threshold keeps the run",
			fixes: trace(
				still(0, 6*minute, minute, 0),
				still(21*minute, 30*minute, minute, 0),
				still(31*minute, 31*minute, minute, 200)),
			want: []Staypoint{sp(0, 31*minute, 0, 17)},
		},
		{
			name: "a jump under the distance threshold keeps the run",
			fixes: trace(
				still(0, 4*minute, minute, 0),
				still(5*minute, 5*minute, minute, 60),
				still(6*minute, 10*minute, minute, 0),
				still(11*minute, 11*minute, minute, 200)),
			want: []Staypoint{sp(0, 11*minute, 30, 11)}, // the mean of 2 distinct points
		},
		{
			name: "one fix over the distance threshold splits the stop",
			fixes: trace(
				still(0, 5*minute, minute, 0),
				still(6*minute, 6*minute, minute, 150),
				still(7*minute, 12*minute, minute, 0),
				still(13*minute, 13*minute, minute, 300)),
			want: []Staypoint{sp(0, 6*minute, 0, 6), sp(7*minute, 13*minute, 0, 6)},
		},
		{
			name: "a fix at exactly the distance threshold ends the run",
			cfg:  func(c *SlidingConfig) { c.DistThresholdM = exact },
			fixes: trace(
				still(0, 6*minute, minute, 0),
				still(7*minute, 7*minute, minute, 100)),
			want: []Staypoint{sp(0, 7*minute, 0, 7)},
		},
		{
			name: "a fix just under the distance threshold does not",
			cfg:  func(c *SlidingConfig) { c.DistThresholdM = math.Nextafter(exact, math.Inf(1)) },
			fixes: trace(
				still(0, 6*minute, minute, 0),
				still(7*minute, 7*minute, minute, 100)),
		},
		{
			name: "a run of exactly the time threshold is a staypoint",
			fixes: trace(
				still(0, 4*minute, minute, 0),
				still(5*minute, 5*minute, minute, 200)),
			want: []Staypoint{sp(0, 5*minute, 0, 5)},
		},
		{
			name: "a run a nanosecond short of the time threshold is not",
			cfg:  func(c *SlidingConfig) { c.TimeThreshold = 5*minute + 1 },
			fixes: trace(
				still(0, 4*minute, minute, 0),
				still(5*minute, 5*minute, minute, 200)),
		},
		{
			name:  "the run open at the end is dropped by default",
			fixes: trace(still(0, 10*minute, minute, 0)),
		},
		{
			name:  "IncludeLast keeps it, ending at and counting the last fix",
			cfg:   func(c *SlidingConfig) { c.IncludeLast = true },
			fixes: trace(still(0, 10*minute, minute, 0)),
			want:  []Staypoint{sp(0, 10*minute, 0, 11)},
		},
		{
			name: "IncludeLast still wants the time threshold",
			cfg:  func(c *SlidingConfig) { c.IncludeLast = true },
			fixes: trace(
				still(0, 6*minute, minute, 0),
				still(7*minute, 11*minute, minute, 200)),
			want: []Staypoint{sp(0, 7*minute, 0, 7)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := def
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			got := Sliding(tc.fixes, cfg)
			if !sameStaypoints(got, tc.want) {
				t.Fatalf("Sliding = %s\nwant %s", format(got), format(tc.want))
			}
			for seed := range uint64(5) {
				if again := Sliding(scramble(tc.fixes, seed), cfg); !sameStaypoints(again, got) {
					t.Errorf("Sliding(shuffled with repeats, seed %d) = %s\nwant %s", seed, format(again), format(got))
				}
			}
		})
	}
}

func TestSlidingCenterAcrossAntimeridian(t *testing.T) {
	var fixes []dwell.Fix
	for i, lng := range []float64{179.9999, -179.9999, 179.9999, -179.9999, 179.9999, -179.9999} {
		fixes = append(fixes, dwell.Fix{
			ID:   string(rune('a' + i)),
			Time: t0.Add(time.Duration(i) * minute),
			Pos:  dwell.LatLng{Lat: 1, Lng: lng},
		})
	}
	fixes = append(fixes, dwell.Fix{ID: "z", Time: t0.Add(6 * minute), Pos: dwell.LatLng{Lat: 2, Lng: 180}})
	got := Sliding(fixes, DefaultSliding())
	if len(got) != 1 {
		t.Fatalf("Sliding = %s, want one staypoint", format(got))
	}
	if c := got[0].Center; math.Abs(c.Lat-1) > centerTolDeg || math.Abs(math.Abs(c.Lng)-180) > centerTolDeg {
		t.Errorf("Center = %v, want 1, ±180", c)
	}
}

func TestTrackintelDistance(t *testing.T) {
	// trackintel's own docstring example: point_haversine_dist(8.5, 47.3, 8.7, 47.2).
	got := trackintelDistanceM(dwell.LatLng{Lat: 47.3, Lng: 8.5}, dwell.LatLng{Lat: 47.2, Lng: 8.7})
	if want := 18749.056277719905; math.Abs(got-want) > 1e-6 {
		t.Errorf("trackintelDistanceM = %.9f, want %.9f", got, want)
	}
	if d := trackintelDistanceM(base, base); d != 0 {
		t.Errorf("trackintelDistanceM(p, p) = %g, want 0", d)
	}
}
