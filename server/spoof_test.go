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

// eastOf returns the point m metres east of p.
func eastOf(p dwell.LatLng, m float64) dwell.LatLng {
	return dwell.LatLng{Lat: p.Lat, Lng: p.Lng + m/(111195*math.Cos(p.Lat*math.Pi/180))}
}

// TestCheckInStaleFix: over the wire, every fix of the phone is 5 km from
// client A; the rep checks in at A with a fix at A dated 90 min before the
// check-in and checks out 40 min later. Before, CheckIn answered VERIFIED
// and GetRepDay showed a 45-minute VERIFIED visit to A: the fix was judged
// at its own time, when no fix of the rep condemned it. A fix dated more
// than timeline.MaxFixAge (10 min) from the check-in is STALE_FIX, at
// once and in the day, and claims no visit; the fix the app had, a minute
// old, at the site, still verifies.
func TestCheckInStaleFix(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "ida", "")
	A := dwell.LatLng{Lat: -6.2, Lng: 106.8}
	e.mustCreateClient(admin, "a", A.Lat, A.Lng, 40)
	rep := e.as(acme, dwell.RoleRep, "ida")
	now := e.now() // 17:00 WIB
	e.upload(t, rep, stillFixes("far", eastOf(A, 5000), now.Add(-60*time.Minute), now))
	ciTime := now.Add(-50 * time.Minute)
	resp, err := e.ingest.CheckIn(rep, &dwellv1.CheckInRequest{RequestId: "ci-1", Client: "clients/a", CheckInTime: timestamppb.New(ciTime),
		Fix: &dwellv1.Fix{DeviceTime: timestamppb.New(ciTime.Add(-90 * time.Minute)), Position: &dwellv1.LatLng{Lat: A.Lat, Lng: A.Lng}, AccuracyMeters: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetVerification() != dwellv1.Verification_VERIFICATION_STALE_FIX || resp.GetDistanceMeters() != 0 {
		t.Errorf("CheckIn with a fix 90 min old = %v, %v m; want STALE_FIX, 0 m", resp.GetVerification(), resp.GetDistanceMeters())
	}
	if _, err := e.ingest.CheckOut(rep, &dwellv1.CheckOutRequest{RequestId: "co-1", Client: "clients/a", CheckOutTime: timestamppb.New(ciTime.Add(40 * time.Minute)),
		Outcome: dwellv1.Outcome_OUTCOME_POSITIVE}); err != nil {
		t.Fatal(err)
	}
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 20}
	day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: date})
	if err != nil {
		t.Fatal(err)
	}
	if visitS := day.GetTotals().GetVisitProspectSeconds() + day.GetTotals().GetVisitCustomerSeconds(); len(day.GetVisits()) != 0 || visitS != 0 {
		t.Errorf("day: %d visits, %d s of visit; want none, every fix 5 km from A and the check-in's fix 90 min old", len(day.GetVisits()), visitS)
	}
	if got := day.GetFlags().GetUnverifiedCheckIns(); got != 1 {
		t.Errorf("unverified check-ins %d, want 1", got)
	}
	// ListVisits takes the new verdict as a filter.
	if _, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: date, EndDate: date,
		Verification: dwellv1.Verification_VERIFICATION_STALE_FIX}); err != nil {
		t.Errorf("ListVisits filtered on STALE_FIX: %v", err)
	}

	// What the app sends: the fix it had, a minute old, at the site.
	e.mustCreateRep(admin, "budi", "")
	budi := e.as(acme, dwell.RoleRep, "budi")
	e.upload(t, budi, stillFixes("at-a", A, now.Add(-60*time.Minute), now))
	ok, err := e.ingest.CheckIn(budi, &dwellv1.CheckInRequest{RequestId: "ci-2", Client: "clients/a", CheckInTime: timestamppb.New(ciTime),
		Fix: &dwellv1.Fix{DeviceTime: timestamppb.New(ciTime.Add(-time.Minute)), Position: &dwellv1.LatLng{Lat: A.Lat, Lng: A.Lng}, AccuracyMeters: 10}})
	if err != nil || ok.GetVerification() != dwellv1.Verification_VERIFICATION_VERIFIED {
		t.Fatalf("CheckIn with a fix a minute old at the site = %v, %v; want VERIFIED", ok.GetVerification(), err)
	}
	bd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: date})
	if err != nil {
		t.Fatal(err)
	}
	if v := bd.GetVisits(); len(v) != 1 || v[0].GetVerification() != dwellv1.Verification_VERIFICATION_VERIFIED {
		t.Errorf("budi's visits %v, want one, VERIFIED", v)
	}
}

