package server_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// These tests come from a review of the change that made GetRepDay serve
// settled days from their summaries; each failed on it.

// A day the refresher derives before it begins (fixes dated ahead, within
// MaxFutureSkew) is derived with the pause in force at its start, as it
// will be once begun: its summary stays current then, and the reports and
// GetRepDay agree on its paused time (the summary had none, and counted
// the half hour as idle).
func TestSettledFutureDayKeepsPause(t *testing.T) {
	e := newEnv(t) // now 2026-11-20 10:00 UTC
	createIda(t, e)
	admin := e.admin(acme)
	e.pause("ida", "p1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	away := dwell.LatLng{Lat: feedLat, Lng: feedLng + 0.054}
	fs := stillFixes("n", away, time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC), time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC))
	e.upload(t, e.as(acme, dwell.RoleRep, "ida"), fs)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.advance(26 * time.Hour) // 2026-11-21 12:00 UTC
	admin = e.admin(acme)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := pbDate(2026, 11, 21)
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: d, EndDate: d})
	if err != nil {
		t.Fatal(err)
	}
	k, err := e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: d, EndDate: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2026-11-21 paused s: GetRepDay %d, GetTimeBreakdown %d; kpi idle %d breakdown idle %d", rd.GetTotals().GetPausedSeconds(), b.GetTotal().GetPausedSeconds(), k.GetIdle().GetIdleSeconds(), b.GetTotal().GetIdleSeconds())
	if rd.GetTotals().GetPausedSeconds() != b.GetTotal().GetPausedSeconds() {
		t.Errorf("paused seconds of 2026-11-21: GetRepDay %d, GetTimeBreakdown %d", rd.GetTotals().GetPausedSeconds(), b.GetTotal().GetPausedSeconds())
	}
}

// A settled day served from its stored summary lists, with include_fixes,
// the fixes of the day it was derived from (its own span), not those of
// the date as the rep's zone now cuts it (21 of 161 after a change of
// zone, none of them in the day's visit).
func TestSettledIncludeFixesAfterZoneChange(t *testing.T) {
	e := consistencySetup(t) // ida UTC, visit 2026-11-20 07:00-08:00 UTC
	e.advance(40 * 24 * time.Hour)
	if _, err := e.dirc.UpdateRep(e.admin(acme), &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/ida", TimeZone: "America/Los_Angeles"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"time_zone"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	rd, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: pbDate(2026, 11, 20), IncludeFixes: true})
	if err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	if n := len(rd.GetFixes()); n > 0 {
		first, last = rd.GetFixes()[0].GetDeviceTime().AsTime(), rd.GetFixes()[n-1].GetDeviceTime().AsTime()
	}
	t.Logf("visits %d, fix_count %d, fixes returned %d (%v..%v), tz %s", len(rd.GetVisits()), rd.GetFixCount(), len(rd.GetFixes()), first, last, rd.GetTimeZone())
	for _, v := range rd.GetVisits() {
		t.Logf("visit %v..%v", v.GetStartTime().AsTime(), v.GetEndTime().AsTime())
	}
	if int(rd.GetFixCount()) != len(rd.GetFixes()) {
		t.Errorf("fix_count %d but %d fixes returned with include_fixes", rd.GetFixCount(), len(rd.GetFixes()))
	}
}

// With a retention period shorter than the re-derivation window, the days
// within two days of the period's start are not re-derived by a client
// change (they may have lost fixes): GetRepDay serves them from their
// summary too, as the reports read it (it derived them with today's
// clients: 0 visits against ListVisits' 1).
func TestSettledShortRetentionEdge(t *testing.T) {
	e := consistencySetup(t) // ida UTC, visit 2026-11-20 07:00-08:00 UTC, now 11-20 10:00
	if _, err := e.dirc.UpdateSettings(e.admin(acme), &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{RetentionDays: 30},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"retention_days"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.advance(29 * 24 * time.Hour) // 2026-12-19 10:00 UTC: 11-20 began after now-30d
	if _, err := e.dirc.DeleteClient(e.admin(acme), &dwellv1.DeleteClientRequest{Name: "clients/site"}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := pbDate(2026, 11, 20)
	rd, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := consistencyCounts(t, e, d)
	t.Logf("GetRepDay %d visits (past_retention %v), ListVisits %d, breakdown visit s %d", a, rd.GetPastRetention(), b, c)
	if a != b {
		t.Errorf("GetRepDay %d visits, ListVisits %d", a, b)
	}
}
