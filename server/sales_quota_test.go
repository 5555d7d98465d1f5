package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestQuotasNeverOverlap: budi has monthly quotas for October, November
// and December of 1,000,000 IDR; a partner then sends a quarterly one of
// 3,000,000 from 1 October. It replaces October but overlaps November and
// December, and was accepted: November's KPI summed November's quota and
// 30/92 of the quarter's (1,978,261 IDR) and halved the attainment, and no
// RPC could remove the extra quotas. Now the quarter is refused, naming
// the quota in the way; DeleteQuota makes room, and the quarter is then
// November's only quota.
func TestQuotasNeverOverlap(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	idr := func(n int64) *dwellv1.Money { return &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: n} }
	month := func(m int) *dwellv1.Quota {
		end := time.Date(2026, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return &dwellv1.Quota{Rep: "reps/budi", StartDate: pbDate(2026, m, 1), EndDate: pbDate(2026, m, end), Target: idr(1000000)}
	}
	quarter := &dwellv1.Quota{Rep: "reps/budi", StartDate: pbDate(2026, 10, 1), EndDate: pbDate(2026, 12, 31), Target: idr(3000000)}
	upsert := func(id string, qs ...*dwellv1.Quota) error {
		_, err := e.sales.UpsertQuotas(partner, &dwellv1.UpsertQuotasRequest{RequestId: id, Quotas: qs})
		return err
	}
	if err := upsert("months", month(10), month(11), month(12)); err != nil {
		t.Fatal(err)
	}
	won := dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON
	if _, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "o", Opportunities: []*dwellv1.Opportunity{
		opp("deal", "budi", won, 500000, time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC)),
	}}); err != nil {
		t.Fatal(err)
	}
	november := func(what string, wantQuota int64) {
		t.Helper()
		wantAttainment, wantRecords := 0.0, int32(1) // the win
		if wantQuota > 0 {
			wantAttainment, wantRecords = 500000/float64(wantQuota), 2
		}
		k, err := e.report.GetKpis(e.as(acme, dwell.RoleManager, "ana"), &dwellv1.GetKpisRequest{Rep: "reps/budi",
			StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30)})
		if err != nil {
			t.Fatal(err)
		}
		q := k.GetQuota()
		if q.GetQuota().GetAmountMinor() != wantQuota || q.GetAttainment() != wantAttainment || q.GetBasis().GetRecords() != wantRecords {
			t.Errorf("%s: November's quota KPI %v, want 500,000 won of %d IDR on %d records", what, q, wantQuota, wantRecords)
		}
	}

	err := upsert("quarter", quarter)
	wantViolation(t, "the quarter over November and December", err, "quotas[0].end_date")
	if d := violations(err)["quotas[0].end_date"]; !strings.Contains(d, "2026-11-01 to 2026-11-30") {
		t.Errorf("the violation %q does not name November's quota", d)
	}
	// A quota from mid-October overlaps October, which began first.
	err = upsert("mid", &dwellv1.Quota{Rep: "reps/budi", StartDate: pbDate(2026, 10, 15), EndDate: pbDate(2026, 10, 20), Target: idr(1)})
	wantViolation(t, "mid-October", err, "quotas[0].start_date")
	// Two quotas of one batch that overlap, with nothing stored in the
	// way: refused, and neither is stored.
	jan := &dwellv1.Quota{Rep: "reps/budi", StartDate: pbDate(2027, 1, 1), EndDate: pbDate(2027, 1, 31), Target: idr(1)}
	err = upsert("pair", jan, &dwellv1.Quota{Rep: "reps/budi", StartDate: pbDate(2027, 1, 31), EndDate: pbDate(2027, 2, 28), Target: idr(1)})
	wantViolation(t, "two overlapping quotas of a batch", err, "quotas[1].start_date")
	// Another rep's periods do not count.
	if err := upsert("sari", &dwellv1.Quota{Rep: "reps/sari", StartDate: pbDate(2026, 10, 1), EndDate: pbDate(2026, 12, 31), Target: idr(1)}); err != nil {
		t.Fatal(err)
	}
	qs, err := e.sales.ListQuotas(partner, &dwellv1.ListQuotasRequest{Rep: "reps/budi"})
	if err != nil || len(qs.GetQuotas()) != 3 || qs.GetQuotas()[0].GetEndDate().GetDay() != 31 || qs.GetQuotas()[0].GetTarget().GetAmountMinor() != 1000000 {
		t.Fatalf("budi's quotas after the refused upserts: %v, %v; want the three months as stored", qs, err)
	}
	november("with the monthly quotas", 1000000)

	// DeleteQuota: writers only, by rep and start date.
	del := func(ctx context.Context, rep string, d *dwellv1.Date) error {
		_, err := e.sales.DeleteQuota(ctx, &dwellv1.DeleteQuotaRequest{Rep: rep, StartDate: d})
		return err
	}
	wantCode(t, "a rep deletes its quota", del(e.as(acme, dwell.RoleRep, "budi"), "reps/budi", pbDate(2026, 11, 1)), codes.PermissionDenied)
	wantCode(t, "its manager deletes it", del(e.as(acme, dwell.RoleManager, "ana"), "reps/budi", pbDate(2026, 11, 1)), codes.PermissionDenied)
	wantViolation(t, "DeleteQuota without a rep name", del(partner, "budi", pbDate(2026, 11, 1)), "rep")
	wantViolation(t, "DeleteQuota without a start date", del(partner, "reps/budi", nil), "start_date")
	wantViolation(t, "DeleteQuota of 31 November", del(partner, "reps/budi", pbDate(2026, 11, 31)), "start_date")
	wantCode(t, "DeleteQuota of a day no quota starts on", del(partner, "reps/budi", pbDate(2026, 11, 2)), codes.NotFound)
	wantCode(t, "DeleteQuota in another tenant", del(e.as(globex, dwell.RolePartner, "crm"), "reps/budi", pbDate(2026, 11, 1)), codes.NotFound)
	if err := del(partner, "reps/budi", pbDate(2026, 11, 1)); err != nil {
		t.Fatal(err)
	}
	if err := del(e.admin(acme), "reps/budi", pbDate(2026, 12, 1)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "DeleteQuota again", del(partner, "reps/budi", pbDate(2026, 12, 1)), codes.NotFound)
	november("with no November quota", 0)
	// Now the quarter replaces October; its end is checked too.
	if err := upsert("quarter-2", quarter); err != nil {
		t.Fatal(err)
	}
	november("with the quarter", 978261) // 3,000,000 × 30 / 92
}

