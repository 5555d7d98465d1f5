package server_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// No location is kept for a time a rep paused tracking: fixes sent for it
// are refused, fixes stored before the pause was known are deleted.

// mustCreateUTCRep creates a rep whose days are UTC days.
func (e *env) mustCreateUTCRep(id string) {
	e.t.Helper()
	if _, err := e.dirc.CreateRep(e.admin(acme), &dwellv1.CreateRepRequest{RepId: id, Rep: &dwellv1.Rep{DisplayName: "Rep " + id, TimeZone: "UTC"}}); err != nil {
		e.t.Fatalf("CreateRep(%s): %v", id, err)
	}
}

func (e *env) pause(rep, requestID string, at time.Time) {
	e.t.Helper()
	if _, err := e.ingest.PauseTracking(e.as(acme, dwell.RoleRep, rep), &dwellv1.PauseTrackingRequest{RequestId: requestID, PauseTime: timestamppb.New(at)}); err != nil {
		e.t.Fatalf("PauseTracking(%s, %v): %v", rep, at, err)
	}
}

func (e *env) resume(rep, requestID string, at time.Time) {
	e.t.Helper()
	if _, err := e.ingest.ResumeTracking(e.as(acme, dwell.RoleRep, rep), &dwellv1.ResumeTrackingRequest{RequestId: requestID, ResumeTime: timestamppb.New(at)}); err != nil {
		e.t.Fatalf("ResumeTracking(%s, %v): %v", rep, at, err)
	}
}

// storedFixTimes returns the device times of the rep's stored fixes in the
// store itself, in time order.
func (e *env) storedFixTimes(rep string) []time.Time {
	e.t.Helper()
	fs, err := e.st.ListFixes(e.t.Context(), acme, dwell.RepID(rep), e.now().Add(-30*24*time.Hour), e.now().Add(24*time.Hour))
	if err != nil {
		e.t.Fatalf("ListFixes(%s): %v", rep, err)
	}
	out := make([]time.Time, len(fs))
	for i, f := range fs {
		out[i] = f.Time
	}
	return out
}

// wantAck checks the outcome of each fix of an acknowledgement against
// fixes: REJECTED on device_time, with a reason that names the pause, for
// those with paused(time), want otherwise.
func wantAck(t *testing.T, what string, ack *dwellv1.BatchAck, fixes []*dwellv1.Fix, paused func(time.Time) bool, want dwellv1.FixStatus) {
	t.Helper()
	var rejected, other int32
	for i, f := range fixes {
		r := ack.GetResults()[i]
		if !paused(f.GetDeviceTime().AsTime()) {
			other++
			if r.GetStatus() != want {
				t.Fatalf("%s: fix %d at %v: %v, want %v", what, i, f.GetDeviceTime().AsTime(), r.GetStatus(), want)
			}
			continue
		}
		rejected++
		if r.GetStatus() != dwellv1.FixStatus_FIX_STATUS_REJECTED || len(r.GetReasons()) != 1 ||
			r.GetReasons()[0].GetField() != "device_time" || !strings.Contains(r.GetReasons()[0].GetDescription(), "paused tracking") {
			t.Fatalf("%s: fix %d at %v, in a pause: %v %v, want REJECTED on device_time for the pause", what, i, f.GetDeviceTime().AsTime(), r.GetStatus(), r.GetReasons())
		}
	}
	if ack.GetRejected() != rejected || ack.GetAccepted()+ack.GetDuplicates() != other {
		t.Fatalf("%s: %d accepted, %d duplicates, %d rejected; want %d rejected and %d others", what, ack.GetAccepted(), ack.GetDuplicates(), ack.GetRejected(), rejected, other)
	}
}

// between returns whether t lies in [from, to) (a zero to: no end).
func between(from, to time.Time) func(time.Time) bool {
	return func(t time.Time) bool { return !t.Before(from) && (to.IsZero() || t.Before(to)) }
}

