package server_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestResentFixAfterHoursChange: fixes accepted within the rep's working
// hours are re-sent (the acknowledgement lost) after an administrator
// shortened the hours. A fix already stored is a duplicate, as
// ingest.proto says, though it now falls outside the hours; a new fix
// outside them is still rejected, and so is a re-sent id that fails
// validation proper.
func TestResentFixAfterHoursChange(t *testing.T) {
	e := newEnv(t) // Friday 2026-11-20 10:00 UTC, 17:00 in Jakarta
	admin := e.admin(acme)
	hours := func(end int32) []*dwellv1.WorkingHours {
		return []*dwellv1.WorkingHours{{DayOfWeek: 5, StartMinute: 8 * 60, EndMinute: end * 60}}
	}
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "sari", Rep: &dwellv1.Rep{
		DisplayName: "Sari", TimeZone: "Asia/Jakarta", WorkingHours: hours(18)}}); err != nil {
		t.Fatal(err)
	}
	rep := e.as(acme, dwell.RoleRep, "sari")
	fix := func(id string, utcH, utcM int) *dwellv1.Fix {
		return &dwellv1.Fix{Id: id, DeviceTime: timestamppb.New(time.Date(2026, 11, 20, utcH, utcM, 0, 0, time.UTC)),
			Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10}
	}
	a, b := fix("a", 9, 30), fix("b", 3, 30) // 16:30 and 10:30 local
	resp, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{a, b}})
	if err != nil || resp.GetAck().GetAccepted() != 2 {
		t.Fatalf("UploadPings within the hours: %v, %v; want both accepted", resp.GetAck(), err)
	}
	if _, err := e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/sari", WorkingHours: hours(16)},
		UpdateMask: fieldMask("working_hours")}); err != nil {
		t.Fatal(err)
	}
	badA := fix("a", 9, 30)
	badA.Position.Lat = 91
	c := fix("c", 9, 40) // 16:40 local, new
	batch := []*dwellv1.Fix{a, b, c, badA}
	resp, err = e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: batch})
	if err != nil {
		t.Fatal(err)
	}
	want := []dwellv1.FixStatus{dwellv1.FixStatus_FIX_STATUS_DUPLICATE, dwellv1.FixStatus_FIX_STATUS_DUPLICATE,
		dwellv1.FixStatus_FIX_STATUS_REJECTED, dwellv1.FixStatus_FIX_STATUS_REJECTED}
	for i, r := range resp.GetAck().GetResults() {
		if r.GetStatus() != want[i] {
			t.Errorf("fix %s: %v %v, want %v", batch[i].GetId(), r.GetStatus(), r.GetReasons(), want[i])
		}
	}
	if ack := resp.GetAck(); ack.GetDuplicates() != 2 || ack.GetRejected() != 2 || ack.GetAccepted() != 0 {
		t.Errorf("ack counts %d accepted, %d duplicates, %d rejected; want 0, 2, 2", ack.GetAccepted(), ack.GetDuplicates(), ack.GetRejected())
	}
	if r := resp.GetAck().GetResults()[2].GetReasons(); len(r) != 1 || r[0].GetField() != "device_time" {
		t.Errorf("the new fix outside the hours: reasons %v, want one on device_time", r)
	}
	if r := resp.GetAck().GetResults()[3].GetReasons(); len(r) != 1 || r[0].GetField() != "position.lat" {
		t.Errorf("the stored id with a bad latitude: reasons %v, want one on position.lat", r)
	}
	if got := e.storedFixTimes("sari"); len(got) != 2 {
		t.Errorf("stored %d fixes, want 2", len(got))
	}
}

