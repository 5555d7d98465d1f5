package server_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// TestGetRepDayPastRetention: once a day's fixes expire, GetRepDay serves
// the day as it was derived while they were kept (its stored summary), the
// same the breakdown reports, instead of deriving what is left.
func TestGetRepDayPastRetention(t *testing.T) {
	e := newEnv(t)
	all := uploadSimDay(t, e)
	admin := e.admin(acme)
	e.setRetention(2)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	dayReq := &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: date}
	bdReq := &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-1"}, StartDate: date, EndDate: date}
	before, err := e.report.GetRepDay(admin, dayReq)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.GetVisits()) == 0 || before.GetPastRetention() {
		t.Fatalf("before: %d visits, past_retention %v; the test needs visits, inside the period", len(before.GetVisits()), before.GetPastRetention())
	}
	bd, err := e.report.GetTimeBreakdown(admin, bdReq)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(before.GetTotals(), bd.GetTotal()) {
		t.Fatalf("before: GetRepDay totals %v, breakdown %v", before.GetTotals(), bd.GetTotal())
	}

	// Three days on, the day (it began 18 November 17:00 UTC in Jakarta)
	// is past the two-day period and its fixes are swept.
	e.advance(3 * 24 * time.Hour)
	admin = e.admin(acme)
	e.sweepFixes(all)
	after, err := e.report.GetRepDay(admin, dayReq)
	if err != nil {
		t.Fatal(err)
	}
	want := proto.Clone(before).(*dwellv1.GetRepDayResponse)
	want.PastRetention = true
	if !proto.Equal(after, want) {
		t.Fatalf("after the sweep GetRepDay = %d segments, %d visits, totals %v, %d fixes; want the day as derived before: %d segments, %d visits, totals %v, %d fixes",
			len(after.GetSegments()), len(after.GetVisits()), after.GetTotals(), after.GetFixCount(),
			len(before.GetSegments()), len(before.GetVisits()), before.GetTotals(), before.GetFixCount())
	}
	bd2, err := e.report.GetTimeBreakdown(admin, bdReq)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(after.GetTotals(), bd2.GetTotal()) {
		t.Fatalf("after: GetRepDay totals %v, breakdown %v", after.GetTotals(), bd2.GetTotal())
	}
	// The expired fixes are not served.
	withFixes, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: date, IncludeFixes: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(withFixes.GetFixes()) != 0 || withFixes.GetFixCount() != before.GetFixCount() {
		t.Fatalf("include_fixes after the sweep: %d fixes served, fix_count %d; want none served, fix_count %d", len(withFixes.GetFixes()), withFixes.GetFixCount(), before.GetFixCount())
	}
	// A restart reads the same summary.
	e.restart()
	admin = e.admin(acme)
	if again, err := e.report.GetRepDay(admin, dayReq); err != nil || !proto.Equal(again, want) {
		t.Fatalf("after a restart GetRepDay = %v (err %v); want as before", again.GetTotals(), err)
	}
	// A day inside the period is still derived on request and not marked.
	today, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: protoDate(e.now())})
	if err != nil || today.GetPastRetention() {
		t.Fatalf("today: past_retention %v, err %v; want false", today.GetPastRetention(), err)
	}
}

// uploadSimDay uploads simDay's fixes of rep-1 (19 November, Jakarta) and
// returns how many there are.
func uploadSimDay(t *testing.T, e *env) int {
	t.Helper()
	_, day := simDay(t, e)
	rep1 := e.as(acme, dwell.RoleRep, "rep-1")
	var all []*dwellv1.Fix
	for _, f := range day.AllFixes() {
		all = append(all, pbFix(f))
	}
	for fs := all; len(fs) > 0; {
		n := min(len(fs), 1000)
		if _, err := e.ingest.UploadPings(rep1, &dwellv1.UploadPingsRequest{Fixes: fs[:n]}); err != nil {
			t.Fatalf("UploadPings: %v", err)
		}
		fs = fs[n:]
	}
	return len(all)
}

