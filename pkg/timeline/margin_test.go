package timeline

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
)

// TestIndexMarginChangesNothing derives simulated days of every profile
// twice, once with an index of the default 100 m margin and once with no
// margin, and wants the same days byte for byte, in a
// city of its sites alone and in one where 20,000 small circles crowd the
// sites, so that most queries have margin matches. Derive reads no match
// beyond the accuracy it asks with (FenceMatcher): the index's options may
// change what a query costs, never a day.
func TestIndexMarginChangesNothing(t *testing.T) {
	for _, crowd := range []int{0, 20_000} {
		for pi, p := range sim.Profiles() {
			w := newSimWorld(t, uint64(300+pi))
			r := rand.New(rand.NewPCG(uint64(crowd), uint64(pi)))
			fences := w.appendCircles(w.siteFences(), r, 5000, "crowd", 0, crowd)
			wide, lean := geofence.New(geofence.Options{}), geofence.New(geofence.Options{MarginM: -1})
			for _, ix := range []*geofence.Index{wide, lean} {
				if err := ix.PutAll(fences); err != nil {
					t.Fatal(err)
				}
			}
			for k := range 12 {
				res := w.simDay(t, p, uint64(5000+100*pi+k), k)
				in := w.input(res, res.Shuffled(uint64(k)))
				in.Fences = wide
				want := Derive(in).Encode()
				in.Fences = lean
				if got := Derive(in).Encode(); !bytes.Equal(got, want) {
					t.Errorf("%s day %d, %d crowding fences: the day derived without a margin differs:\n%s\nwith the default margin:\n%s", p.Name, k, crowd, got, want)
				}
			}
		}
	}
}

// TestFenceDistFallback verifies check-ins at 0 to 250 m from a circle
// with accuracies of 10 to 200 m, once with the client known to the input
// (the distance from its fence) and once known only to the index (the
// fallback, as when the server's client lookup fails): the verdicts agree,
// with either margin, and so do the distances of verdicts other than
// OUTSIDE_GEOFENCE. The fallback used to answer only
// out to the fix's accuracy, so a check-in 20 m out with 10 m accuracy,
// verified by the known client (tolerance 30 m), was OUTSIDE_GEOFENCE.
func TestFenceDistFallback(t *testing.T) {
	centre := dwell.LatLng{Lat: -6.2, Lng: 106.8}
	fence := dwell.Geofence{Circle: &dwell.Circle{Center: centre, RadiusM: 50}}
	client := dwell.Client{ID: "c1", Fence: fence}
	for _, opts := range []geofence.Options{{}, {MarginM: -1}} {
		ix := geofence.New(opts)
		if err := ix.Put("c1", fence); err != nil {
			t.Fatal(err)
		}
		known := &deriver{in: Input{Fences: ix, Clients: ClientMap{"c1": client}}}
		fallback := &deriver{in: Input{Fences: ix}}
		for _, acc := range []float64{10, 40, 100, 160, 200} {
			for out := 0.0; out <= 250; out += 5 {
				// Due east of the centre, 50 m + out from it.
				pos := dwell.LatLng{Lat: centre.Lat, Lng: centre.Lng + (50+out)/(111195*math.Cos(centre.Lat*math.Pi/180))}
				ci := dwell.CheckIn{Client: "c1", Fix: &dwell.Fix{Pos: pos, AccuracyM: acc}}
				wantV, wantD := known.verify(ci)
				gotV, gotD := fallback.verify(ci)
				// Away from the site the index does not say how far (the
				// distance of OUTSIDE_GEOFENCE is then 0); up to there the
				// distances agree too.
				if gotV != wantV || (gotV != dwell.VerificationOutsideGeofence && math.Abs(gotD-wantD) > 0.01) {
					t.Errorf("MarginM %v, accuracy %v m, %v m out: fallback verify = %v, %.2f m, want %v, %.2f m",
						opts.MarginM, acc, out, gotV, gotD, wantV, wantD)
				}
			}
		}
	}
}
