package geofence_test

import (
	"fmt"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
)

func ExampleIndex_Query() {
	ix := geofence.New(geofence.Options{MarginM: 50})
	// A shop: a 30 m circle. A mall around it: a 200 m square.
	shop := dwell.LatLng{Lat: -6.2000, Lng: 106.8000}
	if err := ix.Put("shop", dwell.Geofence{Circle: &dwell.Circle{Center: shop, RadiusM: 30}}); err != nil {
		panic(err)
	}
	d := 0.0009 // about 100 m of latitude
	mall := &dwell.Polygon{Shell: []dwell.LatLng{
		{Lat: -6.2 - d, Lng: 106.8 - d}, {Lat: -6.2 - d, Lng: 106.8 + d},
		{Lat: -6.2 + d, Lng: 106.8 + d}, {Lat: -6.2 + d, Lng: 106.8 - d},
	}}
	if err := ix.Put("mall", dwell.Geofence{Polygon: mall}); err != nil {
		panic(err)
	}
	// An invalid fence is refused with the reason.
	err := ix.Put("bad", dwell.Geofence{Circle: &dwell.Circle{Center: shop, RadiusM: 1}})
	fmt.Println(dwell.Is(dwell.Invalid, err))

	buf := make([]geofence.Match, 0, 16) // reused: no allocation per query
	// A fix 35 m north of the shop's centre, accurate to 10 m: inside the
	// mall, outside the shop but within its accuracy.
	buf = ix.Query(dwell.LatLng{Lat: -6.2 + 0.000315, Lng: 106.8}, 10, buf)
	for _, m := range buf {
		fmt.Printf("%s %.0f m %v\n", m.ID, m.DistanceM, m.Relation)
	}
	// Output:
	// true
	// mall -65 m inside
	// shop 5 m maybe_inside
}

func ExampleCursor() {
	ix := geofence.New(geofence.Options{})
	site := dwell.LatLng{Lat: 51.5007, Lng: -0.1246}
	if err := ix.Put("client-42", dwell.Geofence{Circle: &dwell.Circle{Center: site, RadiusM: 60}}); err != nil {
		panic(err)
	}
	// One cursor per rep: fixes at a visit reuse the previous fix's cell
	// work and answer exactly as ix.Query would.
	cur := ix.NewCursor()
	buf := make([]geofence.Match, 0, 16)
	for _, fix := range []dwell.LatLng{
		{Lat: 51.50071, Lng: -0.12461},
		{Lat: 51.50069, Lng: -0.12458},
		{Lat: 51.5015, Lng: -0.1246},
	} {
		buf = cur.Query(fix, 15, buf)
		for _, m := range buf {
			fmt.Printf("%s %v\n", m.ID, m.Relation)
		}
	}
	// Fences change under a cursor; it notices.
	ix.Delete("client-42")
	fmt.Println(len(cur.Query(site, 15, buf)))
	// Output:
	// client-42 inside
	// client-42 inside
	// client-42 near
	// 0
}
