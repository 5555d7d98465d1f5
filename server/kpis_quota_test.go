package server_test

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestKpisQuotaCurrencyOverGRPC: budi's quota of 2025 was in USD, this
// week's is in IDR like the week's win. The server hands package kpi all
// of budi's quotas; the 2025 one counts for no day of the week and must
// not make the week's IDR figures vanish.
func TestKpisQuotaCurrencyOverGRPC(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	won := dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON
	o := opp("deal", "budi", won, 300000, time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC))
	if _, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o", Opportunities: []*dwellv1.Opportunity{o}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sales.UpsertQuotas(partner, &dwellv1.UpsertQuotasRequest{RequestId: "q", Quotas: []*dwellv1.Quota{
		{Rep: "reps/budi", StartDate: pbDate(2025, 1, 1), EndDate: pbDate(2025, 12, 31), Target: &dwellv1.Money{CurrencyCode: "USD", AmountMinor: 5000000}},
		{Rep: "reps/budi", StartDate: pbDate(2026, 11, 16), EndDate: pbDate(2026, 11, 22), Target: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 600000}},
	}}); err != nil {
		t.Fatal(err)
	}
	k, err := e.report.GetKpis(e.as(acme, dwell.RoleManager, "ana"), &dwellv1.GetKpisRequest{Team: "teams/north",
		StartDate: pbDate(2026, 11, 16), EndDate: pbDate(2026, 11, 22)})
	if err != nil {
		t.Fatal(err)
	}
	q := k.GetQuota()
	if q.GetWon().GetCurrencyCode() != "IDR" || q.GetWon().GetAmountMinor() != 300000 || q.GetQuota().GetAmountMinor() != 600000 || q.GetAttainment() != 0.5 {
		t.Errorf("quota KPI %v, want 300,000 of 600,000 IDR: half met", q)
	}
	if got := q.GetBasis().GetRecords(); got != 2 {
		t.Errorf("quota KPI rests on %d records, want the win and this week's quota", got)
	}
}