// TestMoneyIsBounded: two WON deals of 5 × 10^18 rupiah each were
// accepted and GetKpis summed them past int64 into a negative won amount
// and share. Amounts are at most 10^15 minor units; the largest, summed,
// stay right.
func TestMoneyIsBounded(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	won := dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON
	open, closed := time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC)
	_, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "huge", Opportunities: []*dwellv1.Opportunity{
		opp("a", "budi", won, 5e18, open, closed), opp("b", "budi", won, 5e18, open, closed)}})
	wantViolation(t, "a deal of 5e18", err, "opportunities[0].amount.amount_minor")
	wantViolation(t, "a deal of 5e18", err, "opportunities[1].amount.amount_minor")
	_, err = e.sales.UpsertQuotas(partner, &dwellv1.UpsertQuotasRequest{RequestId: "q", Quotas: []*dwellv1.Quota{{Rep: "reps/budi",
		StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30), Target: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 5e18}}}})
	wantViolation(t, "a quota of 5e18", err, "quotas[0].target.amount_minor")

	if _, err := e.sales.UpsertOpportunities(partner, &dwellv1.UpsertOpportunitiesRequest{RequestId: "largest", Opportunities: []*dwellv1.Opportunity{
		opp("a", "budi", won, dwell.MaxAmountMinor, open, closed), opp("b", "budi", won, dwell.MaxAmountMinor, open, closed)}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sales.UpdateOpportunity(partner, &dwellv1.UpdateOpportunityRequest{Opportunity: &dwellv1.Opportunity{Name: "opportunities/a",
		Amount: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: dwell.MaxAmountMinor + 1}}})
	wantViolation(t, "an update to 10^15 + 1", err, "opportunity.amount.amount_minor")
	k, err := e.report.GetKpis(partner, &dwellv1.GetKpisRequest{Rep: "reps/budi", StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30)})
	if err != nil {
		t.Fatal(err)
	}
	if got := k.GetQuota().GetWon().GetAmountMinor(); got != 2*dwell.MaxAmountMinor {
		t.Errorf("won %d, want 2 × 10^15", got)
	}
	if s := k.GetEngagement().GetCustomerWonShare(); s < 0 || s > 1 {
		t.Errorf("customer won share %v, want 0 to 1", s)
	}
}
