package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// TestNoSilenceWhilePaused: a rep (working 08:00-18:00 UTC, Monday to
// Friday) pauses tracking on Friday 20 November 2026 at 10:00 and is not
// silent for it: no REP_SILENT over the weekend or on Monday morning while
// the pause lasts. Resumed on Monday at 09:00 with no fix since, the rep
// is silent 30 working minutes later, at 09:30.
func TestNoSilenceWhilePaused(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	admin := e.admin(acme)
	var hours []*dwellv1.WorkingHours
	for d := 1; d <= 5; d++ {
		hours = append(hours, &dwellv1.WorkingHours{DayOfWeek: int32(d), StartMinute: 8 * 60, EndMinute: 18 * 60})
	}
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{DisplayName: "Ida", TimeZone: "UTC", WorkingHours: hours}}); err != nil {
		t.Fatal(err)
	}
	rep := e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes("fri", 60, e.now())}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{RequestId: "pause", PauseTime: timestamppb.New(e.now())}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	silences := func(now time.Time) []dwell.Event {
		t.Helper()
		if err := server.SweepSilence(bg, e.srv, now); err != nil {
			t.Fatal(err)
		}
		return e.repSilences()
	}
	monday9 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{e.now().Add(time.Hour), e.now().Add(8 * time.Hour), monday9.Add(-30 * time.Minute), monday9} {
		if got := silences(at); len(got) != 0 {
			t.Fatalf("sweep at %v, paused since Friday 10:00: REP_SILENT %+v, want none", at, got)
		}
	}
	e.advance(monday9.Sub(e.now()))
	rep = e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "resume", ResumeTime: timestamppb.New(monday9)}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	if got := silences(monday9.Add(29 * time.Minute)); len(got) != 0 {
		t.Fatalf("29 min after the resume: REP_SILENT %+v, want none yet", got)
	}
	got := silences(monday9.Add(45 * time.Minute))
	if len(got) != 1 || !got[0].Time.Equal(monday9.Add(30*time.Minute)) {
		t.Fatalf("45 min after the resume: REP_SILENT %+v, want one at 09:30", got)
	}
}

// TestNoSilenceFromSweptFixes: fixes of a paused time that arrived before
// the pause (a phone's queue) are deleted when the resume comes, and the
// silence is then timed from what is left, not from the deleted fixes: a
// rep (no working hours: always working) heard until 10:04:30, with a
// pause from 10:00 recorded late and resumed at 12:00, is not silent at
// 10:34:30 (paused then) but at 12:30.
func TestNoSilenceFromSweptFixes(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	if _, err := e.dirc.CreateRep(e.admin(acme), &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{DisplayName: "Ida", TimeZone: "UTC"}}); err != nil {
		t.Fatal(err)
	}
	t0 := e.now() // Friday 10:00
	rep := e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes("before", 60, t0)}); err != nil {
		t.Fatal(err)
	}
	e.advance(5 * time.Minute)
	rep = e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes("queued", 10, e.now())}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{RequestId: "pause", PauseTime: timestamppb.New(t0)}); err != nil {
		t.Fatal(err)
	}
	noon := t0.Add(2 * time.Hour)
	e.advance(noon.Sub(e.now()))
	rep = e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "resume", ResumeTime: timestamppb.New(noon)}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	if err := server.SweepSilence(bg, e.srv, noon); err != nil {
		t.Fatal(err)
	}
	if got := e.repSilences(); len(got) != 0 {
		t.Fatalf("at the resume: REP_SILENT %+v, want none (the rep was paused from 10:00; the fixes after it were deleted)", got)
	}
	if err := server.SweepSilence(bg, e.srv, noon.Add(45*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := e.repSilences(); len(got) != 1 || !got[0].Time.Equal(noon.Add(30*time.Minute)) {
		t.Fatalf("45 min after the resume: REP_SILENT %+v, want one at 12:30", got)
	}
}
