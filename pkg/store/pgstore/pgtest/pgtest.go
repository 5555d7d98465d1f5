// Package pgtest gives tests a PostgreSQL database: a throwaway server
// started from the machine's PostgreSQL binaries (Debian's postgresql
// package; .ci/tools installs it), shared by the tests of one test binary,
// with a fresh schema for every caller of DSN.
//
// Set DWELL_TEST_POSTGRES to a server's connection URL to use that server
// instead (its user must be allowed to create schemas); nothing is started
// then.
//
// A test binary that uses DSN should run its tests through Main, which
// stops the server and removes its files at the end. The server is also
// killed if the test binary dies (Linux's parent-death signal).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that points the tests at an
// existing server.
const EnvDSN = "DWELL_TEST_POSTGRES"

// server is the one server of this test binary: started on first use,
// stopped by Main.
var server struct {
	once    sync.Once
	err     error
	base    string        // connection string of the server, without a schema
	cmd     *exec.Cmd     // nil for an existing server (EnvDSN)
	exited  chan struct{} // closed when cmd has exited
	dir     string
	schemas atomic.Int64
}

// Main runs the tests of m and then stops the server, if one was started.
// Use it from TestMain: func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	stop()
	return code
}

// DSN returns the connection string of a new, empty schema (it is first on
// the search path) on the test server, and drops the schema when tb ends.
// It fails tb if no server can be had, saying why.
func DSN(tb testing.TB) string {
	tb.Helper()
	server.once.Do(func() { server.err = start() })
	if server.err != nil {
		tb.Fatalf("pgtest: %v", server.err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), server.schemas.Add(1))
	ctx := context.Background()
	if err := exec1(ctx, server.base, "CREATE SCHEMA "+name); err != nil {
		tb.Fatalf("pgtest: creating schema %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := exec1(ctx, server.base, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			tb.Errorf("pgtest: dropping schema %s: %v", name, err)
		}
	})
	return server.base + " search_path=" + name
}

// Terminate ends PostgreSQL backend pid of the server dsn names (as an
// operator or a failover would), failing tb if it cannot.
func Terminate(tb testing.TB, dsn string, pid int) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
		tb.Fatalf("pgtest: pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
}

// exec1 runs one statement on a connection of its own.
func exec1(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// start starts the server (or takes the one EnvDSN names) and waits until
// it accepts connections.
func start() error {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		server.base = dsn
		return exec1(context.Background(), dsn, "SELECT 1")
	}
	bin, err := findBin()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "dwell-pg-")
	if err != nil {
		return err
	}
	server.dir = dir
	cred, err := credential(dir)
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "dwell", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return err
	}
	if cred != nil {
		_ = logf.Chown(int(cred.Uid), int(cred.Gid))
	}
	// The server runs for tests only: no fsync (the tests check the
	// store's semantics, not the disk's), a Unix socket in dir, no TCP.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-k", dir, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	server.cmd = cmd
	server.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(server.exited) }()
	server.base = fmt.Sprintf("host=%s user=dwell dbname=postgres sslmode=disable", dir)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := exec1(context.Background(), server.base, "SELECT 1")
		if err == nil {
			return nil
		}
		exited := false
		select {
		case <-server.exited:
			exited = true
		default:
		}
		if exited || time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return fmt.Errorf("postgres did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops the server with a fast shutdown and removes its files.
func stop() {
	if server.cmd != nil && server.cmd.Process != nil {
		_ = server.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-server.exited:
		case <-time.After(30 * time.Second):
			_ = server.cmd.Process.Kill()
		}
	}
	if server.dir != "" {
		_ = os.RemoveAll(server.dir)
	}
}

// findBin returns the directory of the PostgreSQL server binaries: that of
// initdb on PATH, else the newest /usr/lib/postgresql/N/bin (Debian keeps
// them off PATH).
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: " +
		"install Debian's postgresql package (bash .ci/tools does), or set " + EnvDSN + " to a server's connection URL")
}

// version returns N of /usr/lib/postgresql/N/bin.
func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// credential returns the user the server must run as: PostgreSQL refuses
// to run as root, so a root test binary runs it as the "postgres" user
// (made by Debian's package) and gives dir to it. It returns nil when not
// root.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
