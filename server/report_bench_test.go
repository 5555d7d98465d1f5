package server_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// benchDayFixes returns 2,880 fixes, one every 30 s over the local day
// 2026-11-19 in Jakarta: 40-minute stays at successive client sites (10 m
// noise) joined by 20-minute straight drives.
func benchDayFixes(city *sim.City) []dwell.Fix {
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	start := time.Date(2026, 11, 19, 0, 0, 0, 0, jakarta)
	cs := city.Clients()
	var out []dwell.Fix
	for i := range 2880 {
		t := start.Add(time.Duration(i) * 30 * time.Second)
		slot, k := i/120, i%120 // an hour: 80 fixes at a site, 40 driving
		a, b := cs[slot%len(cs)].Fence.Center(), cs[(slot+1)%len(cs)].Fence.Center()
		p := a
		if k >= 80 {
			f := float64(k-80) / 40
			p = dwell.LatLng{Lat: a.Lat + f*(b.Lat-a.Lat), Lng: a.Lng + f*(b.Lng-a.Lng)}
		} else {
			p.Lat += 1e-4 * math.Sin(float64(i))
			p.Lng += 1e-4 * math.Cos(float64(i))
		}
		out = append(out, dwell.Fix{ID: fmt.Sprintf("b-%05d", i), Time: t, Pos: p, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1})
	}
	return out
}

// BenchmarkGetRepDay measures GetRepDay for one rep-day of 2,880 fixes
// over loopback gRPC against a real bbolt file, beside the derivation alone
// (timeline.Derive in process on the same data) as the baseline, so the
// cost of the store read and the RPC shows as a ratio.
//
//	go test -run '^$' -bench BenchmarkGetRepDay ./server/
func BenchmarkGetRepDay(b *testing.B) {
	e := newEnvSync(b, false) // the benchmark reads; fsync only slows its setup
	city, err := sim.NewCity(7, sim.CityConfig{})
	if err != nil {
		b.Fatal(err)
	}
	admin := e.admin(acme)
	stream, err := e.dirc.ImportClients(admin)
	if err != nil {
		b.Fatal(err)
	}
	msg := &dwellv1.ImportClientsRequest{}
	ix := geofence.New(geofence.Options{})
	clients := timeline.ClientMap{}
	for _, c := range city.Clients() {
		msg.Clients = append(msg.Clients, &dwellv1.Client{Name: "clients/" + string(c.ID), DisplayName: c.DisplayName,
			Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT, Geofence: pbGeofence(c.Fence)})
		if err := ix.Put(string(c.ID), c.Fence); err != nil {
			b.Fatal(err)
		}
		clients[c.ID] = c
	}
	if err := stream.Send(msg); err != nil {
		b.Fatal(err)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		b.Fatal(err)
	}
	e.mustCreateRep(admin, "bench", "")
	fixes := benchDayFixes(city)
	rep := e.as(acme, dwell.RoleRep, "bench")
	for i := 0; i < len(fixes); i += 1000 {
		req := &dwellv1.UploadPingsRequest{}
		for _, f := range fixes[i:min(i+1000, len(fixes))] {
			req.Fixes = append(req.Fixes, pbFix(f))
		}
		if _, err := e.ingest.UploadPings(rep, req); err != nil {
			b.Fatal(err)
		}
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	date := dwell.Date{Year: 2026, Month: 11, Day: 19}
	in := timeline.Input{Day: date, Loc: jakarta, Fixes: fixes, Fences: ix, Clients: clients, Settings: dwell.DefaultSettings()}
	want := timeline.Derive(in)

	b.Run("derive-only", func(b *testing.B) {
		for b.Loop() {
			timeline.Derive(in)
		}
	})
	b.Run("grpc", func(b *testing.B) {
		req := &dwellv1.GetRepDayRequest{Rep: "reps/bench", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 19}}
		for b.Loop() {
			resp, err := e.report.GetRepDay(admin, req)
			if err != nil {
				b.Fatal(err)
			}
			if len(resp.GetVisits()) != len(want.Visits) || resp.GetFixCount() != 2880 {
				b.Fatalf("GetRepDay: %d visits, %d fixes; want %d and 2880", len(resp.GetVisits()), resp.GetFixCount(), len(want.Visits))
			}
		}
	})
}
