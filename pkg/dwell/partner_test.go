package dwell

import (
	"slices"
	"testing"
)

func TestValidatePartner(t *testing.T) {
	ok := PartnerAccount{ID: "payroll", DisplayName: "Payroll", Scopes: []Scope{ScopeReportsRead, ScopeEventsWatch}}
	for _, c := range []struct {
		what   string
		scopes []Scope
		name   string
		fields []string
	}{
		{"valid", ok.Scopes, "Payroll", nil},
		{"every scope", AllScopes(), "Payroll", nil},
		{"no scopes", nil, "Payroll", []string{"partner.scopes"}},
		{"unspecified", []Scope{ScopeUnspecified}, "Payroll", []string{"partner.scopes[0]"}},
		{"unknown", []Scope{ScopeIngest, scopeEnd, -1}, "Payroll", []string{"partner.scopes[1]", "partner.scopes[2]"}},
		{"repeated", []Scope{ScopeIngest, ScopeSalesRead, ScopeIngest}, "Payroll", []string{"partner.scopes[2]"}},
		{"no name", ok.Scopes, "", []string{"partner.display_name"}},
	} {
		a := ok
		a.Scopes, a.DisplayName = c.scopes, c.name
		var got []string
		for _, v := range ValidatePartner("partner", a) {
			got = append(got, v.Field)
		}
		if !slices.Equal(got, c.fields) {
			t.Errorf("ValidatePartner(%s) fields = %v, want %v", c.what, got, c.fields)
		}
	}
}

func TestScopeSet(t *testing.T) {
	set := ScopesOf([]Scope{ScopeIngest, ScopeReportsRead, ScopeUnspecified, scopeEnd, 40})
	for _, s := range append(AllScopes(), ScopeUnspecified, scopeEnd, 40, -1) {
		want := s == ScopeIngest || s == ScopeReportsRead
		if got := set.Has(s); got != want {
			t.Errorf("Has(%d) = %v, want %v", int(s), got, want)
		}
	}
	if got := len(AllScopes()); got != len(scopeNames)-1 {
		t.Fatalf("AllScopes has %d scopes, names %d", got, len(scopeNames)-1)
	}
	for _, s := range AllScopes() {
		if !s.Valid() || s.String() == "UNSPECIFIED" {
			t.Errorf("scope %d: Valid %v, String %q", int(s), s.Valid(), s.String())
		}
	}
	if Scope(99).String() != "UNSPECIFIED" || Scope(-1).String() != "UNSPECIFIED" {
		t.Error("String of an undefined scope is not UNSPECIFIED")
	}
}

// FuzzValidatePartner: the validator never panics, and an account it
// accepts has a set with exactly its scopes.
func FuzzValidatePartner(f *testing.F) {
	f.Add("Payroll", []byte{6, 7})
	f.Add("", []byte{0, 1, 1, 200})
	f.Fuzz(func(t *testing.T, name string, raw []byte) {
		a := PartnerAccount{DisplayName: name}
		for _, b := range raw {
			a.Scopes = append(a.Scopes, Scope(int8(b)))
		}
		if len(ValidatePartner("partner", a)) > 0 {
			return
		}
		set := a.ScopeSet()
		for _, s := range append(AllScopes(), ScopeUnspecified) {
			if set.Has(s) != slices.Contains(a.Scopes, s) {
				t.Fatalf("accepted %v but Has(%s) = %v", a.Scopes, s, set.Has(s))
			}
		}
	})
}
