package server_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestPauseTracking pauses a rep's simulated day over the real API: the
// paused hour is PAUSED in GetRepDay and in the breakdown, whatever fixes
// were sent for it; a pause resumed two days later pauses the day between
// whole; retries are harmless and bad requests are refused.
func TestPauseTracking(t *testing.T) {
	e := newEnv(t)
	_, day := simDay(t, e)
	rep := e.as(acme, dwell.RoleRep, "rep-1")
	var all []*dwellv1.Fix
	for _, f := range day.AllFixes() {
		all = append(all, pbFix(f))
	}
	for len(all) > 0 {
		n := min(len(all), 1000)
		if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: all[:n]}); err != nil {
			t.Fatal(err)
		}
		all = all[n:]
	}
	admin := e.admin(acme)
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	dayReq := &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: date}
	before, err := e.report.GetRepDay(admin, dayReq)
	if err != nil {
		t.Fatal(err)
	}
	start, end := before.GetSegments()[0].GetStartTime().AsTime(), before.GetSegments()[len(before.GetSegments())-1].GetEndTime().AsTime()
	pauseAt := start.Add(end.Sub(start) / 2).Truncate(time.Second)
	resumeAt := pauseAt.Add(time.Hour)

	pause := &dwellv1.PauseTrackingRequest{RequestId: "pause-1", PauseTime: timestamppb.New(pauseAt)}
	first, err := e.ingest.PauseTracking(rep, pause)
	if err != nil {
		t.Fatalf("PauseTracking: %v", err)
	}
	again, err := e.ingest.PauseTracking(rep, pause)
	if err != nil || !again.GetReceiveTime().AsTime().Equal(first.GetReceiveTime().AsTime()) {
		t.Fatalf("PauseTracking retried = %v, %v; want the first receive time", again, err)
	}
	config := func() *dwellv1.GetTrackingConfigResponse {
		t.Helper()
		c, err := e.ingest.GetTrackingConfig(rep, &dwellv1.GetTrackingConfigRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := config(); !c.GetPaused() || c.GetTrackingEnabled() {
		t.Fatalf("tracking config while paused: paused %v, enabled %v; want paused and not enabled", c.GetPaused(), c.GetTrackingEnabled())
	}
	if _, err := e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "resume-1", ResumeTime: timestamppb.New(resumeAt)}); err != nil {
		t.Fatalf("ResumeTracking: %v", err)
	}
	if c := config(); c.GetPaused() || !c.GetTrackingEnabled() {
		t.Fatalf("tracking config after the resume: paused %v, enabled %v; want enabled", c.GetPaused(), c.GetTrackingEnabled())
	}
	after, err := e.report.GetRepDay(admin, dayReq)
	if err != nil {
		t.Fatal(err)
	}
	var paused []*dwellv1.Segment
	for _, s := range after.GetSegments() {
		if s.GetKind() == dwellv1.SegmentKind_SEGMENT_KIND_PAUSED {
			paused = append(paused, s)
			continue
		}
		if s.GetStartTime().AsTime().Before(resumeAt) && pauseAt.Before(s.GetEndTime().AsTime()) {
			t.Errorf("%v segment %v..%v overlaps the pause", s.GetKind(), s.GetStartTime().AsTime(), s.GetEndTime().AsTime())
		}
	}
	if len(paused) != 1 || !paused[0].GetStartTime().AsTime().Equal(pauseAt) || !paused[0].GetEndTime().AsTime().Equal(resumeAt) {
		t.Fatalf("paused segments %v, want one from %v to %v", paused, pauseAt, resumeAt)
	}
	if got := after.GetTotals().GetPausedSeconds(); got != 3600 {
		t.Fatalf("GetRepDay paused_seconds = %d, want 3600", got)
	}
	// The fixes the phone sent for the paused hour are not shown; all
	// the others are.
	inPause := 0
	for _, f := range day.AllFixes() {
		if !f.Time.Before(pauseAt) && f.Time.Before(resumeAt) {
			inPause++
		}
	}
	wantUnpausedFixes := func(past bool) {
		t.Helper()
		withFixes, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: date, IncludeFixes: true})
		if err != nil {
			t.Fatal(err)
		}
		if withFixes.GetPastRetention() != past {
			t.Fatalf("GetRepDay past_retention = %v, want %v", withFixes.GetPastRetention(), past)
		}
		for _, f := range withFixes.GetFixes() {
			if at := f.GetDeviceTime().AsTime(); !at.Before(pauseAt) && at.Before(resumeAt) {
				t.Fatalf("GetRepDay (past_retention %v) shows fix %s taken at %v, during the pause", past, f.GetId(), at)
			}
		}
		if got, want := len(withFixes.GetFixes()), int(before.GetFixCount())-inPause; inPause == 0 || got != want {
			t.Fatalf("GetRepDay (past_retention %v) shows %d fixes, want %d (%d taken during the pause left out)", past, got, want, inPause)
		}
	}
	wantUnpausedFixes(false)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A day past a shortened retention period, not swept yet, is served
	// from its summary with the fixes that are left: still none of the
	// pause.
	setRetention := func(days int32) {
		t.Helper()
		if _, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{RetentionDays: days}, UpdateMask: fieldMask("retention_days")}); err != nil {
			t.Fatal(err)
		}
	}
	setRetention(1)
	wantUnpausedFixes(true)
	setRetention(365)
	bd, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-1"}, StartDate: date, EndDate: date})
	if err != nil {
		t.Fatal(err)
	}
	if got := bd.GetTotal().GetPausedSeconds(); got != 3600 {
		t.Fatalf("breakdown paused_seconds = %d, want 3600", got)
	}

	// A pause in the evening resumed two mornings later pauses the whole
	// day between.
	eve := time.Date(2026, 11, 19, 21, 0, 0, 0, time.UTC) // 04:00 on the 20th in Jakarta
	if _, err := e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{RequestId: "pause-2", PauseTime: timestamppb.New(eve)}); err != nil {
		t.Fatal(err)
	}
	e.advance(48 * time.Hour)
	rep = e.as(acme, dwell.RoleRep, "rep-1")
	admin = e.admin(acme)
	if _, err := e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "resume-2", ResumeTime: timestamppb.New(eve.Add(2 * 24 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	between := &dwellv1.Date{Year: 2026, Month: 11, Day: 21}
	bd, err = e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-1"}, StartDate: between, EndDate: between})
	if err != nil {
		t.Fatal(err)
	}
	if got := bd.GetTotal().GetPausedSeconds(); got != 24*3600 {
		t.Fatalf("the day between pause and resume: paused_seconds = %d, want a whole day", got)
	}

	// Refused: a rep pausing another rep, and requests without a request
	// id or a time.
	e.mustCreateRep(admin, "rep-2", "")
	_, err = e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{RequestId: "x", Rep: "reps/rep-2", PauseTime: timestamppb.New(e.now())})
	wantCode(t, "PauseTracking for another rep", err, codes.PermissionDenied)
	_, err = e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{PauseTime: timestamppb.New(e.now())})
	wantViolation(t, "PauseTracking without a request id", err, "request_id")
	_, err = e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "y"})
	wantViolation(t, "ResumeTracking without a time", err, "resume_time")
}

