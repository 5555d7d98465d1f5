package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

// TestLoad runs a short load against a real server and checks the report
// against what the server stored.
func TestLoad(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	r := c.must(0, "load", "--data-dir", dataDir, "--reps", "12", "--streams", "4", "--batch", "50", "--duration", "1500ms", "-o", "json", "--progress")
	rep := decodeJSON[loadReport](t, r.stdout)
	if rep.Accepted == 0 || rep.Accepted != rep.FixesSent || rep.Duplicates != 0 || rep.Rejected != 0 || len(rep.Errors) != 0 {
		t.Fatalf("load report: %+v; want every fix sent accepted, no duplicates, rejections or errors\nstderr:\n%s", rep, r.stderr)
	}
	if rep.BatchesAcked != rep.BatchesSent || rep.FixesSent != rep.BatchesSent*50 || rep.Streams != 4 || rep.Reps != 12 {
		t.Fatalf("load report: %+v; want every batch of 50 acknowledged", rep)
	}
	l := rep.LatencyMS
	if !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || rep.FixesPerSecond <= 0 {
		t.Fatalf("latency %+v, %g fixes/s: want 0 < p50 <= p90 <= p99 <= max and a positive rate", l, rep.FixesPerSecond)
	}
	if !strings.Contains(r.stderr, "fixes accepted") {
		t.Errorf("no progress line on stderr:\n%s", r.stderr)
	}

	// The server holds exactly what was acknowledged: the fix counts of
	// the reps' days add up to the accepted fixes.
	// In the load's own tenant.
	tok, err := mintToken(dataDir, dwell.Principal{Tenant: "load", Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rc := dwellv1.NewReportServiceClient(grpcConn(t, addr, tok))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stored int64
	// Each rep's replay fills days backwards from a week ago, so its days
	// with fixes are contiguous.
	for i := 1; i <= 12; i++ {
		for d := 0; d < loadDaysBack; d++ {
			day := dwellDate(time.Now().AddDate(0, 0, -7-d), jakartaZone(t))
			resp, err := rc.GetRepDay(ctx, &dwellv1.GetRepDayRequest{Rep: fmt.Sprintf("reps/load-%04d", i), Date: pbDate(day)})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetFixCount() == 0 {
				break
			}
			stored += int64(resp.GetFixCount())
		}
	}
	// The day after the replayed one holds nothing.
	extra, err := rc.GetRepDay(ctx, &dwellv1.GetRepDayRequest{Rep: "reps/load-0001", Date: pbDate(dwellDate(time.Now().AddDate(0, 0, -6), jakartaZone(t)))})
	if err != nil {
		t.Fatal(err)
	}
	stored += int64(extra.GetFixCount())
	if stored != rep.Accepted {
		t.Fatalf("the reps' days hold %d fixes, the load reported %d accepted", stored, rep.Accepted)
	}

	// A second run reuses the reps and sends fresh fixes; the table form.
	r = c.must(0, "load", "--data-dir", dataDir, "--reps", "3", "--streams", "8", "--batch", "10", "--rate", "200", "--duration", "500ms")
	for _, want := range []string{"3 over 3 streams, batches of 10, 200 fixes/s per rep", "Ack latency:", "p99", "Errors:", "none"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("load table lacks %q:\n%s", want, r.stdout)
		}
	}

	// An admin may set up the reps but not upload for them: the run stops
	// at once and says why.
	admin := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	r = c.with("DWELL_TOKEN", admin).must(1, "load", "--reps", "3", "--duration", "20s", "-o", "json")
	if rep := decodeJSON[loadReport](t, r.stdout); rep.Errors["PERMISSION_DENIED"] == 0 || rep.Seconds > 10 || !strings.Contains(r.stderr, "partner token") {
		t.Errorf("load with an admin token: %+v\n%s", rep, r.stderr)
	}

	c.must(2, "load", "--batch", "0")
	c.must(2, "load", "--duration", "0s")
	if r := c.must(1, "load", "--data-dir", t.TempDir(), "--duration", "1s"); !strings.Contains(r.stderr, "keys") {
		t.Errorf("load with a data dir without keys: %s", r.stderr)
	}
}

func jakartaZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestLoadCountsErrors stops the server in the middle of a run: the load
// goes on trying, counts the failures under their status code and exits 1.
func TestLoadCountsErrors(t *testing.T) {
	m := daemon.NewMain()
	m.Config.Listen = "127.0.0.1:0"
	m.Config.DataDir = t.TempDir()
	m.Config.LogLevel = "error"
	m.Config.DrainTimeout = 50 * time.Millisecond
	m.Config.KeyReloadEvery = 100 * time.Millisecond // the load creates its tenant
	m.Stdout, m.Stderr = io.Discard, io.Discard
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": m.Addr()}}
	done := make(chan result, 1)
	go func() {
		done <- c.run("load", "--data-dir", m.Config.DataDir, "--reps", "4", "--streams", "2", "--batch", "20", "--duration", "3s", "-o", "json")
	}()
	// Stop the server once fixes are flowing: when the first rep's day has
	// some.
	var tok string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if tok, err = mintToken(m.Config.DataDir, dwell.Principal{Tenant: "load", Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, time.Now()); err == nil {
			break // the load has created its tenant
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load created no tenant \"load\" in 20 s: %v", err)
		}
	}
	rc := dwellv1.NewReportServiceClient(grpcConn(t, m.Addr(), tok))
	day := pbDate(dwellDate(time.Now().AddDate(0, 0, -7), jakartaZone(t)))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := rc.GetRepDay(t.Context(), &dwellv1.GetRepDayRequest{Rep: "reps/load-0001", Date: day})
		if err == nil && resp.GetFixCount() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fixes arrived in 20 s: %v", err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != exitFail {
		t.Fatalf("load across a server stop: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rep := decodeJSON[loadReport](t, r.stdout)
	if len(rep.Errors) == 0 || rep.Accepted == 0 || rep.Accepted > rep.FixesSent {
		t.Fatalf("load across a server stop: %+v; want some accepted, errors by code", rep)
	}
	t.Logf("%d accepted of %d sent, errors %v", rep.Accepted, rep.FixesSent, rep.Errors)
	for code := range rep.Errors {
		if code != "UNAVAILABLE" && code != "CANCELED" {
			t.Errorf("error code %q, want UNAVAILABLE (the server went away)", code)
		}
	}
}

// realTenant is the default tenant of a test server holding a company's
// own client under a simulated site's id, c0001, that load and demo must
// leave as it is.
type realTenant struct {
	dc     dwellv1.DirectoryServiceClient
	client *dwellv1.Client // c0001 as stored
}

func newRealTenant(t *testing.T, c *cli, dataDir string) *realTenant {
	t.Helper()
	admin := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	c.with("DWELL_TOKEN", admin).must(0, "clients", "create", "c0001", "--name", "Toko Budi (real)", "--kind", "customer",
		"--circle", "-6.9,107.6,80", "--address", "Jl. Braga 1, Bandung", "--external-id", "CRM-7")
	rt := &realTenant{dc: dwellv1.NewDirectoryServiceClient(grpcConn(t, c.env["DWELL_ADDR"], admin))}
	resp, err := rt.dc.GetClient(ctxT(t), &dwellv1.GetClientRequest{Name: "clients/c0001"})
	if err != nil {
		t.Fatal(err)
	}
	rt.client = resp.GetClient()
	return rt
}

// check fails the test unless the tenant holds c0001 exactly as it was
// (its etag included: not even written again as it was), and no other
// client, rep or team.
func (rt *realTenant) check(t *testing.T, after string) {
	t.Helper()
	ctx := ctxT(t)
	resp, err := rt.dc.GetClient(ctx, &dwellv1.GetClientRequest{Name: "clients/c0001"})
	if err != nil || !proto.Equal(resp.GetClient(), rt.client) {
		t.Errorf("after %s, the default tenant's c0001 is %v (%v), want it as it was: %v", after, resp.GetClient(), err, rt.client)
	}
	cs, err := rt.dc.ListClients(ctx, &dwellv1.ListClientsRequest{PageSize: 10})
	if err != nil || len(cs.GetClients()) != 1 {
		t.Errorf("after %s, the default tenant has %d clients (%v), want its own one", after, len(cs.GetClients()), err)
	}
	reps, err := rt.dc.ListReps(ctx, &dwellv1.ListRepsRequest{PageSize: 10})
	if err != nil || len(reps.GetReps()) != 0 {
		t.Errorf("after %s, the default tenant has reps %v (%v), want none", after, reps.GetReps(), err)
	}
	teams, err := rt.dc.ListTeams(ctx, &dwellv1.ListTeamsRequest{PageSize: 10})
	if err != nil || len(teams.GetTeams()) != 0 {
		t.Errorf("after %s, the default tenant has %d teams (%v), want none", after, len(teams.GetTeams()), err)
	}
}

// TestLoadKeepsTheTenantsClients: "dwellctl load --data-dir DIR" against a
// running dwelld, as the README shows, runs in a tenant of its own
// ("load", which it creates), so the default tenant's client c0001 stays
// as it was; and load told to run in the default tenant (--tenant, or a
// token of it) refuses to replace c0001 and changes nothing.
func TestLoadKeepsTheTenantsClients(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	rt := newRealTenant(t, c, dataDir)
	args := []string{"load", "--data-dir", dataDir, "--reps", "2", "--streams", "1", "--batch", "20", "--duration", "300ms"}
	r := c.must(0, args...)
	if !strings.Contains(r.stderr, `created tenant "load"`) {
		t.Errorf("load did not say it created its tenant:\n%s", r.stderr)
	}
	rt.check(t, "load --data-dir")
	// Its own tenant holds the simulated sites, its c0001 among them.
	tok, err := mintToken(dataDir, dwell.Principal{Tenant: "load", Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	own := dwellv1.NewDirectoryServiceClient(grpcConn(t, addr, tok))
	sim1, err := own.GetClient(ctxT(t), &dwellv1.GetClientRequest{Name: "clients/c0001"})
	if err != nil || sim1.GetClient().GetAddress() != simAddress {
		t.Fatalf("the load tenant's c0001: %v (%v), want a simulated site", sim1.GetClient(), err)
	}
	// A rerun writes no site again; another seed replaces the simulated
	// sites with its own.
	if r := c.must(0, args...); strings.Contains(r.stderr, "created tenant") {
		t.Errorf("a rerun created the tenant again:\n%s", r.stderr)
	}
	if again, err := own.GetClient(ctxT(t), &dwellv1.GetClientRequest{Name: "clients/c0001"}); err != nil || again.GetClient().GetEtag() != sim1.GetClient().GetEtag() {
		t.Errorf("a rerun wrote the simulated c0001 again: etag %q, was %q (%v)", again.GetClient().GetEtag(), sim1.GetClient().GetEtag(), err)
	}
	c.must(0, append(args, "--seed", "2")...)
	if seed2, err := own.GetClient(ctxT(t), &dwellv1.GetClientRequest{Name: "clients/c0001"}); err != nil || proto.Equal(seed2.GetClient().GetGeofence(), sim1.GetClient().GetGeofence()) {
		t.Errorf("another seed left the simulated c0001 as it was: %v (%v)", seed2.GetClient(), err)
	}

	// Told to run in the default tenant, it refuses and changes nothing.
	r = c.must(1, append(args, "--tenant", "default")...)
	if !strings.Contains(r.stderr, "clients/c0001") || !strings.Contains(r.stderr, "--tenant") || !strings.Contains(r.stderr, "nothing was changed") {
		t.Errorf("load --tenant default with a client c0001 of its own: stderr\n%s", r.stderr)
	}
	rt.check(t, "load --tenant default")
	t.Logf("load --tenant default:\n%s", r.stderr)
	partner := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "partner", "--subject", "crm").stdout)
	r = c.with("DWELL_TOKEN", partner).must(1, "load", "--reps", "2", "--duration", "300ms")
	if !strings.Contains(r.stderr, "clients/c0001") || !strings.Contains(r.stderr, "--data-dir") {
		t.Errorf("load with a partner token of the default tenant: stderr\n%s", r.stderr)
	}
	rt.check(t, "load with a token of the default tenant")
	t.Logf("load with a token of the default tenant:\n%s", r.stderr)
	if r := c.must(2, append(args, "--tenant", "Default Tenant")...); !strings.Contains(r.stderr, "--tenant") {
		t.Errorf("load --tenant with a malformed id: %s", r.stderr)
	}
}
