package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// probe is one cheap call that needs one partner scope. An allowed probe
// gets past the access check (whatever its answer); a refused one is
// PERMISSION_DENIED.
type probe struct {
	scope dwellv1.PartnerScope
	call  func(e *env, ctx context.Context) error
}

var probes = []probe{
	{dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ, func(e *env, ctx context.Context) error {
		_, err := e.dirc.ListClients(ctx, &dwellv1.ListClientsRequest{})
		return err
	}},
	{dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_WRITE, func(e *env, ctx context.Context) error {
		_, err := e.dirc.CreateTeam(ctx, &dwellv1.CreateTeamRequest{}) // invalid: stores nothing
		return err
	}},
	{dwellv1.PartnerScope_PARTNER_SCOPE_INGEST, func(e *env, ctx context.Context) error {
		_, err := e.ingest.GetTrackingConfig(ctx, &dwellv1.GetTrackingConfigRequest{Rep: "reps/r1"})
		return err
	}},
	{dwellv1.PartnerScope_PARTNER_SCOPE_SALES_READ, func(e *env, ctx context.Context) error {
		_, err := e.sales.GetOpportunity(ctx, &dwellv1.GetOpportunityRequest{Name: "opportunities/none"})
		return err
	}},
	{dwellv1.PartnerScope_PARTNER_SCOPE_SALES_WRITE, func(e *env, ctx context.Context) error {
		_, err := e.sales.UpsertQuotas(ctx, &dwellv1.UpsertQuotasRequest{}) // invalid: stores nothing
		return err
	}},
	{dwellv1.PartnerScope_PARTNER_SCOPE_REPORTS_READ, func(e *env, ctx context.Context) error {
		_, err := e.report.GetRepDay(ctx, &dwellv1.GetRepDayRequest{Rep: "reps/r1", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 19}})
		return err
	}},
	{dwellv1.PartnerScope_PARTNER_SCOPE_EVENTS_WATCH, func(e *env, ctx context.Context) error {
		st, err := e.report.WatchEvents(ctx, &dwellv1.WatchEventsRequest{Cursor: "not-a-cursor"})
		if err != nil {
			return err
		}
		_, err = st.Recv()
		return err
	}},
}

// wantAllowed fails if err is a refusal of the access check.
func wantAllowed(t *testing.T, what string, err error) {
	t.Helper()
	if status.Code(err) == codes.PermissionDenied {
		t.Fatalf("%s: %v, want the call allowed", what, err)
	}
}

// wantRefused fails unless err is PERMISSION_DENIED with a message that
// contains why.
func wantRefused(t *testing.T, what string, err error, why string) {
	t.Helper()
	wantCode(t, what, err, codes.PermissionDenied)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, why) {
		t.Fatalf("%s: message %q, want it to name %q", what, msg, why)
	}
}

func (e *env) partner(tenant dwell.TenantID, subject string) context.Context {
	return e.as(tenant, dwell.RolePartner, subject)
}

func (e *env) mustCreatePartner(id string, disabled bool, scopes ...dwellv1.PartnerScope) *dwellv1.Partner {
	e.t.Helper()
	resp, err := e.dirc.CreatePartner(e.admin(acme), &dwellv1.CreatePartnerRequest{RequestId: "create-" + id, PartnerId: id,
		Partner: &dwellv1.Partner{DisplayName: "Partner " + id, Scopes: scopes, Disabled: disabled}})
	if err != nil {
		e.t.Fatalf("CreatePartner(%s): %v", id, err)
	}
	return resp.GetPartner()
}

func (e *env) mustUpdatePartner(id string, p *dwellv1.Partner, paths ...string) *dwellv1.Partner {
	e.t.Helper()
	p.Name = "partners/" + id
	resp, err := e.dirc.UpdatePartner(e.admin(acme), &dwellv1.UpdatePartnerRequest{Partner: p, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
	if err != nil {
		e.t.Fatalf("UpdatePartner(%s): %v", id, err)
	}
	return resp.GetPartner()
}

func newPartnerEnv(t *testing.T) (*env, *auditLog) {
	e, log := newAuditEnv(t)
	e.mustCreateRep(e.admin(acme), "r1", "")
	return e, log
}

// TestPartnerScopes: an account holding one scope may make exactly the
// calls of that scope; every other call is refused, naming the scope it
// lacks, and audited.
func TestPartnerScopes(t *testing.T) {
	e, log := newPartnerEnv(t)
	for _, held := range probes {
		id := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(held.scope.String(), "PARTNER_SCOPE_"), "_", "-"))
		e.mustCreatePartner(id, false, held.scope)
		ctx := e.partner(acme, id)
		for _, pr := range probes {
			what := fmt.Sprintf("%s calling a %s call", id, pr.scope)
			n := log.len()
			err := pr.call(e, ctx)
			if pr.scope == held.scope {
				wantAllowed(t, what, err)
				continue
			}
			wantRefused(t, what, err, pr.scope.String())
			wantDeniedAndAudited(t, what, err, log, n, acme, dwell.RolePartner, id)
		}
	}
}

