package server_test

import (
	"fmt"
	"os"
	"path/filepath"
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

// TestDateRangesAtMost366Days: every range of local days a request takes
// (ListAppointments, ListVisits, GetTimeBreakdown, GetKpis, a quota's
// period) may end at most dwell.MaxRangeDays (366) days after it starts:
// 366 is answered, 367 is INVALID_ARGUMENT on the end_date and stores
// nothing. And the API says so: every end_date of the .proto files states
// the limit, so a partner learns it from the documentation rather than
// from a refusal.
func TestDateRangesAtMost366Days(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	start := pbDate(2025, 11, 1)
	for _, c := range []struct {
		days   int
		end    *dwellv1.Date
		wantOK bool
	}{{366, pbDate(2026, 11, 2), true}, {367, pbDate(2026, 11, 3), false}} {
		calls := []struct {
			name, field string
			call        func() error
		}{
			{"ListAppointments", "end_date", func() error {
				_, err := e.sales.ListAppointments(partner, &dwellv1.ListAppointmentsRequest{Rep: "reps/budi", StartDate: start, EndDate: c.end})
				return err
			}},
			{"ListVisits", "end_date", func() error {
				_, err := e.report.ListVisits(partner, &dwellv1.ListVisitsRequest{Rep: "reps/budi", StartDate: start, EndDate: c.end})
				return err
			}},
			{"GetTimeBreakdown", "end_date", func() error {
				_, err := e.report.GetTimeBreakdown(partner, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/budi"}, StartDate: start, EndDate: c.end})
				return err
			}},
			{"GetKpis", "end_date", func() error {
				_, err := e.report.GetKpis(partner, &dwellv1.GetKpisRequest{Rep: "reps/budi", StartDate: start, EndDate: c.end})
				return err
			}},
			{"UpsertQuotas", "quotas[0].end_date", func() error {
				_, err := e.sales.UpsertQuotas(partner, &dwellv1.UpsertQuotasRequest{RequestId: fmt.Sprintf("q-%d", c.days), Quotas: []*dwellv1.Quota{{
					Rep: "reps/budi", StartDate: start, EndDate: c.end, Target: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 1}}}})
				return err
			}},
		}
		for _, call := range calls {
			what := fmt.Sprintf("%s over %d days after start_date", call.name, c.days)
			if err := call.call(); c.wantOK && err != nil {
				t.Errorf("%s: %v", what, err)
			} else if !c.wantOK {
				wantViolation(t, what, err, call.field)
			}
		}
		if !c.wantOK {
			continue
		}
		qs, err := e.st.ListQuotas(t.Context(), acme, "budi")
		if err != nil || len(qs) != 1 || qs[0].End != (dwell.Date{Year: 2026, Month: 11, Day: 2}) {
			t.Errorf("budi's quotas = %+v, %v; want the one of 366 days", qs, err)
		}
	}

	files, err := filepath.Glob("../proto/dwell/v1/*.proto")
	if err != nil || len(files) == 0 {
		t.Fatalf("the API's .proto files: %v, %v", files, err)
	}
	ends := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i, line := range lines {
			if !strings.HasPrefix(strings.TrimSpace(line), "Date end_date = ") {
				continue
			}
			ends++
			var comment []string
			for j := i - 1; j >= 0 && strings.HasPrefix(strings.TrimSpace(lines[j]), "//"); j-- {
				comment = append([]string{strings.TrimPrefix(strings.TrimSpace(lines[j]), "//")}, comment...)
			}
			if c := strings.Join(comment, ""); !strings.Contains(c, fmt.Sprintf("at most %d days after", dwell.MaxRangeDays)) {
				t.Errorf("%s:%d: end_date's comment does not state its limit of %d days after start_date: %q", f, i+1, dwell.MaxRangeDays, c)
			}
		}
	}
	if ends == 0 {
		t.Fatal("no end_date field found in the .proto files")
	}
}
