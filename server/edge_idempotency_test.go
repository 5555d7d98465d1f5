package server_test

import (
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

// TestRequestIDOfAnotherWrite reuses a request_id for a write that cannot
// be a retry of the one that used it: a resume with the id of a pause, a
// check-in, check-out or call at another client, an appointment with the id
// that created another. Each is INVALID_ARGUMENT on
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

	// A check-in, check-out or call at another client cannot be a retry.
	e.mustCreateClient(e.admin(acme), "warung", -6.3, 106.9, 50)
	for _, client := range []string{"clients/toko", "clients/warung"} {
		_, ciErr := e.ingest.CheckIn(budi, &dwellv1.CheckInRequest{RequestId: "ci-1", Client: client, CheckInTime: ts})
		_, coErr := e.ingest.CheckOut(budi, &dwellv1.CheckOutRequest{RequestId: "co-1", Client: client, CheckOutTime: ts, Outcome: dwellv1.Outcome_OUTCOME_POSITIVE})
		_, callErr := e.ingest.LogCall(budi, &dwellv1.LogCallRequest{RequestId: "call-1", Client: client, StartTime: ts,
			Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_NO_ANSWER})
		if client == "clients/toko" {
			if ciErr != nil || coErr != nil || callErr != nil {
				t.Fatalf("first check-in, check-out, call: %v, %v, %v", ciErr, coErr, callErr)
			}
			continue
		}
		wantViolation(t, "a check-in at warung with the request id of one at toko", ciErr, "request_id")
		wantViolation(t, "a check-out at warung with the request id of one at toko", coErr, "request_id")
		wantViolation(t, "a call to warung with the request id of one to toko", callErr, "request_id")
	}
	cis, err := e.st.ListCheckIns(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(cis) != 1 || cis[0].Client != "toko" {
		t.Fatalf("check-ins = %+v, %v; want the one at toko", cis, err)
	}
	cos, err := e.st.ListCheckOuts(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(cos) != 1 || cos[0].Client != "toko" {
		t.Fatalf("check-outs = %+v, %v; want the one at toko", cos, err)
	}
	calls, err := e.st.ListCalls(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(calls) != 1 || calls[0].Client != "toko" {
		t.Fatalf("calls = %+v, %v; want the one to toko", calls, err)
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

// TestUpsertRequestIDOfAnotherBatch: a partner that reuses a request_id for
// another batch of opportunities or quotas is told so (INVALID_ARGUMENT on
// request_id) rather than acknowledged without the batch being stored; a
// true retry is acknowledged and changes nothing.
func TestUpsertRequestIDOfAnotherBatch(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	now := e.now()
	deal := func(amount int64) *dwellv1.UpsertOpportunitiesRequest {
		return &dwellv1.UpsertOpportunitiesRequest{RequestId: "sync-1", Opportunities: []*dwellv1.Opportunity{
			opp("budi-deal", "budi", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN, amount, now.Add(-time.Hour), time.Time{})}}
	}
	for _, what := range []string{"first", "retry"} {
		if _, err := e.sales.UpsertOpportunities(partner, deal(100)); err != nil {
			t.Fatalf("UpsertOpportunities (%s): %v", what, err)
		}
	}
	_, err := e.sales.UpsertOpportunities(partner, deal(250))
	wantViolation(t, "UpsertOpportunities of another batch under sync-1", err, "request_id")
	got, err := e.sales.GetOpportunity(partner, &dwellv1.GetOpportunityRequest{Name: "opportunities/budi-deal"})
	if err != nil || got.GetOpportunity().GetAmount().GetAmountMinor() != 100 {
		t.Fatalf("the deal after the refused batch = %v, %v; want its amount 100", got, err)
	}
	quota := func(amount int64) *dwellv1.UpsertQuotasRequest {
		return &dwellv1.UpsertQuotasRequest{RequestId: "sync-1", Quotas: []*dwellv1.Quota{{Rep: "reps/budi",
			StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30), Target: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: amount}}}}
	}
	for _, what := range []string{"first", "retry"} {
		if _, err := e.sales.UpsertQuotas(partner, quota(500)); err != nil {
			t.Fatalf("UpsertQuotas (%s): %v", what, err)
		}
	}
	_, err = e.sales.UpsertQuotas(partner, quota(900))
	wantViolation(t, "UpsertQuotas of another batch under sync-1", err, "request_id")
}

// TestRetryAfterDeleteAndCreateAgain: the retry of a create whose record
// was deleted since is FAILED_PRECONDITION (directory.proto, sales.proto),
// also once another request has created a record under the same id: a
// retry answered OK with that record would hand its caller another
// account's rights or another rep's appointment. The other request's own
// retry still answers with its record, and the refused retry changes
// nothing.
func TestRetryAfterDeleteAndCreateAgain(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	admin := e.admin(acme)
	partnerReq := func(rid string, scope dwellv1.PartnerScope) *dwellv1.CreatePartnerRequest {
		return &dwellv1.CreatePartnerRequest{RequestId: rid, PartnerId: "crm",
			Partner: &dwellv1.Partner{DisplayName: "CRM " + rid, Scopes: []dwellv1.PartnerScope{scope}}}
	}
	first := partnerReq("req-1", dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ)
	if _, err := e.dirc.CreatePartner(admin, first); err != nil {
		t.Fatalf("CreatePartner req-1: %v", err)
	}
	if _, err := e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/crm"}); err != nil {
		t.Fatalf("DeletePartner: %v", err)
	}
	_, err := e.dirc.CreatePartner(admin, first)
	wantCode(t, "retry of req-1 after its account was deleted", err, codes.FailedPrecondition)
	e.advance(time.Second)
	second := partnerReq("req-2", dwellv1.PartnerScope_PARTNER_SCOPE_SALES_WRITE)
	if _, err := e.dirc.CreatePartner(admin, second); err != nil {
		t.Fatalf("CreatePartner req-2: %v", err)
	}
	got, err := e.dirc.CreatePartner(admin, first)
	wantCode(t, "retry of req-1 after another request created its partner_id again", err, codes.FailedPrecondition)
	if err == nil {
		t.Errorf("the retry of req-1 was answered with %v", got.GetPartner())
	}
	again, err := e.dirc.CreatePartner(admin, second)
	if err != nil || again.GetPartner().GetDisplayName() != "CRM req-2" {
		t.Fatalf("CreatePartner req-2 retried = %v, %v; want the account req-2 created", again, err)
	}
	stored, err := e.dirc.GetPartner(admin, &dwellv1.GetPartnerRequest{Name: "partners/crm"})
	if err != nil || stored.GetPartner().GetDisplayName() != "CRM req-2" ||
		len(stored.GetPartner().GetScopes()) != 1 || stored.GetPartner().GetScopes()[0] != dwellv1.PartnerScope_PARTNER_SCOPE_SALES_WRITE {
		t.Fatalf("GetPartner after the refused retry = %v, %v; want req-2's account unchanged", stored, err)
	}

	partner := e.as(acme, dwell.RolePartner, "sync")
	start := e.now().Add(2 * time.Hour)
	appt := func(rid, rep string, start time.Time) *dwellv1.CreateAppointmentRequest {
		return &dwellv1.CreateAppointmentRequest{RequestId: rid, AppointmentId: "a1", Appointment: &dwellv1.Appointment{
			Rep: "reps/" + rep, Client: "clients/toko", PlannedStartTime: timestamppb.New(start), PlannedEndTime: timestamppb.New(start.Add(time.Hour))}}
	}
	if _, err := e.sales.CreateAppointment(partner, appt("ar-1", "budi", start)); err != nil {
		t.Fatalf("CreateAppointment ar-1: %v", err)
	}
	if _, err := e.sales.DeleteAppointment(partner, &dwellv1.DeleteAppointmentRequest{Name: "appointments/a1"}); err != nil {
		t.Fatalf("DeleteAppointment: %v", err)
	}
	if _, err := e.sales.CreateAppointment(partner, appt("ar-2", "sari", start.Add(24*time.Hour))); err != nil {
		t.Fatalf("CreateAppointment ar-2: %v", err)
	}
	ga, err := e.sales.CreateAppointment(partner, appt("ar-1", "budi", start))
	wantCode(t, "retry of ar-1 after another request created appointment a1 again", err, codes.FailedPrecondition)
	if err == nil {
		t.Errorf("the retry of ar-1 (budi's, deleted since) was answered with %v", ga.GetAppointment())
	}
	sari, err := e.sales.CreateAppointment(partner, appt("ar-2", "sari", start.Add(24*time.Hour)))
	if err != nil || sari.GetAppointment().GetRep() != "reps/sari" {
		t.Fatalf("CreateAppointment ar-2 retried = %v, %v; want sari's appointment", sari, err)
	}
	a, err := e.st.GetAppointment(t.Context(), acme, "a1")
	if err != nil || a.Rep != "sari" || a.RequestID != "ar-2" {
		t.Fatalf("appointment a1 after the refused retry = %+v, %v; want sari's, of ar-2", a, err)
	}
}

// TestRequestIDWithoutSpaces: a request_id is 1 to 128 bytes of printable
// ASCII without spaces (dwell.ValidateRequestID: request ids become parts
// of store and event keys), and the API documentation says so. A key with
// a space is INVALID_ARGUMENT on request_id and stores nothing, whatever
// the write; and every request_id field of the .proto files states the
// rule, or refers to one that does ("as for CheckIn"), with no
// "printable ASCII" that leaves the spaces out.
func TestRequestIDWithoutSpaces(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	budi := e.as(acme, dwell.RoleRep, "budi")
	const rid = "CRM sync 42"
	ts := timestamppb.New(e.now().Add(-time.Minute))
	_, err := e.sales.UpsertQuotas(partner, &dwellv1.UpsertQuotasRequest{RequestId: rid, Quotas: []*dwellv1.Quota{{
		Rep: "reps/budi", StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30), Target: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 1}}}})
	wantViolation(t, "UpsertQuotas with a request_id with a space", err, "request_id")
	_, err = e.sales.CreateAppointment(partner, &dwellv1.CreateAppointmentRequest{RequestId: rid, AppointmentId: "a1", Appointment: &dwellv1.Appointment{
		Rep: "reps/budi", Client: "clients/toko", PlannedStartTime: ts, PlannedEndTime: timestamppb.New(e.now().Add(time.Hour))}})
	wantViolation(t, "CreateAppointment with a request_id with a space", err, "request_id")
	_, err = e.dirc.CreatePartner(e.admin(acme), &dwellv1.CreatePartnerRequest{RequestId: rid, PartnerId: "sync",
		Partner: &dwellv1.Partner{DisplayName: "Sync", Scopes: []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ}}})
	wantViolation(t, "CreatePartner with a request_id with a space", err, "request_id")
	_, err = e.ingest.CheckIn(budi, &dwellv1.CheckInRequest{RequestId: rid, Client: "clients/toko", CheckInTime: ts})
	wantViolation(t, "CheckIn with a request_id with a space", err, "request_id")
	if qs, err := e.st.ListQuotas(t.Context(), acme, "budi"); err != nil || len(qs) != 0 {
		t.Errorf("quotas after the refused upsert = %+v, %v; want none", qs, err)
	}
	if _, err := e.st.GetAppointment(t.Context(), acme, "a1"); !dwell.Is(dwell.NotFound, err) {
		t.Errorf("GetAppointment(a1) after the refused create = %v, want NotFound", err)
	}

	files, err := filepath.Glob("../proto/dwell/v1/*.proto")
	if err != nil || len(files) == 0 {
		t.Fatalf("the API's .proto files: %v, %v", files, err)
	}
	fields := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i, line := range lines {
			next := ""
			if i+1 < len(lines) {
				next = strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "//")
			}
			if strings.Contains(line, "printable ASCII") && !strings.Contains(line+next, "printable ASCII without spaces") {
				t.Errorf("%s:%d says printable ASCII without excluding spaces: %q", f, i+1, strings.TrimSpace(line))
			}
			if !strings.HasPrefix(strings.TrimSpace(line), "string request_id = ") {
				continue
			}
			fields++
			var comment []string
			for j := i - 1; j >= 0 && strings.HasPrefix(strings.TrimSpace(lines[j]), "//"); j-- {
				comment = append([]string{strings.TrimPrefix(strings.TrimSpace(lines[j]), "//")}, comment...)
			}
			c := strings.Join(comment, "")
			if !strings.Contains(c, "printable ASCII without spaces") && !strings.Contains(c, "as for CheckIn") {
				t.Errorf("%s:%d: the comment of request_id states no rule for its bytes: %q", f, i+1, c)
			}
		}
	}
	if fields == 0 {
		t.Fatal("no request_id field found in the .proto files")
	}
}