// TestCheckInSpoofedFixNamesNoSite: over the wire, a rep stays 40 min at a
// shop (a circle of 12 m) inside a mall (150 m), its indoor fixes 25 m
// accurate, and checks in at the mall
// a minute in with a fix 40 km away, the OS flag unset. The rep's fixes
// make it a mock location (impossible speed), which DESIGN says is never
// evidence of a visit. Before, the check-in named the stop for the mall
// (a visit to the mall, source BOTH, verification MOCK_LOCATION); the
// fixes alone, or the same check-in with the OS flag, give the shop.
func TestCheckInSpoofedFixNamesNoSite(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "ida", "")
	mall := dwell.LatLng{Lat: -6.2, Lng: 106.8}
	shop := eastOf(mall, -30)
	e.mustCreateClient(admin, "mall", mall.Lat, mall.Lng, 150)
	e.mustCreateClient(admin, "shop", shop.Lat, shop.Lng, 12)
	rep := e.as(acme, dwell.RoleRep, "ida")
	now := e.now() // 17:00 WIB
	// The drive in (10 m/s), then 40 min at the shop, then the drive out
	// west.
	start := now.Add(-70 * time.Minute)
	fs := driveFixes("in", shop, start, start.Add(10*time.Minute))
	// Indoors: 25 m accuracy, so the fixes alone cannot rule the mall out.
	for _, f := range stillFixes("shop", shop, start.Add(10*time.Minute), start.Add(50*time.Minute)) {
		f.AccuracyM = 25
		fs = append(fs, f)
	}
	for k := range 20 {
		fs = append(fs, dwell.Fix{ID: fmt.Sprintf("out-%02d", k), Time: start.Add(50*time.Minute + time.Duration(k+1)*30*time.Second),
			Pos: eastOf(shop, -300*float64(k+1)), AccuracyM: 10, SpeedMPS: 10, BearingDeg: 270})
	}
	e.upload(t, rep, fs)
	far := eastOf(mall, 40000)
	ciTime := start.Add(11 * time.Minute)
	resp, err := e.ingest.CheckIn(rep, &dwellv1.CheckInRequest{RequestId: "ci-1", Client: "clients/mall", CheckInTime: timestamppb.New(ciTime),
		Fix: &dwellv1.Fix{DeviceTime: timestamppb.New(ciTime), Position: &dwellv1.LatLng{Lat: far.Lat, Lng: far.Lng}, AccuracyMeters: 10}})
	if err != nil {
		t.Fatal(err)
	}
	// At once the server has only the fix: 40 km from the mall.
	if resp.GetVerification() != dwellv1.Verification_VERIFICATION_OUTSIDE_GEOFENCE {
		t.Errorf("CheckIn 40 km away = %v, want OUTSIDE_GEOFENCE", resp.GetVerification())
	}
	day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 20}})
	if err != nil {
		t.Fatal(err)
	}
	v := day.GetVisits()
	if len(v) != 1 || v[0].GetClient() != "clients/shop" || v[0].GetSource() != dwellv1.VisitSource_VISIT_SOURCE_GEOFENCE {
		t.Fatalf("visits %v, want one to clients/shop from the geofence alone", v)
	}
	if d := v[0].GetEndTime().AsTime().Sub(v[0].GetStartTime().AsTime()); d < 38*time.Minute || d > 42*time.Minute {
		t.Errorf("visit to the shop lasts %v, want about 40 min", d)
	}
	if got := day.GetFlags().GetUnverifiedCheckIns(); got != 1 {
		t.Errorf("unverified check-ins %d, want 1 (the spoofed check-in)", got)
	}
}

// TestCheckInFixAcquiredAfterTap: over the wire, a rep drives due east at
// 20 m/s (a fix every 30 s) to client A, arriving at 16:00, and stays 40
// min; it taps check-in at 15:59:20, 800 m out, and the app sends the fix
// it acquired a minute later, at A. CheckIn answers VERIFIED. Before, the
// rep's day judged that fix only against the rep's fixes around the tap,
// which cannot reach A: MOCK_LOCATION, an unverified check-in and a visit
// marked as made with a mock location (BOTH, MOCK_LOCATION). A fix
// acquired after the tap is judged against the fixes around its own time
// too, which put the rep at A: the day agrees with CheckIn.
func TestCheckInFixAcquiredAfterTap(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "ida", "")
	A := dwell.LatLng{Lat: -6.2, Lng: 106.8}
	e.mustCreateClient(admin, "a", A.Lat, A.Lng, 20)
	rep := e.as(acme, dwell.RoleRep, "ida")
	arrive := e.now().Add(-60 * time.Minute) // 16:00 WIB
	var fs []dwell.Fix
	for k := 10; k > 0; k-- {
		fs = append(fs, dwell.Fix{ID: fmt.Sprintf("in-%02d", k), Time: arrive.Add(-time.Duration(k) * 30 * time.Second),
			Pos: eastOf(A, -600*float64(k)), AccuracyM: 8, SpeedMPS: 20, BearingDeg: 90})
	}
	fs = append(fs, stillFixes("at-a", A, arrive, arrive.Add(40*time.Minute))...)
	e.upload(t, rep, fs)
	ciTime := arrive.Add(-40 * time.Second)
	resp, err := e.ingest.CheckIn(rep, &dwellv1.CheckInRequest{RequestId: "ci-1", Client: "clients/a", CheckInTime: timestamppb.New(ciTime),
		Fix: &dwellv1.Fix{DeviceTime: timestamppb.New(arrive.Add(20 * time.Second)), Position: &dwellv1.LatLng{Lat: A.Lat, Lng: A.Lng}, AccuracyMeters: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetVerification() != dwellv1.Verification_VERIFICATION_VERIFIED {
		t.Errorf("CheckIn = %v, want VERIFIED", resp.GetVerification())
	}
	if _, err := e.ingest.CheckOut(rep, &dwellv1.CheckOutRequest{RequestId: "co-1", Client: "clients/a", CheckOutTime: timestamppb.New(arrive.Add(39 * time.Minute)),
		Outcome: dwellv1.Outcome_OUTCOME_POSITIVE}); err != nil {
		t.Fatal(err)
	}
	day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 20}})
	if err != nil {
		t.Fatal(err)
	}
	if v := day.GetVisits(); len(v) != 1 || v[0].GetClient() != "clients/a" || v[0].GetVerification() != dwellv1.Verification_VERIFICATION_VERIFIED ||
		v[0].GetSource() != dwellv1.VisitSource_VISIT_SOURCE_BOTH {
		t.Errorf("visits %v, want one to clients/a, VERIFIED, from the check-in and the fixes", v)
	}
	if got := day.GetFlags().GetUnverifiedCheckIns(); got != 0 {
		t.Errorf("unverified check-ins %d, want 0", got)
	}
}
