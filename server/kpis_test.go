package server_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// reportFixture is acme with teams north (manager ana: budi) and south
// (manager rudi: sari), a simulated city, and budi's simulated Thursday
// 19 November 2026 in Jakarta sent over gRPC: every upload, check-in and
// check-out, and two calls.
type reportFixture struct {
	e    *env
	city *sim.City
	day  *sim.DayResult
	// repDay is GetRepDay's answer for budi's day, the reference.
	repDay *dwellv1.GetRepDayResponse
}

var fixtureDate = dwell.Date{Year: 2026, Month: 11, Day: 19}

func newReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	e := newEnv(t)
	seedTeams(e)
	city, err := sim.NewCity(7, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	day, err := sim.Day(11, city, sim.Realistic(), sim.DayConfig{Rep: "budi", Date: fixtureDate, Loc: jakarta})
	if err != nil {
		t.Fatal(err)
	}
	admin := e.admin(acme)
	stream, err := e.dirc.ImportClients(admin)
	if err != nil {
		t.Fatal(err)
	}
	msg := &dwellv1.ImportClientsRequest{}
	for i, c := range city.Clients() {
		kind := dwellv1.ClientKind_CLIENT_KIND_PROSPECT
		if i%2 == 0 {
			kind = dwellv1.ClientKind_CLIENT_KIND_CUSTOMER
		}
		msg.Clients = append(msg.Clients, &dwellv1.Client{Name: "clients/" + string(c.ID), DisplayName: c.DisplayName, Kind: kind, Geofence: pbGeofence(c.Fence)})
	}
	if err := stream.Send(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	budi := e.as(acme, dwell.RoleRep, "budi")
	for _, u := range day.Uploads {
		req := &dwellv1.UploadPingsRequest{}
		for _, f := range u.Fixes {
			req.Fixes = append(req.Fixes, pbFix(f))
		}
		if _, err := e.ingest.UploadPings(budi, req); err != nil {
			t.Fatal(err)
		}
	}
	for _, ci := range day.CheckIns {
		r := &dwellv1.CheckInRequest{RequestId: ci.RequestID, Client: "clients/" + string(ci.Client), CheckInTime: timestamppb.New(ci.Time)}
		if ci.Fix != nil {
			r.Fix = pbFix(*ci.Fix)
		}
		if _, err := e.ingest.CheckIn(budi, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, co := range day.CheckOuts {
		r := &dwellv1.CheckOutRequest{RequestId: co.RequestID, Client: "clients/" + string(co.Client), CheckOutTime: timestamppb.New(co.Time),
			Outcome: dwellv1.Outcome(co.Outcome), RejectionReason: dwellv1.RejectionReason(co.RejectionReason), RejectionText: co.RejectionText}
		if co.Fix != nil {
			r.Fix = pbFix(*co.Fix)
		}
		if !co.FollowUpDate.IsZero() {
			r.FollowUpDate = pbDate(co.FollowUpDate.Year, int(co.FollowUpDate.Month), co.FollowUpDate.Day)
		}
		if _, err := e.ingest.CheckOut(budi, r); err != nil {
			t.Fatal(err)
		}
	}
	client := "clients/" + string(day.CheckIns[0].Client)
	for i, talk := range []int64{200, 0} {
		out := dwellv1.CallOutcome_CALL_OUTCOME_CONNECTED
		if talk == 0 {
			out = dwellv1.CallOutcome_CALL_OUTCOME_NO_ANSWER
		}
		if _, err := e.ingest.LogCall(budi, &dwellv1.LogCallRequest{RequestId: "call-" + itoaTest(i), Client: client,
			StartTime: timestamppb.New(day.Start.Add(time.Duration(i+1) * time.Hour)), TalkSeconds: talk,
			Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: out}); err != nil {
			t.Fatal(err)
		}
	}
	ref, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: pbDate(2026, 11, 19)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.GetVisits()) < 2 {
		t.Fatalf("the simulated day has %d visits; the tests need a few", len(ref.GetVisits()))
	}
	return &reportFixture{e: e, city: city, day: day, repDay: ref}
}

func itoaTest(i int) string { return string(rune('0' + i)) }

func (f *reportFixture) kpis(t *testing.T, ctx context.Context, req *dwellv1.GetKpisRequest) *dwellv1.GetKpisResponse {
	t.Helper()
	resp, err := f.e.report.GetKpis(ctx, req)
	if err != nil {
		t.Fatalf("GetKpis: %v", err)
	}
	return resp
}

func TestGetKpisOverGRPC(t *testing.T) {
	f := newReportFixture(t)
	e := f.e
	partner := e.as(acme, dwell.RolePartner, "crm")
	won := dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON
	client := "clients/" + string(f.day.CheckIns[0].Client)
	o := opp("deal", "budi", won, 300000, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC))
	o.Client = client
	if _, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o", Opportunities: []*dwellv1.Opportunity{o}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sales.UpsertQuotas(partner, &dwellv1.UpsertQuotasRequest{RequestId: "q", Quotas: []*dwellv1.Quota{{Rep: "reps/budi",
		StartDate: pbDate(2026, 11, 16), EndDate: pbDate(2026, 11, 22), Target: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 600000}}}}); err != nil {
		t.Fatal(err)
	}
	ana := e.as(acme, dwell.RoleManager, "ana")
	week := &dwellv1.GetKpisRequest{Team: "teams/north", StartDate: pbDate(2026, 11, 16), EndDate: pbDate(2026, 11, 22)}

	// Asked at once, before the refresher ran: stale days are derived
	// inline, so the answer already holds everything acknowledged.
	check := func(what string, k *dwellv1.GetKpisResponse) {
		t.Helper()
		tot := f.repDay.GetTotals()
		if k.GetIdle().GetBasis().GetDays() != 1 || k.GetIdle().GetIdleSeconds() != tot.GetIdleSeconds() ||
			k.GetIdle().GetTravelSeconds() != tot.GetTravelSeconds() || math.Abs(k.GetIdle().GetTravelMeters()-tot.GetDistanceMeters()) > 1e-6 {
			t.Fatalf("%s: idle KPI %v, want the day's totals %v over 1 day", what, k.GetIdle(), tot)
		}
		visits := len(f.repDay.GetVisits())
		if k.GetVisitTime().GetBasis().GetRecords() != int32(visits) || k.GetMeetings().GetVerifiedVisitsPerDay() != float64(visits) {
			t.Fatalf("%s: visit KPIs %v %v, want %d visits", what, k.GetVisitTime(), k.GetMeetings(), visits)
		}
		if k.GetVisitTime().GetProspectSeconds()+k.GetVisitTime().GetCustomerSeconds() > tot.GetVisitProspectSeconds()+tot.GetVisitCustomerSeconds()+int64(visits) {
			t.Fatalf("%s: visit seconds %v exceed the day's %v", what, k.GetVisitTime(), tot)
		}
		if c := k.GetCalls(); c.GetCalls() != 2 || c.GetConnectedCalls() != 1 || c.GetMeanTalkSeconds() != 200 {
			t.Fatalf("%s: calls %v, want 2, 1 connected, 200 s", what, c)
		}
		if q := k.GetQuota(); q.GetAttainment() != 0.5 || q.GetWon().GetAmountMinor() != 300000 {
			t.Fatalf("%s: quota %v, want half of 600,000 met", what, q)
		}
		if k.GetRejection().GetBasis().GetRecords() != int32(len(f.day.CheckOuts)) {
			t.Fatalf("%s: %d check-outs with an outcome, want %d", what, k.GetRejection().GetBasis().GetRecords(), len(f.day.CheckOuts))
		}
	}
	check("before the refresher", f.kpis(t, ana, week))
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("from summaries", f.kpis(t, ana, week))
	check("for the rep", f.kpis(t, e.as(acme, dwell.RoleRep, "budi"), &dwellv1.GetKpisRequest{StartDate: week.StartDate, EndDate: week.EndDate}))

	// An empty range is an explicit zero.
	empty := f.kpis(t, ana, &dwellv1.GetKpisRequest{Team: "teams/north", StartDate: pbDate(2026, 10, 1), EndDate: pbDate(2026, 10, 7)})
	if empty.GetIdle().GetBasis().GetDays() != 0 || empty.GetIdle().GetIdleSecondsPerDay() != 0 || empty.GetWinRatio().GetRatio() != 0 ||
		empty.GetCadence().GetFollowUpRate() != 0 || empty.GetQuota().GetAttainment() != 0 {
		t.Fatalf("empty week = %v, want zeros", empty)
	}

	_, err := e.report.GetKpis(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.GetKpisRequest{Rep: "reps/sari", StartDate: week.StartDate, EndDate: week.EndDate})
	wantCode(t, "a rep asks for another rep", err, codes.PermissionDenied)
	_, err = e.report.GetKpis(ana, &dwellv1.GetKpisRequest{Team: "teams/south", StartDate: week.StartDate, EndDate: week.EndDate})
	wantCode(t, "a manager asks for another team", err, codes.PermissionDenied)
	_, err = e.report.GetKpis(ana, &dwellv1.GetKpisRequest{Rep: "reps/sari", StartDate: week.StartDate, EndDate: week.EndDate})
	wantCode(t, "a manager asks for another team's rep", err, codes.PermissionDenied)
	_, err = e.report.GetKpis(ana, &dwellv1.GetKpisRequest{Team: "teams/north", StartDate: pbDate(2025, 1, 1), EndDate: pbDate(2026, 1, 3)})
	wantViolation(t, "a range of more than 366 days", err, "end_date")
	_, err = e.report.GetKpis(ana, &dwellv1.GetKpisRequest{Team: "teams/north", Rep: "reps/budi", StartDate: week.StartDate, EndDate: week.EndDate})
	wantViolation(t, "rep and team", err, "team")
}

