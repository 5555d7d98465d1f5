package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// TestErrorReasons makes calls that fail for each cause a partner must
// tell apart, over a real server, and checks that each status carries
// one ErrorInfo of domain "dwell.v1" with the cause's reason (errors.go,
// proto/dwell/v1/errors.proto). The causes of the watch streams that
// need a stream to lag, a server to close or a store to be restored are
// checked where those are set up (STREAM_PRUNED in
// TestWatchPruneWhileLagging, SLOW_CONSUMER in TestWatchSlowClient...,
// LOG_RESTORED after a restore in TestWatchCursorAfterRestore).
func TestErrorReasons(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	seedTeams(e)
	e.setRetention(2)

	// Partner accounts, which the tenant requires: crm reads the
	// directory; off is disabled; gone is deleted after its token was
	// minted; stranger has none.
	if _, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{PartnerAccountsRequired: true},
		UpdateMask: fieldMask("partner_accounts_required")}); err != nil {
		t.Fatal(err)
	}
	e.mustCreatePartner("crm", false, dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ)
	e.mustCreatePartner("off", true, dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ)
	e.mustCreatePartner("gone", false, dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ)
	goneTok, err := e.kr.Mint(dwell.Principal{Tenant: acme, Subject: "gone", Role: dwell.RolePartner}, 30*24*time.Hour, e.now())
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	if _, err := e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/gone"}); err != nil {
		t.Fatal(err)
	}

	// An etag read before the last write of team north.
	team, err := e.dirc.GetTeam(admin, &dwellv1.GetTeamRequest{Name: "teams/north"})
	if err != nil {
		t.Fatal(err)
	}
	staleEtag := team.GetTeam().GetEtag()
	if _, err := e.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{Team: &dwellv1.Team{Name: "teams/north", DisplayName: "North"}, UpdateMask: fieldMask("display_name")}); err != nil {
		t.Fatal(err)
	}

	// Two events, swept away by retention three days on (the sweep
	// visits the tenants with fixes).
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.UploadPingsRequest{Fixes: fixes("old", 1, e.now())}); err != nil {
		t.Fatal(err)
	}
	if _, err := server.PublishEvents(t.Context(), e.srv, acme, []dwell.Event{teamEvent("north", "n1", e.now()), teamEvent("north", "n2", e.now())}); err != nil {
		t.Fatal(err)
	}
	evs, err := e.st.ListEvents(t.Context(), acme, 0, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("the log holds %d events (%v), want 2", len(evs), err)
	}
	e.advance(3 * 24 * time.Hour)
	if _, n, err := server.SweepRetention(t.Context(), e.srv, e.now()); err != nil || n != 2 {
		t.Fatalf("SweepRetention = %d events, %v; want 2", n, err)
	}
	// A cursor this log never issued: the event it names is beyond the
	// log's end, as after a restore from an older backup.
	ahead := evs[1]
	ahead.Seq += 10
	// Tokens are minted on the server's clock, which moved.
	admin = e.admin(acme)
	partner := e.partner(acme, "crm")
	expired, err := e.kr.Mint(dwell.Principal{Tenant: acme, Subject: "admin", Role: dwell.RoleAdmin}, time.Minute, e.now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		what   string
		call   func() error
		code   codes.Code
		reason dwell.Reason
	}{
		{"a team without an id", func() error {
			_, err := e.dirc.CreateTeam(admin, &dwellv1.CreateTeamRequest{})
			return err
		}, codes.InvalidArgument, dwell.ReasonInvalidField},
		{"a partner account's request id used for another account", func() error {
			_, err := e.dirc.CreatePartner(admin, &dwellv1.CreatePartnerRequest{RequestId: "create-crm", PartnerId: "erp",
				Partner: &dwellv1.Partner{DisplayName: "ERP", Scopes: []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ}}})
			return err
		}, codes.InvalidArgument, dwell.ReasonRequestIDReused},
		{"a retry of the create of a partner account deleted since", func() error {
			_, err := e.dirc.CreatePartner(admin, &dwellv1.CreatePartnerRequest{RequestId: "create-gone", PartnerId: "gone",
				Partner: &dwellv1.Partner{DisplayName: "Partner gone", Scopes: []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ}}})
			return err
		}, codes.FailedPrecondition, dwell.ReasonRequestTargetDeleted},
		{"a client that does not exist", func() error {
			_, err := e.dirc.GetClient(admin, &dwellv1.GetClientRequest{Name: "clients/none"})
			return err
		}, codes.NotFound, dwell.ReasonNotFound},
		{"a team id that is taken", func() error {
			_, err := e.dirc.CreateTeam(admin, &dwellv1.CreateTeamRequest{TeamId: "north", Team: &dwellv1.Team{DisplayName: "again"}})
			return err
		}, codes.AlreadyExists, dwell.ReasonIDTaken},
		{"a partner without the sales scope", func() error {
			_, err := e.sales.GetOpportunity(partner, &dwellv1.GetOpportunityRequest{Name: "opportunities/none"})
			return err
		}, codes.PermissionDenied, dwell.ReasonScopeMissing},
		{"a disabled partner account", func() error {
			_, err := e.dirc.ListClients(e.partner(acme, "off"), &dwellv1.ListClientsRequest{})
			return err
		}, codes.PermissionDenied, dwell.ReasonPartnerDisabled},
		{"a token of a partner account deleted since", func() error {
			_, err := e.dirc.ListClients(withToken(goneTok), &dwellv1.ListClientsRequest{})
			return err
		}, codes.PermissionDenied, dwell.ReasonTokenRevoked},
		{"a partner without an account", func() error {
			_, err := e.dirc.ListClients(e.partner(acme, "stranger"), &dwellv1.ListClientsRequest{})
			return err
		}, codes.PermissionDenied, dwell.ReasonPartnerUnregistered},
		{"a rep calling an admin's method", func() error {
			_, err := e.dirc.CreateClient(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.CreateClientRequest{})
			return err
		}, codes.PermissionDenied, dwell.ReasonRoleNotAllowed},
		{"a rep reading another rep's day", func() error {
			_, err := e.report.GetRepDay(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.GetRepDayRequest{Rep: "reps/sari", Date: protoDate(e.now())})
			return err
		}, codes.PermissionDenied, dwell.ReasonTargetNotAllowed},
		{"a manager of another tenant reading a rep", func() error {
			_, err := e.report.GetRepDay(e.as(globex, dwell.RoleManager, "ana"), &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: protoDate(e.now())})
			return err
		}, codes.PermissionDenied, dwell.ReasonTargetNotAllowed},
		{"no token", func() error {
			_, err := e.dirc.ListClients(t.Context(), &dwellv1.ListClientsRequest{})
			return err
		}, codes.Unauthenticated, dwell.ReasonTokenMissing},
		{"an expired token", func() error {
			_, err := e.dirc.ListClients(withToken(expired), &dwellv1.ListClientsRequest{})
			return err
		}, codes.Unauthenticated, dwell.ReasonTokenExpired},
		{"a garbled token", func() error {
			_, err := e.dirc.ListClients(withToken("not.a.jwt"), &dwellv1.ListClientsRequest{})
			return err
		}, codes.Unauthenticated, dwell.ReasonTokenInvalid},
		{"a watch cursor older than the retention period", func() error {
			return watchErr(e.report, admin, &dwellv1.WatchEventsRequest{Cursor: server.CheckedCursor(acme, evs[0])})
		}, codes.FailedPrecondition, dwell.ReasonCursorExpired},
		{"a watch cursor beyond the log's end", func() error {
			return watchErr(e.report, admin, &dwellv1.WatchEventsRequest{Cursor: server.CheckedCursor(acme, ahead)})
		}, codes.FailedPrecondition, dwell.ReasonLogRestored},
		{"an update with a stale etag", func() error {
			_, err := e.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{Team: &dwellv1.Team{Name: "teams/north", DisplayName: "N", Etag: staleEtag}, UpdateMask: fieldMask("display_name")})
			return err
		}, codes.Aborted, dwell.ReasonEtagMismatch},
	}
	for _, c := range cases {
		wantReason(t, c.what, c.call(), c.code, c.reason)
	}
}

// TestErrorInfoOnStreams: a stream refused before its handler runs (the
// auth interceptor) and one that fails inside it carry an ErrorInfo too.
func TestErrorInfoOnStreams(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	err := watchErr(e.report, context.Background(), &dwellv1.WatchEventsRequest{})
	wantReason(t, "WatchEvents without a token", err, codes.Unauthenticated, dwell.ReasonTokenMissing)
	err = watchErr(e.report, e.as(acme, dwell.RoleRep, "budi"), &dwellv1.WatchEventsRequest{})
	wantReason(t, "WatchEvents of a rep", err, codes.PermissionDenied, dwell.ReasonRoleNotAllowed)
	err = watchErr(e.report, e.admin(acme), &dwellv1.WatchEventsRequest{Cursor: "not-a-cursor"})
	wantReason(t, "WatchEvents from a bad cursor", err, codes.InvalidArgument, dwell.ReasonInvalidField)
}
