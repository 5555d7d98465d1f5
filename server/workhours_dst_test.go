package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// The working-hours tests below fall on the nights the clocks change in
// Santiago: on 6 September 2026 at 00:00 -04 (04:00 UTC) they jump to
// 01:00 -03, so Sunday begins at the jump; on 4 April 2026 at 24:00 -03
// (03:00 UTC) they go back to 23:00 -04, so 23:00-24:00 Saturday happens
// twice. The working windows are dwell.Rep.WorkingWindows in every one.

// createSantiagoRep creates rep id in America/Santiago working one window
// of one weekday.
func createSantiagoRep(t *testing.T, e *env, id string, wd time.Weekday, start, end int) {
	t.Helper()
	if _, err := e.dirc.CreateRep(e.admin(acme), &dwellv1.CreateRepRequest{RepId: id, Rep: &dwellv1.Rep{DisplayName: id, TimeZone: "America/Santiago",
		WorkingHours: []*dwellv1.WorkingHours{{DayOfWeek: int32(wd), StartMinute: int32(start), EndMinute: int32(end)}}}}); err != nil {
		t.Fatal(err)
	}
}

// rejectedIndex returns the index of the first fix ack rejected, or -1.
func rejectedIndex(a *dwellv1.BatchAck) int {
	for _, r := range a.GetResults() {
		if r.GetStatus() == dwellv1.FixStatus_FIX_STATUS_REJECTED {
			return int(r.GetIndex())
		}
	}
	return -1
}

// TestTrackingConfigSkippedMidnight: hours Sunday 00:00-08:00, asked at
// 23:30 Saturday before the jump: refresh_time is the jump, when the
// hours begin and ingest accepts fixes, not next week's start.
func TestTrackingConfigSkippedMidnight(t *testing.T) {
	e := newEnv(t)
	createSantiagoRep(t, e, "nico", time.Sunday, 0, 8*60)
	e.advance(time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC).Sub(e.now()))
	rep := e.as(acme, dwell.RoleRep, "nico")
	cfg, err := e.ingest.GetTrackingConfig(rep, &dwellv1.GetTrackingConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)
	if cfg.GetTrackingEnabled() {
		t.Errorf("tracking enabled at 23:30 Saturday, before the hours")
	}
	if got := cfg.GetRefreshTime().AsTime(); !got.Equal(start) {
		t.Errorf("refresh_time %v UTC, want %v UTC, when the working hours start", got, start)
	}
	resp, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{
		{Id: "before", DeviceTime: timestamppb.New(start.Add(-time.Minute)), Position: &dwellv1.LatLng{Lat: -33.45, Lng: -70.66}, AccuracyMeters: 10},
		{Id: "at", DeviceTime: timestamppb.New(start), Position: &dwellv1.LatLng{Lat: -33.45, Lng: -70.66}, AccuracyMeters: 10},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if a := resp.GetAck(); a.GetAccepted() != 1 || a.GetRejected() != 1 || rejectedIndex(a) != 0 {
		t.Errorf("a fix a minute before the jump and one at it: ack %v, want the first refused and the second accepted", a)
	}
}

// TestNoSilenceAfterHoursEndAtSkippedMidnight: hours Saturday 20:00-24:00,
// last heard at 23:50 on the night the clocks jump at midnight: the hours
// end at the jump, ten working minutes later, so no REP_SILENT (30
// minutes of working time) is due.
func TestNoSilenceAfterHoursEndAtSkippedMidnight(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	createSantiagoRep(t, e, "cata", time.Saturday, 20*60, 24*60)
	last := time.Date(2026, 9, 6, 3, 50, 0, 0, time.UTC) // 23:50 -04 Saturday
	e.advance(last.Sub(e.now()))
	rep := e.as(acme, dwell.RoleRep, "cata")
	if resp, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes("sat", 20, last)}); err != nil || resp.GetAck().GetAccepted() != 20 {
		t.Fatalf("upload: %v %v", resp, err)
	}
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 9, 6, 5, 0, 0, 0, time.UTC) // 02:00 -03 Sunday, outside the hours
	e.advance(at.Sub(e.now()))
	if err := server.SweepSilence(bg, e.srv, at); err != nil {
		t.Fatal(err)
	}
	if got := e.repSilences(); len(got) != 0 {
		t.Fatalf("REP_SILENT at %v UTC, want none: the hours ended at 04:00 UTC, 10 working minutes after the last fix", got[0].Time.UTC())
	}
}