// TestWarmReports checks that after a restart WarmReports fills the cache
// of decoded days from the stored summaries, and that reports answer the
// same from it.
func TestWarmReports(t *testing.T) {
	f := newReportFixture(t)
	e := f.e
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	mgr := e.as(acme, dwell.RoleManager, "ana")
	req := &dwellv1.GetKpisRequest{Team: "teams/north", StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 20)}
	before := f.kpis(t, mgr, req)
	e.restart()
	if n := server.CachedDays(e.srv); n != 0 {
		t.Fatalf("a restarted server caches %d days", n)
	}
	n, err := e.srv.WarmReports(t.Context(), []dwell.TenantID{acme, globex})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || server.CachedDays(e.srv) != n {
		t.Fatalf("WarmReports cached %d days, the cache holds %d; want the stored days", n, server.CachedDays(e.srv))
	}
	mgr = e.as(acme, dwell.RoleManager, "ana")
	after := f.kpis(t, mgr, req)
	if !proto.Equal(after, before) {
		t.Fatalf("GetKpis from the warmed cache differs:\n%v\nwant\n%v", after, before)
	}
	// A cancelled warm-up stops at once.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := e.srv.WarmReports(ctx, []dwell.TenantID{acme}); err == nil {
		t.Fatal("WarmReports with a cancelled context: no error")
	}
}

