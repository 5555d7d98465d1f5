package main

import (
	"strings"
	"testing"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestPartnersCommands: an admin scopes, disables and deletes a partner
// account with dwellctl, and the partner's own dwellctl calls follow each
// change at once.
func TestPartnersCommands(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	mint := func(role, subject string) *cli {
		tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", role, "--subject", subject).stdout)
		return c.with("DWELL_TOKEN", tok)
	}
	admin, payroll := mint("admin", "admin"), mint("partner", "payroll")

	payroll.must(0, "clients", "list") // no account yet: every partner right
	r := admin.must(0, "partners", "create", "payroll", "--name", "Payroll export", "--scope", "reports-read,events-watch")
	if !strings.Contains(r.stdout, "partners/payroll") || !strings.Contains(r.stdout, "reports-read, events-watch") {
		t.Fatalf("partners create printed:\n%s", r.stdout)
	}
	if r := payroll.must(1, "clients", "list"); !strings.Contains(r.stderr, "PERMISSION_DENIED") || !strings.Contains(r.stderr, "PARTNER_SCOPE_DIRECTORY_READ") {
		t.Errorf("clients list without DIRECTORY_READ: stderr %q", r.stderr)
	}
	admin.must(0, "partners", "update", "payroll", "--scope", "PARTNER_SCOPE_DIRECTORY_READ")
	payroll.must(0, "clients", "list")
	admin.must(0, "partners", "update", "payroll", "--disabled")
	if r := payroll.must(1, "clients", "list"); !strings.Contains(r.stderr, "disabled") {
		t.Errorf("clients list while disabled: stderr %q", r.stderr)
	}
	r = admin.must(0, "partners", "list")
	if !strings.Contains(r.stdout, "partners/payroll") || !strings.Contains(r.stdout, "true") || !strings.Contains(r.stdout, "directory-read") {
		t.Errorf("partners list printed:\n%s", r.stdout)
	}
	payroll.must(1, "partners", "list") // admins only
	admin.must(2, "partners", "create", "x", "--name", "X", "--scope", "everything")
	admin.must(2, "partners", "update", "payroll")
	if r := admin.must(1, "partners", "create", "x", "--name", "X"); !strings.Contains(r.stderr, "scopes") {
		t.Errorf("partners create without a scope: stderr %q", r.stderr)
	}
	admin.must(0, "partners", "update", "payroll", "--disabled=false")
	payroll.must(0, "clients", "list")
	// An update carrying the etag of a read applies once; a second one with
	// the same etag changes nothing and says why.
	read := decodeProto(t, admin.must(0, "-o", "json", "partners", "update", "payroll", "--name", "Payroll v2").stdout, &dwellv1.Partner{})
	if r := admin.must(0, "partners", "list"); !strings.Contains(r.stdout, read.GetEtag()) {
		t.Errorf("partners list does not show the etag %q:\n%s", read.GetEtag(), r.stdout)
	}
	admin.must(0, "partners", "update", "payroll", "--name", "Payroll v3", "--etag", read.GetEtag())
	wantStale(t, admin, "partners", "update", "payroll", "--name", "Payroll v4", "--etag", read.GetEtag())
	if r := admin.must(0, "partners", "list"); !strings.Contains(r.stdout, "Payroll v3") || strings.Contains(r.stdout, "Payroll v4") {
		t.Errorf("after a stale update, partners list printed:\n%s", r.stdout)
	}
	// Deleting revokes the account's tokens for good, whether or not the
	// tenant requires accounts, and an unregistered subject is refused
	// only while it does.
	crm := mint("partner", "crm")
	admin.must(0, "partners", "delete", "payroll")
	if r := payroll.must(1, "clients", "list"); !strings.Contains(r.stderr, "was deleted") {
		t.Errorf("clients list by a deleted partner: stderr %q", r.stderr)
	}
	admin.must(1, "partners", "delete", "payroll")
	if r := admin.must(0, "partners", "require"); !strings.Contains(r.stdout, "required: true") {
		t.Errorf("partners require printed %q", r.stdout)
	}
	if r := crm.must(1, "clients", "list"); !strings.Contains(r.stderr, "not registered") {
		t.Errorf("clients list by an unregistered partner, accounts required: stderr %q", r.stderr)
	}
	admin.must(0, "partners", "require", "--off")
	crm.must(0, "clients", "list")
	if r := payroll.must(1, "clients", "list"); !strings.Contains(r.stderr, "was deleted") {
		t.Errorf("clients list by a deleted partner, accounts no longer required: stderr %q", r.stderr)
	}
}
