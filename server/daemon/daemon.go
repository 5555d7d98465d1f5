// Package daemon is a running dwelld: it opens the store and the tenant
// keys (by default both in the data directory: the bbolt file and keys/;
// with Config.Postgres both in a PostgreSQL database, and nothing on local
// disk), builds the server with its geofence indexes, serves gRPC with
// health and reflection, reads the keys again every 10 seconds, and
// drains on Close. On bbolt it also serves its host's operator on a Unix
// socket in the data directory (control.go: the backups of dwellctl
// backup, and the metrics). It keeps Prometheus metrics in a registry of
// its own, served as GET /metrics there and, with --metrics-listen, on a
// TCP address (metrics.go).
// cmd/dwelld is a thin main around it; dwellctl demo starts one in-process
// on a temporary data directory; end-to-end tests share it.
//
// On PostgreSQL the tenants' signing keys are in the database
// (signing_keys, written once per tenant): the first server on a database
// without keys copies in its <data-dir>/keys, so tokens minted before keep
// working, and a server finding data but no key for the default tenant
// refuses to start rather than make a new one (sharedKeys,
// TestPostgresUpgrade in cmd/dwelld). Every server reads the keys again
// every keyReloadEvery (10 s), so a tenant created through another server
// is accepted within that, and such a server keeps nothing on local disk
// (TestPostgresFlag).
package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/server"
)

// DefaultTenant is the tenant dwelld creates on first start.
const DefaultTenant = dwell.TenantID("default")

// dbFile is the name of the bbolt file inside the data directory.
const dbFile = "dwell.db"

// Config is dwelld's configuration.
type Config struct {
	// Listen is the TCP address to serve gRPC on.
	Listen string
	// DataDir holds the bbolt file and the tenant keys.
	DataDir string
	// Postgres, when set, is the connection string (URL or key=value) of a
	// PostgreSQL database to keep the store and the tenant keys in instead
	// of DataDir, which is then read only for keys to copy into a database
	// that has none yet (see sharedKeys). Several dwelld may share one
	// database.
	Postgres string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// LogFormat is text or json.
	LogFormat string
	// DrainTimeout bounds the graceful stop: in-flight calls get this long
	// to finish, then the server stops hard.
	DrainTimeout time.Duration
	// TLSCertFile and TLSKeyFile, both set, make dwelld serve TLS with
	// that certificate chain and private key (PEM); both empty, plaintext.
	// The files are read again at the first handshake after either file
	// changed (modification time or size), so a renewed certificate needs
	// no restart, in whatever order the renewal writes the two files.
	TLSCertFile, TLSKeyFile string
	// KeyReloadEvery is how often the tenant keys are read again, so that
	// a tenant created meanwhile is accepted; 0 means every 10 seconds.
	// Tests only: not exposed as a flag.
	KeyReloadEvery time.Duration
	// NoSync turns fsync off. Benchmarks only: acknowledged writes can be
	// lost on power failure. Not exposed as a flag.
	NoSync bool
	// MetricsListen, when set, is the TCP address to serve GET /metrics
	// on, plain HTTP (metrics.go); empty, the default, serves the metrics
	// only on the control socket (bbolt).
	MetricsListen string
}

// Main is one running dwelld, shared by main() and the end-to-end tests.
type Main struct {
	Config Config
	// Stdout receives the first-start instructions; Stderr the logs.
	Stdout, Stderr io.Writer
	// Now is the clock; tests may replace it.
	Now func() time.Time

	log     *slog.Logger
	store   store.Store
	keyring *auth.Keyring
	srv     *server.Server
	health  *health.Server
	grpc    *grpc.Server
	lis     net.Listener
	served  chan error
	// stopWarm cancels the report cache's warm-up; warmed is closed when
	// it has ended.
	stopWarm context.CancelFunc
	warmed   chan struct{}
	// stopReload ends the reloading of the keys; reloaded is closed when
	// it has ended.
	stopReload context.CancelFunc
	reloaded   chan struct{}
	// ctl is the control socket's endpoint (bbolt only), or nil.
	ctl *control
	// met is the registry of this Main's metrics; metricsSrv serves it on
	// Config.MetricsListen, or is nil (metrics.go).
	met        *metrics
	metricsSrv *metricsServer
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{
		Config: Config{
			Listen:       "127.0.0.1:7070",
			DataDir:      "dwell-data",
			LogLevel:     "info",
			LogFormat:    "text",
			DrainTimeout: 10 * time.Second,
		},
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Now:    time.Now,
	}
}

