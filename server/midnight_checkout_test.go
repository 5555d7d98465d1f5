package server_test

import (
	"context"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// midnightFixture is a UTC rep at client site from 23:00 on 18 November
// to 00:40 on the 19th, who then drives away: a meeting across the rep's
// midnight, checked in at 23:05 (verified) and checked out at 00:35 the
// next day, REJECTED for its price.
type midnightFixture struct {
	e            *env
	admin, night context.Context
}

var midnightSite = dwell.LatLng{Lat: -6.2, Lng: 106.8}

func newMidnightFixture(t *testing.T) *midnightFixture {
	t.Helper()
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateClient(admin, "site", midnightSite.Lat, midnightSite.Lng, 50)
	e.mustCreateClient(admin, "other", midnightSite.Lat, midnightSite.Lng+0.05, 50)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "night", Rep: &dwellv1.Rep{DisplayName: "Rep night", TimeZone: "UTC"}}); err != nil {
		t.Fatalf("CreateRep: %v", err)
	}
	return &midnightFixture{e: e, admin: admin, night: e.as(acme, dwell.RoleRep, "night")}
}

// uploadStay uploads the fixes: the drive to the site from 22:40, the
// stay from 23:00 to 00:40, the drive 12 km east from there until 01:00.
func (f *midnightFixture) uploadStay(t *testing.T) {
	t.Helper()
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	away := dwell.LatLng{Lat: midnightSite.Lat, Lng: midnightSite.Lng + 12000/(111320*math.Cos(midnightSite.Lat*math.Pi/180))}
	fixes := driveFixes("in", midnightSite, at(18, 22, 40), at(18, 23, 0))
	fixes = append(fixes, stillFixes("at", midnightSite, at(18, 23, 0), at(19, 0, 40))...)
	fixes = append(fixes, driveFixes("out", away, at(19, 0, 40), at(19, 1, 0))[1:]...)
	f.e.upload(t, f.night, fixes)
}

// checkIn checks in at the site at 23:05 on the 18th.
func (f *midnightFixture) checkIn(t *testing.T) {
	t.Helper()
	ts := time.Date(2026, 11, 18, 23, 5, 0, 0, time.UTC)
	if _, err := f.e.ingest.CheckIn(f.night, &dwellv1.CheckInRequest{RequestId: "ci-1", Client: "clients/site", CheckInTime: timestamppb.New(ts),
		Fix: pbFix(dwell.Fix{ID: "ci-fix", Time: ts, Pos: midnightSite, AccuracyM: 10, SpeedMPS: 0, BearingDeg: -1})}); err != nil {
		t.Fatalf("CheckIn: %v", err)
	}
}

// checkOut checks out of client at 00:35 on the 19th, REJECTED for its
// price.
func (f *midnightFixture) checkOut(t *testing.T, client string) {
	t.Helper()
	ts := time.Date(2026, 11, 19, 0, 35, 0, 0, time.UTC)
	if _, err := f.e.ingest.CheckOut(f.night, &dwellv1.CheckOutRequest{RequestId: "co-1", Client: "clients/" + client, CheckOutTime: timestamppb.New(ts),
		Fix:     pbFix(dwell.Fix{ID: "co-fix", Time: ts, Pos: midnightSite, AccuracyM: 10, SpeedMPS: 0, BearingDeg: -1}),
		Outcome: dwellv1.Outcome_OUTCOME_REJECTED, RejectionReason: dwellv1.RejectionReason_REJECTION_REASON_PRICE}); err != nil {
		t.Fatalf("CheckOut: %v", err)
	}
}

func (f *midnightFixture) refresh(t *testing.T) {
	t.Helper()
	if err := f.e.srv.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
}

