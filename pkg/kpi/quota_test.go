package kpi

import (
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
