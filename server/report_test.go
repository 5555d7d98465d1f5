package server_test

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

func pbLatLng(p dwell.LatLng) *dwellv1.LatLng { return &dwellv1.LatLng{Lat: p.Lat, Lng: p.Lng} }

func pbRing(r []dwell.LatLng) *dwellv1.LinearRing {
	out := &dwellv1.LinearRing{}
	for _, v := range r {
		out.Vertices = append(out.Vertices, pbLatLng(v))
	}
	return out
}

func pbGeofence(g dwell.Geofence) *dwellv1.Geofence {
	if g.Circle != nil {
		return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{Center: pbLatLng(g.Circle.Center), RadiusMeters: g.Circle.RadiusM}}}
	}
	p := &dwellv1.Polygon{Shell: pbRing(g.Polygon.Shell)}
	for _, h := range g.Polygon.Holes {
		p.Holes = append(p.Holes, pbRing(h))
	}
	return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: p}}
}

func pbFix(f dwell.Fix) *dwellv1.Fix {
	out := &dwellv1.Fix{Id: f.ID, DeviceTime: timestamppb.New(f.Time), Position: pbLatLng(f.Pos), AccuracyMeters: f.AccuracyM, Mock: f.Mock}
	if f.SpeedMPS >= 0 {
		out.SpeedMetersPerSecond = &f.SpeedMPS
	}
	if f.BearingDeg >= 0 {
		out.BearingDegrees = &f.BearingDeg
	}
	if f.HasAltitude {
		out.AltitudeMeters = &f.AltitudeM
	}
	return out
}

// simDay loads a simulated city into acme, creates the rep and returns the
// simulated day (yesterday, in Jakarta).
func simDay(t *testing.T, e *env) (*sim.City, *sim.DayResult) {
	t.Helper()
	city, err := sim.NewCity(7, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	day, err := sim.Day(11, city, sim.Realistic(), sim.DayConfig{Rep: "rep-1", Date: dwell.Date{Year: 2026, Month: 11, Day: 19}, Loc: jakarta})
	if err != nil {
		t.Fatal(err)
	}
	admin := e.admin(acme)
	importCity(t, e, admin, city)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "rep-1", Rep: &dwellv1.Rep{DisplayName: "Sim", TimeZone: "Asia/Jakarta"}}); err != nil {
		t.Fatal(err)
	}
	return city, day
}

// localFences is the in-process fence index and client map of cs, for
// deriving days in a test as the server does.
func localFences(t testing.TB, cs []dwell.Client) (*geofence.Index, timeline.ClientMap) {
	t.Helper()
	ix := geofence.New(geofence.Options{})
	clients := timeline.ClientMap{}
	for _, c := range cs {
		if err := ix.Put(string(c.ID), c.Fence); err != nil {
			t.Fatal(err)
		}
		clients[c.ID] = c
	}
	return ix, clients
}

// deriveLocally runs the timeline on the simulated data, as GetRepDay must.
func deriveLocally(t *testing.T, city *sim.City, day *sim.DayResult, withClaims bool) timeline.Day {
	t.Helper()
	ix, clients := localFences(t, city.Clients())
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	in := timeline.Input{Day: day.Date, Loc: jakarta, Fixes: day.AllFixes(), Fences: ix, Clients: clients, Settings: dwell.DefaultSettings()}
	if withClaims {
		for _, ci := range day.CheckIns {
			in.CheckIns = append(in.CheckIns, ci.CheckIn)
		}
		for _, co := range day.CheckOuts {
			in.CheckOuts = append(in.CheckOuts, co.CheckOut)
		}
	}
	return timeline.Derive(in)
}

// sameDay compares a GetRepDay answer with a local derivation.
func sameDay(t *testing.T, what string, got *dwellv1.GetRepDayResponse, want timeline.Day) {
	t.Helper()
	if len(got.GetSegments()) != len(want.Segments) || len(got.GetVisits()) != len(want.Visits) {
		t.Fatalf("%s: %d segments and %d visits, want %d and %d", what, len(got.GetSegments()), len(got.GetVisits()), len(want.Segments), len(want.Visits))
	}
	for i, s := range got.GetSegments() {
		w := want.Segments[i]
		client := ""
		if w.Client != "" {
			client = "clients/" + string(w.Client)
		}
		if s.GetKind().String() != "SEGMENT_KIND_"+w.Kind.String() || !s.GetStartTime().AsTime().Equal(w.Start) || !s.GetEndTime().AsTime().Equal(w.End) || s.GetClient() != client {
			t.Fatalf("%s: segment %d = %v %v-%v %q, want %v %v-%v %q", what, i, s.GetKind(), s.GetStartTime().AsTime(), s.GetEndTime().AsTime(), s.GetClient(), w.Kind, w.Start, w.End, client)
		}
	}
	for i, v := range got.GetVisits() {
		w := want.Visits[i]
		if v.GetClient() != "clients/"+string(w.Client) || v.GetSource().String() != "VISIT_SOURCE_"+w.Source.String() || v.GetVerification() != dwellv1.Verification(w.Verification) {
			t.Fatalf("%s: visit %d = %v, want %+v", what, i, v, w)
		}
	}
}

