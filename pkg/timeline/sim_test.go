package timeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
)

// wib is Jakarta's zone, where the default simulated city lies.
var wib = time.FixedZone("WIB", 7*3600)

// simWorld is a simulated city with its fence index.
type simWorld struct {
	city    *sim.City
	index   *geofence.Index
	clients ClientMap
}

func newSimWorld(t testing.TB, seed uint64) *simWorld {
	t.Helper()
	city, err := sim.NewCity(seed, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	w := &simWorld{city: city, index: geofence.New(geofence.Options{}), clients: map[dwell.ClientID]dwell.Client{}}
	for _, c := range city.Clients() {
		w.clients[c.ID] = c
	}
	if err := w.index.PutAll(w.siteFences()); err != nil {
		t.Fatal(err)
	}
	return w
}

// siteFences returns the fences of the city's client sites.
func (w *simWorld) siteFences() []geofence.Fence {
	var fences []geofence.Fence
	for _, c := range w.city.Clients() {
		fences = append(fences, geofence.Fence{ID: string(c.ID), Geofence: c.Fence})
	}
	return fences
}

// appendCircles appends to fences the circles numbered from to to-1 (ids
// prefix and the number), of 10 to 60 m, uniform within radiusM of the
// city's centre, drawn from r.
func (w *simWorld) appendCircles(fences []geofence.Fence, r *rand.Rand, radiusM float64, prefix string, from, to int) []geofence.Fence {
	centre := w.city.Config.Center
	for k := from; k < to; k++ {
		d, a := radiusM*math.Sqrt(r.Float64()), 2*math.Pi*r.Float64()
		c := dwell.LatLng{Lat: centre.Lat + d*math.Sin(a)/111195, Lng: centre.Lng + d*math.Cos(a)/(111195*math.Cos(centre.Lat*math.Pi/180))}
		fences = append(fences, geofence.Fence{ID: fmt.Sprintf("%s%07d", prefix, k), Geofence: dwell.Geofence{Circle: &dwell.Circle{Center: c, RadiusM: 10 + 50*r.Float64()}}})
	}
	return fences
}

// simDay simulates day n (0-based) of a rep of the world under p.
func (w *simWorld) simDay(t testing.TB, p sim.Profile, seed uint64, n int) *sim.DayResult {
	t.Helper()
	date := time.Date(2026, time.March, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	res, err := sim.Day(seed, w.city, p, sim.DayConfig{
		Rep:  dwell.RepID(fmt.Sprintf("rep-%d", n%7+1)),
		Date: dwell.Date{Year: date.Year(), Month: date.Month(), Day: date.Day()},
		Loc:  wib,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// input returns the derivation input of a simulated day with the given
// fixes (the shuffled, repeated uploads by default).
func (w *simWorld) input(res *sim.DayResult, fixes []dwell.Fix) Input {
	in := Input{
		Day: res.Date, Loc: wib, Window: Window{Start: res.Start, End: res.End},
		Fixes: fixes, Fences: w.index, Clients: w.clients, Settings: dwell.DefaultSettings(),
	}
	for _, c := range res.CheckIns {
		in.CheckIns = append(in.CheckIns, c.CheckIn)
	}
	for _, c := range res.CheckOuts {
		in.CheckOuts = append(in.CheckOuts, c.CheckOut)
	}
	return in
}

// checkInvariants asserts what every derived day must keep: segments in
// order, non-empty, contiguous, covering [Start, End], visits matching the
// visit segments.
func checkInvariants(t testing.TB, name string, d Day) {
	t.Helper()
	if len(d.Segments) == 0 {
		return
	}
	if !d.Segments[0].Start.Equal(d.Start) || !d.Segments[len(d.Segments)-1].End.Equal(d.End) {
		t.Errorf("%s: segments cover %v..%v, span is %v..%v", name, d.Segments[0].Start, d.Segments[len(d.Segments)-1].End, d.Start, d.End)
	}
	// A visit is a run of VISIT segments of one client with only PAUSED
	// or OFF_HOURS segments between them (a pause in a meeting, or a
	// split shift's break, leaves one meeting).
	nv := 0
	var segVisit, visitTime time.Duration
	lastVisit := -1 // index of the last VISIT segment, if only PAUSED or OFF_HOURS follow it
	for i, s := range d.Segments {
		if !s.End.After(s.Start) {
			t.Errorf("%s: segment %d is empty: %v..%v", name, i, s.Start, s.End)
		}
		if i > 0 && !s.Start.Equal(d.Segments[i-1].End) {
			t.Errorf("%s: segment %d starts at %v, previous ends at %v", name, i, s.Start, d.Segments[i-1].End)
		}
		switch s.Kind {
		case KindVisit:
			if lastVisit < 0 || d.Segments[lastVisit].Client != s.Client {
				nv++
			}
			lastVisit = i
			segVisit += s.Duration()
			if s.Client == "" {
				t.Errorf("%s: visit segment %d has no client", name, i)
			}
		case KindPaused, KindOffHours:
		default:
			lastVisit = -1
		}
	}
	for _, v := range d.Visits {
		visitTime += v.Duration()
		// A visit is established by the fixes, a check-in or both.
		if v.Source == SourceUnspecified {
			t.Errorf("%s: visit %q %v..%v has no source (no visit stop, no check-in)", name, v.Client, v.Start, v.End)
		}
	}
	if nv != len(d.Visits) || segVisit != visitTime {
		t.Errorf("%s: %d visits of %v in the segments, %d visits of %v listed", name, nv, segVisit, len(d.Visits), visitTime)
	}
}