// TestGetKpisLookBack: a follow-up given on Thursday 19 November and due
// the next week counts in that week's cadence (the look-back), and a call
// to the client on the Monday does it.
func TestGetKpisLookBack(t *testing.T) {
	f := newReportFixture(t)
	e := f.e
	budi := e.as(acme, dwell.RoleRep, "budi")
	client := f.day.CheckIns[0].Client
	due := dwell.Date{Year: 2026, Month: 11, Day: 24}
	if _, err := e.ingest.CheckOut(budi, &dwellv1.CheckOutRequest{RequestId: "late-follow-up", Client: "clients/" + string(client),
		CheckOutTime: timestamppb.New(f.day.End.Add(-time.Minute)), Outcome: dwellv1.Outcome_OUTCOME_FOLLOW_UP,
		FollowUpDate: pbDate(due.Year, int(due.Month), due.Day)}); err != nil {
		t.Fatal(err)
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	monday := time.Date(2026, 11, 23, 10, 0, 0, 0, jakarta)
	e.advance(96 * time.Hour) // to Tuesday 24 November
	budi = e.as(acme, dwell.RoleRep, "budi")
	if _, err := e.ingest.LogCall(budi, &dwellv1.LogCallRequest{RequestId: "follow-up-call", Client: "clients/" + string(client),
		StartTime: timestamppb.New(monday), TalkSeconds: 60, Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND,
		Outcome: dwellv1.CallOutcome_CALL_OUTCOME_CONNECTED}); err != nil {
		t.Fatal(err)
	}
	// The simulated day's own follow-ups due that week count too.
	wantDue := int32(1)
	for _, co := range f.day.CheckOuts {
		if d := co.FollowUpDate; !d.IsZero() && !d.Before(dwell.Date{Year: 2026, Month: 11, Day: 23}) && !(dwell.Date{Year: 2026, Month: 11, Day: 29}).Before(d) {
			wantDue++
		}
	}
	ana := e.as(acme, dwell.RoleManager, "ana")
	next := f.kpis(t, ana, &dwellv1.GetKpisRequest{Team: "teams/north", StartDate: pbDate(2026, 11, 23), EndDate: pbDate(2026, 11, 29)})
	c := next.GetCadence()
	if c.GetFollowUpsDue() != wantDue || c.GetFollowUpsDone() < 1 || c.GetFollowUpsDone() > c.GetFollowUpsDue() {
		t.Fatalf("the next week's cadence %v: want %d follow-ups due (given the week before), at least the called one done", c, wantDue)
	}
	if next.GetIdle().GetBasis().GetDays() != 1 {
		t.Fatalf("the next week rests on %d field days, want 1 (the call's): the look-back's days are not field days", next.GetIdle().GetBasis().GetDays())
	}
}

// TestGetKpisAppointmentKeptAfterMidnight: budi (Jakarta) has an
// appointment at toko planned on Thursday 19 November 2026 from 23:30 to
// 00:30 and is there from 00:05 to 00:40 on Friday. GetKpis over Thursday
// alone counts it planned and kept (the day after the range is read for
// that join alone), for the rep and for its team, before and after the
// refresher ran; Friday's visit and field day count only in a range that
// holds Friday, and GetTimeBreakdown over Thursday has no Friday row.
func TestGetKpisAppointmentKeptAfterMidnight(t *testing.T) {
	e := newEnv(t) // the clock reads Friday 20 November 2026, 17:00 in Jakarta
	seedTeams(e)
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	var batch []*dwellv1.Fix
	stay := func(from, to time.Time, lat, lng float64) {
		for ts := from; ts.Before(to); ts = ts.Add(30 * time.Second) {
			batch = append(batch, &dwellv1.Fix{Id: fmt.Sprint("f", len(batch)), DeviceTime: timestamppb.New(ts),
				Position: &dwellv1.LatLng{Lat: lat, Lng: lng}, AccuracyMeters: 10})
		}
	}
	// Thursday morning away from toko (about 8 km), Friday just after
	// midnight at toko (-6.2, 106.8), then away again.
	stay(time.Date(2026, 11, 19, 10, 0, 0, 0, jakarta), time.Date(2026, 11, 19, 10, 30, 0, 0, jakarta), -6.25, 106.85)
	stay(time.Date(2026, 11, 20, 0, 5, 0, 0, jakarta), time.Date(2026, 11, 20, 0, 40, 0, 0, jakarta), -6.2, 106.8)
	stay(time.Date(2026, 11, 20, 1, 0, 0, 0, jakarta), time.Date(2026, 11, 20, 1, 10, 0, 0, jakarta), -6.25, 106.85)
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.UploadPingsRequest{Fixes: batch}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 19, 23, 30, 0, 0, jakarta)
	if _, err := e.sales.CreateAppointment(e.as(acme, dwell.RolePartner, "crm"), &dwellv1.CreateAppointmentRequest{RequestId: "late", AppointmentId: "late",
		Appointment: &dwellv1.Appointment{Rep: "reps/budi", Client: "clients/toko",
			PlannedStartTime: timestamppb.New(start), PlannedEndTime: timestamppb.New(start.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	thu, fri := pbDate(2026, 11, 19), pbDate(2026, 11, 20)
	for _, refreshed := range []bool{false, true} {
		if refreshed {
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		admin, ana := e.admin(acme), e.as(acme, dwell.RoleManager, "ana")
		for _, c := range []struct {
			what         string
			ctx          context.Context
			req          *dwellv1.GetKpisRequest
			days, visits int32
		}{
			{"budi over Thursday", admin, &dwellv1.GetKpisRequest{Rep: "reps/budi", StartDate: thu, EndDate: thu}, 1, 0},
			{"north over Thursday", ana, &dwellv1.GetKpisRequest{Team: "teams/north", StartDate: thu, EndDate: thu}, 1, 0},
			{"budi over Thursday and Friday", admin, &dwellv1.GetKpisRequest{Rep: "reps/budi", StartDate: thu, EndDate: fri}, 2, 1},
		} {
			k, err := e.report.GetKpis(c.ctx, c.req)
			if err != nil {
				t.Fatalf("refreshed %v: %s: %v", refreshed, c.what, err)
			}
			m := k.GetMeetings()
			if m.GetAppointmentsPlanned() != 1 || m.GetAppointmentsKept() != 1 {
				t.Errorf("refreshed %v: %s: %d planned, %d kept; want 1 and 1", refreshed, c.what, m.GetAppointmentsPlanned(), m.GetAppointmentsKept())
			}
			if m.GetBasis().GetDays() != c.days || k.GetVisitTime().GetBasis().GetRecords() != c.visits {
				t.Errorf("refreshed %v: %s: %d field days, %d visits; want %d and %d", refreshed, c.what,
					m.GetBasis().GetDays(), k.GetVisitTime().GetBasis().GetRecords(), c.days, c.visits)
			}
		}
		bd, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Team: "teams/north", StartDate: thu, EndDate: thu,
			Grouping: dwellv1.Grouping_GROUPING_DAY})
		if err != nil {
			t.Fatal(err)
		}
		if rows := bd.GetRows(); len(rows) != 1 || rows[0].GetDate().GetDay() != 19 || rows[0].GetFieldDays() != 1 ||
			bd.GetTotal().GetVisitProspectSeconds() != 0 {
			t.Errorf("refreshed %v: the breakdown over Thursday = %v, want Thursday's row alone, no visit", refreshed, bd)
		}
	}
}
