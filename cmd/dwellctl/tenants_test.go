package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	"github.com/dwellhq/dwell/server/daemon"
)

// startDaemon runs dwelld in-process on dir (and the database dsn, if not
// empty), reading its keys again every 50 ms.
func startDaemon(t *testing.T, dir, dsn string) *daemon.Main {
	t.Helper()
	m := daemon.NewMain()
	var out syncWriter
	m.Stdout, m.Stderr = &out, &out
	args := []string{"--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"}
	if dsn != "" {
		args = append(args, "--postgres", dsn)
	}
	if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	m.Config.KeyReloadEvery = 50 * time.Millisecond
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestTenantsCreate creates a tenant beside a running dwelld, on bbolt
// (--data-dir) and on PostgreSQL (DWELL_POSTGRES): the server accepts the
// new tenant's tokens without a restart, a second create changes nothing,
// a malformed id is a usage error, and the new tenant's data is its own.
func TestTenantsCreate(t *testing.T) {
	for _, store := range []string{"bolt", "postgres"} {
		t.Run(store, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			dsn, src := "", []string{"--data-dir", dir}
			env := map[string]string{}
			if store == "postgres" {
				dsn, src = pgtest.DSN(t), nil
				env["DWELL_POSTGRES"] = dsn
			}
			m := startDaemon(t, dir, dsn)
			c := &cli{t: t, env: env}
			with := func(args ...string) []string { return append(args[:len(args):len(args)], src...) }

			if r := c.must(2, with("tenants", "create", "Acme!")...); !strings.Contains(r.stderr, "a-z, 0-9") {
				t.Fatalf("create of a malformed id: stderr %q", r.stderr)
			}
			r := c.must(0, with("tenants", "create", "acme")...)
			if !strings.Contains(r.stdout, `Created tenant "acme"`) || !strings.Contains(r.stdout, "dwellctl token mint") {
				t.Fatalf("tenants create printed %q", r.stdout)
			}
			if store == "postgres" && strings.Contains(r.stdout, dsn) {
				t.Fatalf("tenants create printed the connection string, which may hold a password: %q", r.stdout)
			}
			if r := c.must(0, with("tenants", "create", "acme")...); !strings.Contains(r.stdout, "already has a signing key") {
				t.Fatalf("second tenants create printed %q", r.stdout)
			}
			if r := c.must(0, with("tenants", "list")...); r.stdout != "acme\ndefault\n" {
				t.Fatalf("tenants list printed %q, want acme and default", r.stdout)
			}

			tok := func(tenant string) string {
				return strings.TrimSpace(c.must(0, with("token", "mint", "--tenant", tenant, "--role", "admin", "--subject", "admin")...).stdout)
			}
			acme := &cli{t: t, env: map[string]string{"DWELL_ADDR": m.Addr(), "DWELL_TOKEN": tok("acme")}}
			deadline := time.Now().Add(10 * time.Second)
			for {
				r := acme.run("teams", "create", "--name", "North", "north")
				if r.code == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the running server refused the new tenant's token for 10 s: %s", r.stderr)
				}
				time.Sleep(50 * time.Millisecond)
			}
			def := &cli{t: t, env: map[string]string{"DWELL_ADDR": m.Addr(), "DWELL_TOKEN": tok("default")}}
			if r := def.must(0, "teams", "list"); strings.Contains(r.stdout, "North") {
				t.Fatalf("the default tenant sees acme's team: %q", r.stdout)
			}
		})
	}
}
