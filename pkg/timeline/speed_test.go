package timeline

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestHypotAtMost checks the shortcut against math.Hypot where it counts:
// at the boundary (r one ulp either side of the hypotenuse), far from it,
// at the extremes of float64 and with NaN and infinities.
func TestHypotAtMost(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(dx, dy, rad float64) {
		t.Helper()
		if got, want := hypotAtMost(dx, dy, rad), math.Hypot(dx, dy) <= rad; got != want {
			t.Fatalf("hypotAtMost(%g, %g, %g) = %v, want %v", dx, dy, rad, got, want)
		}
	}
	for range 200000 {
		scale := math.Pow(10, float64(r.IntN(12)-4)) // 1e-4 to 1e7 m
		dx, dy := scale*r.NormFloat64(), scale*r.NormFloat64()
		h := math.Hypot(dx, dy)
		for _, rad := range []float64{h, math.Nextafter(h, 0), math.Nextafter(h, math.Inf(1)), h * (1 + 1e-12), h * (1 - 1e-12), h * (1 + 2e-9), h * (1 - 2e-9), 2 * h, h / 2, 0} {
			check(dx, dy, rad)
		}
	}
	inf, nan := math.Inf(1), math.NaN()
	for _, v := range []float64{0, 1e-320, 1e-200, 1e-160, 1, 1e150, 1e200, math.MaxFloat64, inf, -inf, nan} {
		for _, rad := range []float64{0, 1e-320, 1e-200, 1e-160, 1e-145, 1, 1e150, 1e200, math.MaxFloat64, inf, nan} {
			check(v, v, rad)
			check(v, 0, rad)
			check(-v, 1, rad)
		}
	}
}

// TestSortByTime checks the radix sort against a comparison sort: the same
// times in the same order, the same references, for sizes around the
// cut-over to the radix sort, spans from a second to the whole int64 range,
// negative times, repeats and sorted and reversed input.
func TestSortByTime(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 2, 63, 64, 65, 300, 2880, 10000} {
		for _, span := range []uint64{1, 1000, 1e9, 86400e9, 1 << 62, math.MaxUint64} {
			for _, order := range []string{"random", "sorted", "reversed", "repeats"} {
				rs := make([]fixRef, n)
				base := int64(r.Uint64())
				for i := range rs {
					off := r.Uint64()
					if span != math.MaxUint64 {
						off %= span + 1
					}
					if order == "repeats" {
						off &^= 0xff
					}
					rs[i] = fixRef{t: base + int64(off), i: int32(i)}
				}
				switch order {
				case "sorted":
					slices.SortFunc(rs, func(a, b fixRef) int { return cmp.Compare(a.t, b.t) })
				case "reversed":
					slices.SortFunc(rs, func(a, b fixRef) int { return cmp.Compare(b.t, a.t) })
				}
				want := slices.Clone(rs)
				slices.SortFunc(want, func(a, b fixRef) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.i, b.i)) })
				sortByTime(rs)
				got := rs
				if !slices.IsSortedFunc(got, func(a, b fixRef) int { return cmp.Compare(a.t, b.t) }) {
					t.Fatalf("n %d span %d %s: not sorted by time", n, span, order)
				}
				slices.SortStableFunc(got, func(a, b fixRef) int { return cmp.Compare(a.i, b.i) })
				slices.SortStableFunc(want, func(a, b fixRef) int { return cmp.Compare(a.i, b.i) })
				if !slices.Equal(got, want) {
					t.Fatalf("n %d span %d %s: references lost or changed", n, span, order)
				}
			}
		}
	}
}

// TestPrepareRepeats checks prepare against the rule it implements, done
// the plain way (sort every fix by time, ID and content; keep the first of
// each ID): fixes whose IDs repeat at the same time and at other times,
// with the same and with other content, in shuffled and sorted order.
func TestPrepareRepeats(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for round := range 200 {
		n := 1 + r.IntN(400)
		var in []dwell.Fix
		for k := range n {
			f := dwell.Fix{
				ID:   fmt.Sprintf("id-%d", r.IntN(max(1, n/2))),
				Time: base.Add(time.Duration(r.IntN(3*n)) * time.Second),
				Pos:  dwell.LatLng{Lat: -6.2 + float64(r.IntN(3))*1e-4, Lng: 106.8}, AccuracyM: float64(5 + r.IntN(3)),
				SpeedMPS: -1, BearingDeg: -1, Mock: r.IntN(5) == 0,
			}
			if k > 0 && r.IntN(4) == 0 {
				f = in[r.IntN(k)] // an exact repeat
			}
			in = append(in, f)
		}
		if round%2 == 1 {
			slices.SortFunc(in, func(a, b dwell.Fix) int { return a.Time.Compare(b.Time) })
		}
		ix := make([]int, len(in))
		for i := range ix {
			ix[i] = i
		}
		slices.SortFunc(ix, func(i, j int) int {
			a, b := &in[i], &in[j]
			return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.ID, b.ID), compareFixContent(a, b))
		})
		var want []dwell.Fix
		seen := map[string]bool{}
		for _, i := range ix {
			if !seen[in[i].ID] {
				seen[in[i].ID] = true
				want = append(want, in[i])
			}
		}
		var got []dwell.Fix
		for _, ref := range prepare(in, time.Time{}, time.Time{}) {
			if ref.t != in[ref.i].Time.UnixNano() {
				t.Fatalf("round %d: reference to fix %d has time %d, want %d", round, ref.i, ref.t, in[ref.i].Time.UnixNano())
			}
			got = append(got, in[ref.i])
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: prepare kept %d fixes, want %d (or other ones)\ngot  %v\nwant %v", round, len(got), len(want), got, want)
		}
	}
}