// TestUnregisteredPartnerKeepsEveryRight: a partner token whose subject
// names no account (tokens minted before accounts existed) keeps every
// partner right, even while other accounts of the tenant are scoped; and
// an account of another tenant with the same id does not apply.
func TestUnregisteredPartnerKeepsEveryRight(t *testing.T) {
	e, _ := newPartnerEnv(t)
	e.mustCreatePartner("payroll", false, dwellv1.PartnerScope_PARTNER_SCOPE_REPORTS_READ)
	if _, err := e.dirc.CreatePartner(e.admin(globex), &dwellv1.CreatePartnerRequest{RequestId: "g1", PartnerId: "legacy",
		Partner: &dwellv1.Partner{DisplayName: "globex's", Disabled: true, Scopes: []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_INGEST}}}); err != nil {
		t.Fatalf("CreatePartner in globex: %v", err)
	}
	ctx := e.partner(acme, "legacy")
	for _, pr := range probes {
		wantAllowed(t, "unregistered partner calling a "+pr.scope.String()+" call", pr.call(e, ctx))
	}
	// A subject that could never be an account id is unregistered too.
	wantAllowed(t, "partner with a free-form subject", probes[0].call(e, e.partner(acme, "svc account/ünïcode")))
}

// TestPartnerDisabledAtOnce: disabling an account refuses its very next
// call, on a connection and token already in use, and enabling it again
// restores its scopes; a restart keeps what was stored.
func TestPartnerDisabledAtOnce(t *testing.T) {
	e, log := newPartnerEnv(t)
	all := []dwellv1.PartnerScope{}
	for _, pr := range probes {
		all = append(all, pr.scope)
	}
	e.mustCreatePartner("crm", false, all...)
	ctx := e.partner(acme, "crm")
	reports := probes[5]
	wantAllowed(t, "enabled", reports.call(e, ctx))

	got := e.mustUpdatePartner("crm", &dwellv1.Partner{Disabled: true}, "disabled")
	if !got.GetDisabled() || len(got.GetScopes()) != len(all) {
		t.Fatalf("after disabling: %v, want disabled with its %d scopes", got, len(all))
	}
	for _, pr := range probes {
		n := log.len()
		err := pr.call(e, ctx)
		wantRefused(t, "disabled, "+pr.scope.String(), err, "disabled")
		wantDeniedAndAudited(t, "disabled, "+pr.scope.String(), err, log, n, acme, dwell.RolePartner, "crm")
	}
	e.restart()
	wantRefused(t, "disabled, after a restart", reports.call(e, e.partner(acme, "crm")), "disabled")

	e.mustUpdatePartner("crm", &dwellv1.Partner{Disabled: false}, "disabled")
	wantAllowed(t, "enabled again", reports.call(e, e.partner(acme, "crm")))
}

// TestPartnerWatchCutAtOnce: disabling an account ends the WatchEvents
// stream it opened before, at the first event after the change; none of
// the later events reaches it.
func TestPartnerWatchCutAtOnce(t *testing.T) {
	e, log := newAuditEnv(t)
	teams := seedWatchTeams(e, acme)
	e.mustCreatePartner("feed", false, dwellv1.PartnerScope_PARTNER_SCOPE_EVENTS_WATCH)
	f := newSimFeed(t, []dwell.RepID{"r1", "r2"})
	st, _ := openWatch(t, e.report, e.caller(context.Background(), acme, dwell.RolePartner, "feed"), &dwellv1.WatchEventsRequest{})
	half := len(f.steps) / 2
	before := f.run(t, e, acme, teams, 0, half)
	if len(before) == 0 {
		t.Fatal("the first half of the feed made no events")
	}
	wantSameFacts(t, "events while enabled", facts(recvAtLeast(t, st, len(before))), before)

	e.mustUpdatePartner("feed", &dwellv1.Partner{Disabled: true}, "disabled")
	n := log.len()
	if after := f.run(t, e, acme, teams, half, len(f.steps)); len(after) == 0 {
		t.Fatal("the second half of the feed made no events")
	}
	resp, err := st.Recv()
	if err == nil {
		t.Fatalf("after disabling, the stream received %d events", len(resp.GetEvents()))
	}
	wantRefused(t, "the stream after disabling", err, "disabled")
	if recs := log.since(n); len(recs) == 0 || recs[0]["subject"] != "feed" || recs[0]["audit"] != "permission_denied" {
		t.Fatalf("audit records after the cut: %v, want a permission_denied of feed", recs)
	}
}