// TestPausedFixesRefused: fixes for a paused time are refused, on both
// UploadPings and StreamPings, and the others of the batch are stored. A
// pause not resumed refuses nothing (the phone that sends fixes after it
// tracks again; its resume may be queued behind them): the resume, when it
// comes, deletes those of the paused time, and refuses them from then on.
func TestPausedFixesRefused(t *testing.T) {
	e := newEnv(t) // 10:00 UTC
	e.mustCreateUTCRep("pia")
	now := e.now()
	pauseAt, resumeAt := now.Add(-time.Hour), now.Add(-30*time.Minute)
	e.pause("pia", "p1", pauseAt)
	e.resume("pia", "r1", resumeAt)
	rep := e.as(acme, dwell.RoleRep, "pia")

	// 09:00 to 09:59:30: the first 60 are paused.
	batch := fixes("u", 120, now)
	paused := between(pauseAt, resumeAt)
	resp, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: batch})
	if err != nil {
		t.Fatal(err)
	}
	wantAck(t, "UploadPings", resp.GetAck(), batch, paused, dwellv1.FixStatus_FIX_STATUS_ACCEPTED)

	stream, err := e.ingest.StreamPings(rep)
	if err != nil {
		t.Fatal(err)
	}
	sbatch := fixes("s", 120, now)
	if err := stream.Send(&dwellv1.StreamPingsRequest{BatchId: 1, Fixes: sbatch}); err != nil {
		t.Fatal(err)
	}
	sresp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	wantAck(t, "StreamPings", sresp.GetAck(), sbatch, paused, dwellv1.FixStatus_FIX_STATUS_ACCEPTED)
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("StreamPings end: %v, want EOF", err)
	}
	for _, at := range e.storedFixTimes("pia") {
		if paused(at) {
			t.Fatalf("a fix at %v, in the pause, was stored", at)
		}
	}
	if got := len(e.storedFixTimes("pia")); got != 120 {
		t.Fatalf("%d fixes stored, want 120 (60 of each batch)", got)
	}

	// A batch all paused is refused whole, with a violation per fix.
	_, err = e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: batch[:3]})
	wantViolation(t, "UploadPings of paused fixes only", err, "fixes[2].device_time")

	// A pause not resumed refuses nothing: the phone's fixes after it,
	// 10:00:30 to 10:02, and one a day ahead of the clock, are taken (its
	// resume at 10:01 is still queued).
	e.pause("pia", "p2", now)
	late := fixes("late", 4, now.Add(2*time.Minute)) // 10:00 to 10:01:30
	late = append(late, &dwellv1.Fix{Id: "ahead", DeviceTime: timestamppb.New(now.Add(23 * time.Hour)), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10})
	resp, err = e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: late})
	if err != nil {
		t.Fatal(err)
	}
	wantAck(t, "UploadPings after a pause not resumed", resp.GetAck(), late, func(time.Time) bool { return false }, dwellv1.FixStatus_FIX_STATUS_ACCEPTED)
	// The resume at 10:01 deletes those of 10:00 to 10:01, and refuses them
	// from then on; the later ones stay.
	resumed := now.Add(time.Minute)
	e.resume("pia", "r2", resumed)
	for _, at := range e.storedFixTimes("pia") {
		if between(now, resumed)(at) {
			t.Fatalf("a fix at %v, in the pause the resume closed, is still stored", at)
		}
	}
	resp, err = e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: late})
	if err != nil {
		t.Fatal(err)
	}
	wantAck(t, "UploadPings again after the resume", resp.GetAck(), late, between(now, resumed), dwellv1.FixStatus_FIX_STATUS_DUPLICATE)
}

