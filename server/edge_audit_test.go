package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// auditLog is a slog.Handler that keeps the server's audit records.
type auditLog struct {
	mu      sync.Mutex
	records []map[string]string
}

func (l *auditLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *auditLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *auditLog) WithGroup(string) slog.Handler            { return l }
func (l *auditLog) Handle(_ context.Context, r slog.Record) error {
	rec := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { rec[a.Key] = a.Value.String(); return true })
	if rec["audit"] == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, rec)
	return nil
}

// since returns the audit records kept after the first n.
func (l *auditLog) since(n int) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]map[string]string(nil), l.records[n:]...)
}

func (l *auditLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.records)
}

// newAuditEnv is newEnv with the server's log kept in an auditLog.
func newAuditEnv(t *testing.T) (*env, *auditLog) {
	log := &auditLog{}
	return newWatchEnv(t, true, func(c *server.Config) { c.Logger = slog.New(log) }), log
}

// wantDeniedAndAudited fails unless err is PERMISSION_DENIED and exactly one
// audit record of a denial of caller (tenant, role, subject) was written
// since the log held n records.
func wantDeniedAndAudited(t *testing.T, what string, err error, log *auditLog, n int, tenant dwell.TenantID, role dwell.Role, subject string) {
	t.Helper()
	wantCode(t, what, err, codes.PermissionDenied)
	recs := log.since(n)
	if len(recs) != 1 {
		t.Fatalf("%s: %d audit records %v, want 1", what, len(recs), recs)
	}
	r := recs[0]
	if r["audit"] != "permission_denied" || r["tenant"] != string(tenant) || r["role"] != role.String() || r["subject"] != subject {
		t.Fatalf("%s: audit record %v, want a permission_denied of %s %s %s", what, r, tenant, role, subject)
	}
}

// TestEveryMethodAndRole calls every method the server registers, with an
// empty request, as each role: a PERMISSION_DENIED answer comes with
// exactly one audit record naming the caller, any other answer with none,
// and no answer is INTERNAL or UNKNOWN.
func TestEveryMethodAndRole(t *testing.T) {
	e, log := newAuditEnv(t)
	seedTeams(e)
	callers := []struct {
		role    dwell.Role
		subject string
	}{{dwell.RoleRep, "budi"}, {dwell.RoleManager, "ana"}, {dwell.RoleAdmin, "admin"}, {dwell.RolePartner, "crm"}}
	calls := 0
	for svc, info := range e.gs.GetServiceInfo() {
		if !strings.HasPrefix(svc, "dwell.") {
			continue // health and reflection are public
		}
		for _, m := range info.Methods {
			method := "/" + svc + "/" + m.Name
			for _, c := range callers {
				n := log.len()
				ctx, cancel := context.WithTimeout(e.as(acme, c.role, c.subject), 2*time.Second)
				var err error
				if m.IsClientStream || m.IsServerStream {
					err = emptyStream(ctx, e.conn, method, m.IsClientStream)
				} else {
					err = e.conn.Invoke(ctx, method, &emptypb.Empty{}, &emptypb.Empty{})
				}
				cancel()
				calls++
				what := method + " as " + c.role.String()
				code := status.Code(err)
				switch code {
				case codes.PermissionDenied:
					wantDeniedAndAudited(t, what, err, log, n, acme, c.role, c.subject)
				case codes.Internal, codes.Unknown:
					t.Errorf("%s: %v", what, err)
				default:
					if recs := log.since(n); len(recs) != 0 {
						t.Errorf("%s: answered %v with audit records %v", what, err, recs)
					}
				}
			}
		}
	}
	if calls < 4*40 {
		t.Fatalf("only %d calls; the API has more than 40 methods", calls)
	}
}

// emptyStream opens a stream of method, sends one empty message, closes its
// side and reads one answer. A server stream still open when ctx ends (a
// WatchEvents waiting for events) is not an error.
func emptyStream(ctx context.Context, conn *grpc.ClientConn, method string, clientStream bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: clientStream, ServerStreams: true}, method)
	if err != nil {
		return err
	}
	// A stream the server has already ended answers io.EOF to a send; its
	// status comes from the receive.
	if err := s.SendMsg(&emptypb.Empty{}); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	waitCtx, stop := context.WithTimeout(ctx, 500*time.Millisecond)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- s.RecvMsg(&emptypb.Empty{}) }()
	select {
	case err := <-done:
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	case <-waitCtx.Done():
		return nil
	}
}