// TestPartnerStreamPingsCutAtOnce: taking INGEST away refuses the next
// batch of a StreamPings stream opened before, and stores none of it.
func TestPartnerStreamPingsCutAtOnce(t *testing.T) {
	e, _ := newPartnerEnv(t)
	e.mustCreatePartner("relay", false, dwellv1.PartnerScope_PARTNER_SCOPE_INGEST)
	ctx, cancel := context.WithCancel(e.caller(context.Background(), acme, dwell.RolePartner, "relay"))
	defer cancel()
	st, err := e.ingest.StreamPings(ctx)
	if err != nil {
		t.Fatalf("StreamPings: %v", err)
	}
	base := e.now().Add(-time.Hour)
	batch := func(id int64) *dwellv1.StreamPingsRequest {
		req := &dwellv1.StreamPingsRequest{Rep: "reps/r1", BatchId: id}
		for i := range int64(3) {
			k := id*3 + i
			req.Fixes = append(req.Fixes, &dwellv1.Fix{Id: fmt.Sprintf("f%d", k), DeviceTime: timestamppb.New(base.Add(time.Duration(k) * time.Minute)),
				Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10})
		}
		return req
	}
	if err := st.Send(batch(0)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if resp, err := st.Recv(); err != nil || resp.GetBatchId() != 0 {
		t.Fatalf("first ack: %v, %v", resp, err)
	}
	e.mustUpdatePartner("relay", &dwellv1.Partner{Scopes: []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_REPORTS_READ}}, "scopes")
	if err := st.Send(batch(1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	_, err = st.Recv()
	wantRefused(t, "the batch after INGEST was taken away", err, "PARTNER_SCOPE_INGEST")
	fixes, err := e.st.ListFixes(context.Background(), acme, "r1", base.Add(-time.Hour), base.Add(time.Hour))
	if err != nil {
		t.Fatalf("ListFixes: %v", err)
	}
	if len(fixes) != 3 {
		t.Fatalf("stored %d fixes, want the first batch's 3", len(fixes))
	}
}

// TestPartnerScopeChange: a change of scopes applies from the next call;
// deleting the account while the tenant does not require accounts
// revokes its tokens (it does not widen them to every right).
func TestPartnerScopeChange(t *testing.T) {
	e, _ := newPartnerEnv(t)
	dirRead, reports := probes[0], probes[5]
	e.mustCreatePartner("payroll", false, reports.scope)
	ctx := e.partner(acme, "payroll")
	wantAllowed(t, "reports with REPORTS_READ", reports.call(e, ctx))
	wantRefused(t, "directory with REPORTS_READ", dirRead.call(e, ctx), dirRead.scope.String())

	e.mustUpdatePartner("payroll", &dwellv1.Partner{Scopes: []dwellv1.PartnerScope{dirRead.scope}}, "scopes")
	wantAllowed(t, "directory with DIRECTORY_READ", dirRead.call(e, ctx))
	wantRefused(t, "reports with DIRECTORY_READ", reports.call(e, ctx), reports.scope.String())

	// A mask naming one field leaves the others.
	got := e.mustUpdatePartner("payroll", &dwellv1.Partner{DisplayName: "Payroll (EU)"}, "display_name")
	if got.GetDisplayName() != "Payroll (EU)" || len(got.GetScopes()) != 1 || got.GetScopes()[0] != dirRead.scope {
		t.Fatalf("after renaming: %v, want the new name and DIRECTORY_READ alone", got)
	}
	wantRefused(t, "reports after renaming", reports.call(e, ctx), reports.scope.String())

	// Deleting the account while the tenant does not require accounts
	// revokes its tokens: it does not hand them every partner right.
	if _, err := e.dirc.DeletePartner(e.admin(acme), &dwellv1.DeletePartnerRequest{Name: "partners/payroll"}); err != nil {
		t.Fatalf("DeletePartner while accounts are not required: %v", err)
	}
	for _, pr := range probes {
		wantRefused(t, pr.scope.String()+" after the delete", pr.call(e, ctx), "partners/payroll was deleted")
	}
}

// TestPartnerAccountsRequired: with settings.partner_accounts_required a
// partner subject without an account is refused (audited), deleting an
// account revokes its tokens, and an update whose mask does not name the
// setting (a client that predates it) leaves it as it is.
func TestPartnerAccountsRequired(t *testing.T) {
	e, _ := newPartnerEnv(t)
	admin := e.admin(acme)
	reports := probes[5]
	e.mustCreatePartner("payroll", false, reports.scope)
	payroll, crm := e.partner(acme, "payroll"), e.partner(acme, "crm")
	wantAllowed(t, "unregistered partner, accounts not required", reports.call(e, crm))

	setRequired := func(v bool, mask ...string) *dwellv1.Settings {
		t.Helper()
		resp, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{
			Settings:   &dwellv1.Settings{PartnerAccountsRequired: v, RetentionDays: 365, VisitMinSeconds: 300, IdleMinSeconds: 300, SilenceMinSeconds: 1800},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: mask}})
		if err != nil {
			t.Fatalf("UpdateSettings(%v, %v): %v", v, mask, err)
		}
		return resp.GetSettings()
	}
	if got := setRequired(true, "partner_accounts_required"); !got.GetPartnerAccountsRequired() {
		t.Fatalf("UpdateSettings answered %v, want partner_accounts_required", got)
	}
	wantRefused(t, "unregistered partner, accounts required", reports.call(e, crm), "not registered")
	wantAllowed(t, "registered partner, accounts required", reports.call(e, payroll))
	// A full update (empty mask) from an older client sends false: ignored.
	if got := setRequired(false); !got.GetPartnerAccountsRequired() {
		t.Fatalf("a full update turned partner_accounts_required off: %v", got)
	}
	wantRefused(t, "unregistered partner after a full update", reports.call(e, crm), "not registered")

	if _, err := e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/payroll"}); err != nil {
		t.Fatalf("DeletePartner while accounts are required: %v", err)
	}
	wantRefused(t, "deleted partner, accounts required", reports.call(e, payroll), "was deleted")
	_, err := e.dirc.GetPartner(admin, &dwellv1.GetPartnerRequest{Name: "partners/payroll"})
	wantCode(t, "GetPartner after delete", err, codes.NotFound)

	// The setting survives a restart, and turning it off restores the
	// unregistered partners' rights at once.
	e.restart()
	wantRefused(t, "unregistered partner after a restart", reports.call(e, crm), "not registered")
	setRequired(false, "partner_accounts_required")
	wantAllowed(t, "unregistered partner, accounts no longer required", reports.call(e, crm))
	wantRefused(t, "deleted partner, accounts no longer required", reports.call(e, payroll), "was deleted")
}