// checkClosed checks every report of the meeting: GetRepDay of the 18th
// counts no forgotten check-out and its visit (the check-in's) carries
// REJECTED; ListVisits over both days has exactly one REJECTED visit, the
// 18th's; KPI 6 counts the one rejection (price), as many as ListVisits
// shows.
func (f *midnightFixture) checkClosed(t *testing.T, when string) {
	t.Helper()
	e := f.e
	day, err := e.report.GetRepDay(f.admin, &dwellv1.GetRepDayRequest{Rep: "reps/night", Date: pbDate(2026, 11, 18)})
	if err != nil {
		t.Fatalf("%s: GetRepDay: %v", when, err)
	}
	if n := day.GetFlags().GetForgottenCheckOuts(); n != 0 {
		t.Errorf("%s: GetRepDay of the 18th counts %d forgotten check-outs, want 0: the rep checked out at 00:35", when, n)
	}
	if vs := day.GetVisits(); len(vs) != 1 || vs[0].GetOutcome() != dwellv1.Outcome_OUTCOME_REJECTED || vs[0].GetSource() != dwellv1.VisitSource_VISIT_SOURCE_BOTH {
		t.Errorf("%s: GetRepDay of the 18th has visits %v, want one (BOTH) carrying REJECTED", when, vs)
	}
	lv, err := e.report.ListVisits(f.admin, &dwellv1.ListVisitsRequest{Rep: "reps/night", StartDate: pbDate(2026, 11, 18), EndDate: pbDate(2026, 11, 19)})
	if err != nil {
		t.Fatalf("%s: ListVisits: %v", when, err)
	}
	rejected := 0
	for _, v := range lv.GetVisits() {
		if v.GetOutcome() == dwellv1.Outcome_OUTCOME_REJECTED {
			rejected++
			if d := v.GetDate(); d.GetDay() != 18 {
				t.Errorf("%s: ListVisits gives REJECTED to the visit of day %v, want the 18th's (the check-in's)", when, d)
			}
		}
	}
	if rejected != 1 {
		t.Errorf("%s: ListVisits has %d REJECTED visits, want 1: %v", when, rejected, lv.GetVisits())
	}
	k, err := e.report.GetKpis(f.admin, &dwellv1.GetKpisRequest{Rep: "reps/night", StartDate: pbDate(2026, 11, 18), EndDate: pbDate(2026, 11, 19)})
	if err != nil {
		t.Fatalf("%s: GetKpis: %v", when, err)
	}
	rj := k.GetRejection()
	if rj.GetRejections() != int32(rejected) || rj.GetMeetingsWithOutcome() != 1 || len(rj.GetReasons()) != 1 ||
		rj.GetReasons()[0].GetReason() != dwellv1.RejectionReason_REJECTION_REASON_PRICE {
		t.Errorf("%s: KPI 6 %v, want 1 rejection (price) of 1 meeting with an outcome, as ListVisits shows", when, rj)
	}
	// One meeting across midnight: ListVisits shows its part of each day,
	// the KPIs that count meetings count it once, its length the sum.
	var total float64
	for _, v := range lv.GetVisits() {
		total += v.GetEndTime().AsTime().Sub(v.GetStartTime().AsTime()).Seconds()
	}
	vt := k.GetVisitTime()
	if len(lv.GetVisits()) != 2 || vt.GetBasis().GetRecords() != 1 || math.Abs(vt.GetProspectMeanSeconds()-total) > 2 ||
		math.Abs(vt.GetNotWonMeanSeconds()-total) > 2 || vt.GetDurationHistogram()[4] != 1 {
		t.Errorf("%s: ListVisits has %d visits (%v s); KPI 2 %v: want the two parts one meeting of their summed length", when, len(lv.GetVisits()), total, vt)
	}
	if m := k.GetMeetings(); m.GetVerifiedVisitsPerDay() != 0.5 {
		t.Errorf("%s: KPI 3 %v, want one verified visit over two field days", when, m)
	}
}

// TestCheckOutAfterMidnightClosesCheckIn: the check-out made after the
// rep's midnight closes the check-in of the day before, whether it is
// uploaded before that day is derived or after (the store then marks the
// day before the check-out's for derivation).
func TestCheckOutAfterMidnightClosesCheckIn(t *testing.T) {
	t.Run("uploaded before the day is derived", func(t *testing.T) {
		f := newMidnightFixture(t)
		f.uploadStay(t)
		f.checkIn(t)
		f.checkOut(t, "site")
		f.checkClosed(t, "before any refresh")
		f.refresh(t)
		f.checkClosed(t, "after the refresh")
	})
	t.Run("uploaded after the day is derived", func(t *testing.T) {
		f := newMidnightFixture(t)
		f.uploadStay(t)
		f.checkIn(t)
		f.refresh(t)
		day, err := f.e.report.GetRepDay(f.admin, &dwellv1.GetRepDayRequest{Rep: "reps/night", Date: pbDate(2026, 11, 18)})
		if err != nil {
			t.Fatal(err)
		}
		if n := day.GetFlags().GetForgottenCheckOuts(); n != 1 {
			t.Fatalf("before the check-out the 18th counts %d forgotten check-outs, want 1", n)
		}
		f.checkOut(t, "site")
		f.checkClosed(t, "before the refresh")
		f.refresh(t)
		f.checkClosed(t, "after the refresh")
	})
	t.Run("the check-in uploaded last", func(t *testing.T) {
		f := newMidnightFixture(t)
		f.uploadStay(t)
		f.checkOut(t, "site")
		f.refresh(t)
		f.checkIn(t)
		f.checkClosed(t, "before the refresh")
		f.refresh(t)
		f.checkClosed(t, "after the refresh")
	})
}

// TestCheckOutAfterMidnightOtherClient: a check-out of another client
// after midnight closes nothing of the day before: its check-in stays a
// forgotten check-out, and its visit has no outcome.
func TestCheckOutAfterMidnightOtherClient(t *testing.T) {
	f := newMidnightFixture(t)
	f.uploadStay(t)
	f.checkIn(t)
	f.refresh(t)
	f.checkOut(t, "other")
	f.refresh(t)
	day, err := f.e.report.GetRepDay(f.admin, &dwellv1.GetRepDayRequest{Rep: "reps/night", Date: pbDate(2026, 11, 18)})
	if err != nil {
		t.Fatal(err)
	}
	if n := day.GetFlags().GetForgottenCheckOuts(); n != 1 {
		t.Errorf("the 18th counts %d forgotten check-outs, want 1: the check-out after midnight is another client's", n)
	}
	lv, err := f.e.report.ListVisits(f.admin, &dwellv1.ListVisitsRequest{Rep: "reps/night", StartDate: pbDate(2026, 11, 18), EndDate: pbDate(2026, 11, 19)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range lv.GetVisits() {
		if v.GetOutcome() != dwellv1.Outcome_OUTCOME_UNSPECIFIED {
			t.Errorf("visit %v carries an outcome; the only check-out is another client's", v)
		}
	}
}