// TestInvalidTimestamps: a google.protobuf.Timestamp that is not valid
// (nanos negative, or a second or more) is refused on its field, for a
// fix and for every action's time, not read as an instant a second or two
// off. A batch whose fixes are all refused fails UploadPings as a whole
// (INVALID_ARGUMENT, nothing stored) and is acknowledged on StreamPings.
func TestInvalidTimestamps(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "budi", "")
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 50)
	ctx := e.as(acme, dwell.RoleRep, "budi")
	s := e.now().Add(-time.Hour).Unix()
	bad := []*timestamppb.Timestamp{{Seconds: s, Nanos: -1}, {Seconds: s, Nanos: 1999999999}}
	wantInvalid := func(t *testing.T, r *dwellv1.FixResult) {
		t.Helper()
		if r.GetStatus() != dwellv1.FixStatus_FIX_STATUS_REJECTED || len(r.GetReasons()) != 1 ||
			r.GetReasons()[0].GetField() != "device_time" || !strings.Contains(r.GetReasons()[0].GetDescription(), "not a valid Timestamp") {
			t.Fatalf("fix %s: %v %v, want REJECTED on device_time as not a valid Timestamp", r.GetId(), r.GetStatus(), r.GetReasons())
		}
	}
	good := &dwellv1.Fix{Id: "good", DeviceTime: timestamppb.New(e.now().Add(-time.Hour)), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10}
	var fixes []*dwellv1.Fix
	for i, ts := range bad {
		fixes = append(fixes, &dwellv1.Fix{Id: "bad-" + string(rune('a'+i)), DeviceTime: ts, Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10})
	}
	resp, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: append([]*dwellv1.Fix{good}, fixes...)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.GetAck().GetResults()[1:] {
		wantInvalid(t, r)
	}
	if got := e.storedFixTimes("budi"); len(got) != 1 {
		t.Fatalf("stored %v, want only the good fix", got)
	}
	// All of a batch refused: UploadPings fails, StreamPings acknowledges.
	_, err = e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: fixes})
	wantViolation(t, "UploadPings of bad timestamps alone", err, "fixes[0].device_time")
	stream, err := e.ingest.StreamPings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&dwellv1.StreamPingsRequest{Fixes: fixes, BatchId: 7}); err != nil {
		t.Fatal(err)
	}
	got, err := stream.Recv()
	if err != nil || got.GetBatchId() != 7 || got.GetAck().GetRejected() != int32(len(fixes)) {
		t.Fatalf("StreamPings of bad timestamps alone: %v, %v; want an ack of %d rejected", got, err, len(fixes))
	}
	for _, r := range got.GetAck().GetResults() {
		wantInvalid(t, r)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("stream end: %v, want EOF", err)
	}

	// Every action's time, and an action's fix.
	okTime := timestamppb.New(e.now().Add(-time.Minute))
	for i, ts := range bad {
		id := "req-" + string(rune('a'+i))
		_, err := e.ingest.CheckIn(ctx, &dwellv1.CheckInRequest{RequestId: id, Client: "clients/toko", CheckInTime: ts})
		wantViolation(t, "CheckIn", err, "check_in_time")
		_, err = e.ingest.CheckIn(ctx, &dwellv1.CheckInRequest{RequestId: id, Client: "clients/toko", CheckInTime: okTime,
			Fix: &dwellv1.Fix{DeviceTime: ts, Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10}})
		wantViolation(t, "CheckIn's fix", err, "fix.device_time")
		_, err = e.ingest.CheckOut(ctx, &dwellv1.CheckOutRequest{RequestId: id, Client: "clients/toko", CheckOutTime: ts, Outcome: dwellv1.Outcome_OUTCOME_POSITIVE})
		wantViolation(t, "CheckOut", err, "check_out_time")
		_, err = e.ingest.LogCall(ctx, &dwellv1.LogCallRequest{RequestId: id, Client: "clients/toko", StartTime: ts,
			Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_NO_ANSWER})
		wantViolation(t, "LogCall", err, "start_time")
		_, err = e.ingest.PauseTracking(ctx, &dwellv1.PauseTrackingRequest{RequestId: id, PauseTime: ts})
		wantViolation(t, "PauseTracking", err, "pause_time")
		_, err = e.ingest.ResumeTracking(ctx, &dwellv1.ResumeTrackingRequest{RequestId: id, ResumeTime: ts})
		wantViolation(t, "ResumeTracking", err, "resume_time")
	}
}
