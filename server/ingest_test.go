package server_test

import (
	"fmt"
	"io"
	"math"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// fixes returns n valid fixes with ids prefix-0.. at 30 s steps before now.
func fixes(prefix string, n int, now time.Time) []*dwellv1.Fix {
	out := make([]*dwellv1.Fix, n)
	for i := range out {
		out[i] = &dwellv1.Fix{
			Id:             fmt.Sprintf("%s-%d", prefix, i),
			DeviceTime:     timestamppb.New(now.Add(-time.Duration(n-i) * 30 * time.Second)),
			Position:       &dwellv1.LatLng{Lat: -6.2 + float64(i)*1e-5, Lng: 106.8},
			AccuracyMeters: 12,
		}
	}
	return out
}

func TestUploadTwiceStoredOnceAndSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	e.mustCreateRep(e.admin(acme), "budi", "")
	ctx := e.as(acme, dwell.RoleRep, "budi")
	batch := fixes("f", 100, e.now())
	first, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: batch})
	if err != nil {
		t.Fatalf("UploadPings: %v", err)
	}
	if a := first.GetAck(); a.GetAccepted() != 100 || a.GetDuplicates() != 0 || a.GetRejected() != 0 {
		t.Fatalf("first ack = %d/%d/%d accepted/dup/rejected, want 100/0/0", a.GetAccepted(), a.GetDuplicates(), a.GetRejected())
	}
	second, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Rep: "reps/budi", Fixes: batch})
	if err != nil {
		t.Fatalf("UploadPings again: %v", err)
	}
	for i, r := range second.GetAck().GetResults() {
		if r.GetStatus() != dwellv1.FixStatus_FIX_STATUS_DUPLICATE || r.GetIndex() != int32(i) || r.GetId() != batch[i].GetId() {
			t.Fatalf("second ack result %d = %v, want DUPLICATE of %s", i, r, batch[i].GetId())
		}
	}
	e.restart()
	ctx = e.as(acme, dwell.RoleRep, "budi")
	third, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: batch})
	if err != nil || third.GetAck().GetDuplicates() != 100 {
		t.Fatalf("after restart: ack %v, err %v; want 100 duplicates", third.GetAck(), err)
	}
	got, err := e.st.ListFixes(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(got) != 100 {
		t.Fatalf("stored fixes = %d, %v; want 100", len(got), err)
	}
	for i, f := range got {
		if f.ID != batch[i].GetId() || !f.Time.Equal(batch[i].GetDeviceTime().AsTime()) || f.AccuracyM != 12 {
			t.Fatalf("stored fix %d = %+v, want %v", i, f, batch[i])
		}
	}
}

func TestStreamPingsPipelined(t *testing.T) {
	e := newEnv(t)
	e.mustCreateRep(e.admin(acme), "budi", "")
	stream, err := e.ingest.StreamPings(e.as(acme, dwell.RoleRep, "budi"))
	if err != nil {
		t.Fatal(err)
	}
	const batches = 40
	all := fixes("s", batches*10, e.now())
	// Send every batch before reading any acknowledgement; batch 39 repeats
	// batch 0, so it must come back all duplicates.
	go func() {
		for b := range batches {
			chunk := all[b*10 : b*10+10]
			if b == batches-1 {
				chunk = all[0:10]
			}
			if err := stream.Send(&dwellv1.StreamPingsRequest{BatchId: int64(1000 + b), Fixes: chunk}); err != nil {
				t.Errorf("Send: %v", err)
				return
			}
		}
		_ = stream.CloseSend()
	}()
	for b := range batches {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv %d: %v", b, err)
		}
		if resp.GetBatchId() != int64(1000+b) {
			t.Fatalf("ack %d has batch id %d, want %d (acks must be in order)", b, resp.GetBatchId(), 1000+b)
		}
		want := int32(10)
		if b == batches-1 {
			want = 0
		}
		if resp.GetAck().GetAccepted() != want {
			t.Fatalf("ack %d accepted %d, want %d", b, resp.GetAck().GetAccepted(), want)
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("after last ack: %v, want EOF", err)
	}
}