// TestDeletedPartnerStaysRevoked: the tokens of an account deleted while
// the tenant required accounts stay refused (audited) for every call once
// the tenant stops requiring them, also across a restart; before the fix
// they got every partner right, those the account never had included.
func TestDeletedPartnerStaysRevoked(t *testing.T) {
	e, log := newPartnerEnv(t)
	admin := e.admin(acme)
	reports := probes[5]
	e.mustCreatePartner("payroll", false, reports.scope)
	payroll := e.partner(acme, "payroll") // a long-lived token, minted before the deletion
	setRequired := func(v bool) {
		t.Helper()
		if _, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{PartnerAccountsRequired: v},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"partner_accounts_required"}}}); err != nil {
			t.Fatalf("UpdateSettings(partner_accounts_required %v): %v", v, err)
		}
	}
	setRequired(true)
	if _, err := e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/payroll"}); err != nil {
		t.Fatalf("DeletePartner: %v", err)
	}
	setRequired(false)
	wantAllowed(t, "an unregistered partner, accounts not required", reports.call(e, e.partner(acme, "crm")))
	check := func(when string) {
		t.Helper()
		for _, pr := range probes {
			what := fmt.Sprintf("the deleted account's token calling a %s call %s", pr.scope, when)
			n := log.len()
			err := pr.call(e, payroll)
			wantRefused(t, what, err, "partners/payroll was deleted")
			wantDeniedAndAudited(t, what, err, log, n, acme, dwell.RolePartner, "payroll")
		}
	}
	check("after accounts stopped being required")
	e.restart()
	check("after a restart")
	// A token minted after the deletion is no better while no account
	// exists: the subject is the deleted account's.
	e.advance(time.Minute)
	wantRefused(t, "a token minted after the deletion", reports.call(e, e.partner(acme, "payroll")), "partners/payroll was deleted")
	_, err := e.dirc.GetPartner(admin, &dwellv1.GetPartnerRequest{Name: "partners/payroll"})
	wantCode(t, "GetPartner of the deleted account", err, codes.NotFound)
	resp, err := e.dirc.ListPartners(admin, &dwellv1.ListPartnersRequest{})
	if err != nil || len(resp.GetPartners()) != 0 {
		t.Fatalf("ListPartners after the delete = %v, %v; want none", resp.GetPartners(), err)
	}
	_, err = e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/payroll"})
	wantCode(t, "DeletePartner again", err, codes.NotFound)
}

