package server_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestAppointmentFarInTime creates appointments planned centuries away: each
// is INVALID_ARGUMENT with a violation on planned_start_time, not a bare
// "out of range" from the store, and nothing is stored; the first and last
// years accepted store and list.
func TestAppointmentFarInTime(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	create := func(id string, start time.Time) error {
		_, err := e.sales.CreateAppointment(partner, &dwellv1.CreateAppointmentRequest{RequestId: "req-" + id, AppointmentId: id,
			Appointment: &dwellv1.Appointment{Rep: "reps/budi", Client: "clients/toko",
				PlannedStartTime: timestamppb.New(start), PlannedEndTime: timestamppb.New(start.Add(time.Hour))}})
		return err
	}
	for _, start := range []time.Time{
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2262, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC),
	} {
		wantViolation(t, "an appointment planned at "+start.String(), create("far", start), "appointment.planned_start_time")
	}
	for _, d := range []struct {
		id    string
		start time.Time
	}{{"first", time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)}, {"last", time.Date(2261, 12, 31, 22, 0, 0, 0, time.UTC)}} {
		if err := create(d.id, d.start); err != nil {
			t.Fatalf("an appointment planned at %v: %v", d.start, err)
		}
		date := func(t time.Time) *dwellv1.Date { y, m, d := t.Date(); return pbDate(y, int(m), d) }
		resp, err := e.sales.ListAppointments(partner, &dwellv1.ListAppointmentsRequest{Rep: "reps/budi",
			StartDate: date(d.start.AddDate(0, 0, -1)), EndDate: date(d.start.AddDate(0, 0, 1))})
		if err != nil || len(resp.GetAppointments()) != 1 || resp.GetAppointments()[0].GetName() != "appointments/"+d.id {
			t.Fatalf("appointments around %v = %v, %v; want %s", d.start, resp, err, d.id)
		}
	}
	if _, err := e.st.GetAppointment(t.Context(), acme, "far"); !dwell.Is(dwell.NotFound, err) {
		t.Fatalf("GetAppointment(far) = %v, want NotFound", err)
	}
}

// TestListOfAScopeWithoutRepsChecksItsPage lists the sales inputs and visits
// of a team without reps with a negative page_size or a page_token that is
// not one: each is INVALID_ARGUMENT on that field, as it is for a team with
// reps, rather than an empty OK that hides the caller's mistake; a good
// request answers an empty page.
func TestListOfAScopeWithoutRepsChecksItsPage(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	e.mustCreateTeam(e.admin(acme), "empty", "ana")
	ana := e.as(acme, dwell.RoleManager, "ana")
	lists := []struct {
		name string
		call func(size int32, token string) (int, error)
	}{
		{"ListOpportunities", func(size int32, token string) (int, error) {
			r, err := e.sales.ListOpportunities(ana, &dwellv1.ListOpportunitiesRequest{Team: "teams/empty", PageSize: size, PageToken: token})
			return len(r.GetOpportunities()), err
		}},
		{"ListAppointments", func(size int32, token string) (int, error) {
			r, err := e.sales.ListAppointments(ana, &dwellv1.ListAppointmentsRequest{Team: "teams/empty",
				StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30), PageSize: size, PageToken: token})
			return len(r.GetAppointments()), err
		}},
		{"ListQuotas", func(size int32, token string) (int, error) {
			r, err := e.sales.ListQuotas(ana, &dwellv1.ListQuotasRequest{Team: "teams/empty", PageSize: size, PageToken: token})
			return len(r.GetQuotas()), err
		}},
		{"ListVisits", func(size int32, token string) (int, error) {
			r, err := e.report.ListVisits(ana, &dwellv1.ListVisitsRequest{Team: "teams/empty",
				StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30), PageSize: size, PageToken: token})
			return len(r.GetVisits()), err
		}},
	}
	for _, l := range lists {
		_, err := l.call(-1, "")
		wantViolation(t, l.name+" of a team without reps, page_size -1", err, "page_size")
		_, err = l.call(10, "not-a-token")
		wantViolation(t, l.name+" of a team without reps, a page_token that is not one", err, "page_token")
		if n, err := l.call(10, ""); err != nil || n != 0 {
			t.Errorf("%s of a team without reps = %d items, %v; want none", l.name, n, err)
		}
	}
}