func TestStreamPingsBadBatchEndsStream(t *testing.T) {
	e := newEnv(t)
	e.mustCreateRep(e.admin(acme), "budi", "")
	stream, err := e.ingest.StreamPings(e.as(acme, dwell.RoleRep, "budi"))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&dwellv1.StreamPingsRequest{BatchId: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	wantViolation(t, "empty batch", err, "fixes")
}

// TestBadFixInput sends each kind of bad fix alone (INVALID_ARGUMENT naming
// the field, nothing stored) and then inside a good batch (rejected with its
// reason, the good fixes stored).
func TestBadFixInput(t *testing.T) {
	e := newEnv(t)
	e.mustCreateRep(e.admin(acme), "budi", "")
	ctx := e.as(acme, dwell.RoleRep, "budi")
	now := e.now()
	longID := make([]byte, 65)
	for i := range longID {
		longID[i] = 'x'
	}
	good := func() *dwellv1.Fix {
		return &dwellv1.Fix{Id: "ok", DeviceTime: timestamppb.New(now.Add(-time.Minute)), Position: &dwellv1.LatLng{Lat: 1, Lng: 2}, AccuracyMeters: 5}
	}
	cases := []struct {
		name  string
		mod   func(f *dwellv1.Fix)
		field string
	}{
		{"lat above 90", func(f *dwellv1.Fix) { f.Position.Lat = 90.0001 }, "position.lat"},
		{"lat below -90", func(f *dwellv1.Fix) { f.Position.Lat = -91 }, "position.lat"},
		{"lat NaN", func(f *dwellv1.Fix) { f.Position.Lat = math.NaN() }, "position.lat"},
		{"lng above 180", func(f *dwellv1.Fix) { f.Position.Lng = 180.5 }, "position.lng"},
		{"lng infinite", func(f *dwellv1.Fix) { f.Position.Lng = math.Inf(-1) }, "position.lng"},
		{"no position", func(f *dwellv1.Fix) { f.Position = nil }, "position."},
		{"negative accuracy", func(f *dwellv1.Fix) { f.AccuracyMeters = -1 }, "accuracy_meters"},
		{"NaN accuracy", func(f *dwellv1.Fix) { f.AccuracyMeters = math.NaN() }, "accuracy_meters"},
		{"too far ahead", func(f *dwellv1.Fix) { f.DeviceTime = timestamppb.New(now.Add(25 * time.Hour)) }, "device_time"},
		{"older than retention", func(f *dwellv1.Fix) { f.DeviceTime = timestamppb.New(now.Add(-366 * 24 * time.Hour)) }, "device_time"},
		{"no time", func(f *dwellv1.Fix) { f.DeviceTime = nil }, "device_time"},
		{"empty id", func(f *dwellv1.Fix) { f.Id = "" }, "id"},
		{"id of 65 bytes", func(f *dwellv1.Fix) { f.Id = string(longID) }, "id"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := good()
			bad.Id = fmt.Sprintf("bad-%d", i)
			tc.mod(bad)
			_, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{bad}})
			wantViolation(t, "alone", err, "fixes[0]."+tc.field)

			ok := good()
			ok.Id = fmt.Sprintf("good-%d", i)
			resp, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{ok, bad}})
			if err != nil {
				t.Fatalf("mixed batch: %v", err)
			}
			a := resp.GetAck()
			if a.GetAccepted() != 1 || a.GetRejected() != 1 || a.GetResults()[1].GetStatus() != dwellv1.FixStatus_FIX_STATUS_REJECTED {
				t.Fatalf("mixed batch ack = %v, want 1 accepted, fix 1 rejected", a)
			}
			if rs := a.GetResults()[1].GetReasons(); len(rs) == 0 || !hasPrefix(rs[0].GetField(), tc.field) {
				t.Fatalf("rejection reasons = %v, want field %q", rs, tc.field)
			}
		})
	}
	_, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{})
	wantViolation(t, "empty batch", err, "fixes")
	_, err = e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: fixes("big", 1001, now)})
	wantViolation(t, "1001 fixes", err, "fixes")
	_, err = e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Rep: "budi", Fixes: fixes("n", 1, now)})
	wantViolation(t, "bad rep name", err, "rep")

	got, err := e.st.ListFixes(t.Context(), acme, "budi", time.Time{}, now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cases) {
		t.Fatalf("stored %d fixes, want only the %d good ones", len(got), len(cases))
	}
	for _, f := range got {
		if !hasPrefix(f.ID, "good-") {
			t.Fatalf("stored a bad fix: %+v", f)
		}
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func TestWorkingHoursRefuseFixes(t *testing.T) {
	e := newEnv(t)
	ctx := e.admin(acme)
	// 2026-11-20 is a Friday; e.now() is 10:00 UTC = 17:00 in Jakarta.
	_, err := e.dirc.CreateRep(ctx, &dwellv1.CreateRepRequest{RepId: "sari", Rep: &dwellv1.Rep{
		DisplayName: "Sari", TimeZone: "Asia/Jakarta",
		WorkingHours: []*dwellv1.WorkingHours{{DayOfWeek: 5, StartMinute: 8 * 60, EndMinute: 16 * 60}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	in := &dwellv1.Fix{Id: "in", DeviceTime: timestamppb.New(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10}
	out := &dwellv1.Fix{Id: "out", DeviceTime: timestamppb.New(time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10}
	resp, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "sari"), &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{in, out}})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetAck().GetResults()
	if r[0].GetStatus() != dwellv1.FixStatus_FIX_STATUS_ACCEPTED || r[1].GetStatus() != dwellv1.FixStatus_FIX_STATUS_REJECTED || r[1].GetReasons()[0].GetField() != "device_time" {
		t.Fatalf("ack = %v, want 09:00 local accepted and 16:30 local rejected on device_time", r)
	}
	cfg, err := e.ingest.GetTrackingConfig(e.as(acme, dwell.RoleRep, "sari"), &dwellv1.GetTrackingConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// Friday 17:00 local: off until Friday 08:00 local next week.
	if cfg.GetTrackingEnabled() || !cfg.GetRefreshTime().AsTime().Equal(e.now().Add(time.Hour)) {
		t.Fatalf("tracking config = %v, want disabled, refresh in one hour", cfg)
	}
}

func TestCheckInVerifiedAndIdempotent(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "budi", "")
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 50)
	ctx := e.as(acme, dwell.RoleRep, "budi")
	at := func(lat, lng, acc float64) *dwellv1.Fix {
		return &dwellv1.Fix{DeviceTime: timestamppb.New(e.now()), Position: &dwellv1.LatLng{Lat: lat, Lng: lng}, AccuracyMeters: acc}
	}
	req := &dwellv1.CheckInRequest{RequestId: "ci-1", Client: "clients/toko", CheckInTime: timestamppb.New(e.now()), Fix: at(-6.2, 106.8001, 10)}
	first, err := e.ingest.CheckIn(ctx, req)
	if err != nil || first.GetVerification() != dwellv1.Verification_VERIFICATION_VERIFIED {
		t.Fatalf("CheckIn at the site = %v, %v; want VERIFIED", first, err)
	}
	e.advance(time.Minute)
	// The retry differs (the phone moved): the original answer comes back.
	req.Fix = at(-6.21, 106.8, 10)
	again, err := e.ingest.CheckIn(ctx, req)
	if err != nil || again.GetVerification() != first.GetVerification() || !again.GetReceiveTime().AsTime().Equal(first.GetReceiveTime().AsTime()) {
		t.Fatalf("retried CheckIn = %v, %v; want the original %v", again, err, first)
	}
	far, err := e.ingest.CheckIn(ctx, &dwellv1.CheckInRequest{RequestId: "ci-2", Client: "clients/toko", CheckInTime: timestamppb.New(e.now()), Fix: at(-6.21, 106.8, 10)})
	// 0.01 degree of latitude is about 1,112 m; the fence radius is 50 m.
	if err != nil || far.GetVerification() != dwellv1.Verification_VERIFICATION_OUTSIDE_GEOFENCE || math.Abs(far.GetDistanceMeters()-1062) > 5 {
		t.Fatalf("CheckIn 1.1 km away = %v, %v; want OUTSIDE_GEOFENCE at about 1062 m", far, err)
	}
	mock := at(-6.2, 106.8, 5)
	mock.Mock = true
	m, err := e.ingest.CheckIn(ctx, &dwellv1.CheckInRequest{RequestId: "ci-3", Client: "clients/toko", CheckInTime: timestamppb.New(e.now()), Fix: mock})
	if err != nil || m.GetVerification() != dwellv1.Verification_VERIFICATION_MOCK_LOCATION {
		t.Fatalf("mock CheckIn = %v, %v", m, err)
	}
	cis, err := e.st.ListCheckIns(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(cis) != 3 {
		t.Fatalf("stored check-ins = %d, %v; want 3", len(cis), err)
	}
	_, err = e.ingest.CheckIn(ctx, &dwellv1.CheckInRequest{RequestId: "ci-4", Client: "clients/nope", CheckInTime: timestamppb.New(e.now())})
	wantCode(t, "unknown client", err, codes.NotFound)
	_, err = e.ingest.CheckIn(ctx, &dwellv1.CheckInRequest{Client: "clients/toko", CheckInTime: timestamppb.New(e.now())})
	wantViolation(t, "no request id", err, "request_id")
}

func TestCheckOutAndCallValidation(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "budi", "")
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 50)
	ctx := e.as(acme, dwell.RoleRep, "budi")
	ts := timestamppb.New(e.now())
	co := func(mod func(r *dwellv1.CheckOutRequest)) *dwellv1.CheckOutRequest {
		r := &dwellv1.CheckOutRequest{RequestId: "co", Client: "clients/toko", CheckOutTime: ts, Outcome: dwellv1.Outcome_OUTCOME_POSITIVE}
		mod(r)
		return r
	}
	bad := []struct {
		name  string
		req   *dwellv1.CheckOutRequest
		field string
	}{
		{"no outcome", co(func(r *dwellv1.CheckOutRequest) { r.Outcome = 0 }), "outcome"},
		{"follow-up without date", co(func(r *dwellv1.CheckOutRequest) { r.Outcome = dwellv1.Outcome_OUTCOME_FOLLOW_UP }), "follow_up_date"},
		{"follow-up bad date", co(func(r *dwellv1.CheckOutRequest) {
			r.Outcome, r.FollowUpDate = dwellv1.Outcome_OUTCOME_FOLLOW_UP, &dwellv1.Date{Year: 2026, Month: 2, Day: 30}
		}), "follow_up_date"},
		{"follow-up due before the check-out's day", co(func(r *dwellv1.CheckOutRequest) {
			// 20 November 17:00 in Jakarta.
			r.Outcome, r.FollowUpDate = dwellv1.Outcome_OUTCOME_FOLLOW_UP, &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
		}), "follow_up_date"},
		{"rejected without reason", co(func(r *dwellv1.CheckOutRequest) { r.Outcome = dwellv1.Outcome_OUTCOME_REJECTED }), "rejection_reason"},
		{"other without text", co(func(r *dwellv1.CheckOutRequest) {
			r.Outcome, r.RejectionReason = dwellv1.Outcome_OUTCOME_REJECTED, dwellv1.RejectionReason_REJECTION_REASON_OTHER
		}), "rejection_text"},
		{"reason without rejection", co(func(r *dwellv1.CheckOutRequest) { r.RejectionReason = dwellv1.RejectionReason_REJECTION_REASON_PRICE }), "rejection_reason"},
		{"no time", co(func(r *dwellv1.CheckOutRequest) { r.CheckOutTime = nil }), "check_out_time"},
		{"bad client", co(func(r *dwellv1.CheckOutRequest) { r.Client = "toko" }), "client"},
	}
	for _, tc := range bad {
		_, err := e.ingest.CheckOut(ctx, tc.req)
		wantViolation(t, tc.name, err, tc.field)
	}
	okReq := co(func(r *dwellv1.CheckOutRequest) {
		r.Outcome, r.FollowUpDate = dwellv1.Outcome_OUTCOME_FOLLOW_UP, &dwellv1.Date{Year: 2026, Month: 12, Day: 1}
	})
	first, err := e.ingest.CheckOut(ctx, okReq)
	if err != nil {
		t.Fatalf("CheckOut: %v", err)
	}
	e.advance(time.Second)
	again, err := e.ingest.CheckOut(ctx, okReq)
	if err != nil || !again.GetReceiveTime().AsTime().Equal(first.GetReceiveTime().AsTime()) {
		t.Fatalf("retried CheckOut = %v, %v; want the original", again, err)
	}
	cos, err := e.st.ListCheckOuts(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(cos) != 1 || cos[0].FollowUpDate != (dwell.Date{Year: 2026, Month: 12, Day: 1}) {
		t.Fatalf("stored check-outs = %+v, %v; want one follow-up on 2026-12-01", cos, err)
	}
	// A follow-up may be due on the check-out's own day.
	if _, err := e.ingest.CheckOut(ctx, co(func(r *dwellv1.CheckOutRequest) {
		r.RequestId, r.Outcome, r.FollowUpDate = "co-same-day", dwellv1.Outcome_OUTCOME_FOLLOW_UP, &dwellv1.Date{Year: 2026, Month: 11, Day: 20}
	})); err != nil {
		t.Fatalf("a follow-up due on the check-out's day: %v", err)
	}

	call := &dwellv1.LogCallRequest{RequestId: "call-1", Client: "clients/toko", StartTime: ts, TalkSeconds: 90,
		Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_CONNECTED}
	if _, err := e.ingest.LogCall(ctx, call); err != nil {
		t.Fatalf("LogCall: %v", err)
	}
	if _, err := e.ingest.LogCall(ctx, call); err != nil {
		t.Fatalf("LogCall retry: %v", err)
	}
	calls, err := e.st.ListCalls(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(calls) != 1 || calls[0].TalkSeconds != 90 {
		t.Fatalf("stored calls = %+v, %v; want one of 90 s", calls, err)
	}
	_, err = e.ingest.LogCall(ctx, &dwellv1.LogCallRequest{RequestId: "call-2", Client: "clients/toko", StartTime: ts, TalkSeconds: 10,
		Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_NO_ANSWER})
	wantViolation(t, "talk time without connection", err, "talk_seconds")
	_, err = e.ingest.LogCall(ctx, &dwellv1.LogCallRequest{RequestId: "call-3", Client: "clients/toko", StartTime: ts, TalkSeconds: -1,
		Direction: 0, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_CONNECTED})
	wantViolation(t, "negative talk time", err, "talk_seconds")
	wantViolation(t, "no direction", err, "direction")
}