// TestGetRepDayFollowsLateData uploads a simulated day as the phone would
// (batches, late, shuffled, duplicated), reads the day, then sends the
// day's check-ins and check-outs late and reads it again: each answer is
// the timeline of exactly the data received so far.
func TestGetRepDayFollowsLateData(t *testing.T) {
	e := newEnv(t)
	city, day := simDay(t, e)
	rep := e.as(acme, dwell.RoleRep, "rep-1")
	stream, err := e.ingest.StreamPings(rep)
	if err != nil {
		t.Fatal(err)
	}
	var accepted, dups, rejected int32
	done := make(chan error, 1)
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				done <- err
				return
			}
			accepted += r.GetAck().GetAccepted()
			dups += r.GetAck().GetDuplicates()
			rejected += r.GetAck().GetRejected()
			for _, res := range r.GetAck().GetResults() {
				if res.GetStatus() == dwellv1.FixStatus_FIX_STATUS_REJECTED {
					t.Errorf("fix %s rejected: %v", res.GetId(), res.GetReasons())
				}
			}
		}
	}()
	for i, b := range day.Uploads {
		req := &dwellv1.StreamPingsRequest{BatchId: int64(i)}
		for _, f := range b.Fixes {
			req.Fixes = append(req.Fixes, pbFix(f))
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if int(accepted) != len(day.AllFixes()) || rejected != 0 || dups == 0 {
		t.Fatalf("uploads: %d accepted, %d duplicates, %d rejected; want %d accepted, some duplicates, none rejected", accepted, dups, rejected, len(day.AllFixes()))
	}

	mgr := e.as(acme, dwell.RoleAdmin, "admin")
	req := &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 19}}
	before, err := e.report.GetRepDay(mgr, req)
	if err != nil {
		t.Fatalf("GetRepDay: %v", err)
	}
	sameDay(t, "fixes only", before, deriveLocally(t, city, day, false))
	if before.GetFixCount() != int32(len(day.AllFixes())) || len(before.GetVisits()) == 0 {
		t.Fatalf("fixes only: fix_count %d, %d visits", before.GetFixCount(), len(before.GetVisits()))
	}
	if len(before.GetFixes()) != 0 {
		t.Fatalf("without include_fixes the day carries %d fixes, want none", len(before.GetFixes()))
	}
	withFixes, err := e.report.GetRepDay(mgr, &dwellv1.GetRepDayRequest{Rep: req.Rep, Date: req.Date, IncludeFixes: true})
	if err != nil {
		t.Fatal(err)
	}
	sameDay(t, "include_fixes", withFixes, deriveLocally(t, city, day, false))
	want := day.AllFixes()
	sort.SliceStable(want, func(i, j int) bool { return want[i].Time.Before(want[j].Time) })
	if got := withFixes.GetFixes(); len(got) != len(want) {
		t.Fatalf("include_fixes: %d fixes, want %d", len(got), len(want))
	}
	for i, f := range withFixes.GetFixes() {
		if !f.GetDeviceTime().AsTime().Equal(want[i].Time) || (i > 0 && f.GetDeviceTime().AsTime().Before(withFixes.GetFixes()[i-1].GetDeviceTime().AsTime())) {
			t.Fatalf("include_fixes: fix %d at %v, want %v in time order", i, f.GetDeviceTime().AsTime(), want[i].Time)
		}
	}
	byID := map[string]*dwellv1.Fix{}
	for _, f := range withFixes.GetFixes() {
		byID[f.GetId()] = f
	}
	for _, f := range want {
		if got := byID[f.ID]; !proto.Equal(got, pbFix(f)) {
			t.Fatalf("include_fixes: fix %s = %v, want %v", f.ID, got, pbFix(f))
		}
	}

	// The claims arrive late.
	for _, ci := range day.CheckIns {
		r := &dwellv1.CheckInRequest{RequestId: ci.RequestID, Client: "clients/" + string(ci.Client), CheckInTime: timestamppb.New(ci.Time)}
		if ci.Fix != nil {
			r.Fix = pbFix(*ci.Fix)
		}
		if _, err := e.ingest.CheckIn(rep, r); err != nil {
			t.Fatalf("CheckIn %s: %v", ci.RequestID, err)
		}
	}
	for _, co := range day.CheckOuts {
		r := &dwellv1.CheckOutRequest{RequestId: co.RequestID, Client: "clients/" + string(co.Client), CheckOutTime: timestamppb.New(co.Time),
			Outcome: dwellv1.Outcome(co.Outcome), RejectionReason: dwellv1.RejectionReason(co.RejectionReason), RejectionText: co.RejectionText}
		if co.Fix != nil {
			r.Fix = pbFix(*co.Fix)
		}
		if !co.FollowUpDate.IsZero() {
			r.FollowUpDate = &dwellv1.Date{Year: int32(co.FollowUpDate.Year), Month: int32(co.FollowUpDate.Month), Day: int32(co.FollowUpDate.Day)}
		}
		if _, err := e.ingest.CheckOut(rep, r); err != nil {
			t.Fatalf("CheckOut %s: %v", co.RequestID, err)
		}
	}
	after, err := e.report.GetRepDay(mgr, req)
	if err != nil {
		t.Fatal(err)
	}
	sameDay(t, "with claims", after, deriveLocally(t, city, day, true))
	claimed := 0
	for _, v := range after.GetVisits() {
		if v.GetSource() != dwellv1.VisitSource_VISIT_SOURCE_GEOFENCE {
			claimed++
		}
	}
	if len(day.CheckIns) > 0 && claimed == 0 {
		t.Fatalf("after %d check-ins no visit is sourced from a check-in", len(day.CheckIns))
	}

	// Against the simulator's truth: most true visits are found.
	found := 0
	for _, tv := range day.Visits {
		for _, v := range after.GetVisits() {
			if v.GetClient() == "clients/"+string(tv.Client) && v.GetStartTime().AsTime().Before(tv.End) && v.GetEndTime().AsTime().After(tv.Start) {
				found++
				break
			}
		}
	}
	if len(day.Visits) == 0 || found*10 < len(day.Visits)*9 {
		t.Fatalf("GetRepDay found %d of %d true visits", found, len(day.Visits))
	}
	t.Logf("%d fixes, %d true visits, %d derived, %d matched, %d claimed", accepted, len(day.Visits), len(after.GetVisits()), found, claimed)
}