// TestPartnerCreatedAgain: an account created again under a deleted one's
// id governs only the tokens issued after the deletion, in a later second
// (iat is whole seconds), with its new scopes; the deleted account's
// tokens, and those issued in the second of the deletion, stay refused,
// across a restart and a second deletion.
func TestPartnerCreatedAgain(t *testing.T) {
	e, _ := newPartnerEnv(t)
	admin := e.admin(acme)
	dirRead, reports := probes[0], probes[5]
	e.mustCreatePartner("payroll", false, reports.scope)
	// The deletion falls 200 ms into a second, and a token is minted 300
	// ms after it, in the same second.
	e.advance(time.Second - time.Duration(e.now().Nanosecond()))
	old := e.partner(acme, "payroll")
	wantAllowed(t, "reports before the delete", reports.call(e, old))
	e.advance(200 * time.Millisecond)
	if _, err := e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/payroll"}); err != nil {
		t.Fatalf("DeletePartner: %v", err)
	}
	e.advance(300 * time.Millisecond)
	sameSecond := e.partner(acme, "payroll") // issued after the deletion, in its second
	create := func(requestID string, scope dwellv1.PartnerScope) {
		t.Helper()
		if _, err := e.dirc.CreatePartner(admin, &dwellv1.CreatePartnerRequest{RequestId: requestID, PartnerId: "payroll",
			Partner: &dwellv1.Partner{DisplayName: "Payroll again", Scopes: []dwellv1.PartnerScope{scope}}}); err != nil {
			t.Fatalf("CreatePartner again: %v", err)
		}
	}
	create("create-payroll-2", dirRead.scope)
	e.advance(time.Second)
	fresh := e.partner(acme, "payroll")

	check := func(when string) {
		t.Helper()
		for _, pr := range probes {
			wantRefused(t, "the deleted account's token calling "+pr.scope.String()+" "+when, pr.call(e, old),
				"partners/payroll was deleted after this token was issued")
			wantRefused(t, "a token of the deletion's second calling "+pr.scope.String()+" "+when, pr.call(e, sameSecond),
				"partners/payroll was deleted after this token was issued")
			if pr.scope == dirRead.scope {
				wantAllowed(t, "a token of the new account calling "+pr.scope.String()+" "+when, pr.call(e, fresh))
			} else {
				wantRefused(t, "a token of the new account calling "+pr.scope.String()+" "+when, pr.call(e, fresh), pr.scope.String())
			}
		}
	}
	check("after the create")
	got, err := e.dirc.GetPartner(admin, &dwellv1.GetPartnerRequest{Name: "partners/payroll"})
	if err != nil || got.GetPartner().GetDisplayName() != "Payroll again" || fmt.Sprint(got.GetPartner().GetScopes()) != fmt.Sprint([]dwellv1.PartnerScope{dirRead.scope}) {
		t.Fatalf("GetPartner of the account created again = %v, %v", got.GetPartner(), err)
	}
	e.restart()
	check("after a restart")

	// A second deletion revokes the second account's tokens in turn; a
	// third account lets in only the tokens issued after it.
	if _, err := e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/payroll"}); err != nil {
		t.Fatalf("DeletePartner again: %v", err)
	}
	create("create-payroll-3", dirRead.scope)
	wantRefused(t, "the second account's token after its deletion", dirRead.call(e, fresh), "was deleted after this token was issued")
	e.advance(time.Second)
	wantAllowed(t, "a token of the third account", dirRead.call(e, e.partner(acme, "payroll")))
}

