package server_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestRequestIDOfAnotherWrite reuses a request_id for a write that cannot
// be a retry of the one that used it: a resume with the id of a pause, an
// appointment with the id that created another. Each is INVALID_ARGUMENT on
// request_id and changes nothing; a true retry still answers with the
// original.
func TestRequestIDOfAnotherWrite(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	budi := e.as(acme, dwell.RoleRep, "budi")
	ts := timestamppb.New(e.now().Add(-time.Minute))

	if _, err := e.ingest.PauseTracking(budi, &dwellv1.PauseTrackingRequest{RequestId: "t-1", PauseTime: ts}); err != nil {
		t.Fatalf("PauseTracking: %v", err)
	}
	_, err := e.ingest.ResumeTracking(budi, &dwellv1.ResumeTrackingRequest{RequestId: "t-1", ResumeTime: timestamppb.New(e.now())})
	wantViolation(t, "a resume with the request id of a pause", err, "request_id")
	if _, err := e.ingest.PauseTracking(budi, &dwellv1.PauseTrackingRequest{RequestId: "t-1", PauseTime: ts}); err != nil {
		t.Fatalf("PauseTracking retried: %v", err)
	}
	cfg, err := e.ingest.GetTrackingConfig(budi, &dwellv1.GetTrackingConfigRequest{})
	if err != nil || !cfg.GetPaused() {
		t.Fatalf("tracking config = %v, %v; want still paused", cfg, err)
	}
	changes, err := e.st.ListTrackingChanges(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(changes) != 1 || !changes[0].Paused {
		t.Fatalf("tracking changes = %+v, %v; want the one pause", changes, err)
	}

	partner := e.as(acme, dwell.RolePartner, "crm")
	appt := func(id, rep string) *dwellv1.CreateAppointmentRequest {
		return &dwellv1.CreateAppointmentRequest{RequestId: "sync-1", AppointmentId: id, Appointment: &dwellv1.Appointment{
			Rep: "reps/" + rep, Client: "clients/toko", PlannedStartTime: ts, PlannedEndTime: timestamppb.New(e.now().Add(time.Hour))}}
	}
	if _, err := e.sales.CreateAppointment(partner, appt("a1", "budi")); err != nil {
		t.Fatalf("CreateAppointment a1: %v", err)
	}
	_, err = e.sales.CreateAppointment(partner, appt("a2", "sari"))
	wantViolation(t, "appointment a2 with the request id of a1", err, "request_id")
	if _, err := e.st.GetAppointment(t.Context(), acme, "a2"); !dwell.Is(dwell.NotFound, err) {
		t.Fatalf("GetAppointment(a2) = %v, want NotFound", err)
	}
	again, err := e.sales.CreateAppointment(partner, appt("a1", "budi"))
	if err != nil || again.GetAppointment().GetName() != "appointments/a1" {
		t.Fatalf("CreateAppointment a1 retried = %v, %v; want a1", again, err)
	}
}
