package server

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestEveryPartnerRPCHasAScope fails when an RPC that the policy table lets
// partners call has no scope (a registered account could never call it),
// when a scope is given to an RPC partners may not call, or when a scope
// grants nothing.
func TestEveryPartnerRPCHasAScope(t *testing.T) {
	pol, scopes := accessPolicies(), partnerScopes()
	used := map[dwell.Scope]bool{}
	for m, p := range pol {
		sc, ok := scopes[m]
		switch {
		case p.allows(dwell.RolePartner) && !ok:
			t.Errorf("%s is open to partners but has no partner scope", m)
		case ok && !p.allows(dwell.RolePartner):
			t.Errorf("%s has partner scope %s but partners may not call it", m, sc)
		case ok && !sc.Valid():
			t.Errorf("%s has the invalid scope %d", m, int(sc))
		}
		used[sc] = ok
	}
	for m := range scopes {
		if _, ok := pol[m]; !ok {
			t.Errorf("partner scope for %s, which has no access policy", m)
		}
	}
	for _, sc := range dwell.AllScopes() {
		if !used[sc] {
			t.Errorf("scope %s grants no RPC", sc)
		}
	}
}

// TestScopeNumbering fails when the domain's scopes and the wire's
// PartnerScope stop numbering the scopes alike (scopeToPB relies on it).
func TestScopeNumbering(t *testing.T) {
	all := dwell.AllScopes()
	if got, want := len(dwellv1.PartnerScope_name), len(all)+1; got != want {
		t.Fatalf("PartnerScope has %d values, want %d (the domain's scopes and UNSPECIFIED)", got, want)
	}
	for _, sc := range append(all, dwell.ScopeUnspecified) {
		if got, want := scopeToPB(sc).String(), "PARTNER_SCOPE_"+sc.String(); got != want {
			t.Errorf("scopeToPB(%d) = %s, want %s", int(sc), got, want)
		}
	}
}

// BenchmarkCheckPartner measures the partner-account check alone, as
// authenticate runs it after the role check, beside that role check (the
// policy table lookup every call already pays) as the baseline in the same
// run. The grants come from a real bbolt store on their first use.
//
//	go test -run '^$' -bench BenchmarkCheckPartner -count 5 ./server/
func BenchmarkCheckPartner(b *testing.B) {
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "dwell.db"), boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := New(Config{Store: st, SilenceSweep: -1, RetentionSweep: -1})
	defer s.Close()
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	for i := range 50 {
		a := dwell.PartnerAccount{ID: dwell.PartnerID(fmt.Sprintf("p%02d", i)), DisplayName: "P", Scopes: []dwell.Scope{dwell.ScopeDirectoryRead}}
		if _, _, err := st.CreatePartner(ctx, tenant, a); err != nil {
			b.Fatal(err)
		}
	}
	method := dwellv1.DirectoryService_GetSettings_FullMethodName
	b.Run("baseline=role-check", func(b *testing.B) {
		for b.Loop() {
			if pol, ok := s.policies[method]; !ok || !pol.allows(dwell.RolePartner) {
				b.Fatal("denied")
			}
		}
	})
	for _, sub := range []string{"p25", "legacy"} {
		p := dwell.Principal{Tenant: tenant, Subject: sub, Role: dwell.RolePartner}
		b.Run("partner="+sub, func(b *testing.B) {
			for b.Loop() {
				if err := s.checkPartner(ctx, p, method); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