// TestPartnerManagement: create (idempotent by request_id), get, list in
// pages, scopes answered in enum order.
func TestPartnerManagement(t *testing.T) {
	e, _ := newPartnerEnv(t)
	admin := e.admin(acme)
	req := &dwellv1.CreatePartnerRequest{RequestId: "req-1", PartnerId: "payroll", Partner: &dwellv1.Partner{
		DisplayName: "Payroll",
		Scopes:      []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_EVENTS_WATCH, dwellv1.PartnerScope_PARTNER_SCOPE_REPORTS_READ},
	}}
	first, err := e.dirc.CreatePartner(admin, req)
	if err != nil {
		t.Fatalf("CreatePartner: %v", err)
	}
	p := first.GetPartner()
	if p.GetName() != "partners/payroll" || p.GetCreateTime() == nil || p.GetDisabled() ||
		fmt.Sprint(p.GetScopes()) != "[PARTNER_SCOPE_REPORTS_READ PARTNER_SCOPE_EVENTS_WATCH]" {
		t.Fatalf("created %v", p)
	}
	retry, err := e.dirc.CreatePartner(admin, req)
	if err != nil {
		t.Fatalf("CreatePartner retry: %v", err)
	}
	if retry.GetPartner().GetName() != p.GetName() || !retry.GetPartner().GetCreateTime().AsTime().Equal(p.GetCreateTime().AsTime()) {
		t.Fatalf("retry answered %v, want %v", retry.GetPartner(), p)
	}
	_, err = e.dirc.CreatePartner(admin, &dwellv1.CreatePartnerRequest{RequestId: "req-1", PartnerId: "other", Partner: req.Partner})
	wantViolation(t, "request id of another account", err, "request_id")
	_, err = e.dirc.CreatePartner(admin, &dwellv1.CreatePartnerRequest{RequestId: "req-2", PartnerId: "payroll", Partner: req.Partner})
	wantCode(t, "taken id", err, codes.AlreadyExists)

	got, err := e.dirc.GetPartner(admin, &dwellv1.GetPartnerRequest{Name: "partners/payroll"})
	if err != nil {
		t.Fatalf("GetPartner: %v", err)
	}
	if got.GetPartner().GetDisplayName() != "Payroll" {
		t.Fatalf("GetPartner = %v", got.GetPartner())
	}
	for i := range 4 {
		e.mustCreatePartner(fmt.Sprintf("p%d", i), i%2 == 0, dwellv1.PartnerScope_PARTNER_SCOPE_INGEST)
	}
	var names []string
	token := ""
	for range 10 {
		resp, err := e.dirc.ListPartners(admin, &dwellv1.ListPartnersRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatalf("ListPartners: %v", err)
		}
		for _, p := range resp.GetPartners() {
			names = append(names, p.GetName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if want := "[partners/p0 partners/p1 partners/p2 partners/p3 partners/payroll]"; fmt.Sprint(names) != want {
		t.Fatalf("listed %v, want %s", names, want)
	}
	resp, err := e.dirc.ListPartners(e.admin(globex), &dwellv1.ListPartnersRequest{})
	if err != nil || len(resp.GetPartners()) != 0 {
		t.Fatalf("globex's ListPartners = %v, %v; want none", resp.GetPartners(), err)
	}
}

// TestOnlyAdminsManagePartners: reps, managers and partners (registered
// with every scope or not) cannot read or change partner accounts.
func TestOnlyAdminsManagePartners(t *testing.T) {
	e, log := newPartnerEnv(t)
	var all []dwellv1.PartnerScope
	for _, pr := range probes {
		all = append(all, pr.scope)
	}
	e.mustCreatePartner("crm", false, all...)
	calls := map[string]func(ctx context.Context) error{
		"CreatePartner": func(ctx context.Context) error {
			_, err := e.dirc.CreatePartner(ctx, &dwellv1.CreatePartnerRequest{RequestId: "x", PartnerId: "evil",
				Partner: &dwellv1.Partner{DisplayName: "x", Scopes: all}})
			return err
		},
		"GetPartner": func(ctx context.Context) error {
			_, err := e.dirc.GetPartner(ctx, &dwellv1.GetPartnerRequest{Name: "partners/crm"})
			return err
		},
		"UpdatePartner": func(ctx context.Context) error {
			_, err := e.dirc.UpdatePartner(ctx, &dwellv1.UpdatePartnerRequest{Partner: &dwellv1.Partner{Name: "partners/crm", Disabled: true},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"disabled"}}})
			return err
		},
		"DeletePartner": func(ctx context.Context) error {
			_, err := e.dirc.DeletePartner(ctx, &dwellv1.DeletePartnerRequest{Name: "partners/crm"})
			return err
		},
		"ListPartners": func(ctx context.Context) error {
			_, err := e.dirc.ListPartners(ctx, &dwellv1.ListPartnersRequest{})
			return err
		},
	}
	callers := []struct {
		role    dwell.Role
		subject string
	}{{dwell.RoleRep, "r1"}, {dwell.RoleManager, "mgr"}, {dwell.RolePartner, "crm"}, {dwell.RolePartner, "legacy"}}
	for name, call := range calls {
		for _, c := range callers {
			n := log.len()
			what := fmt.Sprintf("%s by %s %s", name, c.role, c.subject)
			wantDeniedAndAudited(t, what, call(e.as(acme, c.role, c.subject)), log, n, acme, c.role, c.subject)
		}
	}
	got, err := e.dirc.GetPartner(e.admin(acme), &dwellv1.GetPartnerRequest{Name: "partners/crm"})
	if err != nil || got.GetPartner().GetDisabled() {
		t.Fatalf("crm after the refused calls: %v, %v; want it enabled", got.GetPartner(), err)
	}
	_, err = e.dirc.GetPartner(e.admin(acme), &dwellv1.GetPartnerRequest{Name: "partners/evil"})
	wantCode(t, "the refused create", err, codes.NotFound)
}

