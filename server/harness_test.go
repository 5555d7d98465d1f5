package server_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// The two tenants every test server has.
const (
	acme   = dwell.TenantID("acme")
	globex = dwell.TenantID("globex")
)

// TestMain stops the PostgreSQL test server, if the store under test
// (storeEnv) started one.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// storeEnv names the environment variable that picks the store the
// server's tests run on: unset or "bolt" for a bbolt file, "postgres" for
// a PostgreSQL schema of the pgtest server. .ci/test runs the suite on
// both.
const storeEnv = "DWELL_TEST_STORE"

// env is a real dwell server: a bbolt file in a temporary data dir (or a
// PostgreSQL schema, see storeEnv), a keyring of two tenants, and a gRPC
// server on a loopback TCP port, with a real client connection.
type env struct {
	t      testing.TB
	noSync bool
	dir    string
	pgDSN  string // the PostgreSQL schema of the store, kept across restarts
	kr     *auth.Keyring
	st     store.Store
	gs     *grpc.Server
	srv    *server.Server
	conn   *grpc.ClientConn
	// clock is the server's clock. The test goroutine reads it directly;
	// the server's goroutines (the refresher) read it through now, so it
	// changes only through advance, under clockMu.
	clock   time.Time
	clockMu sync.Mutex
	// configure, when set, adjusts the server's configuration at start.
	configure func(*server.Config)

	dirc    dwellv1.DirectoryServiceClient
	ingest  dwellv1.IngestServiceClient
	report  dwellv1.ReportServiceClient
	sales   dwellv1.SalesServiceClient
	healthc healthpb.HealthClient
}

func newEnv(t testing.TB) *env {
	return newEnvSync(t, true)
}

// newEnvSync is newEnv with fsync on or off (benchmarks compare both).
func newEnvSync(t testing.TB, sync bool) *env {
	t.Helper()
	e := &env{t: t, noSync: !sync, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) now() time.Time {
	e.clockMu.Lock()
	defer e.clockMu.Unlock()
	return e.clock
}

// advance moves the server's clock on by d.
func (e *env) advance(d time.Duration) {
	e.clockMu.Lock()
	defer e.clockMu.Unlock()
	e.clock = e.clock.Add(d)
}

func (e *env) start() {
	t := e.t
	t.Helper()
	kr, err := auth.OpenKeyring(filepath.Join(e.dir, "keys"))
	if err != nil {
		t.Fatalf("OpenKeyring: %v", err)
	}
	for _, tn := range []dwell.TenantID{acme, globex} {
		if _, err := kr.EnsureTenant(t.Context(), tn); err != nil {
			t.Fatalf("EnsureTenant(%s): %v", tn, err)
		}
	}
	st := e.openStore()
	cfg := server.Config{Store: st, Verifier: kr, Now: e.now}
	if e.configure != nil {
		e.configure(&cfg)
	}
	e.kr, e.st = kr, st
	e.serve(server.New(cfg))
}

// serve serves srv over gRPC on a loopback port and points e's server,
// connection and clients at it.
func (e *env) serve(srv *server.Server) {
	t := e.t
	t.Helper()
	gs := server.NewGRPCServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	e.gs, e.conn, e.srv = gs, conn, srv
	e.dirc = dwellv1.NewDirectoryServiceClient(conn)
	e.ingest = dwellv1.NewIngestServiceClient(conn)
	e.report = dwellv1.NewReportServiceClient(conn)
	e.sales = dwellv1.NewSalesServiceClient(conn)
	e.healthc = healthpb.NewHealthClient(conn)
}

// openStore opens the store the tests run on (storeEnv) on e's data.
func (e *env) openStore() store.Store {
	t := e.t
	t.Helper()
	switch kind := os.Getenv(storeEnv); kind {
	case "", "bolt":
		st, err := boltstore.Open(filepath.Join(e.dir, "dwell.db"), boltstore.Options{Now: e.now, NoSync: e.noSync})
		if err != nil {
			t.Fatalf("boltstore.Open: %v", err)
		}
		return st
	case "postgres":
		if e.pgDSN == "" {
			e.pgDSN = pgtest.DSN(t)
		}
		st, err := pgstore.Open(context.Background(), e.pgDSN, pgstore.Options{Now: e.now})
		if err != nil {
			t.Fatalf("pgstore.Open: %v", err)
		}
		return st
	default:
		t.Fatalf("%s=%q: want bolt or postgres", storeEnv, kind)
		return nil
	}
}

func (e *env) stop() {
	if e.gs == nil {
		return
	}
	e.conn.Close()
	e.srv.Close()
	e.gs.GracefulStop()
	e.srv.Close()
	if err := e.st.Close(); err != nil {
		e.t.Errorf("store close: %v", err)
	}
	e.gs = nil
}

// restart stops the server and starts a new one on the same data dir.
func (e *env) restart() {
	e.stop()
	e.start()
}

// as returns a context carrying a fresh token of the given caller.
func (e *env) as(tenant dwell.TenantID, role dwell.Role, subject string) context.Context {
	e.t.Helper()
	tok, err := e.kr.Mint(dwell.Principal{Tenant: tenant, Subject: subject, Role: role}, time.Hour, e.now())
	if err != nil {
		e.t.Fatalf("Mint: %v", err)
	}
	return withToken(tok)
}

func withToken(tok string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_ = cancel // the test process ends long before; contexts are short-lived
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

func (e *env) admin(tenant dwell.TenantID) context.Context {
	return e.as(tenant, dwell.RoleAdmin, "admin")
}

// circleClient returns a valid client with a circle fence.
func circleClient(name string, lat, lng, radius float64) *dwellv1.Client {
	return &dwellv1.Client{
		Name:        "clients/" + name,
		DisplayName: "Client " + name,
		Kind:        dwellv1.ClientKind_CLIENT_KIND_PROSPECT,
		Geofence: &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{
			Center: &dwellv1.LatLng{Lat: lat, Lng: lng}, RadiusMeters: radius,
		}}},
	}
}

func (e *env) mustCreateClient(ctx context.Context, id string, lat, lng, radius float64) {
	e.t.Helper()
	if _, err := e.dirc.CreateClient(ctx, &dwellv1.CreateClientRequest{ClientId: id, Client: circleClient(id, lat, lng, radius)}); err != nil {
		e.t.Fatalf("CreateClient(%s): %v", id, err)
	}
}

func (e *env) mustCreateTeam(ctx context.Context, id string, managers ...string) {
	e.t.Helper()
	if _, err := e.dirc.CreateTeam(ctx, &dwellv1.CreateTeamRequest{TeamId: id, Team: &dwellv1.Team{DisplayName: "Team " + id, Managers: managers}}); err != nil {
		e.t.Fatalf("CreateTeam(%s): %v", id, err)
	}
}

func (e *env) mustCreateRep(ctx context.Context, id, team string) {
	e.t.Helper()
	r := &dwellv1.Rep{DisplayName: "Rep " + id, TimeZone: "Asia/Jakarta"}
	if team != "" {
		r.Team = "teams/" + team
	}
	if _, err := e.dirc.CreateRep(ctx, &dwellv1.CreateRepRequest{RepId: id, Rep: r}); err != nil {
		e.t.Fatalf("CreateRep(%s): %v", id, err)
	}
}
