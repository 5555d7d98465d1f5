package timeline

import (
	"bytes"
	"fmt"
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
			var fences []geofence.Fence
			for _, c := range w.city.Clients() {
				fences = append(fences, geofence.Fence{ID: string(c.ID), Geofence: c.Fence})
			}
			r := rand.New(rand.NewPCG(uint64(crowd), uint64(pi)))
			centre := w.city.Config.Center
			for k := range crowd {
				d, a := 5000*math.Sqrt(r.Float64()), 2*math.Pi*r.Float64()
				c := dwell.LatLng{Lat: centre.Lat + d*math.Sin(a)/111195, Lng: centre.Lng + d*math.Cos(a)/(111195*math.Cos(centre.Lat*math.Pi/180))}
				fences = append(fences, geofence.Fence{ID: fmt.Sprintf("crowd%05d", k), Geofence: dwell.Geofence{Circle: &dwell.Circle{Center: c, RadiusM: 10 + 50*r.Float64()}}})
			}
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