// TestPartnerBadInput: every bad request is INVALID_ARGUMENT with a
// violation on the field, and stores nothing.
func TestPartnerBadInput(t *testing.T) {
	e, _ := newPartnerEnv(t)
	admin := e.admin(acme)
	reports := []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_REPORTS_READ}
	good := func() *dwellv1.CreatePartnerRequest {
		return &dwellv1.CreatePartnerRequest{RequestId: "r", PartnerId: "p1", Partner: &dwellv1.Partner{DisplayName: "P", Scopes: reports}}
	}
	for _, c := range []struct {
		what  string
		edit  func(*dwellv1.CreatePartnerRequest)
		field string
	}{
		{"no scopes", func(r *dwellv1.CreatePartnerRequest) { r.Partner.Scopes = nil }, "partner.scopes"},
		{"unspecified scope", func(r *dwellv1.CreatePartnerRequest) { r.Partner.Scopes = []dwellv1.PartnerScope{0} }, "partner.scopes[0]"},
		{"unknown scope", func(r *dwellv1.CreatePartnerRequest) { r.Partner.Scopes = append(reports, 99) }, "partner.scopes[1]"},
		{"repeated scope", func(r *dwellv1.CreatePartnerRequest) { r.Partner.Scopes = append(reports, reports...) }, "partner.scopes[1]"},
		{"no display name", func(r *dwellv1.CreatePartnerRequest) { r.Partner.DisplayName = "" }, "partner.display_name"},
		{"no partner", func(r *dwellv1.CreatePartnerRequest) { r.Partner = nil }, "partner"},
		{"bad id", func(r *dwellv1.CreatePartnerRequest) { r.PartnerId = "a/b" }, "partner_id"},
		{"empty id", func(r *dwellv1.CreatePartnerRequest) { r.PartnerId = "" }, "partner_id"},
		{"no request id", func(r *dwellv1.CreatePartnerRequest) { r.RequestId = "" }, "request_id"},
	} {
		req := good()
		c.edit(req)
		_, err := e.dirc.CreatePartner(admin, req)
		wantViolation(t, "CreatePartner with "+c.what, err, c.field)
	}
	if _, err := e.dirc.CreatePartner(admin, good()); err != nil {
		t.Fatalf("CreatePartner: %v", err)
	}
	for _, c := range []struct {
		what  string
		req   *dwellv1.UpdatePartnerRequest
		field string
	}{
		{"unknown mask field", &dwellv1.UpdatePartnerRequest{Partner: &dwellv1.Partner{Name: "partners/p1"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"create_time"}}}, "update_mask"},
		{"bad name", &dwellv1.UpdatePartnerRequest{Partner: &dwellv1.Partner{Name: "clients/p1", Disabled: true},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"disabled"}}}, "partner.name"},
		{"no scopes", &dwellv1.UpdatePartnerRequest{Partner: &dwellv1.Partner{Name: "partners/p1"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"scopes"}}}, "partner.scopes"},
		{"unknown scope", &dwellv1.UpdatePartnerRequest{Partner: &dwellv1.Partner{Name: "partners/p1", Scopes: []dwellv1.PartnerScope{42}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"scopes"}}}, "partner.scopes[0]"},
	} {
		_, err := e.dirc.UpdatePartner(admin, c.req)
		wantViolation(t, "UpdatePartner with "+c.what, err, c.field)
	}
	_, err := e.dirc.GetPartner(admin, &dwellv1.GetPartnerRequest{Name: "partners/"})
	wantViolation(t, "GetPartner of an empty id", err, "name")
	_, err = e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/a/b"})
	wantViolation(t, "DeletePartner of a bad name", err, "name")
	_, err = e.dirc.ListPartners(admin, &dwellv1.ListPartnersRequest{PageToken: "garbage"})
	wantViolation(t, "ListPartners with a bad token", err, "page_token")

	resp, err := e.dirc.ListPartners(admin, &dwellv1.ListPartnersRequest{})
	if err != nil {
		t.Fatalf("ListPartners: %v", err)
	}
	if len(resp.GetPartners()) != 1 {
		t.Fatalf("after the bad requests: %v, want p1 alone", resp.GetPartners())
	}
	p := resp.GetPartners()[0]
	if p.GetDisabled() || fmt.Sprint(p.GetScopes()) != fmt.Sprint(reports) {
		t.Fatalf("p1 after the bad updates: %v, want it as created", p)
	}
}