// TestTargetDenialsAreAudited tries, with roles allowed to call each
// method, to reach a target the caller must not: another rep's data as a
// rep, another team's as a manager. Each is PERMISSION_DENIED with one
// audit record, and the writes store nothing.
func TestTargetDenialsAreAudited(t *testing.T) {
	e, log := newAuditEnv(t)
	seedTeams(e)
	now := e.now()
	ts := timestamppb.New(now)
	day, end := pbDate(2026, 11, 19), pbDate(2026, 11, 20)
	budi := e.as(acme, dwell.RoleRep, "budi")
	ana := e.as(acme, dwell.RoleManager, "ana")
	partner := e.as(acme, dwell.RolePartner, "crm")
	if _, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o",
		Opportunities: []*dwellv1.Opportunity{opp("sari-deal", "sari", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN, 1, now.Add(-time.Hour), time.Time{})}}); err != nil {
		t.Fatal(err)
	}
	type call struct {
		what string
		ctx  context.Context
		role dwell.Role
		sub  string
		do   func(ctx context.Context) error
	}
	asRep := func(what string, do func(ctx context.Context) error) call {
		return call{what, budi, dwell.RoleRep, "budi", do}
	}
	asManager := func(what string, do func(ctx context.Context) error) call {
		return call{what, ana, dwell.RoleManager, "ana", do}
	}
	calls := []call{
		asRep("GetRep", func(ctx context.Context) error {
			_, err := e.dirc.GetRep(ctx, &dwellv1.GetRepRequest{Name: "reps/sari"})
			return err
		}),
		asRep("GetTeam", func(ctx context.Context) error {
			_, err := e.dirc.GetTeam(ctx, &dwellv1.GetTeamRequest{Name: "teams/south"})
			return err
		}),
		asRep("UploadPings", func(ctx context.Context) error {
			_, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Rep: "reps/sari", Fixes: fixes("x", 2, now)})
			return err
		}),
		asRep("CheckIn", func(ctx context.Context) error {
			_, err := e.ingest.CheckIn(ctx, &dwellv1.CheckInRequest{RequestId: "r", Rep: "reps/sari", Client: "clients/toko", CheckInTime: ts})
			return err
		}),
		asRep("CheckOut", func(ctx context.Context) error {
			_, err := e.ingest.CheckOut(ctx, &dwellv1.CheckOutRequest{RequestId: "r", Rep: "reps/sari", Client: "clients/toko", CheckOutTime: ts, Outcome: dwellv1.Outcome_OUTCOME_POSITIVE})
			return err
		}),
		asRep("LogCall", func(ctx context.Context) error {
			_, err := e.ingest.LogCall(ctx, &dwellv1.LogCallRequest{RequestId: "r", Rep: "reps/sari", Client: "clients/toko", StartTime: ts,
				Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_CONNECTED})
			return err
		}),
		asRep("PauseTracking", func(ctx context.Context) error {
			_, err := e.ingest.PauseTracking(ctx, &dwellv1.PauseTrackingRequest{RequestId: "r", Rep: "reps/sari", PauseTime: ts})
			return err
		}),
		asRep("ResumeTracking", func(ctx context.Context) error {
			_, err := e.ingest.ResumeTracking(ctx, &dwellv1.ResumeTrackingRequest{RequestId: "r", Rep: "reps/sari", ResumeTime: ts})
			return err
		}),
		asRep("GetTrackingConfig", func(ctx context.Context) error {
			_, err := e.ingest.GetTrackingConfig(ctx, &dwellv1.GetTrackingConfigRequest{Rep: "reps/sari"})
			return err
		}),
		asRep("GetRepDay", func(ctx context.Context) error {
			_, err := e.report.GetRepDay(ctx, &dwellv1.GetRepDayRequest{Rep: "reps/sari", Date: day})
			return err
		}),
		asRep("GetTimeBreakdown", func(ctx context.Context) error {
			_, err := e.report.GetTimeBreakdown(ctx, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/sari"}, StartDate: day, EndDate: end})
			return err
		}),
		asRep("GetKpis of a team", func(ctx context.Context) error {
			_, err := e.report.GetKpis(ctx, &dwellv1.GetKpisRequest{Team: "teams/north", StartDate: day, EndDate: end})
			return err
		}),
		asRep("ListVisits", func(ctx context.Context) error {
			_, err := e.report.ListVisits(ctx, &dwellv1.ListVisitsRequest{Rep: "reps/sari", StartDate: day, EndDate: end})
			return err
		}),
		asRep("ListAppointments", func(ctx context.Context) error {
			_, err := e.sales.ListAppointments(ctx, &dwellv1.ListAppointmentsRequest{Rep: "reps/sari", StartDate: day, EndDate: end})
			return err
		}),
		asRep("GetOpportunity", func(ctx context.Context) error {
			_, err := e.sales.GetOpportunity(ctx, &dwellv1.GetOpportunityRequest{Name: "opportunities/sari-deal"})
			return err
		}),
		asRep("ListOpportunities", func(ctx context.Context) error {
			_, err := e.sales.ListOpportunities(ctx, &dwellv1.ListOpportunitiesRequest{Rep: "reps/sari"})
			return err
		}),
		asRep("ListQuotas", func(ctx context.Context) error {
			_, err := e.sales.ListQuotas(ctx, &dwellv1.ListQuotasRequest{Rep: "reps/sari"})
			return err
		}),
		asManager("GetRep", func(ctx context.Context) error {
			_, err := e.dirc.GetRep(ctx, &dwellv1.GetRepRequest{Name: "reps/sari"})
			return err
		}),
		asManager("ListReps", func(ctx context.Context) error {
			_, err := e.dirc.ListReps(ctx, &dwellv1.ListRepsRequest{Team: "teams/south"})
			return err
		}),
		asManager("GetTeam", func(ctx context.Context) error {
			_, err := e.dirc.GetTeam(ctx, &dwellv1.GetTeamRequest{Name: "teams/south"})
			return err
		}),
		asManager("GetRepDay", func(ctx context.Context) error {
			_, err := e.report.GetRepDay(ctx, &dwellv1.GetRepDayRequest{Rep: "reps/sari", Date: day})
			return err
		}),
		asManager("GetTimeBreakdown", func(ctx context.Context) error {
			_, err := e.report.GetTimeBreakdown(ctx, &dwellv1.GetTimeBreakdownRequest{Team: "teams/south", StartDate: day, EndDate: end})
			return err
		}),
		asManager("GetKpis", func(ctx context.Context) error {
			_, err := e.report.GetKpis(ctx, &dwellv1.GetKpisRequest{Rep: "reps/sari", StartDate: day, EndDate: end})
			return err
		}),
		asManager("ListVisits", func(ctx context.Context) error {
			_, err := e.report.ListVisits(ctx, &dwellv1.ListVisitsRequest{Team: "teams/south", StartDate: day, EndDate: end})
			return err
		}),
		asManager("ListAppointments", func(ctx context.Context) error {
			_, err := e.sales.ListAppointments(ctx, &dwellv1.ListAppointmentsRequest{Team: "teams/south", StartDate: day, EndDate: end})
			return err
		}),
		asManager("GetOpportunity", func(ctx context.Context) error {
			_, err := e.sales.GetOpportunity(ctx, &dwellv1.GetOpportunityRequest{Name: "opportunities/sari-deal"})
			return err
		}),
		asManager("ListQuotas", func(ctx context.Context) error {
			_, err := e.sales.ListQuotas(ctx, &dwellv1.ListQuotasRequest{Team: "teams/south"})
			return err
		}),
		asManager("WatchEvents", func(ctx context.Context) error {
			s, err := e.report.WatchEvents(ctx, &dwellv1.WatchEventsRequest{Team: "teams/south"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}),
	}
	for _, c := range calls {
		n := log.len()
		wantDeniedAndAudited(t, c.what+" as "+c.role.String(), c.do(c.ctx), log, n, acme, c.role, c.sub)
	}
	for _, list := range []func() (int, error){
		func() (int, error) {
			f, err := e.st.ListFixes(t.Context(), acme, "sari", time.Time{}, now.Add(time.Hour))
			return len(f), err
		},
		func() (int, error) {
			c, err := e.st.ListCheckIns(t.Context(), acme, "sari", time.Time{}, now.Add(time.Hour))
			return len(c), err
		},
		func() (int, error) {
			c, err := e.st.ListCheckOuts(t.Context(), acme, "sari", time.Time{}, now.Add(time.Hour))
			return len(c), err
		},
		func() (int, error) {
			c, err := e.st.ListCalls(t.Context(), acme, "sari", time.Time{}, now.Add(time.Hour))
			return len(c), err
		},
		func() (int, error) {
			c, err := e.st.ListTrackingChanges(t.Context(), acme, "sari", time.Time{}, now.Add(time.Hour))
			return len(c), err
		},
	} {
		if n, err := list(); err != nil || n != 0 {
			t.Fatalf("sari has %d records after budi's attempts (%v), want none", n, err)
		}
	}
}

// TestUnauthenticatedCallsAreAudited: a call without a token, with a
// malformed one or with one signed by no key of the server is
// UNAUTHENTICATED and leaves one audit record naming the method and the
// caller's address, never the token.
func TestUnauthenticatedCallsAreAudited(t *testing.T) {
	e, log := newAuditEnv(t)
	seedTeams(e)
	other, err := auth.OpenKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.EnsureTenant(t.Context(), acme); err != nil {
		t.Fatal(err)
	}
	forged, err := other.Mint(dwell.Principal{Tenant: acme, Subject: "boss", Role: dwell.RoleAdmin}, time.Hour, e.now())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, header string }{
		{"no token", ""},
		{"a malformed token", "Bearer not-a-token"},
		{"a token of another server's key", "Bearer " + forged},
	} {
		ctx := t.Context()
		if c.header != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", c.header)
		}
		n := log.len()
		_, err := e.dirc.GetRep(ctx, &dwellv1.GetRepRequest{Name: "reps/budi"})
		wantCode(t, c.what, err, codes.Unauthenticated)
		recs := log.since(n)
		if len(recs) != 1 || recs[0]["audit"] != "unauthenticated" || recs[0]["method"] != "/dwell.v1.DirectoryService/GetRep" || recs[0]["peer"] == "" {
			t.Fatalf("%s: audit records %v, want one unauthenticated record of GetRep with the peer", c.what, recs)
		}
		for k, v := range recs[0] {
			if c.header != "" && strings.Contains(v, strings.TrimPrefix(c.header, "Bearer ")) {
				t.Fatalf("%s: the audit record's %s holds the token", c.what, k)
			}
		}
	}
}
