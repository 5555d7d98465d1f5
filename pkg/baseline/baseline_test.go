package baseline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// t0 is the start of every synthetic trace.
var t0 = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)

// base is where synthetic traces start (central Jakarta).
var base = dwell.LatLng{Lat: -6.2, Lng: 106.8}

// north returns the point m metres north of base on trackintel's sphere.
func north(m float64) dwell.LatLng {
	return dwell.LatLng{Lat: base.Lat + m/(trackintelEarthRadiusM*degToRad), Lng: base.Lng}
}

// pt is one synthetic fix: at t0+at, m metres north of base, with a speed
// in metres per second (-1 unknown).
type pt struct {
	at    time.Duration
	m     float64
	speed float64
}

// still returns fixes every step from from to to (inclusive) at m metres,
// with speed 0.
func still(from, to, step time.Duration, m float64) []pt {
	var out []pt
	for at := from; at <= to; at += step {
		out = append(out, pt{at, m, 0})
	}
	return out
}

// drive returns fixes every step from from to to (inclusive) moving north
// from m0 at mps metres per second, reporting that speed.
func drive(from, to, step time.Duration, m0, mps float64) []pt {
	var out []pt
	for at := from; at <= to; at += step {
		out = append(out, pt{at, m0 + mps*(at-from).Seconds(), mps})
	}
	return out
}

// withSpeed returns pts with every speed set to mps.
func withSpeed(mps float64, pts []pt) []pt {
	out := make([]pt, len(pts))
	for i, p := range pts {
		p.speed = mps
		out[i] = p
	}
	return out
}

// jitter returns pts moved amp metres north and south in turn, starting
// north, as indoor fixes scatter about one place.
func jitter(amp float64, pts []pt) []pt {
	out := make([]pt, len(pts))
	for i, p := range pts {
		if i%2 == 0 {
			p.m += amp
		} else {
			p.m -= amp
		}
		out[i] = p
	}
	return out
}

// trace turns groups of points into fixes with IDs in time order.
func trace(groups ...[]pt) []dwell.Fix {
	var fixes []dwell.Fix
	for _, g := range groups {
		for _, p := range g {
			fixes = append(fixes, dwell.Fix{
				ID:         fmt.Sprintf("f%05d", len(fixes)),
				Time:       t0.Add(p.at),
				Pos:        north(p.m),
				AccuracyM:  10,
				SpeedMPS:   p.speed,
				BearingDeg: -1,
			})
		}
	}
	return fixes
}

// sp is an expected staypoint: from t0+start to t0+end, centred m metres
// north of base, with n fixes.
func sp(start, end time.Duration, m float64, n int) Staypoint {
	return Staypoint{Start: t0.Add(start), End: t0.Add(end), Center: north(m), Fixes: n}
}

// centerTolDeg is the tolerance on a centre, about 0.1 mm.
const centerTolDeg = 1e-9

func sameStaypoints(got, want []Staypoint) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Fixes != w.Fixes ||
			math.Abs(g.Center.Lat-w.Center.Lat) > centerTolDeg ||
			math.Abs(g.Center.Lng-w.Center.Lng) > centerTolDeg {
			return false
		}
	}
	return true
}

func format(sps []Staypoint) string {
	if len(sps) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, s := range sps {
		fmt.Fprintf(&b, "[%s..%s %d fixes at %.7f,%.7f] ", s.Start.Sub(t0), s.End.Sub(t0), s.Fixes,
			s.Center.Lat, s.Center.Lng)
	}
	return b.String()
}

// scramble returns a shuffled copy of fixes in which some fixes appear two
// or three times: the same set received out of order and with repeats.
func scramble(fixes []dwell.Fix, seed uint64) []dwell.Fix {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []dwell.Fix
	for _, f := range fixes {
		out = append(out, f)
		for r.IntN(4) == 0 {
			out = append(out, f)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestPrepare(t *testing.T) {
	fixes := trace(still(0, 2*time.Minute, time.Minute, 0))
	same := fixes[1]
	same.ID = "other" // same time and place, another ID: a duplicate
	moved := fixes[1]
	moved.ID = "moved" // same time, another place: kept
	moved.Pos = north(50)
	in := append(scramble(fixes, 1), same, moved)
	got := prepare(in)
	var ids []string
	for _, f := range got {
		ids = append(ids, f.ID)
	}
	want := []string{"f00000", "f00001", "moved", "f00002"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("prepare = %v, want %v", ids, want)
	}
	if len(in) < len(fixes)+2 {
		t.Fatalf("scramble lost fixes")
	}
}