// TestPartnerConcurrentWrites: partner calls run while the admin flips
// the account's scope and masked updates of different fields race; every
// call is either allowed or refused for the scope, no update undoes
// another, and the call after the last update sees it. Run with -race.
func TestPartnerConcurrentWrites(t *testing.T) {
	e, _ := newPartnerEnv(t)
	dirRead, reports := probes[0], probes[5]
	e.mustCreatePartner("payroll", false, reports.scope)
	ctx := e.partner(acme, "payroll")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := reports.call(e, ctx)
				if c := status.Code(err); c != codes.OK && c != codes.PermissionDenied {
					errs <- err
					return
				}
			}
		}()
	}
	var uw sync.WaitGroup
	for i := range 20 {
		uw.Add(2)
		go func() {
			defer uw.Done()
			sc := []dwellv1.PartnerScope{reports.scope}
			if i%2 == 1 {
				sc = []dwellv1.PartnerScope{dirRead.scope}
			}
			_, err := e.dirc.UpdatePartner(e.admin(acme), &dwellv1.UpdatePartnerRequest{
				Partner: &dwellv1.Partner{Name: "partners/payroll", Scopes: sc}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"scopes"}}})
			if err != nil {
				errs <- err
			}
		}()
		go func() {
			defer uw.Done()
			_, err := e.dirc.UpdatePartner(e.admin(acme), &dwellv1.UpdatePartnerRequest{
				Partner: &dwellv1.Partner{Name: "partners/payroll", DisplayName: fmt.Sprintf("name %d", i)}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
			if err != nil {
				errs <- err
			}
		}()
	}
	uw.Wait()
	// The last word: DIRECTORY_READ alone.
	e.mustUpdatePartner("payroll", &dwellv1.Partner{Scopes: []dwellv1.PartnerScope{dirRead.scope}}, "scopes")
	wantAllowed(t, "directory after the last update", dirRead.call(e, ctx))
	wantRefused(t, "reports after the last update", reports.call(e, ctx), reports.scope.String())
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	got, err := e.dirc.GetPartner(e.admin(acme), &dwellv1.GetPartnerRequest{Name: "partners/payroll"})
	if err != nil {
		t.Fatalf("GetPartner: %v", err)
	}
	if !strings.HasPrefix(got.GetPartner().GetDisplayName(), "name ") {
		t.Fatalf("display name %q: a scope update undid a rename", got.GetPartner().GetDisplayName())
	}
}

// BenchmarkPartnerCheck measures what the partner-account check adds to a
// cheap RPC (GetSettings, one small bbolt read), over the real gRPC API on
// loopback: the same call by an admin (no check) is the baseline, beside a
// registered partner holding the scope (the check's full path) and an
// unregistered one.
//
//	go test -run '^$' -bench BenchmarkPartnerCheck -count 5 ./server/
func BenchmarkPartnerCheck(b *testing.B) {
	e := newEnv(b)
	if _, err := e.dirc.CreatePartner(e.admin(acme), &dwellv1.CreatePartnerRequest{RequestId: "r", PartnerId: "payroll",
		Partner: &dwellv1.Partner{DisplayName: "Payroll", Scopes: []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ}}}); err != nil {
		b.Fatalf("CreatePartner: %v", err)
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{
		{"admin", e.admin(acme)},
		{"partner=registered", e.as(acme, dwell.RolePartner, "payroll")},
		{"partner=unregistered", e.as(acme, dwell.RolePartner, "legacy")},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := &dwellv1.GetSettingsRequest{Name: "settings"}
			for b.Loop() {
				if _, err := e.dirc.GetSettings(c.ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
