package server_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestKpisOneOutcomePerMeeting: KPI 6 counts meetings with an outcome,
// not check-outs. A verified check-in at A and an hour of fixes there
// (one visit), a check-out REJECTED, the same tapped again 2 s later
// under a new request id, and a check-out REJECTED at B, where the rep
// never was: one meeting with an outcome, rejected, and one check-out of
// no meeting (it was 3 meetings and 3 rejections), whether GetKpis
// derives the day or reads its stored summary.
func TestKpisOneOutcomePerMeeting(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "ida", "")
	A := dwell.LatLng{Lat: -6.2, Lng: 106.8}
	e.mustCreateClient(admin, "a", A.Lat, A.Lng, 40)
	e.mustCreateClient(admin, "b", -6.3, 106.9, 40)
	rep := e.as(acme, dwell.RoleRep, "ida")
	now := e.now() // 17:00 WIB
	var fs []dwell.Fix
	for m := -60; m <= 0; m++ {
		fs = append(fs, dwell.Fix{ID: fmt.Sprintf("f%d", m+60), Time: now.Add(time.Duration(m) * time.Minute), Pos: A, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1})
	}
	e.upload(t, rep, fs)
	ciTime := now.Add(-55 * time.Minute)
	if _, err := e.ingest.CheckIn(rep, &dwellv1.CheckInRequest{RequestId: "ci-1", Client: "clients/a", CheckInTime: timestamppb.New(ciTime),
		Fix: &dwellv1.Fix{DeviceTime: timestamppb.New(ciTime), Position: &dwellv1.LatLng{Lat: A.Lat, Lng: A.Lng}, AccuracyMeters: 10}}); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		client string
		at     time.Duration
	}{
		{"clients/a", -5 * time.Minute},
		{"clients/a", -5*time.Minute + 2*time.Second}, // a double tap
		{"clients/b", -2 * time.Minute},               // never there
	} {
		if _, err := e.ingest.CheckOut(rep, &dwellv1.CheckOutRequest{RequestId: fmt.Sprintf("co-%d", i), Client: c.client,
			CheckOutTime: timestamppb.New(now.Add(c.at)), Outcome: dwellv1.Outcome_OUTCOME_REJECTED, RejectionReason: dwellv1.RejectionReason_REJECTION_REASON_PRICE}); err != nil {
			t.Fatal(err)
		}
	}
	d := &dwellv1.Date{Year: 2026, Month: 11, Day: 20}
	day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
	if err != nil {
		t.Fatal(err)
	}
	if len(day.GetVisits()) != 1 {
		t.Fatalf("%d visits, want the one at A", len(day.GetVisits()))
	}
	for _, when := range []string{"derived", "from the stored summary"} {
		if when != "derived" {
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		k, err := e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: d, EndDate: d})
		if err != nil {
			t.Fatal(err)
		}
		rj := k.GetRejection()
		if rj.GetMeetingsWithOutcome() != 1 || rj.GetRejections() != 1 || rj.GetCheckOutsWithoutMeeting() != 1 || rj.GetRate() != 1 ||
			len(rj.GetReasons()) != 1 || rj.GetReasons()[0].GetCount() != 1 || rj.GetBasis().GetRecords() != 1 {
			t.Errorf("%s: KPI 6 %v; want 1 meeting with an outcome, 1 rejection (price), 1 check-out of no meeting", when, rj)
		}
	}
}
