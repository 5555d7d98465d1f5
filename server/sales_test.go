package server_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

func pbDate(y, m, d int) *dwellv1.Date {
	return &dwellv1.Date{Year: int32(y), Month: int32(m), Day: int32(d)}
}

func TestAppointments(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	// budi works in Jakarta (UTC+7): 2026-11-20T18:30Z is the 21st there.
	at := func(d, h, m int) *timestamppb.Timestamp {
		return timestamppb.New(time.Date(2026, 11, d, h, m, 0, 0, time.UTC))
	}
	mk := func(id, rep string, start *timestamppb.Timestamp) *dwellv1.CreateAppointmentRequest {
		return &dwellv1.CreateAppointmentRequest{RequestId: "req-" + id, AppointmentId: id, Appointment: &dwellv1.Appointment{
			Rep: "reps/" + rep, Client: "clients/toko", PlannedStartTime: start,
			PlannedEndTime: timestamppb.New(start.AsTime().Add(time.Hour))}}
	}
	for _, r := range []*dwellv1.CreateAppointmentRequest{
		mk("a1", "budi", at(20, 2, 0)), mk("a2", "budi", at(20, 9, 0)), mk("a3", "budi", at(20, 18, 30)), mk("s1", "sari", at(20, 3, 0)),
	} {
		if _, err := e.sales.CreateAppointment(partner, r); err != nil {
			t.Fatalf("CreateAppointment %s: %v", r.GetAppointmentId(), err)
		}
	}
	// A retry answers with the stored appointment.
	retry := mk("a1", "budi", at(20, 5, 0))
	got, err := e.sales.CreateAppointment(partner, retry)
	if err != nil || !got.GetAppointment().GetPlannedStartTime().AsTime().Equal(at(20, 2, 0).AsTime()) {
		t.Fatalf("retry = %v, %v; want the stored start", got, err)
	}

	bad := mk("a9", "budi", at(20, 2, 0))
	bad.Appointment.PlannedEndTime = at(20, 1, 0)
	_, err = e.sales.CreateAppointment(partner, bad)
	wantViolation(t, "end before start", err, "appointment.planned_end_time")
	bad = mk("a9", "budi", at(20, 2, 0))
	bad.Appointment.Client = "clients/ghost"
	_, err = e.sales.CreateAppointment(partner, bad)
	wantViolation(t, "unknown client", err, "appointment.client")
	_, err = e.sales.CreateAppointment(e.as(acme, dwell.RoleRep, "budi"), mk("a9", "budi", at(20, 2, 0)))
	wantCode(t, "a rep creates an appointment", err, codes.PermissionDenied)

	// ana manages north (budi): one page at a time, by planned start, in
	// budi's local days.
	ana := e.as(acme, dwell.RoleManager, "ana")
	var names []string
	token := ""
	for {
		resp, err := e.sales.ListAppointments(ana, &dwellv1.ListAppointmentsRequest{Team: "teams/north",
			StartDate: pbDate(2026, 11, 20), EndDate: pbDate(2026, 11, 20), PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatalf("ListAppointments: %v", err)
		}
		for _, a := range resp.GetAppointments() {
			names = append(names, a.GetName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if want := []string{"appointments/a1", "appointments/a2"}; !equalStrings(names, want) {
		t.Fatalf("north's appointments of the 20th = %v, want %v", names, want)
	}
	_, err = e.sales.ListAppointments(ana, &dwellv1.ListAppointmentsRequest{Team: "teams/south",
		StartDate: pbDate(2026, 11, 20), EndDate: pbDate(2026, 11, 20)})
	wantCode(t, "a manager lists another team", err, codes.PermissionDenied)
	_, err = e.sales.ListAppointments(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.ListAppointmentsRequest{Rep: "reps/sari",
		StartDate: pbDate(2026, 11, 20), EndDate: pbDate(2026, 11, 20)})
	wantCode(t, "a rep lists another rep", err, codes.PermissionDenied)
	_, err = e.sales.ListAppointments(ana, &dwellv1.ListAppointmentsRequest{Team: "teams/north",
		StartDate: pbDate(2026, 11, 20), EndDate: pbDate(2026, 11, 19)})
	wantViolation(t, "reversed range", err, "end_date")

	if _, err := e.sales.DeleteAppointment(partner, &dwellv1.DeleteAppointmentRequest{Name: "appointments/a2"}); err != nil {
		t.Fatalf("DeleteAppointment: %v", err)
	}
	resp, err := e.sales.ListAppointments(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.ListAppointmentsRequest{
		StartDate: pbDate(2026, 11, 20), EndDate: pbDate(2026, 11, 21)})
	if err != nil || len(resp.GetAppointments()) != 2 {
		t.Fatalf("budi's own after a delete = %v, %v; want a1 and a3", resp, err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func opp(id, rep string, stage dwellv1.OpportunityStage, amount int64, open, closed time.Time) *dwellv1.Opportunity {
	o := &dwellv1.Opportunity{Name: "opportunities/" + id, Rep: "reps/" + rep, Client: "clients/toko", Stage: stage,
		Amount: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: amount}, OpenTime: timestamppb.New(open)}
	if !closed.IsZero() {
		o.CloseTime = timestamppb.New(closed)
	}
	return o
}

func TestOpportunitiesAndQuotas(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	open := e.now().Add(-72 * time.Hour)
	won := dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON
	openStage := dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN

	// One bad opportunity fails the batch, with a violation for each
	// problem, and nothing is stored.
	badBatch := []*dwellv1.Opportunity{
		opp("o1", "budi", openStage, 100, open, time.Time{}),
		opp("o2", "budi", won, 100, open, time.Time{}),
		opp("o3", "budi", won, -5, open, open.Add(-time.Hour)),
		opp("o4", "ghost", openStage, 1, open, time.Time{}),
	}
	badBatch[0].Amount.CurrencyCode = "eu"
	_, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "u1", Opportunities: badBatch})
	for _, f := range []string{"opportunities[0].amount.currency_code", "opportunities[1].close_time",
		"opportunities[2].amount.amount_minor", "opportunities[2].close_time", "opportunities[3].rep"} {
		wantViolation(t, "bad batch", err, f)
	}
	_, err = e.sales.GetOpportunity(partner, &dwellv1.GetOpportunityRequest{Name: "opportunities/o1"})
	wantCode(t, "GetOpportunity after a bad batch", err, codes.NotFound)

	batch := []*dwellv1.Opportunity{
		opp("o1", "budi", openStage, 100, open, time.Time{}),
		opp("o2", "sari", won, 250, open, open.Add(48*time.Hour)),
	}
	resp, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "u2", Opportunities: batch})
	if err != nil || resp.GetStored() != 2 {
		t.Fatalf("UpsertOpportunities = %v, %v", resp, err)
	}
	// Close o1 as won through a field mask.
	upd := &dwellv1.Opportunity{Name: "opportunities/o1", Stage: won, CloseTime: timestamppb.New(open.Add(time.Hour)),
		Amount: &dwellv1.Money{CurrencyCode: "XXX", AmountMinor: 1}}
	_, err = e.sales.UpdateOpportunity(partner, &dwellv1.UpdateOpportunityRequest{Opportunity: upd,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"stage"}}})
	wantViolation(t, "won without close time", err, "opportunity.close_time")
	got, err := e.sales.UpdateOpportunity(partner, &dwellv1.UpdateOpportunityRequest{Opportunity: upd,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"stage", "close_time"}}})
	if err != nil || got.GetOpportunity().GetStage() != won || got.GetOpportunity().GetAmount().GetCurrencyCode() != "IDR" {
		t.Fatalf("UpdateOpportunity = %v, %v; want won, amount untouched", got, err)
	}

	budi := e.as(acme, dwell.RoleRep, "budi")
	if _, err := e.sales.GetOpportunity(budi, &dwellv1.GetOpportunityRequest{Name: "opportunities/o1"}); err != nil {
		t.Fatalf("budi reads his own: %v", err)
	}
	_, err = e.sales.GetOpportunity(budi, &dwellv1.GetOpportunityRequest{Name: "opportunities/o2"})
	wantCode(t, "budi reads sari's", err, codes.PermissionDenied)
	list, err := e.sales.ListOpportunities(budi, &dwellv1.ListOpportunitiesRequest{Client: "clients/toko"})
	if err != nil || len(list.GetOpportunities()) != 1 || list.GetOpportunities()[0].GetName() != "opportunities/o1" {
		t.Fatalf("budi lists toko's = %v, %v; want only his o1", list, err)
	}
	list, err = e.sales.ListOpportunities(partner, &dwellv1.ListOpportunitiesRequest{Client: "clients/toko"})
	if err != nil || len(list.GetOpportunities()) != 2 {
		t.Fatalf("partner lists toko's = %v, %v; want 2", list, err)
	}
	_, err = e.sales.ListOpportunities(e.as(acme, dwell.RoleManager, "ana"), &dwellv1.ListOpportunitiesRequest{Team: "teams/south"})
	wantCode(t, "ana lists south's", err, codes.PermissionDenied)

	quota := &dwellv1.Quota{Rep: "reps/budi", StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30),
		Target: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 1000}}
	badQuota := &dwellv1.Quota{Rep: "reps/budi", StartDate: pbDate(2026, 11, 30), EndDate: pbDate(2026, 11, 1),
		Target: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 1}}
	_, err = e.sales.UpsertQuotas(partner, &dwellv1.UpsertQuotasRequest{RequestId: "q1", Quotas: []*dwellv1.Quota{quota, badQuota}})
	wantViolation(t, "reversed quota", err, "quotas[1].end_date")
	if _, err := e.sales.UpsertQuotas(partner, &dwellv1.UpsertQuotasRequest{RequestId: "q2", Quotas: []*dwellv1.Quota{quota}}); err != nil {
		t.Fatalf("UpsertQuotas: %v", err)
	}
	qs, err := e.sales.ListQuotas(e.as(acme, dwell.RoleManager, "ana"), &dwellv1.ListQuotasRequest{Team: "teams/north"})
	if err != nil || len(qs.GetQuotas()) != 1 || qs.GetQuotas()[0].GetTarget().GetAmountMinor() != 1000 {
		t.Fatalf("ListQuotas = %v, %v", qs, err)
	}
	_, err = e.sales.ListQuotas(budi, &dwellv1.ListQuotasRequest{Rep: "reps/sari"})
	wantCode(t, "budi lists sari's quotas", err, codes.PermissionDenied)
}
