package server

import (
	"testing"

	"google.golang.org/grpc/health"
)

// TestEveryRPCHasAPolicy fails when an RPC is registered without an entry in
// the access policy table, or the table names an RPC that does not exist.
func TestEveryRPCHasAPolicy(t *testing.T) {
	s := New(Config{})
	g := NewGRPCServer(s, health.NewServer())
	pol := accessPolicies()
	seen := map[string]bool{}
	for svc, info := range g.GetServiceInfo() {
		for _, m := range info.Methods {
			full := "/" + svc + "/" + m.Name
			seen[full] = true
			p, ok := pol[full]
			if !ok {
				t.Errorf("%s has no access policy", full)
				continue
			}
			if !p.public && len(p.roles) == 0 {
				t.Errorf("%s has a policy that allows nobody", full)
			}
		}
	}
	for m := range pol {
		if !seen[m] {
			t.Errorf("policy for %s, which the server does not serve", m)
		}
	}
	if len(seen) < 40 {
		t.Fatalf("only %d methods registered; the API has more", len(seen))
	}
}