// TestLatePauseDeletesFixes: a phone that sent its fixes first and its
// pause and resume after (an offline queue) keeps none of the paused
// time's fixes once the pause is closed; a retry of the upload is then
// refused for them; another rep's fixes stay; GetRepDay agrees.
func TestLatePauseDeletesFixes(t *testing.T) {
	e := newEnv(t) // 10:00 UTC
	e.mustCreateUTCRep("lia")
	e.mustCreateUTCRep("max")
	now := e.now()
	lia, max := e.as(acme, dwell.RoleRep, "lia"), e.as(acme, dwell.RoleRep, "max")
	batch := fixes("f", 240, now) // 08:00 to 09:59:30, every 30 s
	if _, err := e.ingest.UploadPings(lia, &dwellv1.UploadPingsRequest{Fixes: batch}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.UploadPings(max, &dwellv1.UploadPingsRequest{Fixes: batch}); err != nil {
		t.Fatal(err)
	}
	pauseAt, resumeAt := now.Add(-90*time.Minute), now.Add(-60*time.Minute) // 08:30 to 09:00
	paused := between(pauseAt, resumeAt)

	// Paused, not resumed yet: the fixes after it may be the phone's
	// after a resume still queued; nothing is deleted yet.
	e.pause("lia", "p", pauseAt)
	if got := len(e.storedFixTimes("lia")); got != 240 {
		t.Fatalf("after a pause not resumed: %d fixes stored, want all 240", got)
	}
	e.resume("lia", "r", resumeAt)
	left := e.storedFixTimes("lia")
	if len(left) != 180 {
		t.Fatalf("after the resume: %d fixes stored, want 180 (the 60 of the paused half hour deleted)", len(left))
	}
	for _, at := range left {
		if paused(at) {
			t.Fatalf("a fix at %v, in the pause, is still stored", at)
		}
	}
	if got := len(e.storedFixTimes("max")); got != 240 {
		t.Fatalf("the other rep has %d fixes, want its 240", got)
	}

	// The same upload again: the paused fixes are refused, not stored
	// again; the others are duplicates.
	resp, err := e.ingest.UploadPings(lia, &dwellv1.UploadPingsRequest{Fixes: batch})
	if err != nil {
		t.Fatal(err)
	}
	wantAck(t, "the upload retried", resp.GetAck(), batch, paused, dwellv1.FixStatus_FIX_STATUS_DUPLICATE)
	if got := len(e.storedFixTimes("lia")); got != 180 {
		t.Fatalf("after the retry: %d fixes stored, want 180", got)
	}
	// A retry of the pause and of the resume changes nothing.
	e.pause("lia", "p", pauseAt)
	e.resume("lia", "r", resumeAt)

	admin := e.admin(acme)
	day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/lia", Date: protoDate(now), IncludeFixes: true})
	if err != nil {
		t.Fatal(err)
	}
	if day.GetFixCount() != 180 || len(day.GetFixes()) != 180 {
		t.Fatalf("GetRepDay: fix_count %d, %d fixes shown; want 180 and 180", day.GetFixCount(), len(day.GetFixes()))
	}
	if got := day.GetTotals().GetPausedSeconds(); got != 1800 {
		t.Fatalf("GetRepDay: paused %d s, want 1800", got)
	}
	other, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/max", Date: protoDate(now), IncludeFixes: true})
	if err != nil {
		t.Fatal(err)
	}
	if other.GetFixCount() != 240 || len(other.GetFixes()) != 240 || other.GetTotals().GetPausedSeconds() != 0 {
		t.Fatalf("the other rep's day: fix_count %d, %d shown, paused %d s; want 240, 240, 0", other.GetFixCount(), len(other.GetFixes()), other.GetTotals().GetPausedSeconds())
	}

	// A rep cannot pause another: its fixes stay.
	_, err = e.ingest.PauseTracking(lia, &dwellv1.PauseTrackingRequest{RequestId: "x", Rep: "reps/max", PauseTime: timestamppb.New(pauseAt)})
	wantCode(t, "PauseTracking for another rep", err, codes.PermissionDenied)
	if got := len(e.storedFixTimes("max")); got != 240 {
		t.Fatalf("the other rep has %d fixes, want its 240", got)
	}
}

// TestLatePauseRederivesDays: a resume and then its pause, arriving days
// late, delete the fixes of a day that is neither's own (the pause marks
// only its day, and a resume with no pause before it only its own); that
// day is derived again, so the time breakdown (from the stored summaries)
// agrees with GetRepDay.
func TestLatePauseRederivesDays(t *testing.T) {
	e := newEnv(t) // Friday 20 November 2026, 10:00 UTC
	e.mustCreateUTCRep("noa")
	now := e.now()
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "noa"), &dwellv1.UploadPingsRequest{Fixes: fixes("f", 240, now)}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	date := protoDate(now)
	breakdown := func() *dwellv1.DayTotals {
		t.Helper()
		bd, err := e.report.GetTimeBreakdown(e.admin(acme), &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/noa"}, StartDate: date, EndDate: date})
		if err != nil {
			t.Fatal(err)
		}
		return bd.GetTotal()
	}
	if got := breakdown().GetPausedSeconds(); got != 0 {
		t.Fatalf("breakdown before the pause: paused %d s, want 0", got)
	}
	// Two days later the phone sends a resume of the day after those
	// fixes, then the pause of the evening before them: the 20th is
	// paused whole and keeps no fix.
	e.advance(48 * time.Hour)
	e.resume("noa", "r", time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	if got := len(e.storedFixTimes("noa")); got != 240 {
		t.Fatalf("after a resume with no pause before it: %d fixes left, want 240", got)
	}
	e.pause("noa", "p", time.Date(2026, 11, 19, 21, 0, 0, 0, time.UTC))
	if got := len(e.storedFixTimes("noa")); got != 0 {
		t.Fatalf("%d fixes left, want none", got)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	day, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/noa", Date: date, IncludeFixes: true})
	if err != nil {
		t.Fatal(err)
	}
	if day.GetFixCount() != 0 || len(day.GetFixes()) != 0 || day.GetTotals().GetPausedSeconds() != 24*3600 {
		t.Fatalf("GetRepDay of the 20th: fix_count %d, %d shown, paused %d s; want 0, 0, a whole day", day.GetFixCount(), len(day.GetFixes()), day.GetTotals().GetPausedSeconds())
	}
	if got, want := breakdown(), day.GetTotals(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("breakdown of the 20th %v, GetRepDay %v; want them equal", got, want)
	}
}

// TestOldPauseHolds: a pause three weeks old, never resumed, still holds:
// GetTrackingConfig says so; fixes sent anyway are taken (the phone tracks
// again) until a resume says how long the pause lasted, and then those of
// the paused time are deleted and refused.
func TestOldPauseHolds(t *testing.T) {
	e := newEnv(t)
	e.mustCreateUTCRep("ola")
	now := e.now()
	e.pause("ola", "p", now.Add(-21*24*time.Hour))
	rep := e.as(acme, dwell.RoleRep, "ola")
	cfg, err := e.ingest.GetTrackingConfig(rep, &dwellv1.GetTrackingConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.GetPaused() || cfg.GetTrackingEnabled() {
		t.Fatalf("GetTrackingConfig: paused %v, enabled %v; want paused, not enabled", cfg.GetPaused(), cfg.GetTrackingEnabled())
	}
	batch := fixes("f", 10, now) // 09:55 to 09:59:30
	resp, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: batch})
	if err != nil {
		t.Fatal(err)
	}
	wantAck(t, "UploadPings three weeks into a pause", resp.GetAck(), batch, func(time.Time) bool { return false }, dwellv1.FixStatus_FIX_STATUS_ACCEPTED)
	resumed := now.Add(-3 * time.Minute) // 09:57
	e.resume("ola", "r", resumed)
	if got := len(e.storedFixTimes("ola")); got != 6 {
		t.Fatalf("after the resume at 09:57: %d fixes stored, want the 6 from 09:57 on", got)
	}
	_, err = e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: batch[:4]})
	wantViolation(t, "UploadPings of the paused time after the resume", err, "fixes[3].device_time")
	// The day reads paused from its start to the resume: the pause is seen
	// however long before the day it was made.
	d := dwell.DateOf(now, time.UTC)
	day, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/ola", Date: pbDate(d.Year, int(d.Month), d.Day)})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(resumed.Sub(d.Start(time.UTC)) / time.Second); day.GetTotals().GetPausedSeconds() != want {
		t.Fatalf("GetRepDay: %d s paused, want %d (from the day's start to the resume)", day.GetTotals().GetPausedSeconds(), want)
	}
}

