package server_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestConcurrentUpdatesOfOtherFieldsKeepBoth runs two writers at once, each
// updating its own field of the same client, rep, team, settings and
// opportunity through a field mask. A masked update changes only its fields, so when both are done each
// field holds its writer's last value: no acknowledged update is undone by
// the other writer's.
func TestConcurrentUpdatesOfOtherFieldsKeepBoth(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "north", "ana")
	e.mustCreateTeam(admin, "south", "rudi")
	e.mustCreateRep(admin, "budi", "north")
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 50)
	e.mustCreateClient(admin, "toko2", -6.2, 106.8, 50)
	if _, err := e.sales.UpsertOpportunities(admin, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o", Opportunities: []*dwellv1.Opportunity{
		opp("deal", "budi", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN, 1, e.now().Add(-time.Hour), time.Time{}),
		opp("deal2", "budi", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN, 1, e.now().Add(-time.Hour), time.Time{})}}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	mask := func(p string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: []string{p}} }
	writers := []func(i int) error{
		func(i int) error {
			_, err := e.dirc.UpdateClient(admin, &dwellv1.UpdateClientRequest{Client: &dwellv1.Client{Name: "clients/toko", DisplayName: fmt.Sprint("name-", i)}, UpdateMask: mask("display_name")})
			return err
		},
		func(i int) error {
			_, err := e.dirc.UpdateClient(admin, &dwellv1.UpdateClientRequest{Client: &dwellv1.Client{Name: "clients/toko", Address: fmt.Sprint("addr-", i)}, UpdateMask: mask("address")})
			return err
		},
		func(i int) error {
			_, err := e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/budi", DisplayName: fmt.Sprint("name-", i)}, UpdateMask: mask("display_name")})
			return err
		},
		func(i int) error {
			_, err := e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/budi", Email: fmt.Sprint("mail-", i)}, UpdateMask: mask("email")})
			return err
		},
		func(i int) error {
			_, err := e.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{Team: &dwellv1.Team{Name: "teams/north", DisplayName: fmt.Sprint("name-", i)}, UpdateMask: mask("display_name")})
			return err
		},
		func(i int) error {
			_, err := e.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{Team: &dwellv1.Team{Name: "teams/north", Managers: []string{fmt.Sprint("mgr-", i)}}, UpdateMask: mask("managers")})
			return err
		},
		func(i int) error {
			_, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{VisitMinSeconds: int32(600 + i)}, UpdateMask: mask("visit_min_seconds")})
			return err
		},
		func(i int) error {
			_, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{IdleMinSeconds: int32(600 + i)}, UpdateMask: mask("idle_min_seconds")})
			return err
		},
		func(i int) error {
			_, err := e.sales.UpdateOpportunity(admin, &dwellv1.UpdateOpportunityRequest{Opportunity: &dwellv1.Opportunity{Name: "opportunities/deal",
				Amount: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: int64(i)}}, UpdateMask: mask("amount")})
			return err
		},
		func(i int) error {
			_, err := e.sales.UpdateOpportunity(admin, &dwellv1.UpdateOpportunityRequest{Opportunity: &dwellv1.Opportunity{Name: "opportunities/deal",
				ExternalId: fmt.Sprint("crm-", i)}, UpdateMask: mask("external_id")})
			return err
		},
		// Whole writes (an upsert, an import) beside masked updates of
		// the same record: in any order of the two, the whole write's
		// last values stay in the fields the update does not name.
		func(i int) error {
			_, err := e.sales.UpsertOpportunities(admin, &dwellv1.UpsertOpportunitiesRequest{RequestId: fmt.Sprint("up-", i), Opportunities: []*dwellv1.Opportunity{
				opp("deal2", "budi", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN, int64(1000+i), e.now().Add(-time.Hour), time.Time{})}})
			return err
		},
		func(i int) error {
			_, err := e.sales.UpdateOpportunity(admin, &dwellv1.UpdateOpportunityRequest{Opportunity: &dwellv1.Opportunity{Name: "opportunities/deal2",
				ExternalId: fmt.Sprint("crm-", i)}, UpdateMask: mask("external_id")})
			return err
		},
		func(i int) error {
			resp, err := importRows(t, e, []*dwellv1.Client{circleClient("toko2", -6.2, 106.8, float64(50+i))})
			if err == nil && resp.GetStored() != 1 {
				err = fmt.Errorf("import stored %d rows, want 1", resp.GetStored())
			}
			return err
		},
		func(i int) error {
			_, err := e.dirc.UpdateClient(admin, &dwellv1.UpdateClientRequest{Client: &dwellv1.Client{Name: "clients/toko2", Address: fmt.Sprint("addr-", i)}, UpdateMask: mask("address")})
			return err
		},
	}
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Go(func() {
			for i := range n {
				if err := w(i); err != nil {
					t.Errorf("update %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	last := fmt.Sprint("-", n-1)
	c, err := e.dirc.GetClient(admin, &dwellv1.GetClientRequest{Name: "clients/toko"})
	if err != nil || c.GetClient().GetDisplayName() != "name"+last || c.GetClient().GetAddress() != "addr"+last {
		t.Errorf("client after the updates = %v, %v; want name%s and addr%s", c.GetClient(), err, last, last)
	}
	r, err := e.dirc.GetRep(admin, &dwellv1.GetRepRequest{Name: "reps/budi"})
	if err != nil || r.GetRep().GetDisplayName() != "name"+last || r.GetRep().GetEmail() != "mail"+last {
		t.Errorf("rep after the updates = %v, %v; want name%s and mail%s", r.GetRep(), err, last, last)
	}
	tm, err := e.dirc.GetTeam(admin, &dwellv1.GetTeamRequest{Name: "teams/north"})
	if err != nil || tm.GetTeam().GetDisplayName() != "name"+last || len(tm.GetTeam().GetManagers()) != 1 || tm.GetTeam().GetManagers()[0] != "mgr"+last {
		t.Errorf("team after the updates = %v, %v; want name%s and mgr%s", tm.GetTeam(), err, last, last)
	}
	st, err := e.dirc.GetSettings(admin, &dwellv1.GetSettingsRequest{})
	if err != nil || st.GetSettings().GetVisitMinSeconds() != 600+n-1 || st.GetSettings().GetIdleMinSeconds() != 600+n-1 {
		t.Errorf("settings after the updates = %v, %v; want visit and idle minimum %d s", st.GetSettings(), err, 600+n-1)
	}
	o, err := e.sales.GetOpportunity(admin, &dwellv1.GetOpportunityRequest{Name: "opportunities/deal"})
	if err != nil || o.GetOpportunity().GetAmount().GetAmountMinor() != n-1 || o.GetOpportunity().GetExternalId() != "crm"+last {
		t.Errorf("opportunity after the updates = %v, %v; want amount %d and crm%s", o.GetOpportunity(), err, n-1, last)
	}
	o, err = e.sales.GetOpportunity(admin, &dwellv1.GetOpportunityRequest{Name: "opportunities/deal2"})
	if err != nil || o.GetOpportunity().GetAmount().GetAmountMinor() != 1000+n-1 {
		t.Errorf("opportunity upserted and updated = %v, %v; want the last upsert's amount %d", o.GetOpportunity(), err, 1000+n-1)
	}
	c, err = e.dirc.GetClient(admin, &dwellv1.GetClientRequest{Name: "clients/toko2"})
	if r := c.GetClient().GetGeofence().GetCircle().GetRadiusMeters(); err != nil || r != float64(50+n-1) {
		t.Errorf("client imported and updated = %v, %v; want the last import's radius %d m", c.GetClient(), err, 50+n-1)
	}
}
