package server_test

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// seedTeams creates, in acme, teams north (manager ana) and south (manager
// rudi), reps budi (north) and sari (south), and one client.
func seedTeams(e *env) {
	ctx := e.admin(acme)
	e.mustCreateTeam(ctx, "north", "ana")
	e.mustCreateTeam(ctx, "south", "rudi")
	e.mustCreateRep(ctx, "budi", "north")
	e.mustCreateRep(ctx, "sari", "south")
	e.mustCreateClient(ctx, "toko", -6.2, 106.8, 50)
}

func TestRepCannotReachAnotherRep(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	budi := e.as(acme, dwell.RoleRep, "budi")
	now := e.now()

	_, err := e.dirc.GetRep(budi, &dwellv1.GetRepRequest{Name: "reps/sari"})
	wantCode(t, "rep reads another rep", err, codes.PermissionDenied)
	_, err = e.dirc.GetRep(budi, &dwellv1.GetRepRequest{Name: "reps/ghost"})
	wantCode(t, "rep reads a rep that does not exist", err, codes.PermissionDenied)
	if _, err := e.dirc.GetRep(budi, &dwellv1.GetRepRequest{Name: "reps/budi"}); err != nil {
		t.Fatalf("rep reads itself: %v", err)
	}
	_, err = e.ingest.UploadPings(budi, &dwellv1.UploadPingsRequest{Rep: "reps/sari", Fixes: fixes("x", 3, now)})
	wantCode(t, "rep uploads for another rep", err, codes.PermissionDenied)
	_, err = e.ingest.CheckIn(budi, &dwellv1.CheckInRequest{RequestId: "r", Rep: "reps/sari", Client: "clients/toko", CheckInTime: timestamppb.New(now)})
	wantCode(t, "rep checks in for another rep", err, codes.PermissionDenied)
	stream, err := e.ingest.StreamPings(budi)
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(&dwellv1.StreamPingsRequest{Rep: "reps/sari", Fixes: fixes("y", 2, now)})
	_, err = stream.Recv()
	wantCode(t, "rep streams for another rep", err, codes.PermissionDenied)
	_, err = e.dirc.CreateClient(budi, &dwellv1.CreateClientRequest{ClientId: "c", Client: circleClient("c", 0, 0, 50)})
	wantCode(t, "rep writes the directory", err, codes.PermissionDenied)
	_, err = e.dirc.ListReps(budi, &dwellv1.ListRepsRequest{})
	wantCode(t, "rep lists reps", err, codes.PermissionDenied)
	_, err = e.dirc.GetTeam(budi, &dwellv1.GetTeamRequest{Name: "teams/south"})
	wantCode(t, "rep reads another team", err, codes.PermissionDenied)
	if _, err := e.dirc.GetTeam(budi, &dwellv1.GetTeamRequest{Name: "teams/north"}); err != nil {
		t.Fatalf("rep reads its own team: %v", err)
	}
	got, err := e.st.ListFixes(t.Context(), acme, "sari", time.Time{}, now.Add(time.Hour))
	if err != nil || len(got) != 0 {
		t.Fatalf("sari has %d fixes after budi's attempts, want 0 (%v)", len(got), err)
	}
}

func TestManagerCannotReachAnotherTeam(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	ana := e.as(acme, dwell.RoleManager, "ana")
	if _, err := e.dirc.GetRep(ana, &dwellv1.GetRepRequest{Name: "reps/budi"}); err != nil {
		t.Fatalf("manager reads its rep: %v", err)
	}
	_, err := e.dirc.GetRep(ana, &dwellv1.GetRepRequest{Name: "reps/sari"})
	wantCode(t, "manager reads a rep of another team", err, codes.PermissionDenied)
	_, err = e.dirc.GetRep(ana, &dwellv1.GetRepRequest{Name: "reps/ghost"})
	wantCode(t, "manager reads a rep that does not exist", err, codes.PermissionDenied)
	_, err = e.dirc.ListReps(ana, &dwellv1.ListRepsRequest{Team: "teams/south"})
	wantCode(t, "manager lists another team", err, codes.PermissionDenied)
	_, err = e.dirc.ListReps(ana, &dwellv1.ListRepsRequest{})
	wantCode(t, "manager lists all reps", err, codes.PermissionDenied)
	_, err = e.dirc.GetTeam(ana, &dwellv1.GetTeamRequest{Name: "teams/south"})
	wantCode(t, "manager reads another team", err, codes.PermissionDenied)
	_, err = e.dirc.GetTeam(ana, &dwellv1.GetTeamRequest{Name: "teams/nowhere"})
	wantCode(t, "manager reads a team that does not exist", err, codes.PermissionDenied)
	reps, err := e.dirc.ListReps(ana, &dwellv1.ListRepsRequest{Team: "teams/north"})
	if err != nil || len(reps.GetReps()) != 1 || reps.GetReps()[0].GetName() != "reps/budi" {
		t.Fatalf("manager lists its team = %v, %v; want budi only", reps, err)
	}
	teams, err := e.dirc.ListTeams(ana, &dwellv1.ListTeamsRequest{})
	if err != nil || len(teams.GetTeams()) != 1 || teams.GetTeams()[0].GetName() != "teams/north" {
		t.Fatalf("manager lists teams = %v, %v; want north only", teams, err)
	}
	_, err = e.ingest.UploadPings(ana, &dwellv1.UploadPingsRequest{Rep: "reps/budi", Fixes: fixes("m", 1, e.now())})
	wantCode(t, "manager uploads fixes", err, codes.PermissionDenied)
	_, err = e.dirc.DeleteRep(ana, &dwellv1.DeleteRepRequest{Name: "reps/budi"})
	wantCode(t, "manager deletes a rep", err, codes.PermissionDenied)
	_, err = e.dirc.UpdateSettings(ana, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{RetentionDays: 30}})
	wantCode(t, "manager changes settings", err, codes.PermissionDenied)
}