// TestRetentionRaisedAfterSweep: raising the retention period after fixes
// expired does not bring them back, and must not re-derive their days from
// what is left.
func TestRetentionRaisedAfterSweep(t *testing.T) {
	e := newEnv(t)
	all := uploadSimDay(t, e)
	admin := e.admin(acme)
	e.setRetention(2)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	bdReq := &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-1"}, StartDate: date, EndDate: date}
	before, err := e.report.GetTimeBreakdown(admin, bdReq)
	if err != nil {
		t.Fatal(err)
	}
	if before.GetTotal().GetVisitProspectSeconds()+before.GetTotal().GetVisitCustomerSeconds() == 0 {
		t.Fatalf("before: no visit time; the test needs some")
	}
	e.advance(3 * 24 * time.Hour)
	admin = e.admin(acme)
	e.sweepFixes(all)
	e.setRetention(365)
	// The longer period takes data that old again, but not for a day that
	// lost fixes: new data would have it derived without them. Days from
	// 22 November (Jakarta) began after the sweep's cut (21 November 10:00
	// UTC) and take data.
	rep1 := e.as(acme, dwell.RoleRep, "rep-1")
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 11, 19, 5, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC), false}, // 21 Nov 23:00 in Jakarta
		{time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC), true},  // 22 Nov 01:00
	} {
		fs := fixes("late-"+c.at.Format("0215"), 1, c.at)
		_, err := e.ingest.UploadPings(rep1, &dwellv1.UploadPingsRequest{Fixes: fs})
		ci := &dwellv1.CheckInRequest{RequestId: "ci-" + c.at.Format("0215"), Client: "clients/none", CheckInTime: fs[0].GetDeviceTime()}
		_, cerr := e.ingest.CheckIn(rep1, ci)
		if c.want {
			if err != nil {
				t.Fatalf("a fix at %v: %v; want it stored", c.at, err)
			}
			wantCode(t, "a check-in at "+c.at.String()+" for a client that does not exist", cerr, codes.NotFound)
			continue
		}
		wantViolation(t, "a fix at "+c.at.String(), err, "fixes[0].device_time")
		wantViolation(t, "a check-in at "+c.at.String(), cerr, "check_in_time")
	}
	wantSweptDayKept(t, e, "after raising the retention", bdReq, before)
}

// wantSweptDayKept refreshes the summaries and checks that the one-day
// breakdown bdReq still answers before and that GetRepDay serves the same
// totals from the stored summary (past_retention).
func wantSweptDayKept(t *testing.T, e *env, when string, bdReq *dwellv1.GetTimeBreakdownRequest, before *dwellv1.GetTimeBreakdownResponse) {
	t.Helper()
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin := e.admin(acme)
	after, err := e.report.GetTimeBreakdown(admin, bdReq)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(after, before) {
		t.Fatalf("breakdown %s = %v, want as before, %v", when, after.GetTotal(), before.GetTotal())
	}
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: bdReq.GetReps()[0], Date: bdReq.GetStartDate()})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(rd.GetTotals(), before.GetTotal()) || !rd.GetPastRetention() {
		t.Fatalf("GetRepDay %s: totals %v, past_retention %v; want %v, true", when, rd.GetTotals(), rd.GetPastRetention(), before.GetTotal())
	}
}

