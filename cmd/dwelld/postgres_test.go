package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestPostgresFlag runs two dwelld with --postgres (the second through
// DWELL_POSTGRES) on one database: what one writes, the other reads, and
// both report SERVING. The first was run on bbolt before, so its data
// directory holds the tenant's key; it copies the key into the database,
// and the second, whose data directory does not exist, accepts the tokens
// it signs and writes nothing to local disk.
func TestPostgresFlag(t *testing.T) {
	dirA, dirB := t.TempDir(), filepath.Join(t.TempDir(), "b")
	legacy, err := auth.OpenKeyring(filepath.Join(dirA, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.EnsureTenant(t.Context(), daemon.DefaultTenant); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)
	a, outA := startPG(t, dirA, []string{"--postgres", dsn}, nil)
	b, outB := startPG(t, dirB, nil, map[string]string{"DWELL_POSTGRES": dsn})
	if b.Config.Postgres != dsn {
		t.Fatalf("DWELL_POSTGRES gave Config.Postgres %q, want %q", b.Config.Postgres, dsn)
	}
	for _, out := range []*syncBuffer{outA, outB} {
		if strings.Contains(out.String(), "Created tenant") {
			t.Fatalf("a server created a key (%q); the data directory's key was to be copied into the database", out.String())
		}
	}
	ctx := adminCtx(t, dirA)
	for _, m := range []*daemon.Main{a, b} {
		h, err := healthpb.NewHealthClient(dial(t, m.Addr())).Check(t.Context(), &healthpb.HealthCheckRequest{})
		if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health = %v, %v; want SERVING", h, err)
		}
	}
	if _, err := dwellv1.NewDirectoryServiceClient(dial(t, a.Addr())).CreateTeam(ctx, &dwellv1.CreateTeamRequest{TeamId: "t1", Team: &dwellv1.Team{DisplayName: "T1"}}); err != nil {
		t.Fatalf("CreateTeam on the first server: %v", err)
	}
	got, err := dwellv1.NewDirectoryServiceClient(dial(t, b.Addr())).GetTeam(ctx, &dwellv1.GetTeamRequest{Name: "teams/t1"})
	if err != nil || got.GetTeam().GetDisplayName() != "T1" {
		t.Fatalf("GetTeam on the second server = %v, %v; want the team the first created", got, err)
	}
	if _, err := os.Stat(filepath.Join(dirA, "dwell.db")); !os.IsNotExist(err) {
		t.Fatalf("a bbolt file was created in the data directory (stat: %v); the store is PostgreSQL", err)
	}
	if _, err := os.Stat(dirB); !os.IsNotExist(err) {
		t.Fatalf("the second server's data directory exists (stat: %v); on PostgreSQL a server keeps nothing on local disk", err)
	}
}

// TestPostgresFirstStart: on a new database the first server creates the
// tenant's key there and says how to mint a token from it; a token signed
// with the database's key works on every server.
func TestPostgresFirstStart(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, out := startPG(t, filepath.Join(t.TempDir(), "a"), []string{"--postgres", dsn}, nil)
	if !strings.Contains(out.String(), `dwellctl token mint --postgres "$DWELL_POSTGRES" --tenant default --role admin`) {
		t.Fatalf("first start printed %q, want the token mint command for the database", out.String())
	}
	if strings.Contains(out.String(), dsn) {
		t.Fatalf("first start printed the connection string, which may hold a password: %q", out.String())
	}
	b, _ := startPG(t, filepath.Join(t.TempDir(), "b"), []string{"--postgres", dsn}, nil)
	sks, err := pgstore.ReadSigningKeys(t.Context(), dsn)
	if err != nil || len(sks) != 1 || sks[0].Tenant != daemon.DefaultTenant {
		t.Fatalf("ReadSigningKeys = %+v, %v; want the default tenant's key", sks, err)
	}
	st, err := pgstore.Open(t.Context(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kr, err := auth.OpenKeyStore(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := kr.Mint(dwell.Principal{Tenant: daemon.DefaultTenant, Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
	for _, m := range []*daemon.Main{a, b} {
		if _, err := dwellv1.NewDirectoryServiceClient(dial(t, m.Addr())).ListTeams(ctx, &dwellv1.ListTeamsRequest{}); err != nil {
			t.Fatalf("ListTeams on %s with a token of the database's key: %v", m.Addr(), err)
		}
	}
}

func startPG(t *testing.T, dir string, args []string, env map[string]string) (*daemon.Main, *syncBuffer) {
	t.Helper()
	m := daemon.NewMain()
	out := &syncBuffer{}
	m.Stdout, m.Stderr = out, out
	args = append([]string{"--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"}, args...)
	if err := m.ParseFlags(args, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("ParseFlags: %v", err)
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, out
}

// TestPostgresUpgrade: servers that kept their keys in their data
// directories are upgraded one by one, in the worst order. A server
// without key files finds data but no key in the database and refuses to
// start rather than make a new key that would refuse every token issued
// before; the first server with key files copies them in, and from then
// on every server accepts the old tokens. Once the database holds keys,
// key files are only compared with them, never copied in.
func TestPostgresUpgrade(t *testing.T) {
	dsn := pgtest.DSN(t)
	old, err := pgstore.Open(t.Context(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.CreateTeam(t.Context(), daemon.DefaultTenant, dwell.Team{ID: "t1", DisplayName: "T1"}); err != nil {
		t.Fatal(err)
	}
	old.Close()
	dirA := t.TempDir()
	legacy, err := auth.OpenKeyring(filepath.Join(dirA, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.EnsureTenant(t.Context(), daemon.DefaultTenant); err != nil {
		t.Fatal(err)
	}

	c := daemon.NewMain()
	var logs syncBuffer
	c.Stdout, c.Stderr = &logs, &logs
	if err := c.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "c"), "--postgres", dsn}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	err = c.Run(t.Context())
	_ = c.Close()
	if err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Fatalf("a server without key files on a database with data and no keys: Run = %v, want a refusal naming the missing key", err)
	}
	if keys, err := pgstore.ReadSigningKeys(t.Context(), dsn); err != nil || len(keys) != 0 {
		t.Fatalf("keys after the refusal = %v, %v; want none (no new key made)", keys, err)
	}

	a, outA := startPG(t, dirA, []string{"--postgres", dsn, "--log-level", "info"}, nil)
	if !strings.Contains(outA.String(), "signing key copied from the data directory into the database") {
		t.Fatalf("the server with key files did not say it copied them: %s", outA.String())
	}
	c2, _ := startPG(t, filepath.Join(t.TempDir(), "c"), []string{"--postgres", dsn}, nil)
	ctx := adminCtx(t, dirA)
	for _, m := range []*daemon.Main{a, c2} {
		got, err := dwellv1.NewDirectoryServiceClient(dial(t, m.Addr())).GetTeam(ctx, &dwellv1.GetTeamRequest{Name: "teams/t1"})
		if err != nil || got.GetTeam().GetDisplayName() != "T1" {
			t.Fatalf("GetTeam with a token of the old key file = %v, %v", got, err)
		}
	}

	dirD := t.TempDir()
	other, err := auth.OpenKeyring(filepath.Join(dirD, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []dwell.TenantID{daemon.DefaultTenant, "zeta"} {
		if _, err := other.EnsureTenant(t.Context(), tn); err != nil {
			t.Fatal(err)
		}
	}
	_, outD := startPG(t, dirD, []string{"--postgres", dsn}, nil)
	for _, want := range []string{`another signing key for this tenant than the data directory`, `tenant=default`, `not in the database`, `tenant=zeta`} {
		if !strings.Contains(outD.String(), want) {
			t.Fatalf("a server whose key files differ from the database's logged %q, want %q in it", outD.String(), want)
		}
	}
	keys, err := pgstore.ReadSigningKeys(t.Context(), dsn)
	if err != nil || len(keys) != 1 || keys[0].Tenant != daemon.DefaultTenant {
		t.Fatalf("keys = %+v, %v; want only the default tenant's (zeta's file not copied in)", keys, err)
	}
}
