package kpi

import (
	"fmt"
	"math"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestQuotaCurrencyFromQuotasOfTheRange: the KPIs sum money in one
// currency, taken from the quotas. A rep's quota of an earlier year in
// another currency (the tenant billed in USD, then in EUR) counts for no
// day of a March range, so it must not choose the currency: if it did,
// March's EUR wins and EUR quota would be left out and attainment read 0.
func TestQuotaCurrencyFromQuotasOfTheRange(t *testing.T) {
	in := goldenWeek()
	in.Quotas = append(in.Quotas, dwell.Quota{Rep: "ani", Start: dwell.Date{Year: 2025, Month: 1, Day: 1},
		End: dwell.Date{Year: 2025, Month: 12, Day: 31}, Target: dwell.Money{Currency: "USD", AmountMinor: 50000000}})
	r := Compute(in)
	if r.Quota.Won != (dwell.Money{Currency: "EUR", AmountMinor: 1000000}) || r.Quota.Quota != (dwell.Money{Currency: "EUR", AmountMinor: 900000}) {
		t.Errorf("won %v, quota %v; want 10,000.00 and 9,000.00 EUR as without the 2025 USD quota", r.Quota.Won, r.Quota.Quota)
	}
	near(t, "attainment", r.Quota.Attainment, 10.0/9)
	near(t, "customer won share", r.Engagement.CustomerWonShare, 0.3)
	wantBasis(t, "quota", r.Quota.Basis, 7, 5)
	// With no quota in the range the wins' currency is used.
	in.Quotas = in.Quotas[2:]
	if r := Compute(in); r.Quota.Won != (dwell.Money{Currency: "EUR", AmountMinor: 1000000}) || r.Quota.Quota.AmountMinor != 0 || r.Quota.Attainment != 0 {
		t.Errorf("only a 2025 USD quota: won %v, quota %v, attainment %v; want 10,000.00 EUR won, no quota, 0", r.Quota.Won, r.Quota.Quota, r.Quota.Attainment)
	}
	// Nor does a quota that begins after the range choose it.
	in.Quotas = []dwell.Quota{{Rep: "ani", Start: dwell.Date{Year: 2026, Month: 4, Day: 1},
		End: dwell.Date{Year: 2026, Month: 4, Day: 30}, Target: dwell.Money{Currency: "USD", AmountMinor: 50000000}}}
	if r := Compute(in); r.Quota.Won != (dwell.Money{Currency: "EUR", AmountMinor: 1000000}) || r.Quota.Quota.AmountMinor != 0 || r.Quota.Attainment != 0 {
		t.Errorf("only an April USD quota: won %v, quota %v, attainment %v; want 10,000.00 EUR won, no quota, 0", r.Quota.Won, r.Quota.Quota, r.Quota.Attainment)
	}
}

// quotaInput is one rep, ani, over 2-6 March with the quota and wins
// given; P1 is a prospect and C1 a customer (kindOf).
func quotaInput(quotas []dwell.Quota, wins ...dwell.Opportunity) Input {
	for i := range wins {
		wins[i].ID, wins[i].Rep, wins[i].Stage = dwell.OpportunityID(fmt.Sprint("W", i)), "ani", dwell.StageWon
		wins[i].OpenTime, wins[i].CloseTime = at(jakarta, 2, 8, 0), at(jakarta, 3, 8, 0)
	}
	return Input{Start: date(3, 2), End: date(3, 6), Reps: []Rep{{ID: "ani", Loc: jakarta}},
		Opportunities: wins, Quotas: quotas, ClientKind: kindOf}
}

// TestQuotaRecordsInItsCurrency: KPI 10 counts as its records the wins and
// quotas it sums. A 700 USD win beside an IDR quota and a 500 IDR win is
// left out of the won amount, so it is no record of it either: 2, not 3.
func TestQuotaRecordsInItsCurrency(t *testing.T) {
	idr := dwell.Quota{Rep: "ani", Start: date(3, 2), End: date(3, 6), Target: dwell.Money{Currency: "IDR", AmountMinor: 1000}}
	r := Compute(quotaInput([]dwell.Quota{idr},
		dwell.Opportunity{Client: "P1", Amount: dwell.Money{Currency: "IDR", AmountMinor: 500}},
		dwell.Opportunity{Client: "P1", Amount: dwell.Money{Currency: "USD", AmountMinor: 700}}))
	if r.Quota.Won != (dwell.Money{Currency: "IDR", AmountMinor: 500}) || r.Quota.Quota != (dwell.Money{Currency: "IDR", AmountMinor: 1000}) {
		t.Errorf("won %v of %v, want 500 of 1,000 IDR", r.Quota.Won, r.Quota.Quota)
	}
	near(t, "attainment", r.Quota.Attainment, 0.5)
	wantBasis(t, "quota", r.Quota.Basis, 0, 2)
	// KPI 8's share is of the same wins: its records are the IDR one.
	wantBasis(t, "engagement", r.Engagement.Basis, 0, 1)
}

// TestQuotaSumsSaturate: amounts are bounded on the way in
// (dwell.MaxAmountMinor), but stored ones from before were not, and no
// input may make a sum wrap: two wins of 5 × 10^18 minor units once read
// as a negative won amount and a negative share. The sums saturate at
// math.MaxInt64 and the ratios stay right.
func TestQuotaSumsSaturate(t *testing.T) {
	big := dwell.Money{Currency: "IDR", AmountMinor: 5e18}
	quota := dwell.Quota{Rep: "ani", Start: date(3, 2), End: date(3, 6), Target: dwell.Money{Currency: "IDR", AmountMinor: math.MaxInt64}}
	r := Compute(quotaInput([]dwell.Quota{quota, {Rep: "ani", Start: date(3, 7), End: date(3, 8), Target: quota.Target}},
		dwell.Opportunity{Client: "P1", Amount: big}, dwell.Opportunity{Client: "C1", Amount: big}))
	if r.Quota.Won.AmountMinor != math.MaxInt64 || r.Quota.Quota.AmountMinor != math.MaxInt64 {
		t.Errorf("won %v of %v, want both saturated at %d", r.Quota.Won, r.Quota.Quota, int64(math.MaxInt64))
	}
	near(t, "attainment", r.Quota.Attainment, 1e19/math.MaxInt64)
	near(t, "customer won share", r.Engagement.CustomerWonShare, 0.5)
	// The largest accepted amounts, many of them, sum exactly.
	var wins []dwell.Opportunity
	for range 9000 {
		wins = append(wins, dwell.Opportunity{Client: "C1", Amount: dwell.Money{Currency: "IDR", AmountMinor: dwell.MaxAmountMinor}})
	}
	r = Compute(quotaInput(nil, wins...))
	if want := int64(9000 * dwell.MaxAmountMinor); r.Quota.Won.AmountMinor != want {
		t.Errorf("9,000 wins of 10^15: won %d, want %d", r.Quota.Won.AmountMinor, want)
	}
	near(t, "customer won share of 9,000 wins", r.Engagement.CustomerWonShare, 1)
}