// ParseFlags reads the environment (through getenv) and then the flags in
// args into m.Config.
func (m *Main) ParseFlags(args []string, getenv func(string) string) error {
	c := &m.Config
	env := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	env("DWELL_LISTEN", &c.Listen)
	env("DWELL_DATA_DIR", &c.DataDir)
	env("DWELL_POSTGRES", &c.Postgres)
	env("DWELL_LOG_LEVEL", &c.LogLevel)
	env("DWELL_LOG_FORMAT", &c.LogFormat)
	env("DWELL_TLS_CERT", &c.TLSCertFile)
	env("DWELL_TLS_KEY", &c.TLSKeyFile)
	env("DWELL_METRICS_LISTEN", &c.MetricsListen)
	if v := getenv("DWELL_DRAIN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("DWELL_DRAIN_TIMEOUT: %w", err)
		}
		c.DrainTimeout = d
	}
	fs := flag.NewFlagSet("dwelld", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.Listen, "listen", c.Listen, "TCP `address` to serve gRPC on (env DWELL_LISTEN)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "`directory` for the bbolt file and tenant keys (env DWELL_DATA_DIR)")
	fs.StringVar(&c.Postgres, "postgres", c.Postgres, "PostgreSQL connection `string` (URL or key=value) to keep the store in instead of the bbolt file (env DWELL_POSTGRES)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env DWELL_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (env DWELL_LOG_FORMAT)")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", c.DrainTimeout, "longest graceful stop before in-flight calls are cut (env DWELL_DRAIN_TIMEOUT)")
	fs.StringVar(&c.TLSCertFile, "tls-cert", c.TLSCertFile, "PEM certificate chain `file` to serve TLS with, beside --tls-key (env DWELL_TLS_CERT)")
	fs.StringVar(&c.TLSKeyFile, "tls-key", c.TLSKeyFile, "PEM private key `file` of --tls-cert (env DWELL_TLS_KEY)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", c.MetricsListen, "TCP `address` to serve Prometheus metrics on, plain HTTP GET /metrics; empty: off (env DWELL_METRICS_LISTEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together: set both to serve TLS, neither for plaintext")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	if c.DrainTimeout <= 0 {
		return fmt.Errorf("drain timeout must be positive, got %v", c.DrainTimeout)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// Run opens the store and the keys, starts serving and returns once the
// server is listening. Health reports NOT_SERVING until the store is open and
// SERVING after. Call Close to stop, also after Run failed: it then releases
// what Run had opened (the store and its file lock) and returns promptly.
func (m *Main) Run(ctx context.Context) error {
	lvl, err := parseLevel(m.Config.LogLevel)
	if err != nil {
		return err
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if m.Config.LogFormat == "json" {
		m.log = slog.New(slog.NewJSONHandler(m.Stderr, opts))
	} else {
		m.log = slog.New(slog.NewTextHandler(m.Stderr, opts))
	}
	m.health = health.NewServer()
	m.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if m.met, err = newMetrics(m.Config.NoSync); err != nil {
		return err
	}
	if m.Config.MetricsListen != "" {
		// Bound first: a taken address fails the start before anything
		// is opened.
		if m.metricsSrv, err = listenMetrics(m.Config.MetricsListen); err != nil {
			return err
		}
		m.metricsSrv.serve(m.met.handler(), m.log)
	}

	created, err := m.openStore(ctx)
	if created {
		// Said even if the start fails from here on: the next start finds
		// the key and says nothing.
		defer m.printMintHint()
	}
	if err != nil {
		return err
	}
	if err := m.registerStore(); err != nil {
		return err
	}
	if bs, ok := m.store.(backupStore); ok && m.Config.Postgres == "" {
		// Ingest matters more than backups: without the socket dwelld
		// serves on, and dwellctl backup says what is wrong.
		if m.ctl, err = startControl(ctx, m.Config.DataDir, bs, m.met.handler(), m.log, backupStall); err != nil {
			m.log.Error("control socket not served: dwellctl backup cannot reach this dwelld", "err", err)
		}
	}
	srv := server.New(server.Config{Store: m.store, Verifier: m.keyring, Logger: m.log, Now: m.Now, Metrics: m.met.server})
	m.srv = srv
	start := time.Now()
	if err := srv.LoadFences(ctx, m.keyring.Tenants()); err != nil {
		return fmt.Errorf("load geofences: %w", err)
	}
	m.log.Info("geofence indexes built", "tenants", len(m.keyring.Tenants()), "took", time.Since(start).Round(time.Millisecond))
	var grpcOpts []grpc.ServerOption
	if m.Config.TLSCertFile != "" {
		creds, err := newTLSCreds(m.Config.TLSCertFile, m.Config.TLSKeyFile, m.log)
		if err != nil {
			return err
		}
		grpcOpts = append(grpcOpts, grpc.Creds(creds))
	}
	// Listen before m.grpc is set: Close waits for the Serve of a set
	// m.grpc, and a Run that failed here started none.
	lis, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.lis = lis
	m.grpc = server.NewGRPCServer(srv, m.health, grpcOpts...)
	if m.Config.TLSCertFile == "" && !loopback(m.lis.Addr()) {
		m.log.Warn("serving plaintext gRPC on a non-loopback address: bearer tokens and locations cross the network in the clear; set --tls-cert and --tls-key",
			"addr", m.lis.Addr().String())
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.grpc.Serve(m.lis) }()
	m.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	// Decode the recent day summaries into the reports' cache in the
	// background, so the first dashboards after a restart are as fast as
	// later ones.
	warmCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopWarm, m.warmed = stop, make(chan struct{})
	go func() {
		defer close(m.warmed)
		start := time.Now()
		n, err := srv.WarmReports(warmCtx, m.keyring.Tenants())
		if err != nil {
			if warmCtx.Err() == nil { // not cut short by Close
				m.log.Warn("warming the report cache", "days", n, "err", err)
			}
			return
		}
		m.log.Info("report cache warmed", "days", n, "took", time.Since(start).Round(time.Millisecond))
	}()
	dbPath := filepath.Join(m.Config.DataDir, dbFile)
	if m.Config.Postgres != "" {
		dbPath = "postgres"
	}
	m.log.Info("dwelld serving", "addr", m.lis.Addr().String(), "db", dbPath, "fsync", !m.Config.NoSync, "tls", m.Config.TLSCertFile != "")
	return nil
}

// printMintHint tells, on Stdout, that the default tenant's signing key
// was just created and how to mint an admin token with it. Run prints it
// once, when it creates the key, whether or not the start then succeeds.
func (m *Main) printMintHint() {
	if m.Config.Postgres != "" {
		// The connection string may hold a password: name the variable.
		fmt.Fprintf(m.Stdout, "Created tenant %q with a new signing key in the database.\nMint an admin token with:\n\n  dwellctl token mint --postgres \"$DWELL_POSTGRES\" --tenant %s --role admin --subject admin\n\n",
			DefaultTenant, DefaultTenant)
		return
	}
	abs, _ := filepath.Abs(m.Config.DataDir)
	fmt.Fprintf(m.Stdout, "Created tenant %q with a new signing key in %s.\nMint an admin token with:\n\n  dwellctl token mint --data-dir %s --tenant %s --role admin --subject admin\n\n",
		DefaultTenant, filepath.Join(abs, "keys"), abs, DefaultTenant)
}

// openStore opens the store and the tenant keys, makes sure the default
// tenant has a key, reporting whether it made one, and starts reading the
// keys again every Config.KeyReloadEvery. On bbolt both live in
// the data directory. On PostgreSQL both live in the database, so servers
// sharing it verify each other's tokens and keep nothing on local disk;
// keys found in <data-dir>/keys (a server that kept them there before) are
// copied into the database first, so their tokens stay valid.
func (m *Main) openStore(ctx context.Context) (created bool, err error) {
	keysDir := filepath.Join(m.Config.DataDir, "keys")
	if m.Config.Postgres == "" {
		if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
			return false, fmt.Errorf("data dir: %w", err)
		}
		if m.keyring, err = auth.OpenKeyring(keysDir); err != nil {
			return false, fmt.Errorf("open keyring: %w", err)
		}
		if created, err = m.keyring.EnsureTenant(ctx, DefaultTenant); err != nil {
			return false, fmt.Errorf("create default tenant: %w", err)
		}
		// Assigned only on success: a nil *boltstore.Store in m.store
		// would be a non-nil interface that Close calls.
		bs, err := boltstore.Open(filepath.Join(m.Config.DataDir, dbFile), boltstore.Options{NoSync: m.Config.NoSync, Logger: m.log, Now: m.Now, OnCommit: m.met.boltCommit})
		if errors.Is(err, boltstore.ErrLocked) {
			return created, fmt.Errorf("the data directory %s is in use by another dwelld (its %s is locked): stop that one, or give this one another --data-dir: %w", m.Config.DataDir, dbFile, err)
		}
		if err != nil {
			return created, fmt.Errorf("open store: %w", err)
		}
		m.store = bs
	} else {
		pg, err := pgstore.Open(ctx, m.Config.Postgres, pgstore.Options{Logger: m.log, Now: m.Now})
		if err != nil {
			return false, fmt.Errorf("open store: %w", err)
		}
		m.store = pg
		if created, err = m.sharedKeys(ctx, pg, keysDir); err != nil {
			return false, err
		}
	}
	reloadCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopReload, m.reloaded = stop, make(chan struct{})
	go m.reloadKeys(reloadCtx)
	return created, nil
}

// sharedKeys opens the keys of the database pg. The first server of this
// version on a database that has no keys yet copies in those of its
// keysDir, if it has any (servers on PostgreSQL kept their keys there
// before), so that tokens issued before stay valid; once the database
// has keys, key files are only compared with them (a key deleted from
// the database stays deleted). The default tenant gets a new key only if
// the database holds no data: otherwise tokens in the field were signed
// with a key this server lacks, and a new one would refuse them all.
func (m *Main) sharedKeys(ctx context.Context, pg *pgstore.Store, keysDir string) (created bool, err error) {
	if m.keyring, err = auth.OpenKeyStore(ctx, pg); err != nil {
		return false, fmt.Errorf("open keyring: %w", err)
	}
	var local *auth.Keyring
	switch _, err := os.Stat(keysDir); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("keys directory: %w", err)
	default:
		if local, err = auth.OpenKeyring(keysDir); err != nil {
			return false, fmt.Errorf("open keyring %s: %w", keysDir, err)
		}
	}
	if local != nil && len(m.keyring.Tenants()) == 0 {
		imported, differ, err := m.keyring.ImportKeys(ctx, local)
		if err != nil {
			return false, fmt.Errorf("copy the keys of %s into the database: %w", keysDir, err)
		}
		for _, t := range imported {
			m.log.Info("signing key copied from the data directory into the database", "tenant", t, "file", filepath.Join(keysDir, string(t)+".json"))
		}
		for _, t := range differ { // another server copied its keys first
			m.log.Warn("the database holds another signing key for this tenant than the data directory: tokens signed with the data directory's are refused",
				"tenant", t, "file", filepath.Join(keysDir, string(t)+".json"))
		}
	} else if local != nil {
		absent, differ := m.keyring.Compare(local)
		for _, t := range absent {
			m.log.Warn("a key file of the data directory is not in the database, which holds the keys: tokens signed with it are refused",
				"tenant", t, "file", filepath.Join(keysDir, string(t)+".json"))
		}
		for _, t := range differ {
			m.log.Warn("the database holds another signing key for this tenant than the data directory: tokens signed with the data directory's are refused",
				"tenant", t, "file", filepath.Join(keysDir, string(t)+".json"))
		}
	}
	if slices.Contains(m.keyring.Tenants(), DefaultTenant) {
		return false, nil
	}
	empty, err := pg.Empty(ctx)
	if err != nil {
		return false, fmt.Errorf("open keyring: %w", err)
	}
	if !empty {
		return false, fmt.Errorf("the database holds Dwell data but no signing key for tenant %q, so tokens issued before cannot be checked: "+
			"start first a dwelld whose --data-dir holds the keys/ the servers used before (it copies them into the database), "+
			"or, to give the tenant a new key that refuses every token issued before, run: dwellctl tenants create --postgres \"$DWELL_POSTGRES\" %s",
			DefaultTenant, DefaultTenant)
	}
	if created, err = m.keyring.EnsureTenant(ctx, DefaultTenant); err != nil {
		return false, fmt.Errorf("create default tenant: %w", err)
	}
	return created, nil
}

// keyReloadEvery is how often dwelld reads the signing keys again by
// default, so that a tenant created meanwhile ("dwellctl tenants create",
// or another server on a shared database) is accepted without a restart.
const keyReloadEvery = 10 * time.Second

// reloadKeys reads the keys again every Config.KeyReloadEvery until ctx
// ends, then closes m.reloaded.
func (m *Main) reloadKeys(ctx context.Context) {
	defer close(m.reloaded)
	every := m.Config.KeyReloadEvery
	if every <= 0 {
		every = keyReloadEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.keyring.Reload(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("reloading the signing keys; the keys read before stay in use", "err", err)
			}
		}
	}
}