// TestResumeAfterSweepKeepsPrunedDay: a resume marks the days back to its
// pause for derivation again, but not a day that lost its fixes to
// retention since: derived from what is left, it would lose its visits in
// every report.
func TestResumeAfterSweepKeepsPrunedDay(t *testing.T) {
	e := newEnv(t)
	all := uploadSimDay(t, e)
	admin := e.admin(acme)
	rep1 := e.as(acme, dwell.RoleRep, "rep-1")
	e.setRetention(2)
	// The rep pauses at 23:00 in Jakarta, after the day's last fix, and
	// resumes only once the day is swept.
	pauseAt := time.Date(2026, 11, 19, 16, 0, 0, 0, time.UTC)
	if _, err := e.ingest.PauseTracking(rep1, &dwellv1.PauseTrackingRequest{RequestId: "pause-1", PauseTime: timestamppb.New(pauseAt)}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	bdReq := &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-1"}, StartDate: date, EndDate: date}
	before, err := e.report.GetTimeBreakdown(admin, bdReq)
	if err != nil {
		t.Fatal(err)
	}
	if before.GetTotal().GetVisitProspectSeconds()+before.GetTotal().GetVisitCustomerSeconds() == 0 || before.GetTotal().GetPausedSeconds() == 0 {
		t.Fatalf("before: totals %v; the test needs visit time and a pause", before.GetTotal())
	}
	e.advance(3 * 24 * time.Hour)
	rep1 = e.as(acme, dwell.RoleRep, "rep-1")
	e.sweepFixes(all)
	if _, err := e.ingest.ResumeTracking(rep1, &dwellv1.ResumeTrackingRequest{RequestId: "resume-1", ResumeTime: timestamppb.New(e.now())}); err != nil {
		t.Fatal(err)
	}
	wantSweptDayKept(t, e, "of the swept day after the resume", bdReq, before)
}

// TestGetRepDayAfterZoneChange: a day that lost nothing to retention is
// derived on request, also when its stored summary (cut in the rep's old
// time zone) counts more fixes than the day has in the new zone: it is not
// marked past_retention; and once the refresher has derived the rep's days
// in the new zone, the breakdown agrees.
func TestGetRepDayAfterZoneChange(t *testing.T) {
	e := newEnv(t)
	uploadSimDay(t, e)
	admin := e.admin(acme)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/rep-1", TimeZone: "America/Los_Angeles"}, UpdateMask: fieldMask("time_zone")}); err != nil {
		t.Fatal(err)
	}
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 19, 0, 0, 0, 0, la)
	stored, err := e.st.ListFixes(t.Context(), acme, "rep-1", from, from.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: date})
	if err != nil {
		t.Fatal(err)
	}
	if rd.GetPastRetention() || int(rd.GetFixCount()) != len(stored) {
		t.Fatalf("GetRepDay after a change of zone: past_retention %v, fix_count %d; want false, the %d fixes of the day in the new zone", rd.GetPastRetention(), rd.GetFixCount(), len(stored))
	}
	// The change derived the rep's recent days again in the new zone, so
	// the breakdown agrees with GetRepDay.
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	bd, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-1"}, StartDate: date, EndDate: date})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(bd.GetTotal(), rd.GetTotals()) {
		t.Fatalf("after a change of zone: breakdown %v, GetRepDay %v", bd.GetTotal(), rd.GetTotals())
	}
}

// TestRetentionRaisedAfterCheckInFixesCleared: a day whose only data is a
// check-in verified at the site and its check-out (no fix was uploaded)
// loses the check-in's fix to the sweep; raising the period afterwards
// must not derive the day again without it (the check-in would turn
// unverified), nor may new data for the day be taken.
func TestRetentionRaisedAfterCheckInFixesCleared(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "budi", "")
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 50)
	e.setRetention(2)
	rep := e.as(acme, dwell.RoleRep, "budi")
	fix := &dwellv1.Fix{DeviceTime: timestamppb.New(e.now()), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8001}, AccuracyMeters: 10}
	if ci, err := e.ingest.CheckIn(rep, &dwellv1.CheckInRequest{RequestId: "ci", Client: "clients/toko", CheckInTime: timestamppb.New(e.now()), Fix: fix}); err != nil || ci.GetVerification() != dwellv1.Verification_VERIFICATION_VERIFIED {
		t.Fatalf("CheckIn = %v, %v; want VERIFIED", ci, err)
	}
	e.advance(30 * time.Minute)
	fix = proto.Clone(fix).(*dwellv1.Fix)
	fix.DeviceTime = timestamppb.New(e.now())
	if _, err := e.ingest.CheckOut(rep, &dwellv1.CheckOutRequest{RequestId: "co", Client: "clients/toko", CheckOutTime: timestamppb.New(e.now()), Fix: fix, Outcome: dwellv1.Outcome_OUTCOME_POSITIVE}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	dayReq := &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: protoDate(e.now())}
	before, err := e.report.GetRepDay(admin, dayReq)
	if err != nil {
		t.Fatal(err)
	}
	if before.GetFlags().GetUnverifiedCheckIns() != 0 || before.GetPastRetention() {
		t.Fatalf("before: flags %v, past_retention %v; want a verified check-in, inside the period", before.GetFlags(), before.GetPastRetention())
	}
	e.advance(3 * 24 * time.Hour)
	if n, err := server.SweepRetentionActions(t.Context(), e.srv, e.now()); err != nil || n != 2 {
		t.Fatalf("sweep = %d check-ins and check-outs cleared, %v; want 2", n, err)
	}
	e.setRetention(365)
	want := proto.Clone(before).(*dwellv1.GetRepDayResponse)
	want.PastRetention = true
	wantDay := func(when string) {
		t.Helper()
		if err := e.srv.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		after, err := e.report.GetRepDay(e.admin(acme), dayReq)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(after, want) {
			t.Fatalf("GetRepDay %s: flags %v, past_retention %v; want as derived before, %v, true", when, after.GetFlags(), after.GetPastRetention(), want.GetFlags())
		}
	}
	wantDay("after raising the retention")
	// New data for the day would have it derived again: it is refused.
	_, err = e.ingest.LogCall(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.LogCallRequest{RequestId: "call", Client: "clients/toko", StartTime: timestamppb.New(e.now().Add(-3 * 24 * time.Hour)), TalkSeconds: 60})
	wantViolation(t, "a call on the swept day", err, "start_time")
	wantDay("after a refused call")
}

