package events

import (
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/timeline"
)

var wib = time.FixedZone("WIB", 7*3600)

// replay feeds a simulated day to the derivation as the server receives
// it, upload by upload, and returns the events Diff finds after each
// upload (detected at the upload's arrival) and the final day.
func replay(t testing.TB, city *sim.City, ix *geofence.Index, clients timeline.ClientMap, res *sim.DayResult) ([]dwell.Event, *timeline.Day) {
	t.Helper()
	var fixes []dwell.Fix
	var prev *timeline.Day
	var out []dwell.Event
	for _, b := range res.Uploads {
		fixes = append(fixes, b.Fixes...)
		in := timeline.Input{
			Day: res.Date, Loc: wib, Window: timeline.Window{Start: res.Start, End: res.End},
			Fixes: fixes, Fences: ix, Clients: clients, Settings: dwell.DefaultSettings(),
		}
		for _, c := range res.CheckIns {
			if !c.ReceiveTime.After(b.ArriveAt) {
				in.CheckIns = append(in.CheckIns, c.CheckIn)
			}
		}
		for _, c := range res.CheckOuts {
			if !c.ReceiveTime.After(b.ArriveAt) {
				in.CheckOuts = append(in.CheckOuts, c.CheckOut)
			}
		}
		next := timeline.Derive(in)
		out = append(out, Diff(prev, &next, Options{Rep: res.Rep, DetectTime: b.ArriveAt, Settings: dwell.DefaultSettings()})...)
		prev = &next
	}
	return out, prev
}

func newWorld(t testing.TB, seed uint64) (*sim.City, *geofence.Index, timeline.ClientMap) {
	t.Helper()
	city, err := sim.NewCity(seed, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ix := geofence.New(geofence.Options{})
	clients := timeline.ClientMap{}
	var fences []geofence.Fence
	for _, c := range city.Clients() {
		fences = append(fences, geofence.Fence{ID: string(c.ID), Geofence: c.Fence})
		clients[c.ID] = c
	}
	if err := ix.PutAll(fences); err != nil {
		t.Fatal(err)
	}
	return city, ix, clients
}

// TestReplay streams simulated days upload by upload and checks what a
// partner watching the stream would rely on:
//   - nothing is said twice: no key repeats;
//   - nothing is missed: every visit of the final day that has ended has
//     a VISIT_STARTED and a VISIT_ENDED of its client overlapping it, and
//     every idle stop an IDLE_STARTED within it;
//   - "ended" is not contradicted: every VISIT_ENDED is within a minute of
//     the end of a final visit of its client (the fixes around a departure
//     are 30 s apart while moving; two of them, one minute): none revised
//     on the clean and realistic phones, at most one in twenty on the
//     harsh one;
//   - a clean phone uploading every minute produces no late event, and a
//     harsh one (offline for hours) produces some;
//   - re-deriving the final day yields nothing.
func TestReplay(t *testing.T) {
	city, ix, clients := newWorld(t, 1)
	for _, p := range []sim.Profile{sim.Clean(), sim.Realistic(), sim.Harsh()} {
		var nEvents, nLate, nEnded, nVisits, nRevised int
		for n := range 6 {
			date := time.Date(2026, time.March, 2+n, 0, 0, 0, 0, time.UTC)
			res, err := sim.Day(uint64(100+n), city, p, sim.DayConfig{
				Rep: dwell.RepID(fmt.Sprintf("rep-%d", n+1)), Loc: wib,
				Date: dwell.Date{Year: date.Year(), Month: date.Month(), Day: date.Day()},
			})
			if err != nil {
				t.Fatal(err)
			}
			evs, final := replay(t, city, ix, clients, res)
			name := fmt.Sprintf("%s day %d", p.Name, n)
			keys := map[string]bool{}
			for _, e := range evs {
				if keys[e.Key] {
					t.Errorf("%s: key %q said twice", name, e.Key)
				}
				keys[e.Key] = true
				if e.Late {
					nLate++
				}
			}
			nEvents += len(evs)
			if again := Diff(final, final, Options{Rep: res.Rep}); len(again) != 0 {
				t.Errorf("%s: re-deriving the final day yields %d events", name, len(again))
			}
			for _, v := range final.Visits {
				nVisits++
				if !v.End.Before(final.End) {
					continue
				}
				var started, ended bool
				for _, e := range evs {
					if e.Client != v.Client {
						continue
					}
					started = started || e.Type == dwell.EventVisitStarted && !e.Time.After(v.End)
					ended = ended || e.Type == dwell.EventVisitEnded && !e.Time.Before(v.Start)
				}
				if !started || !ended {
					t.Errorf("%s: visit to %s %v..%v: started %v, ended %v", name, v.Client, v.Start, v.End, started, ended)
				}
			}
			for i, s := range final.Segments {
				if s.Kind != timeline.KindIdle {
					continue
				}
				// Late fixes move the boundary between the idle stop
				// and the segment before it.
				from := s.Start
				if i > 0 {
					from = final.Segments[i-1].Start
				}
				found := false
				for _, e := range evs {
					found = found || e.Type == dwell.EventIdleStarted && !e.Time.After(s.End) && !e.Time.Before(from)
				}
				if !found {
					t.Errorf("%s: idle %v..%v has no IDLE_STARTED", name, s.Start, s.End)
				}
			}
			for _, e := range evs {
				if e.Type != dwell.EventVisitEnded {
					continue
				}
				nEnded++
				ok := false
				for _, v := range final.Visits {
					if v.Client == e.Client && !e.Time.Before(v.End.Add(-time.Minute)) && !e.Time.After(v.End.Add(time.Minute)) {
						ok = true
					}
				}
				if !ok {
					nRevised++
					t.Logf("%s: VISIT_ENDED of %s at %v (detected %v) matches no end of a final visit (within 1 min)", name, e.Client, e.Time, e.DetectTime)
				}
			}
		}
		t.Logf("%s: %d visits, %d events, %d VISIT_ENDED (%d revised later), %d late", p.Name, nVisits, nEvents, nEnded, nRevised, nLate)
		switch p.Name {
		case "clean":
			if nLate != 0 {
				t.Errorf("%s: %d late events from a phone that uploads every minute", p.Name, nLate)
			}
		case "harsh":
			if nLate == 0 {
				t.Errorf("%s: no late event from a phone offline for hours", p.Name)
			}
		}
		// The product's target: a reported end is final on the phones it
		// is built for; on a harsh phone (errors of hundreds of metres,
		// uploads every 15 min) at most one in twenty is revised.
		if p.Name != "harsh" && nRevised != 0 || nRevised*20 > nEnded {
			t.Errorf("%s: %d of %d VISIT_ENDED were revised by later data", p.Name, nRevised, nEnded)
		}
	}
}
