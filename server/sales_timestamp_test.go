package server_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestSalesRefuseInvalidTimestamps: a google.protobuf.Timestamp whose nanos
// are out of range ([0, 999,999,999]) is INVALID_ARGUMENT on the field that
// holds it, on an appointment and an opportunity as on a fix, and nothing is
// stored: converted as it stands it would carry into the seconds and be
// stored seconds away from what the caller meant.
func TestSalesRefuseInvalidTimestamps(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	at := e.now().Add(2 * time.Hour).Truncate(time.Second)
	good := func(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

	appt := func(start, end *timestamppb.Timestamp) *dwellv1.CreateAppointmentRequest {
		return &dwellv1.CreateAppointmentRequest{RequestId: "a1", AppointmentId: "a1",
			Appointment: &dwellv1.Appointment{Rep: "reps/budi", Client: "clients/toko", PlannedStartTime: start, PlannedEndTime: end}}
	}
	_, err := e.sales.CreateAppointment(partner, appt(&timestamppb.Timestamp{Seconds: at.Unix(), Nanos: -2_000_000_000}, good(at.Add(time.Hour))))
	wantViolation(t, "appointment start of negative nanos", err, "appointment.planned_start_time")
	_, err = e.sales.CreateAppointment(partner, appt(good(at), &timestamppb.Timestamp{Seconds: at.Unix() + 3600, Nanos: 1_999_999_999}))
	wantViolation(t, "appointment end of nanos over a second", err, "appointment.planned_end_time")
	if _, err := e.st.GetAppointment(t.Context(), acme, "a1"); err == nil {
		t.Fatal("an appointment of an invalid Timestamp was stored")
	}

	o := opp("o1", "budi", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON, 100, e.now().Add(-time.Hour), e.now())
	o.CloseTime = &timestamppb.Timestamp{Seconds: e.now().Unix(), Nanos: -1}
	_, err = e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o", Opportunities: []*dwellv1.Opportunity{o}})
	wantViolation(t, "opportunity close of nanos -1", err, "opportunities[0].close_time")
	o.CloseTime = good(e.now())
	o.OpenTime = &timestamppb.Timestamp{Seconds: e.now().Add(-time.Hour).Unix(), Nanos: 1_000_000_000}
	_, err = e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o", Opportunities: []*dwellv1.Opportunity{o}})
	wantViolation(t, "opportunity open of nanos a second", err, "opportunities[0].open_time")
	if _, err := e.sales.GetOpportunity(partner, &dwellv1.GetOpportunityRequest{Name: "opportunities/o1"}); err == nil {
		t.Fatal("an opportunity of an invalid Timestamp was stored")
	}

	// A valid opportunity, then an update of its close time with bad nanos.
	o.OpenTime = good(e.now().Add(-time.Hour))
	if _, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o2", Opportunities: []*dwellv1.Opportunity{o}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.sales.GetOpportunity(partner, &dwellv1.GetOpportunityRequest{Name: "opportunities/o1"})
	if err != nil {
		t.Fatal(err)
	}
	upd := got.GetOpportunity()
	was := upd.GetCloseTime().AsTime()
	upd.CloseTime = &timestamppb.Timestamp{Seconds: e.now().Unix(), Nanos: -500_000_000}
	_, err = e.sales.UpdateOpportunity(partner, &dwellv1.UpdateOpportunityRequest{Opportunity: upd, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"close_time"}}})
	wantViolation(t, "update of close time of negative nanos", err, "opportunity.close_time")
	got, err = e.sales.GetOpportunity(partner, &dwellv1.GetOpportunityRequest{Name: "opportunities/o1"})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.GetOpportunity().GetCloseTime().AsTime(); !c.Equal(was) {
		t.Fatalf("close time %s after a refused update, want %s", c, was)
	}
}
