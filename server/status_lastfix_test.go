package server_test

import (
	"context"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// Tests of "who is idle now" against what the timeline keeps: the last
// fix a status shows, and the instant a rep was last heard of, are those
// of the fixes GetRepDay's derivation kept, as the silence sweeper has
// them, whether the status is derived or read from the stored summary.

// repStatus returns rep's status from ListRepStatuses as an admin sees it
// now, after checking that the stored summary, when ListRepStatuses would
// answer from it, gives the same status as the derivation.
func (e *env) repStatus(t *testing.T, rep dwell.RepID) *dwellv1.RepStatus {
	t.Helper()
	stored, ok, derived, err := server.RepStatusBothWays(t.Context(), e.srv, acme, rep, e.now())
	if err != nil {
		t.Fatalf("%s: %v", rep, err)
	}
	if ok && !proto.Equal(stored, derived) {
		t.Errorf("%s: from the stored summary %v\nderived %v", rep, stored, derived)
	}
	got, err := e.report.ListRepStatuses(e.admin(acme), &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/" + string(rep)}})
	if err != nil {
		t.Fatalf("ListRepStatuses(%s): %v", rep, err)
	}
	st := got.GetRepStatuses()[0]
	if !proto.Equal(st, derived) {
		t.Errorf("%s: ListRepStatuses %v\nderived %v", rep, st, derived)
	}
	return st
}

// TestRepStatusLastFixNotASpoof: a phone at B until 16:40 sends one more
// fix at 16:59:30 from Surabaya, 660 km away, without the OS mock flag: a
// spoof the timeline drops for impossible speed (a mock location,
// DESIGN.md). The status shows the last real fix at B as last_fix_time
// and position, derived and from the stored summary, and times the
// silence from it: SILENT from 17:10, when the sweeper publishes
// REP_SILENT, not TRACKING until 17:29:30 on the spoof's word.
func TestRepStatusLastFixNotASpoof(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	e.mustCreateRep(e.admin(acme), "s", "")
	at := func(hh, mm, ss int) time.Time { return jakartaAt(t, hh, mm, ss) }
	surabaya := dwell.LatLng{Lat: -7.2575, Lng: 112.7521}
	fs := stillFixes("s", statusB, at(16, 0, 0), at(16, 40, 0))
	fs = append(fs, dwell.Fix{ID: "spoof", Time: at(16, 59, 30), Pos: surabaya, AccuracyM: 5, SpeedMPS: 0, BearingDeg: -1})
	e.upload(t, e.as(acme, dwell.RoleRep, "s"), fs)

	day, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/s", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 20}})
	if err != nil {
		t.Fatal(err)
	}
	if day.GetFlags().GetImpossibleSpeedFixes() != 1 {
		t.Fatalf("GetRepDay flags %v, want the spoof counted as impossible speed", day.GetFlags())
	}
	check := func(when string, state dwellv1.RepState) {
		t.Helper()
		st := e.repStatus(t, "s")
		l := st.GetLastFixLocation()
		if !st.GetLastFixTime().AsTime().Equal(at(16, 40, 0)) || l == nil ||
			math.Abs(l.GetLat()-statusB.Lat) > 1e-4 || math.Abs(l.GetLng()-statusB.Lng) > 1e-4 || st.GetLastFixAccuracyMeters() != 10 {
			t.Errorf("%s: last fix %v at %v (±%v m), want the last real fix at %v near %v (±10 m), not the spoof",
				when, st.GetLastFixTime().AsTime(), l, st.GetLastFixAccuracyMeters(), at(16, 40, 0), statusB)
		}
		if st.GetState() != state || st.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_IDLE {
			t.Errorf("%s: %v %v, want %v IDLE", when, st.GetState(), st.GetKind(), state)
		}
	}
	check("17:00, derived", dwellv1.RepState_REP_STATE_TRACKING)
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	check("17:00, summary stored", dwellv1.RepState_REP_STATE_TRACKING)
	// A summary does not say which fix its day ended on: with the latest
	// fix left out, the day is derived.
	if _, ok, _, err := server.RepStatusBothWays(t.Context(), e.srv, acme, "s", e.now()); err != nil || ok {
		t.Errorf("latest fix a spoof: answered from the stored summary %v (%v), want derived", ok, err)
	}

	// 17:09: 29 min after the last real fix, neither silent nor told.
	e.advance(9 * time.Minute)
	if err := server.SweepSilence(bg, e.srv, e.now()); err != nil {
		t.Fatal(err)
	}
	if sil := e.repSilences(); len(sil) != 0 {
		t.Fatalf("17:09: REP_SILENT %+v, want none yet", sil)
	}
	check("17:09", dwellv1.RepState_REP_STATE_TRACKING)
	// 17:15: the sweeper tells the silence from 17:10; the status agrees.
	e.advance(6 * time.Minute)
	if err := server.SweepSilence(bg, e.srv, e.now()); err != nil {
		t.Fatal(err)
	}
	sil := e.repSilences()
	if len(sil) != 1 || !sil[0].Time.Equal(at(17, 10, 0)) {
		t.Fatalf("17:15: REP_SILENT %+v, want one at %v", sil, at(17, 10, 0))
	}
	check("17:15", dwellv1.RepState_REP_STATE_SILENT)
}

// TestRepStatusSingleFix: a rep whose phone sent one fix today (at 17:00)
// and then nothing has a timeline with no segment yet. It is not NO_DATA
// (something was received): it is TRACKING, heard of at the fix (kind
// unspecified, since the fix), SILENT once the silence threshold (30 min)
// has passed, and the sweeper publishes one REP_SILENT, at 17:30. A rep
// whose one fix is a mock location has nothing the timeline keeps: NO_DATA,
// and no silence to tell.
func TestRepStatusSingleFix(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	e.mustCreateRep(e.admin(acme), "one", "")
	e.mustCreateRep(e.admin(acme), "mock", "")
	t0 := e.now()
	e.upload(t, e.as(acme, dwell.RoleRep, "one"), []dwell.Fix{{ID: "only", Time: t0, Pos: statusB, AccuracyM: 10, BearingDeg: -1}})
	e.upload(t, e.as(acme, dwell.RoleRep, "mock"), []dwell.Fix{{ID: "only", Time: t0, Pos: statusB, AccuracyM: 10, BearingDeg: -1, Mock: true}})
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	check := func(when string, state dwellv1.RepState) {
		t.Helper()
		st := e.repStatus(t, "one")
		if st.GetState() != state || st.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_UNSPECIFIED ||
			!st.GetSinceTime().AsTime().Equal(t0) || !st.GetLastFixTime().AsTime().Equal(t0) || st.GetLastFixLocation() == nil {
			t.Errorf("%s: %v %v since %v, last fix %v at %v; want %v, kind unspecified, since and last fix %v with its position",
				when, st.GetState(), st.GetKind(), st.GetSinceTime().AsTime(), st.GetLastFixTime().AsTime(), st.GetLastFixLocation(), state, t0)
		}
		m := e.repStatus(t, "mock")
		if m.GetState() != dwellv1.RepState_REP_STATE_NO_DATA || m.GetLastFixTime() != nil {
			t.Errorf("%s: mock only: %v, last fix %v; want NO_DATA and none", when, m.GetState(), m.GetLastFixTime())
		}
	}
	check("at the fix", dwellv1.RepState_REP_STATE_TRACKING)
	// The stored summary serves: its day ends at the fix.
	if _, ok, _, err := server.RepStatusBothWays(t.Context(), e.srv, acme, "one", e.now()); err != nil || !ok {
		t.Errorf("one fix: answered from the stored summary %v (%v), want it to serve", ok, err)
	}
	e.advance(29 * time.Minute)
	if err := server.SweepSilence(bg, e.srv, e.now()); err != nil {
		t.Fatal(err)
	}
	if sil := e.repSilences(); len(sil) != 0 {
		t.Fatalf("29 min after the fix: REP_SILENT %+v, want none yet", sil)
	}
	check("29 min after", dwellv1.RepState_REP_STATE_TRACKING)
	e.advance(91 * time.Minute)
	for range 2 {
		if err := server.SweepSilence(bg, e.srv, e.now()); err != nil {
			t.Fatal(err)
		}
	}
	sil := e.repSilences()
	if len(sil) != 1 || sil[0].Rep != "one" || !sil[0].Time.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("2 h after the fix, two sweeps: REP_SILENT %+v, want one, of rep one at %v", sil, t0.Add(30*time.Minute))
	}
	check("2 h after", dwellv1.RepState_REP_STATE_SILENT)
}

// TestRepStatusOneFixAfterResume: paused yesterday at 18:00, resumed today
// at 16:00, one fix at 16:50 (indoors, the first to come through). One fix
// makes no segment, so the day's last segment is the pause, ending at the
// resume; the rep was heard of at the fix all the same: TRACKING at 17:00
// (it read SILENT, timed from the resume), and SILENT, with one REP_SILENT
// at 17:20, once 30 minutes have passed since the fix (the sweeper, which
// timed from the day's last tracked segment, had none and told nothing).
func TestRepStatusOneFixAfterResume(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	at := func(hh, mm, ss int) time.Time { return jakartaAt(t, hh, mm, ss) } // the clock reads 17:00
	e.mustCreateRep(e.admin(acme), "r", "")
	ph := e.as(acme, dwell.RoleRep, "r")
	if _, err := e.ingest.PauseTracking(ph, &dwellv1.PauseTrackingRequest{RequestId: "p1", PauseTime: timestamppb.New(at(18, 0, 0).Add(-24 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.ResumeTracking(ph, &dwellv1.ResumeTrackingRequest{RequestId: "r1", ResumeTime: timestamppb.New(at(16, 0, 0))}); err != nil {
		t.Fatal(err)
	}
	e.upload(t, ph, []dwell.Fix{{ID: "back", Time: at(16, 50, 0), Pos: statusB, AccuracyM: 10, BearingDeg: -1}})
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	if st := e.repStatus(t, "r"); st.GetState() != dwellv1.RepState_REP_STATE_TRACKING || !st.GetLastFixTime().AsTime().Equal(at(16, 50, 0)) {
		t.Errorf("at 17:00: %v, last fix %v; want TRACKING, the fix of 16:50 being 10 min old", st.GetState(), st.GetLastFixTime().AsTime())
	}
	e.advance(25 * time.Minute)
	for range 2 {
		if err := server.SweepSilence(bg, e.srv, e.now()); err != nil {
			t.Fatal(err)
		}
	}
	if sil := e.repSilences(); len(sil) != 1 || sil[0].Rep != "r" || !sil[0].Time.Equal(at(17, 20, 0)) {
		t.Errorf("at 17:25, two sweeps: REP_SILENT %+v, want one, of rep r at 17:20", sil)
	}
	if st := e.repStatus(t, "r"); st.GetState() != dwellv1.RepState_REP_STATE_SILENT {
		t.Errorf("at 17:25: %v, want SILENT", st.GetState())
	}
}