// TestPauseRacesUploads: batches for a time being paused are in flight
// while a late pause, whose resume is already known, is recorded. Whoever
// wins, no fix of the paused time is stored once the pause has answered
// and the batches are acknowledged: a batch either saw the pause and
// refused those fixes, or stored them before the pause deleted them. A
// batch that read the rep's pauses while the pause's write was being made
// durable, and stored its fixes after the pause's sweep, would break it
// (pauseLocks). Run with -race.
func TestPauseRacesUploads(t *testing.T) {
	e := newEnv(t) // 10:00 UTC
	now := e.now()
	pauseAt, resumeAt := now.Add(-50*time.Minute), now.Add(-40*time.Minute)
	for round := range 10 {
		id := fmt.Sprintf("race%d", round)
		e.mustCreateUTCRep(id)
		e.resume(id, "r", resumeAt)
		stream, err := e.ingest.StreamPings(e.as(acme, dwell.RoleRep, id))
		if err != nil {
			t.Fatal(err)
		}
		// Batches of 09:00 to 09:59:30, each under its own ids, sent
		// while the pause is recorded.
		const batches = 24
		sent := make(chan error, 1)
		go func() {
			for b := range batches {
				if err := stream.Send(&dwellv1.StreamPingsRequest{BatchId: int64(b), Fixes: fixes(fmt.Sprintf("b%d", b), 120, now)}); err != nil {
					sent <- err
					return
				}
			}
			sent <- stream.CloseSend()
		}()
		time.Sleep(time.Duration(round) * time.Millisecond)
		e.pause(id, "p", pauseAt)
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := stream.Recv(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		for _, at := range e.storedFixTimes(id) {
			if between(pauseAt, resumeAt)(at) {
				t.Fatalf("round %d: a fix at %v, in the pause, is stored", round, at)
			}
		}
	}
}
