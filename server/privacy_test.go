package server_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

func TestEraseRepHistory(t *testing.T) {
	e := newEnv(t)
	_, day := simDay(t, e)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "rep-2", "")
	rep1 := e.as(acme, dwell.RoleRep, "rep-1")
	var all []*dwellv1.Fix
	for _, f := range day.AllFixes() {
		all = append(all, pbFix(f))
	}
	upload := func(fs []*dwellv1.Fix) (accepted int) {
		t.Helper()
		for len(fs) > 0 {
			n := min(len(fs), 1000)
			resp, err := e.ingest.UploadPings(rep1, &dwellv1.UploadPingsRequest{Fixes: fs[:n]})
			if err != nil {
				t.Fatalf("UploadPings: %v", err)
			}
			accepted += int(resp.GetAck().GetAccepted())
			fs = fs[n:]
		}
		return accepted
	}
	if got := upload(all); got != len(all) {
		t.Fatalf("accepted %d of %d fixes", got, len(all))
	}
	rep2 := e.as(acme, dwell.RoleRep, "rep-2")
	if _, err := e.ingest.UploadPings(rep2, &dwellv1.UploadPingsRequest{Fixes: fixes("r2", 40, e.now())}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	dayReq := &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: date}
	before, err := e.report.GetRepDay(admin, dayReq)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.st.ListEvents(t.Context(), acme, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	rep1Events := 0
	for _, ev := range evs {
		if ev.Rep == "rep-1" {
			rep1Events++
		}
	}
	if len(before.GetVisits()) == 0 || rep1Events == 0 {
		t.Fatalf("before the erase: %d visits, %d events of rep-1; the test needs some", len(before.GetVisits()), rep1Events)
	}

	req := &dwellv1.EraseRepHistoryRequest{Name: "reps/rep-1"}
	for _, c := range []struct {
		role    dwell.Role
		subject string
	}{{dwell.RoleRep, "rep-1"}, {dwell.RoleManager, "boss"}, {dwell.RolePartner, "crm"}} {
		_, err := e.dirc.EraseRepHistory(e.as(acme, c.role, c.subject), req)
		wantCode(t, "EraseRepHistory as "+c.role.String(), err, codes.PermissionDenied)
	}
	_, err = e.dirc.EraseRepHistory(admin, &dwellv1.EraseRepHistoryRequest{Name: "clients/rep-1"})
	wantViolation(t, "EraseRepHistory of a client name", err, "name")
	// Nothing was erased by the refused calls.
	if got, err := e.report.GetRepDay(admin, dayReq); err != nil || !proto.Equal(got, before) {
		t.Fatalf("GetRepDay after refused erasures changed (err %v)", err)
	}

	resp, err := e.dirc.EraseRepHistory(admin, req)
	if err != nil {
		t.Fatalf("EraseRepHistory: %v", err)
	}
	if resp.GetFixesErased() != int64(len(all)) || resp.GetDaysErased() < 1 || resp.GetEventsErased() != int64(rep1Events) {
		t.Fatalf("erased %v; want %d fixes, at least one day, %d events", resp, len(all), rep1Events)
	}
	check := func(what string) {
		t.Helper()
		after, err := e.report.GetRepDay(admin, dayReq)
		if err != nil {
			t.Fatal(err)
		}
		if after.GetFixCount() != 0 || len(after.GetVisits()) != 0 || len(after.GetSegments()) != 0 {
			t.Fatalf("%s: rep-1's day has %d fixes, %d visits, %d segments; want none", what, after.GetFixCount(), len(after.GetVisits()), len(after.GetSegments()))
		}
		evs, err := e.st.ListEvents(t.Context(), acme, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Rep == "rep-1" {
				t.Fatalf("%s: event %+v of rep-1 is still in the log", what, ev)
			}
		}
		other, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/rep-2", Date: protoDate(e.now())})
		if err != nil {
			t.Fatal(err)
		}
		if other.GetFixCount() != 40 {
			t.Fatalf("%s: rep-2's day has %d fixes, want its 40", what, other.GetFixCount())
		}
	}
	check("after the erase")
	// The refresher finds nothing to re-derive or publish, and a restart
	// brings nothing back.
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("after a refresh")
	e.restart()
	check("after a restart")
	// The rep's fix ids are forgotten with its history: the phone's
	// re-sent buffer is taken as new.
	if got := upload(all); got != len(all) {
		t.Fatalf("re-sent after the erase: accepted %d of %d", got, len(all))
	}
	// A rep deleted from the directory can still be erased.
	if _, err := e.dirc.DeleteRep(admin, &dwellv1.DeleteRepRequest{Name: "reps/rep-1"}); err != nil {
		t.Fatal(err)
	}
	resp, err = e.dirc.EraseRepHistory(admin, req)
	if err != nil || resp.GetFixesErased() != int64(len(all)) {
		t.Fatalf("EraseRepHistory of a deleted rep = %v, %v; want its %d fixes erased", resp, err, len(all))
	}
}