// MetricsAddr returns the address GET /metrics is served on over TCP, or
// "" when Config.MetricsListen is empty.
func (m *Main) MetricsAddr() string {
	if m.metricsSrv == nil {
		return ""
	}
	return m.metricsSrv.lis.Addr().String()
}

// Addr returns the address the server listens on.
func (m *Main) Addr() string {
	if m.lis == nil {
		return ""
	}
	return m.lis.Addr().String()
}

// Close drains in-flight calls for at most the drain timeout, stops the
// server and closes the store. It is safe to call after a failed Run, at
// whatever step Run failed (TestRunFailsCleanly), and then returns
// without waiting.
func (m *Main) Close() error {
	if m.health != nil {
		m.health.Shutdown() // NOT_SERVING: load balancers stop sending work
	}
	if m.ctl != nil {
		m.ctl.close() // a backup in flight is cut short, before the store closes
		m.ctl = nil
	}
	if m.metricsSrv != nil {
		m.metricsSrv.close()
		m.metricsSrv = nil
	}
	if m.stopWarm != nil {
		m.stopWarm()
		<-m.warmed
		m.stopWarm = nil
	}
	if m.stopReload != nil {
		m.stopReload()
		<-m.reloaded
		m.stopReload = nil
	}
	if m.srv != nil {
		// End the server's own long-lived work (open WatchEvents streams,
		// background sweepers) first, so GracefulStop does not wait the
		// whole drain timeout on a stream that would never end by itself.
		m.srv.Close()
		m.srv = nil
	}
	if m.grpc != nil {
		done := make(chan struct{})
		go func() { m.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(m.Config.DrainTimeout):
			m.log.Warn("drain timeout reached; stopping in-flight calls", "timeout", m.Config.DrainTimeout)
			m.grpc.Stop()
			<-done
		}
		if err := <-m.served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			m.log.Error("serve", "err", err)
		}
		m.grpc = nil
	}
	if m.store != nil {
		err := m.store.Close()
		m.store = nil
		if err != nil {
			return fmt.Errorf("close store: %w", err)
		}
		m.log.Info("dwelld stopped")
	}
	return nil
}