// TestOpenPauseToday checks a pause not yet resumed today: GetRepDay and
// the reports show it until now (ingest.proto: a pause without a resume
// lasts until now); the refresher's summary, which holds it to the day's
// end, is read while the day goes on only with the pause ended now
// (liveDay), and a resume derives the day again.
func TestOpenPauseToday(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "r3", Rep: &dwellv1.Rep{DisplayName: "R3", TimeZone: "UTC"}}); err != nil {
		t.Fatal(err)
	}
	rep := e.as(acme, dwell.RoleRep, "r3")
	now := e.now() // 10:00 UTC
	if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes("r3", 60, now.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{RequestId: "p", PauseTime: timestamppb.New(now.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	date := protoDate(now)
	day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/r3", Date: date})
	if err != nil {
		t.Fatal(err)
	}
	if got := day.GetTotals().GetPausedSeconds(); got != 3600 {
		t.Fatalf("GetRepDay: paused %d s, want 3600 (until now)", got)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	bd, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/r3"}, StartDate: date, EndDate: date})
	if err != nil {
		t.Fatal(err)
	}
	if got := bd.GetTotal().GetPausedSeconds(); got != 3600 {
		t.Fatalf("breakdown: paused %d s, want 3600 (until now, as GetRepDay)", got)
	}
	// The resume derives the day again: the pause ends there.
	if _, err := e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "r", ResumeTime: timestamppb.New(now.Add(-30 * time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	bd, err = e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/r3"}, StartDate: date, EndDate: date})
	if err != nil {
		t.Fatal(err)
	}
	if got := bd.GetTotal().GetPausedSeconds(); got != 1800 {
		t.Fatalf("breakdown after the resume: paused %d s, want 1800", got)
	}
}
