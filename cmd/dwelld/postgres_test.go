package main

import (
	"os"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestPostgresFlag runs two dwelld with --postgres (the second through
// DWELL_POSTGRES) on one database and one data directory's keys: what one
// writes, the other reads, and both report SERVING.
func TestPostgresFlag(t *testing.T) {
	dir := t.TempDir()
	dsn := pgtest.DSN(t)
	start := func(args []string, env map[string]string) *daemon.Main {
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
		return m
	}
	a := start([]string{"--postgres", dsn}, nil)
	b := start(nil, map[string]string{"DWELL_POSTGRES": dsn})
	if b.Config.Postgres != dsn {
		t.Fatalf("DWELL_POSTGRES gave Config.Postgres %q, want %q", b.Config.Postgres, dsn)
	}
	ctx := adminCtx(t, dir)
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
	if _, err := os.Stat(dir + "/dwell.db"); !os.IsNotExist(err) {
		t.Fatalf("a bbolt file was created in the data directory (stat: %v); the store is PostgreSQL", err)
	}
}