func fieldMask(paths ...string) *fieldmaskpb.FieldMask {
	return &fieldmaskpb.FieldMask{Paths: paths}
}

func protoDate(t time.Time) *dwellv1.Date {
	d := dwell.DateOf(t, time.UTC)
	return &dwellv1.Date{Year: int32(d.Year), Month: int32(d.Month), Day: int32(d.Day)}
}

func TestRetentionSweep(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "rep-2", "")
	e.setRetention(2)
	e.mustCreateRep(admin, "rep-3", "")
	for _, r := range []string{"rep-2", "rep-3"} {
		if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, r), &dwellv1.UploadPingsRequest{Fixes: fixes(r, 40, e.now())}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	date := protoDate(e.now())
	bdReq := &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-2"}, StartDate: date, EndDate: date}
	before, err := e.report.GetTimeBreakdown(admin, bdReq)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.st.ListEvents(t.Context(), acme, 0, 100)
	if err != nil || len(evs) < 2 {
		t.Fatalf("the day published %d events (%v); the test needs two or more", len(evs), err)
	}
	// A day later nothing has expired yet.
	if n, m, err := server.SweepRetention(t.Context(), e.srv, e.now().Add(24*time.Hour)); err != nil || n != 0 || m != 0 {
		t.Fatalf("sweep after a day = %d fixes, %d events, %v; want none", n, m, err)
	}
	e.advance(3 * 24 * time.Hour)
	admin = e.admin(acme) // tokens are minted on the test's clock
	n, m, err := server.SweepRetention(t.Context(), e.srv, e.now())
	if err != nil || n != 80 || m != len(evs) {
		t.Fatalf("sweep after three days = %d fixes, %d events, %v; want 80 and %d", n, m, err, len(evs))
	}
	if left, err := e.st.ListEvents(t.Context(), acme, 0, 100); err != nil || len(left) != 0 {
		t.Fatalf("events after the sweep: %d, %v", len(left), err)
	}
	// Resuming from a cursor before the deleted events is refused, rather
	// than skipping them unknowingly; a cursor of the last one is fine.
	err = watchErr(e.report, admin, &dwellv1.WatchEventsRequest{Cursor: server.EventCursor(acme, evs[0].Seq)})
	wantReason(t, "WatchEvents from an expired cursor", err, codes.FailedPrecondition, dwell.ReasonCursorExpired)
	openWatch(t, e.report, admin, &dwellv1.WatchEventsRequest{Cursor: server.EventCursor(acme, evs[len(evs)-1].Seq)})
	day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/rep-2", Date: date, IncludeFixes: true})
	if err != nil {
		t.Fatal(err)
	}
	// The day is served as derived while its fixes were kept
	// (TestGetRepDayPastRetention), without them.
	if len(day.GetFixes()) != 0 || day.GetFixCount() != 40 || !day.GetPastRetention() {
		t.Fatalf("GetRepDay after the sweep: %d fixes served, fix_count %d, past_retention %v; want 0, 40, true", len(day.GetFixes()), day.GetFixCount(), day.GetPastRetention())
	}
	// The day's summary keeps its figures, also after a settings change
	// (which re-derives only days inside the retention period).
	if _, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{IdleMinSeconds: 420}, UpdateMask: fieldMask("idle_min_seconds")}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	after, err := e.report.GetTimeBreakdown(admin, bdReq)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(after, before) || len(before.GetRows()) == 0 {
		t.Fatalf("breakdown after the sweep = %v, want as before, %v", after, before)
	}
	if n, m, err := server.SweepRetention(t.Context(), e.srv, e.now()); err != nil || n != 0 || m != 0 {
		t.Fatalf("second sweep = %d fixes, %d events, %v; want none", n, m, err)
	}
}

