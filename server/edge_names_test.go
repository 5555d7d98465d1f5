package server_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestNamesOfIDsNoResourceCanHave sends resource names whose id no resource
// can have (longer than any id, or with characters ids never have) to every
// RPC that takes one: each answers INVALID_ARGUMENT with a violation on the
// request field that holds the name, not NOT_FOUND echoing the id or a
// violation on a store-internal field ("id"), and nothing is stored.
func TestNamesOfIDsNoResourceCanHave(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	admin := e.admin(acme)
	partner := e.as(acme, dwell.RolePartner, "crm")
	budi := e.as(acme, dwell.RoleRep, "budi")
	ts := timestamppb.New(e.now())
	for _, id := range []string{strings.Repeat("a", dwell.MaxIDBytes+1), strings.Repeat("x", 20000), "a b", "-lead"} {
		calls := []struct {
			name  string
			field string
			call  func() error
		}{
			{"GetClient", "name", func() error {
				_, err := e.dirc.GetClient(admin, &dwellv1.GetClientRequest{Name: "clients/" + id})
				return err
			}},
			{"DeleteClient", "name", func() error {
				_, err := e.dirc.DeleteClient(admin, &dwellv1.DeleteClientRequest{Name: "clients/" + id})
				return err
			}},
			{"UpdateClient", "client.name", func() error {
				_, err := e.dirc.UpdateClient(admin, &dwellv1.UpdateClientRequest{Client: circleClient(id, 0, 0, 50)})
				return err
			}},
			{"GetRep", "name", func() error {
				_, err := e.dirc.GetRep(admin, &dwellv1.GetRepRequest{Name: "reps/" + id})
				return err
			}},
			{"DeleteRep", "name", func() error {
				_, err := e.dirc.DeleteRep(admin, &dwellv1.DeleteRepRequest{Name: "reps/" + id})
				return err
			}},
			{"UpdateRep", "rep.name", func() error {
				_, err := e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/" + id, DisplayName: "x", TimeZone: "UTC"}})
				return err
			}},
			{"EraseRepHistory", "name", func() error {
				_, err := e.dirc.EraseRepHistory(admin, &dwellv1.EraseRepHistoryRequest{Name: "reps/" + id})
				return err
			}},
			{"GetTeam", "name", func() error {
				_, err := e.dirc.GetTeam(admin, &dwellv1.GetTeamRequest{Name: "teams/" + id})
				return err
			}},
			{"DeleteTeam", "name", func() error {
				_, err := e.dirc.DeleteTeam(admin, &dwellv1.DeleteTeamRequest{Name: "teams/" + id})
				return err
			}},
			{"UpdateTeam", "team.name", func() error {
				_, err := e.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{Team: &dwellv1.Team{Name: "teams/" + id, DisplayName: "x"}})
				return err
			}},
			{"CreateRep in a team", "rep.team", func() error {
				_, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "new", Rep: &dwellv1.Rep{DisplayName: "x", TimeZone: "UTC", Team: "teams/" + id}})
				return err
			}},
			{"UploadPings", "rep", func() error {
				_, err := e.ingest.UploadPings(partner, &dwellv1.UploadPingsRequest{Rep: "reps/" + id, Fixes: fixes("n", 1, e.now())})
				return err
			}},
			{"CheckIn", "client", func() error {
				_, err := e.ingest.CheckIn(budi, &dwellv1.CheckInRequest{RequestId: "ci", Client: "clients/" + id, CheckInTime: ts})
				return err
			}},
			{"LogCall", "client", func() error {
				_, err := e.ingest.LogCall(budi, &dwellv1.LogCallRequest{RequestId: "call", Client: "clients/" + id, StartTime: ts,
					Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_CONNECTED})
				return err
			}},
			{"GetTrackingConfig", "rep", func() error {
				_, err := e.ingest.GetTrackingConfig(partner, &dwellv1.GetTrackingConfigRequest{Rep: "reps/" + id})
				return err
			}},
			{"DeleteAppointment", "name", func() error {
				_, err := e.sales.DeleteAppointment(partner, &dwellv1.DeleteAppointmentRequest{Name: "appointments/" + id})
				return err
			}},
			{"GetOpportunity", "name", func() error {
				_, err := e.sales.GetOpportunity(partner, &dwellv1.GetOpportunityRequest{Name: "opportunities/" + id})
				return err
			}},
			{"UpdateOpportunity", "opportunity.name", func() error {
				_, err := e.sales.UpdateOpportunity(partner, &dwellv1.UpdateOpportunityRequest{
					Opportunity: &dwellv1.Opportunity{Name: "opportunities/" + id, ExternalId: "x"},
					UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"external_id"}}})
				return err
			}},
			{"DeleteQuota", "rep", func() error {
				_, err := e.sales.DeleteQuota(partner, &dwellv1.DeleteQuotaRequest{Rep: "reps/" + id, StartDate: pbDate(2026, 11, 1)})
				return err
			}},
			{"GetPartner", "name", func() error {
				_, err := e.dirc.GetPartner(admin, &dwellv1.GetPartnerRequest{Name: "partners/" + id})
				return err
			}},
			{"UpdatePartner", "partner.name", func() error {
				_, err := e.dirc.UpdatePartner(admin, &dwellv1.UpdatePartnerRequest{Partner: &dwellv1.Partner{Name: "partners/" + id, DisplayName: "x"},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
				return err
			}},
			{"DeletePartner", "name", func() error {
				_, err := e.dirc.DeletePartner(admin, &dwellv1.DeletePartnerRequest{Name: "partners/" + id})
				return err
			}},
			{"ListQuotas", "rep", func() error {
				_, err := e.sales.ListQuotas(partner, &dwellv1.ListQuotasRequest{Rep: "reps/" + id})
				return err
			}},
			{"ListVisits", "client", func() error {
				_, err := e.report.ListVisits(partner, &dwellv1.ListVisitsRequest{Client: "clients/" + id, StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
				return err
			}},
			{"GetRepDay", "rep", func() error {
				_, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/" + id, Date: pbDate(2026, 11, 19)})
				return err
			}},
			{"WatchEvents", "team", func() error {
				return watchErr(e.report, partner, &dwellv1.WatchEventsRequest{Team: "teams/" + id})
			}},
		}
		for _, c := range calls {
			t.Run(c.name+"/"+id[:min(len(id), 8)], func(t *testing.T) {
				wantViolation(t, c.name, c.call(), c.field)
			})
		}
	}
	if _, err := e.dirc.GetRep(admin, &dwellv1.GetRepRequest{Name: "reps/new"}); err == nil {
		t.Fatal("CreateRep with a bad team name stored the rep")
	}
}
