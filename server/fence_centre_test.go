package server_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestOverlapTiesToPolygonCentre checks DESIGN's rule for overlapping
// fences ("ties to the nearest centre") with a polygon: a mall square
// 300 m across overlaps a store circle of 150 m radius whose centre is
// 60 m east of the mall's; the rep stays an hour inside both, 20 m east of
// the mall's centre and 40 m from the store's, so the visit is the mall's.
// It must stay so with the mall across the antimeridian (its vertices'
// longitudes average to about 0, half the Earth away) and with its ring
// closed (the first vertex, the south-west corner, repeated last as
// GeoJSON writes rings, which would pull a vertex mean 42 m towards it).
func TestOverlapTiesToPolygonCentre(t *testing.T) {
	const lat0, half = -16.5, 150.0 // degrees; metres
	mPerDegLng := 111195.0 * math.Cos(lat0*math.Pi/180)
	wrap := func(l float64) float64 {
		if l > 180 {
			return l - 360
		}
		return l
	}
	for _, lng0 := range []float64{10, 180} {
		for _, closed := range []bool{false, true} {
			t.Run(fmt.Sprintf("lng=%v/closed=%v", lng0, closed), func(t *testing.T) {
				e := newEnv(t)
				adm := e.admin(acme)
				ll := func(east, north float64) *dwellv1.LatLng {
					return &dwellv1.LatLng{Lat: lat0 + north/111195.0, Lng: wrap(lng0 + east/mPerDegLng)}
				}
				ring := &dwellv1.LinearRing{Vertices: []*dwellv1.LatLng{ll(-half, -half), ll(half, -half), ll(half, half), ll(-half, half)}}
				if closed {
					ring.Vertices = append(ring.Vertices, ring.Vertices[0])
				}
				mall := &dwellv1.Client{DisplayName: "Mall", Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT,
					Geofence: &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: &dwellv1.Polygon{Shell: ring}}}}
				if _, err := e.dirc.CreateClient(adm, &dwellv1.CreateClientRequest{ClientId: "mall", Client: mall}); err != nil {
					t.Fatal(err)
				}
				store := ll(60, 0)
				e.mustCreateClient(adm, "store", store.GetLat(), store.GetLng(), 150)
				e.mustCreateRep(adm, "rita", "")
				// Two hours of fixes every 30 s, 5 m accurate, from 08:00 local.
				start := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
				var fs []*dwellv1.Fix
				for i := 0; i <= 120; i++ {
					ts := start.Add(time.Duration(i) * 30 * time.Second)
					fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f%d", i), DeviceTime: timestamppb.New(ts), Position: ll(20, 0), AccuracyMeters: 5})
				}
				if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "rita"), &dwellv1.UploadPingsRequest{Rep: "reps/rita", Fixes: fs}); err != nil {
					t.Fatal(err)
				}
				d, err := e.report.GetRepDay(adm, &dwellv1.GetRepDayRequest{Rep: "reps/rita", Date: pbDate(2026, 11, 20)})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, v := range d.GetVisits() {
					got = append(got, v.GetClient())
				}
				if len(got) != 1 || got[0] != "clients/mall" {
					t.Errorf("visits %v, want [clients/mall]: the rep is 20 m from the mall's centre and 40 m from the store's", got)
				}
			})
		}
	}
}