// TestNoDataSinceSkippedMidnight: hours Sunday 00:00-08:00, no data yet on
// the Sunday that begins at the jump: NO_DATA since the jump, the start
// of the day and of its hours, not an instant of Saturday.
func TestNoDataSinceSkippedMidnight(t *testing.T) {
	e := newEnv(t)
	createSantiagoRep(t, e, "nico", time.Sunday, 0, 8*60)
	e.advance(time.Date(2026, 9, 6, 5, 0, 0, 0, time.UTC).Sub(e.now()))
	resp, err := e.report.ListRepStatuses(e.admin(acme), &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/nico"}})
	if err != nil {
		t.Fatal(err)
	}
	st := resp.GetRepStatuses()[0]
	want := time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)
	if st.GetState() != dwellv1.RepState_REP_STATE_NO_DATA || !st.GetSinceTime().AsTime().Equal(want) {
		t.Fatalf("state %v since %v UTC (date %v), want NO_DATA since %v UTC", st.GetState(), st.GetSinceTime().AsTime(), st.GetDate(), want)
	}
}

// TestRepeatedHourInsideHours: hours Saturday 16:00-23:30 on the night
// 23:00-24:00 repeats run until the second 23:30 (03:30 UTC). Fixes every
// 5 minutes from 22:00 -03 to 23:30 -04: ingest accepts all those before
// the second 23:30, those of the first pass after 23:30 included, and
// refuses the one at it; the day's timeline shows every accepted fix.
func TestRepeatedHourInsideHours(t *testing.T) {
	e := newEnv(t)
	createSantiagoRep(t, e, "omar", time.Saturday, 16*60, 23*60+30)
	from := time.Date(2026, 4, 5, 1, 0, 0, 0, time.UTC) // 22:00 -03
	end := time.Date(2026, 4, 5, 3, 30, 0, 0, time.UTC) // 23:30 -04, the second time
	var fs []*dwellv1.Fix
	for at, i := from, 0; !at.After(end); at, i = at.Add(5*time.Minute), i+1 {
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f%d", i), DeviceTime: timestamppb.New(at), Position: &dwellv1.LatLng{Lat: -33.45, Lng: -70.66}, AccuracyMeters: 10})
	}
	resp, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "omar"), &dwellv1.UploadPingsRequest{Fixes: fs})
	if err != nil {
		t.Fatal(err)
	}
	if a := resp.GetAck(); int(a.GetAccepted()) != len(fs)-1 || a.GetRejected() != 1 || rejectedIndex(a) != len(fs)-1 {
		t.Errorf("accepted %d, rejected %d (the first at %d), want all %d fixes before 03:30 UTC accepted and the one at it refused", a.GetAccepted(), a.GetRejected(), rejectedIndex(a), len(fs)-1)
	}
	d, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/omar", Date: pbDate(2026, 4, 4)})
	if err != nil {
		t.Fatal(err)
	}
	if int(d.GetFixCount()) != len(fs)-1 {
		t.Errorf("fix_count %d, want the %d accepted", d.GetFixCount(), len(fs)-1)
	}
	segs := d.GetSegments()
	if len(segs) == 0 {
		t.Fatal("no segments")
	}
	if first, last := segs[0].GetStartTime().AsTime(), segs[len(segs)-1].GetEndTime().AsTime(); !first.Equal(from) || !last.Equal(end.Add(-5*time.Minute)) {
		t.Errorf("the day's segments run %v to %v UTC, want %v to %v UTC, the first and last fix ingest accepted", first.UTC(), last.UTC(), from, end.Add(-5*time.Minute))
	}
}