func TestRetentionClearsCheckInFixes(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "budi", "")
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 50)
	e.setRetention(2)
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	// visit checks in at the client's site and out 20 minutes later with a
	// follow-up, each with the fix the phone had, uploads the fixes of the
	// visit, and returns its local day.
	visit := func(id string) *dwellv1.Date {
		t.Helper()
		rep := e.as(acme, dwell.RoleRep, "budi") // tokens are minted on the test's clock
		fix := &dwellv1.Fix{DeviceTime: timestamppb.New(e.now()), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8001}, AccuracyMeters: 10}
		day := dwell.DateOf(e.now(), jakarta)
		ci, err := e.ingest.CheckIn(rep, &dwellv1.CheckInRequest{RequestId: "ci-" + id, Client: "clients/toko", CheckInTime: timestamppb.New(e.now()), Fix: fix})
		if err != nil || ci.GetVerification() != dwellv1.Verification_VERIFICATION_VERIFIED {
			t.Fatalf("CheckIn %s = %v, %v; want VERIFIED", id, ci, err)
		}
		e.advance(20 * time.Minute)
		fix = proto.Clone(fix).(*dwellv1.Fix)
		fix.DeviceTime = timestamppb.New(e.now())
		_, err = e.ingest.CheckOut(rep, &dwellv1.CheckOutRequest{RequestId: "co-" + id, Client: "clients/toko", CheckOutTime: timestamppb.New(e.now()), Fix: fix,
			Outcome: dwellv1.Outcome_OUTCOME_FOLLOW_UP, FollowUpDate: protoDate(e.now().Add(7 * 24 * time.Hour)), Notes: "call back about pricing"})
		if err != nil {
			t.Fatalf("CheckOut %s: %v", id, err)
		}
		// The fixes of the 20 minutes, at the site: the visit is found.
		if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes(id, 41, e.now())}); err != nil {
			t.Fatal(err)
		}
		return &dwellv1.Date{Year: int32(day.Year), Month: int32(day.Month), Day: int32(day.Day)}
	}
	oldDay := visit("old")
	e.advance(3 * 24 * time.Hour)
	newDay := visit("new")
	admin = e.admin(acme)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	visits := func() []*dwellv1.Visit {
		t.Helper()
		resp, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/budi", StartDate: oldDay, EndDate: newDay})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetVisits()
	}
	before := visits()
	if len(before) != 2 || before[0].GetOutcome() != dwellv1.Outcome_OUTCOME_FOLLOW_UP {
		t.Fatalf("visits before the sweep = %v, want two with the follow-up outcome", before)
	}
	from, to := e.now().Add(-7*24*time.Hour), e.now().Add(time.Hour)
	list := func() ([]dwell.CheckIn, []dwell.CheckOut) {
		t.Helper()
		cis, err := e.st.ListCheckIns(t.Context(), acme, "budi", from, to)
		if err != nil {
			t.Fatal(err)
		}
		cos, err := e.st.ListCheckOuts(t.Context(), acme, "budi", from, to)
		if err != nil {
			t.Fatal(err)
		}
		return cis, cos
	}
	cis, cos := list()
	if len(cis) != 2 || len(cos) != 2 || cis[0].Fix == nil || cos[0].Fix == nil || cis[1].Fix == nil || cos[1].Fix == nil {
		t.Fatalf("before the sweep: check-ins %+v, check-outs %+v; want two of each with fixes", cis, cos)
	}

	n, err := server.SweepRetentionActions(t.Context(), e.srv, e.now())
	if err != nil || n != 2 {
		t.Fatalf("sweep = %d check-ins and check-outs cleared, %v; want 2 (the old visit's)", n, err)
	}
	gotIns, gotOuts := list()
	wantIns, wantOuts := slices.Clone(cis), slices.Clone(cos)
	wantIns[0].Fix, wantOuts[0].Fix = nil, nil
	if !reflect.DeepEqual(gotIns, wantIns) || !reflect.DeepEqual(gotOuts, wantOuts) {
		t.Fatalf("after the sweep: check-ins %+v, check-outs %+v;\nwant %+v, %+v (the old ones without their fixes, the rest as before)", gotIns, gotOuts, wantIns, wantOuts)
	}
	if gotOuts[0].Outcome != dwell.OutcomeFollowUp || gotOuts[0].FollowUpDate.IsZero() || gotIns[0].Verification != dwell.VerificationVerified {
		t.Fatalf("the old visit after the sweep: check-in %+v, check-out %+v; want VERIFIED and the follow-up kept", gotIns[0], gotOuts[0])
	}
	if after := visits(); !slices.EqualFunc(after, before, func(a, b *dwellv1.Visit) bool { return proto.Equal(a, b) }) {
		t.Fatalf("visits after the sweep = %v, want as before, %v", after, before)
	}
	// GetRepDay serves the old day from its summary, with the outcome of
	// the visit's check-out as ListVisits has it.
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: oldDay})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(before, func(v *dwellv1.Visit) bool { return proto.Equal(v.GetDate(), oldDay) })
	if i < 0 || !rd.GetPastRetention() || len(rd.GetVisits()) != 1 || !proto.Equal(rd.GetVisits()[0], before[i]) {
		t.Fatalf("GetRepDay of the old day after the sweep: past_retention %v, visits %v; want true and the old visit of %v", rd.GetPastRetention(), rd.GetVisits(), before)
	}
	if n, err := server.SweepRetentionActions(t.Context(), e.srv, e.now()); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want none", n, err)
	}
}