// TestMarkOverSweepKeepsPrunedDay: a day marked before a sweep and derived
// only after it (the refresher behind, a crash, data that raced the
// sweep) has lost its fixes meanwhile; derived from what is left it would
// lose its figures in every report. It keeps its summary: such a day can
// no longer change.
func TestMarkOverSweepKeepsPrunedDay(t *testing.T) {
	e := newEnv(t)
	uploadSimDay(t, e)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	bdReq := &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-1"}, StartDate: date, EndDate: date}
	before, err := e.report.GetTimeBreakdown(e.admin(acme), bdReq)
	if err != nil {
		t.Fatal(err)
	}
	if before.GetTotal().GetVisitProspectSeconds()+before.GetTotal().GetVisitCustomerSeconds() == 0 {
		t.Fatalf("before: totals %v; the test needs visit time", before.GetTotal())
	}
	// With the server down, a call marks the day, then the day's fixes
	// are pruned (the day ends at 17:00 UTC in Jakarta).
	e.stop()
	st := e.openStore()
	if _, _, err := st.RecordCall(t.Context(), acme, dwell.Call{RequestID: "late-call", Rep: "rep-1", Client: "c1", StartTime: time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC), TalkSeconds: 30}); err != nil {
		t.Fatal(err)
	}
	if n, _, err := st.PruneFixes(t.Context(), acme, "rep-1", time.Date(2026, 11, 19, 18, 0, 0, 0, time.UTC), 100000); err != nil || n == 0 {
		t.Fatalf("PruneFixes = %d, %v", n, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	e.start()
	wantSweptDayKept(t, e, "derived after the sweep", bdReq, before)
	// A report that finds the day stale (the refresher not done yet) reads
	// the same summary rather than deriving what is left.
	tot, err := server.SummarizeDay(t.Context(), e.srv, acme, "rep-1", dwell.Date{Year: 2026, Month: 11, Day: 19})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tot.VisitProspectS+tot.VisitCustomerS, before.GetTotal().GetVisitProspectSeconds()+before.GetTotal().GetVisitCustomerSeconds(); got != want {
		t.Fatalf("the day summarised inline: %d s of visits, want %d as stored", got, want)
	}
	// So does GetRepDay while the day is marked again (a write straight to
	// the store wakes no refresher; its poll may still come first, and
	// then the summary is current and served all the same).
	if _, _, err := e.st.RecordCall(t.Context(), acme, dwell.Call{RequestID: "later-call", Rep: "rep-1", Client: "c1", StartTime: time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC), TalkSeconds: 30}); err != nil {
		t.Fatal(err)
	}
	rd, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: date})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(rd.GetTotals(), before.GetTotal()) || !rd.GetPastRetention() {
		t.Fatalf("GetRepDay of the marked day: totals %v, past_retention %v; want %v, true", rd.GetTotals(), rd.GetPastRetention(), before.GetTotal())
	}
}

// setRetention sets the tenant's retention period to days, as its admin.
func (e *env) setRetention(days int32) {
	e.t.Helper()
	if _, err := e.dirc.UpdateSettings(e.admin(acme), &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{RetentionDays: days}, UpdateMask: fieldMask("retention_days")}); err != nil {
		e.t.Fatal(err)
	}
}

// sweepFixes runs the retention sweeper at the server's clock and fails
// unless it deletes want fixes.
func (e *env) sweepFixes(want int) {
	e.t.Helper()
	if n, _, err := server.SweepRetention(e.t.Context(), e.srv, e.now()); err != nil || n != want {
		e.t.Fatalf("sweep = %d fixes, %v; want %d", n, err, want)
	}
}
