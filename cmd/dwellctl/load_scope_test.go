package main

import (
	"strings"
	"testing"
)

// TestLoadPartnerScopes: load with a registered partner account's token.
// It reads the tenant's clients before writing its simulated sites (so as
// never to replace a client of the tenant's own), so the account needs
// directory-read besides directory-write and ingest, as load's help says:
// without it load stops before writing anything and names the scope;
// with it load runs.
func TestLoadPartnerScopes(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	admin := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	c.with("DWELL_TOKEN", admin).must(0, "partners", "create", "loader", "--name", "Loader", "--scope", "directory-write,ingest")
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "partner", "--subject", "loader").stdout)
	load := []string{"load", "--reps", "2", "--streams", "1", "--batch", "20", "--duration", "300ms"}
	r := c.with("DWELL_TOKEN", tok).run(load...)
	if r.code != 1 || !strings.Contains(r.stderr, "directory-read") {
		t.Fatalf("load without directory-read: exit %d, stderr:\n%s\nwant exit 1 naming the scope directory-read", r.code, r.stderr)
	}
	if out := c.with("DWELL_TOKEN", admin).must(0, "clients", "list", "--all").stdout; strings.Contains(out, "c0001") {
		t.Errorf("load refused still wrote clients:\n%s", out)
	}
	c.with("DWELL_TOKEN", admin).must(0, "partners", "update", "loader", "--scope", "directory-read,directory-write,ingest")
	if r := c.with("DWELL_TOKEN", tok).run(load...); r.code != 0 {
		t.Errorf("load with directory-read,directory-write,ingest: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
}
