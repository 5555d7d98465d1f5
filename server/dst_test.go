package server_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestMidnightClockJump: where daylight saving starts at midnight
// (Santiago, 6 September 2026: 00:00 becomes 01:00), 5 September ends and
// 6 September begins at the jump. A call at 23:30 on the 5th counts on
// the 5th, once, in the KPIs and the rep's day; none counts on the 6th.
func TestMidnightClockJump(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "ana", Rep: &dwellv1.Rep{DisplayName: "Ana", TimeZone: "America/Santiago"}}); err != nil {
		t.Fatal(err)
	}
	e.mustCreateClient(admin, "toko", -33.45, -70.66, 50)
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 9, 5, 23, 30, 0, 0, santiago)
	ana := e.as(acme, dwell.RoleRep, "ana")
	if _, err := e.ingest.LogCall(ana, &dwellv1.LogCallRequest{RequestId: "call-1", Client: "clients/toko", StartTime: timestamppb.New(at), TalkSeconds: 60,
		Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_CONNECTED}); err != nil {
		t.Fatal(err)
	}
	// A fix a minute after the call, so that the rep's day has a span.
	if _, err := e.ingest.UploadPings(ana, &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{{
		Id: "f1", DeviceTime: timestamppb.New(at.Add(time.Minute)), Position: &dwellv1.LatLng{Lat: -33.45, Lng: -70.66}, AccuracyMeters: 10,
	}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from, to  int // days of September
		wantCalls int32
	}{{5, 5, 1}, {6, 6, 0}, {5, 6, 1}, {4, 5, 1}} {
		k, err := e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ana", StartDate: pbDate(2026, 9, c.from), EndDate: pbDate(2026, 9, c.to)})
		if err != nil {
			t.Fatal(err)
		}
		if got := k.GetCalls().GetCalls(); got != c.wantCalls {
			t.Fatalf("GetKpis 5-6 September [%d, %d]: %d calls, want %d", c.from, c.to, got, c.wantCalls)
		}
	}
	for _, c := range []struct {
		day       int
		wantFixes int32
	}{{5, 1}, {6, 0}} {
		d, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ana", Date: pbDate(2026, 9, c.day)})
		if err != nil {
			t.Fatal(err)
		}
		if d.GetFixCount() != c.wantFixes {
			t.Fatalf("GetRepDay %d September: %d fixes, want %d", c.day, d.GetFixCount(), c.wantFixes)
		}
	}
}

// TestMidnightClockJumpPaused: a pause from the evening of 5 September to
// the morning of the 7th in Santiago pauses the whole 6th, which lasts 23
// hours (it begins at the jump, 01:00), in GetRepDay and the breakdown.
func TestMidnightClockJumpPaused(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "bea", Rep: &dwellv1.Rep{DisplayName: "Bea", TimeZone: "America/Santiago"}}); err != nil {
		t.Fatal(err)
	}
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	bea := e.as(acme, dwell.RoleRep, "bea")
	if _, err := e.ingest.PauseTracking(bea, &dwellv1.PauseTrackingRequest{RequestId: "pause", PauseTime: timestamppb.New(time.Date(2026, 9, 5, 20, 0, 0, 0, santiago))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.ResumeTracking(bea, &dwellv1.ResumeTrackingRequest{RequestId: "resume", ResumeTime: timestamppb.New(time.Date(2026, 9, 7, 8, 0, 0, 0, santiago))}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The 5th is paused from 20:00 to its end at the jump: 4 hours.
	for _, c := range []struct{ day, want int64 }{{5, 4 * 3600}, {6, 23 * 3600}} {
		date := pbDate(2026, 9, int(c.day))
		d, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/bea", Date: date})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.GetTotals().GetPausedSeconds(); got != c.want {
			t.Fatalf("GetRepDay %d September: paused_seconds %d, want %d", c.day, got, c.want)
		}
		bd, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/bea"}, StartDate: date, EndDate: date})
		if err != nil {
			t.Fatal(err)
		}
		if got := bd.GetTotal().GetPausedSeconds(); got != c.want {
			t.Fatalf("breakdown %d September: paused_seconds %d, want %d", c.day, got, c.want)
		}
	}
}

// TestMidnightClockJumpWorkingHours: working hours that end at 24:00 on 5
// September in Santiago end at the jump (the day's end), not an hour
// before it: the evening's fixes, taken in working hours, make the day.
func TestMidnightClockJumpWorkingHours(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "cata", Rep: &dwellv1.Rep{DisplayName: "Cata", TimeZone: "America/Santiago",
		WorkingHours: []*dwellv1.WorkingHours{{DayOfWeek: int32(time.Saturday), StartMinute: 20 * 60, EndMinute: 24 * 60}}}}); err != nil {
		t.Fatal(err)
	}
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	var fixes []*dwellv1.Fix
	for i, m := range []int{10, 40} {
		at := time.Date(2026, 9, 5, 23, m, 0, 0, santiago)
		fixes = append(fixes, &dwellv1.Fix{Id: fmt.Sprintf("f%d", i), DeviceTime: timestamppb.New(at), Position: &dwellv1.LatLng{Lat: -33.45, Lng: -70.66}, AccuracyMeters: 10})
	}
	if resp, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "cata"), &dwellv1.UploadPingsRequest{Fixes: fixes}); err != nil || len(resp.GetAck().GetResults()) != 2 {
		t.Fatalf("UploadPings = %v, %v", resp, err)
	}
	d, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/cata", Date: pbDate(2026, 9, 5)})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetFixCount() != 2 || len(d.GetSegments()) == 0 || !d.GetSegments()[0].GetStartTime().AsTime().Equal(fixes[0].GetDeviceTime().AsTime()) {
		t.Fatalf("GetRepDay 5 September: %d fixes, segments %v; want 2, from the first fix on", d.GetFixCount(), d.GetSegments())
	}
}
