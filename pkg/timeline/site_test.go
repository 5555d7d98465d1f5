package timeline

import (
	"math"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
)

// TestPosUncRadius checks the centre's uncertainty against the cases with
// a known answer: one fix is its own accuracy; fixes at the same instant
// share their error (no gain); fixes far apart in time are independent
// (the square root of their number).
func TestPosUncRadius(t *testing.T) {
	at := func(sec float64) fixP { return fixP{t: int64(sec * 1e9), accM: 20} }
	cases := []struct {
		name  string
		times []float64
		want  float64
	}{
		{"one fix", []float64{0}, 20},
		{"same instant", []float64{0, 0, 0}, 20},
		{"hours apart", []float64{0, 36000, 72000, 108000}, 10},
		{"one time constant apart", []float64{0, errTau.Seconds()}, 20 * math.Sqrt((1+math.Exp(-1))/2)},
	}
	for _, c := range cases {
		var u posUnc
		for _, s := range c.times {
			u.add(at(s))
		}
		if got := u.radius(); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: radius %.6f m, want %.6f", c.name, got, c.want)
		}
	}
}

// TestLikeliest places a stop near a small store inside a large mall:
// known to a few metres, a centre outside the store is the mall's; known
// to tens of metres, the store is likelier (a visit to it lies in far
// less room), unless the rep checked in at the mall.
func TestLikeliest(t *testing.T) {
	o := dwell.LatLng{Lat: -6.21, Lng: 106.81}
	east := func(m float64) dwell.LatLng {
		return dwell.LatLng{Lat: o.Lat, Lng: o.Lng + m/(earthRadiusM*math.Pi/180*math.Cos(o.Lat*math.Pi/180))}
	}
	ix := geofence.New(geofence.Options{})
	cm := ClientMap{}
	for _, c := range []dwell.Client{
		{ID: "mall", Fence: dwell.Geofence{Circle: &dwell.Circle{Center: o, RadiusM: 150}}},
		{ID: "store", Fence: dwell.Geofence{Circle: &dwell.Circle{Center: east(40), RadiusM: 15}}},
	} {
		if err := ix.Put(string(c.ID), c.Fence); err != nil {
			t.Fatal(err)
		}
		cm[c.ID] = c
	}
	start := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		eastM       float64
		posM        float64
		mallCheckIn bool
		storeOut    bool // a check-out from the store as the stop began
		want        dwell.ClientID
	}{
		{"in the store, known to 4 m", 40, 4, false, false, "store"},
		{"10 m outside the store, known to 4 m", 65, 4, false, false, "mall"},
		{"10 m outside the store, known to 15 m", 65, 15, false, false, "store"},
		{"10 m outside the store, known to 15 m, checked in at the mall", 65, 15, true, false, "mall"},
		{"60 m outside the store, known to 15 m", 115, 15, false, false, "mall"},
		{"in the store, known to 15 m", 40, 15, false, false, "store"},
		{"in the store, known to 15 m, just checked out of it", 40, 15, false, true, "mall"},
		{"in the store, known to 2 m, just checked out of it", 40, 2, false, true, "store"},
	}
	for _, c := range cases {
		in := Input{Fences: ix, Clients: cm}
		if c.mallCheckIn {
			in.CheckIns = []dwell.CheckIn{{RequestID: "in", Client: "mall", Time: start.Add(time.Minute)}}
		}
		if c.storeOut {
			in.CheckOuts = []dwell.CheckOut{{RequestID: "out", Client: "store", Time: start.Add(-30 * time.Second)}}
		}
		d := deriver{in: in}
		d.claimIns, d.claimOuts = d.claims()
		s := stay{centre: east(c.eastM), posM: c.posM, start: start, end: start.Add(30 * time.Minute)}
		if got := d.likeliest(&s, "mall"); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestCentreUncertaintyCalibrated checks on simulated realistic days that
// a visit stop's posM is what it claims to be, a 68 % radius: the rep's
// true position is within it for about two thirds of the stops and
// within twice it for nearly all (a 2-D normal error: 68 % and 99 %).
func TestCentreUncertaintyCalibrated(t *testing.T) {
	w := newSimWorld(t, 101)
	var n, in1, in2 int
	for k := range 40 {
		res := w.simDay(t, sim.Realistic(), uint64(1000+k+1), k)
		in := w.input(res, res.Shuffled(uint64(k)))
		lo, hi := bounds(in)
		var day Day
		d := deriver{in: in, st: in.Settings, fixes: day.clean(in.Fixes, prepare(in.Fixes, lo, hi))}
		for _, s := range d.findStays() {
			if s.client == "" || !s.lasts(in.Settings.VisitMin) {
				continue
			}
			mid := s.start.Add(s.end.Sub(s.start) / 2)
			for _, v := range res.Visits {
				if mid.Before(v.Start) || !mid.Before(v.End) {
					continue
				}
				n++
				e := haversineM(s.centre, v.Pos)
				if e <= s.posM {
					in1++
				}
				if e <= 2*s.posM {
					in2++
				}
			}
		}
	}
	r1, r2 := float64(in1)/float64(n), float64(in2)/float64(n)
	t.Logf("%d visit stops: true position within posM %.1f %%, within twice it %.1f %%", n, 100*r1, 100*r2)
	if n < 200 || r1 < 0.6 || r1 > 0.8 || r2 < 0.95 {
		t.Errorf("%d visit stops, %.1f %% within posM (want 60 to 80 %%), %.1f %% within twice it (want >= 95 %%)", n, 100*r1, 100*r2)
	}
}