func TestTenantNeverSeesAnotherTenant(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	g := e.admin(globex)
	_, err := e.dirc.GetClient(g, &dwellv1.GetClientRequest{Name: "clients/toko"})
	wantCode(t, "globex reads acme's client", err, codes.NotFound)
	_, err = e.dirc.GetRep(g, &dwellv1.GetRepRequest{Name: "reps/budi"})
	wantCode(t, "globex reads acme's rep", err, codes.NotFound)
	list, err := e.dirc.ListClients(g, &dwellv1.ListClientsRequest{})
	if err != nil || len(list.GetClients()) != 0 {
		t.Fatalf("globex lists clients = %v, %v; want none", list, err)
	}
	// A globex partner cannot write for acme's rep: the rep does not exist
	// in globex.
	p := e.as(globex, dwell.RolePartner, "crm")
	_, err = e.ingest.UploadPings(p, &dwellv1.UploadPingsRequest{Rep: "reps/budi", Fixes: fixes("g", 1, e.now())})
	wantCode(t, "globex partner writes for acme's rep", err, codes.NotFound)
	// The same ids in globex are independent of acme's.
	e.mustCreateClient(g, "toko", 1, 1, 100)
	a, err := e.dirc.GetClient(e.admin(acme), &dwellv1.GetClientRequest{Name: "clients/toko"})
	if err != nil || a.GetClient().GetGeofence().GetCircle().GetRadiusMeters() != 50 {
		t.Fatalf("acme's client after globex created the same id = %v, %v", a, err)
	}
	// A token page of acme does not page globex.
	for i := range 3 {
		e.mustCreateClient(e.admin(acme), "p"+string(rune('a'+i)), 0, 0, 50)
	}
	page, err := e.dirc.ListClients(e.admin(acme), &dwellv1.ListClientsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.dirc.ListClients(g, &dwellv1.ListClientsRequest{PageSize: 1, PageToken: page.GetNextPageToken()})
	wantViolation(t, "acme's page token in globex", err, "page_token")
}

func TestTokenFailures(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	call := func(ctx interface{ Done() <-chan struct{} }) error {
		return nil
	}
	_ = call
	now := e.now()
	valid, err := e.kr.Mint(dwell.Principal{Tenant: acme, Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := e.kr.Mint(dwell.Principal{Tenant: acme, Subject: "admin", Role: dwell.RoleAdmin}, time.Minute, now.Add(-time.Hour))
	notYet, _ := e.kr.Mint(dwell.Principal{Tenant: acme, Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, now.Add(time.Hour))
	// A globex token whose tenant claim is rewritten to acme: the signature
	// no longer matches any key.
	gtok, _ := e.kr.Mint(dwell.Principal{Tenant: globex, Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, now)
	parts := strings.Split(gtok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"globex"`, `"acme"`, 1)))
	forged := strings.Join(parts, ".")
	// A token of a tenant this server does not know, signed by a key of
	// another keyring.
	other, err := auth.OpenKeyring(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.EnsureTenant(t.Context(), "initech"); err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.Mint(dwell.Principal{Tenant: "initech", Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, now)
	// A token for acme signed by another keyring's acme key.
	if _, err := other.EnsureTenant(t.Context(), acme); err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := other.Mint(dwell.Principal{Tenant: acme, Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, now)

	cases := []struct {
		name   string
		tok    string
		want   codes.Code
		reason dwell.Reason // of the ErrorInfo of a refusal
	}{
		{"valid", valid, codes.OK, ""},
		{"missing", "", codes.Unauthenticated, dwell.ReasonTokenMissing},
		{"garbage", "not.a.jwt", codes.Unauthenticated, dwell.ReasonTokenInvalid},
		{"expired", expired, codes.Unauthenticated, dwell.ReasonTokenExpired},
		{"not yet valid", notYet, codes.Unauthenticated, dwell.ReasonTokenNotYetValid},
		{"tenant claim rewritten", forged, codes.Unauthenticated, dwell.ReasonTokenInvalid},
		{"unknown tenant", foreign, codes.Unauthenticated, dwell.ReasonTokenInvalid},
		{"wrongly signed", wrongKey, codes.Unauthenticated, dwell.ReasonTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := withToken(tc.tok)
			if tc.tok == "" {
				ctx = t.Context()
			}
			_, err := e.dirc.GetClient(ctx, &dwellv1.GetClientRequest{Name: "clients/toko"})
			wantCode(t, "GetClient", err, tc.want)
			_, err = e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Rep: "reps/budi", Fixes: fixes("t", 1, now)})
			if tc.want == codes.OK {
				wantReason(t, "UploadPings as admin", err, codes.PermissionDenied, dwell.ReasonRoleNotAllowed)
			} else {
				wantReason(t, "UploadPings", err, tc.want, tc.reason)
			}
		})
	}
}

func TestHealthAndUnimplemented(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	// Health needs no token.
	h, err := e.healthc.Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", h, err)
	}
	// Auth still comes first.
	_, err = e.report.GetKpis(t.Context(), &dwellv1.GetKpisRequest{})
	wantCode(t, "GetKpis without a token", err, codes.Unauthenticated)
	_, err = e.sales.UpsertQuotas(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.UpsertQuotasRequest{})
	wantCode(t, "UpsertQuotas as a rep", err, codes.PermissionDenied)
}
