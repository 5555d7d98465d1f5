package server_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestTimestampsOutOfRange sends timestamps a phone or a partner can send
// but google.protobuf.Timestamp does not allow (before year 1, after year
// 9999): each is INVALID_ARGUMENT on its field saying what is wrong with
// the instant, not that the field "is required" when it was sent, and
// nothing is stored.
func TestTimestampsOutOfRange(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	budi := e.as(acme, dwell.RoleRep, "budi")
	partner := e.as(acme, dwell.RolePartner, "crm")
	for _, ts := range []*timestamppb.Timestamp{
		{Seconds: -99999999999},      // year -1199
		{Seconds: 300000000000},      // year 11476
		{Seconds: -62135596801},      // one second before year 1
		{Seconds: 253402300800},      // 10000-01-01
		{Seconds: 1 << 62, Nanos: 1}, // far beyond any calendar
	} {
		wantSent := func(what string, err error, field string) {
			t.Helper()
			wantViolation(t, what, err, field)
			if d := violations(err)[field]; strings.Contains(d, "required") {
				t.Fatalf("%s at %v: %s: %q, but it was sent", what, ts, field, d)
			}
		}
		fix := &dwellv1.Fix{Id: "far", DeviceTime: ts, Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10}
		_, err := e.ingest.UploadPings(budi, &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{fix}})
		wantSent("UploadPings", err, "fixes[0].device_time")
		_, err = e.ingest.CheckIn(budi, &dwellv1.CheckInRequest{RequestId: "ci", Client: "clients/toko", CheckInTime: ts})
		wantSent("CheckIn", err, "check_in_time")
		_, err = e.ingest.PauseTracking(budi, &dwellv1.PauseTrackingRequest{RequestId: "p", PauseTime: ts})
		wantSent("PauseTracking", err, "pause_time")
		_, err = e.sales.CreateAppointment(partner, &dwellv1.CreateAppointmentRequest{RequestId: "a", AppointmentId: "a",
			Appointment: &dwellv1.Appointment{Rep: "reps/budi", Client: "clients/toko", PlannedStartTime: ts, PlannedEndTime: ts}})
		wantSent("CreateAppointment", err, "appointment.planned_start_time")
		o := opp("o1", "budi", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON, 1, e.now(), e.now())
		o.OpenTime = ts
		_, err = e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o", Opportunities: []*dwellv1.Opportunity{o}})
		wantSent("UpsertOpportunities", err, "opportunities[0].open_time")
	}
	got, err := e.st.ListFixes(t.Context(), acme, "budi", time.Time{}.Add(time.Nanosecond), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(got) != 0 {
		t.Fatalf("stored %d fixes (%v), want none", len(got), err)
	}
	_, err = e.sales.GetOpportunity(partner, &dwellv1.GetOpportunityRequest{Name: "opportunities/o1"})
	wantCode(t, "GetOpportunity after the bad upserts", err, codes.NotFound)
}
