package timeline

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/baseline"
	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestFromStaypointsVisits checks how TestEvaluate turns a baseline's stops
// into visits: stops at one client that touch (the sliding detector's
// split of one stop at a noisy fix) are one visit, as a run of VISIT
// segments of one client is one visit in Derive's days; stops apart in
// time, or at two clients, stay two visits.
func TestFromStaypointsVisits(t *testing.T) {
	w := newSimWorld(t, 101)
	// Two clients whose own centre names them at fromStaypoints' radius.
	var sites []dwell.Client
	d := deriver{in: Input{Fences: w.index, Clients: w.clients}}
	for _, c := range w.city.Clients() {
		d.buf = w.index.Query(c.Fence.Center(), 15, d.buf)
		if d.pick(c.Fence.Center(), 15, d.buf) == c.ID {
			sites = append(sites, c)
		}
		if len(sites) == 2 {
			break
		}
	}
	if len(sites) < 2 {
		t.Fatal("the city has no two clients named by their own centre")
	}
	a, b := sites[0], sites[1]
	t0 := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	stop := func(from, to int, c dwell.Client) baseline.Staypoint {
		return baseline.Staypoint{Start: at(from), End: at(to), Center: c.Fence.Center()}
	}
	fixes := []dwell.Fix{{ID: "first", Time: at(0), Pos: a.Fence.Center()}, {ID: "last", Time: at(120), Pos: a.Fence.Center()}}
	visit := func(from, to int, c dwell.Client) Visit { return Visit{Client: c.ID, Start: at(from), End: at(to)} }

	tests := []struct {
		name string
		sps  []baseline.Staypoint
		want []Visit
	}{
		{
			name: "touching stops at one client are one visit",
			sps:  []baseline.Staypoint{stop(10, 20, a), stop(20, 40, a), stop(40, 45, a)},
			want: []Visit{visit(10, 45, a)},
		},
		{
			name: "stops at one client apart in time are two visits",
			sps:  []baseline.Staypoint{stop(10, 20, a), stop(21, 40, a)},
			want: []Visit{visit(10, 20, a), visit(21, 40, a)},
		},
		{
			name: "touching stops at two clients are two visits",
			sps:  []baseline.Staypoint{stop(10, 20, a), stop(20, 40, b), stop(40, 50, a)},
			want: []Visit{visit(10, 20, a), visit(20, 40, b), visit(40, 50, a)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := w.fromStaypoints(tc.sps, fixes)
			if len(got.visits) != len(tc.want) {
				t.Fatalf("visits = %+v\nwant %+v", got.visits, tc.want)
			}
			for i, v := range got.visits {
				if v.Client != tc.want[i].Client || !v.Start.Equal(tc.want[i].Start) || !v.End.Equal(tc.want[i].End) {
					t.Errorf("visit %d = %s %s-%s, want %s %s-%s", i, v.Client, v.Start.Format("15:04"), v.End.Format("15:04"),
						tc.want[i].Client, tc.want[i].Start.Format("15:04"), tc.want[i].End.Format("15:04"))
				}
			}
			// The segments are the stops, each a visit to its client.
			for _, sp := range tc.sps {
				want := label{KindVisit, a.ID}
				if sp.Center == b.Fence.Center() {
					want.client = b.ID
				}
				mid := sp.Start.Add(sp.End.Sub(sp.Start) / 2)
				if l := got.at(mid); l != want {
					t.Errorf("at %s: %v, want %v", mid.Format("15:04"), l, want)
				}
			}
		})
	}
}
