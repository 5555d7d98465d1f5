package server_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestUpdateWithoutMask checks AIP-134's implied mask on every update: a
// request without update_mask changes exactly the updatable fields it
// populates and leaves the others as they were, "*" replaces them all
// (clearing those left empty), and an empty mask that populates nothing is
// INVALID_ARGUMENT and changes nothing. Before, an empty mask replaced the
// whole record, so a partner that sent only a team's new name removed its
// managers (and their access to the team's reps) without a word.
func TestUpdateWithoutMask(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "north", "ana", "rudi")
	e.mustCreateTeam(admin, "south", "sari")
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "budi", Rep: &dwellv1.Rep{
		DisplayName: "Budi", TimeZone: "Asia/Jakarta", Team: "teams/north", Email: "budi@example.com",
		WorkingHours: []*dwellv1.WorkingHours{{DayOfWeek: 1, StartMinute: 8 * 60, EndMinute: 17 * 60}},
	}}); err != nil {
		t.Fatal(err)
	}
	c := circleClient("toko", -6.2, 106.8, 50)
	c.Address = "Jl. Sudirman 1"
	c.ExternalId = "crm-1"
	if _, err := e.dirc.CreateClient(admin, &dwellv1.CreateClientRequest{ClientId: "toko", Client: c}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sales.UpsertOpportunities(admin, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o", Opportunities: []*dwellv1.Opportunity{
		opp("deal", "budi", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN, 500, e.now().Add(-time.Hour), time.Time{})}}); err != nil {
		t.Fatal(err)
	}
	e.mustCreatePartner("crm", false, dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ, dwellv1.PartnerScope_PARTNER_SCOPE_SALES_WRITE)
	if _, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{RetentionDays: 90, VisitMinSeconds: 240},
		UpdateMask: mask("retention_days", "visit_min_seconds")}); err != nil {
		t.Fatal(err)
	}

	// The implied mask: only what the request populates changes.
	team, err := e.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{Team: &dwellv1.Team{Name: "teams/north", DisplayName: "North Jakarta"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := team.GetTeam(); got.GetDisplayName() != "North Jakarta" || len(got.GetManagers()) != 2 {
		t.Errorf("UpdateTeam(display_name, no mask) = %v, want the new name and both managers kept", got)
	}
	rep, err := e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/budi", Team: "teams/south"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.GetRep(); got.GetTeam() != "teams/south" || got.GetEmail() != "budi@example.com" || got.GetTimeZone() != "Asia/Jakarta" ||
		got.GetDisplayName() != "Budi" || len(got.GetWorkingHours()) != 1 {
		t.Errorf("UpdateRep(team, no mask) = %v, want the new team and every other field kept", got)
	}
	cl, err := e.dirc.UpdateClient(admin, &dwellv1.UpdateClientRequest{Client: &dwellv1.Client{Name: "clients/toko", DisplayName: "Toko Baru"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cl.GetClient(); got.GetDisplayName() != "Toko Baru" || got.GetAddress() != "Jl. Sudirman 1" || got.GetExternalId() != "crm-1" ||
		got.GetKind() != dwellv1.ClientKind_CLIENT_KIND_PROSPECT || !proto.Equal(got.GetGeofence(), c.GetGeofence()) {
		t.Errorf("UpdateClient(display_name, no mask) = %v, want the new name and every other field kept", got)
	}
	st, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{IdleMinSeconds: 420}})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.GetSettings(); got.GetIdleMinSeconds() != 420 || got.GetRetentionDays() != 90 || got.GetVisitMinSeconds() != 240 {
		t.Errorf("UpdateSettings(idle_min_seconds, no mask) = %v, want idle 420 s, retention 90 d and visit 240 s kept", got)
	}
	pa, err := e.dirc.UpdatePartner(admin, &dwellv1.UpdatePartnerRequest{Partner: &dwellv1.Partner{Name: "partners/crm", DisplayName: "CRM Sync"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := pa.GetPartner(); got.GetDisplayName() != "CRM Sync" || len(got.GetScopes()) != 2 || got.GetDisabled() {
		t.Errorf("UpdatePartner(display_name, no mask) = %v, want the new name, both scopes kept, still enabled", got)
	}
	op, err := e.sales.UpdateOpportunity(admin, &dwellv1.UpdateOpportunityRequest{Opportunity: &dwellv1.Opportunity{Name: "opportunities/deal", ExternalId: "crm-deal"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := op.GetOpportunity(); got.GetExternalId() != "crm-deal" || got.GetAmount().GetAmountMinor() != 500 ||
		got.GetStage() != dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN {
		t.Errorf("UpdateOpportunity(external_id, no mask) = %v, want the new external id, amount and stage kept", got)
	}

	// "*" replaces every updatable field: one left empty is cleared.
	team, err = e.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{Team: &dwellv1.Team{Name: "teams/north", DisplayName: "North"}, UpdateMask: mask("*")})
	if err != nil {
		t.Fatal(err)
	}
	if got := team.GetTeam(); got.GetDisplayName() != "North" || len(got.GetManagers()) != 0 {
		t.Errorf(`UpdateTeam(display_name, "*") = %v, want the new name and no managers`, got)
	}

	// An empty mask that sets nothing is a mistake, answered as one, and
	// changes nothing.
	before, err := e.dirc.GetRep(admin, &dwellv1.GetRepRequest{Name: "reps/budi"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/budi"}})
	wantViolation(t, "UpdateRep(nothing, no mask)", err, "update_mask")
	_, err = e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{PartnerAccountsRequired: true}})
	wantViolation(t, "UpdateSettings(partner_accounts_required only, no mask)", err, "update_mask")
	after, err := e.dirc.GetRep(admin, &dwellv1.GetRepRequest{Name: "reps/budi"})
	if err != nil {
		t.Fatal(err)
	}
	if before.GetRep().GetEtag() != after.GetRep().GetEtag() {
		t.Errorf("a refused update changed the rep: etag %s, then %s", before.GetRep().GetEtag(), after.GetRep().GetEtag())
	}
	set, err := e.dirc.GetSettings(admin, &dwellv1.GetSettingsRequest{Name: "settings"})
	if err != nil {
		t.Fatal(err)
	}
	if set.GetSettings().GetPartnerAccountsRequired() {
		t.Error("an update without mask turned partner_accounts_required on; only a mask naming it may")
	}
}