func TestGetRepDayAccess(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	_, err := e.report.GetRepDay(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.GetRepDayRequest{Rep: "reps/sari", Date: date})
	wantCode(t, "rep reads another rep's day", err, codes.PermissionDenied)
	_, err = e.report.GetRepDay(e.as(acme, dwell.RoleManager, "ana"), &dwellv1.GetRepDayRequest{Rep: "reps/sari", Date: date})
	wantCode(t, "manager reads another team's rep", err, codes.PermissionDenied)
	_, err = e.report.GetRepDay(e.as(acme, dwell.RoleManager, "ana"), &dwellv1.GetRepDayRequest{Rep: "reps/ghost", Date: date})
	wantCode(t, "manager reads a rep that does not exist", err, codes.PermissionDenied)
	_, err = e.report.GetRepDay(e.as(globex, dwell.RoleAdmin, "admin"), &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: date})
	wantCode(t, "another tenant", err, codes.NotFound)
	own, err := e.report.GetRepDay(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.GetRepDayRequest{Date: date})
	if err != nil || own.GetRep() != "reps/budi" || len(own.GetSegments()) != 0 || own.GetTimeZone() != "Asia/Jakarta" {
		t.Fatalf("rep reads its own empty day = %v, %v", own, err)
	}
	if _, err := e.report.GetRepDay(e.as(acme, dwell.RoleManager, "ana"), &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: date}); err != nil {
		t.Fatalf("manager reads its rep's day: %v", err)
	}
	for _, bad := range []*dwellv1.Date{nil, {Year: 2026, Month: 2, Day: 30}, {Year: 2026, Month: 13, Day: 1}} {
		_, err = e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: bad})
		wantViolation(t, fmt.Sprintf("date %v", bad), err, "date")
	}
}
