// Package pgtest gives tests a PostgreSQL database: a throwaway server
// started from the machine's PostgreSQL binaries (Debian's postgresql
// package; .ci/postgres installs it), shared by the tests of one test binary,
// with a fresh schema for every caller of DSN.
//
// Set DWELL_TEST_POSTGRES to a server's connection URL to use that server
// instead (its user must be allowed to create schemas); nothing is started
// then.
//
// A test binary that uses DSN should run its tests through Main, which
// stops the server and removes its files at the end. The server is also
// killed if the test binary dies (Linux's parent-death signal). A test
// that crashes the database gets a server of its own from Start, with
// Kill (SIGKILL to all its processes) and Restart:
// TestAcknowledgedFixesSurvivePostgresKill9 (cmd/dwelld) kills the
// database under uploads and checks that uploads are refused UNAVAILABLE
// meanwhile, that the same dwelld recovers, and that every acknowledged
// fix is stored, as TestAcknowledgedFixesSurviveKill9 does for a killed
// dwelld on bbolt.
//
// The server runs initdb and postgres as the postgres user when the tests
// run as root, with fsync off, on a Unix socket only (no TCP listener).
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
	"strings"
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

// shared is the one shared server of this test binary: started on first
// use of DSN, stopped by Main.
var shared struct {
	once    sync.Once
	err     error
	srv     *Server
	schemas atomic.Int64
}

// Server is a PostgreSQL server started from the machine's binaries, in a
// temporary directory, listening on a Unix socket there only. The zero
// Server is not usable: tests get the shared one through DSN, or a private
// one through Start.
type Server struct {
	base   string        // connection string of the server, without a schema
	cmd    *exec.Cmd     // nil for an existing server (EnvDSN)
	exited chan struct{} // closed when cmd has exited
	dir    string
	bin    string
	cred   *syscall.Credential
}

// Main runs the tests of m and then stops the server, if one was started.
// Use it from TestMain: func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	stop()
	return code
}

// DSN returns the connection string of a new, empty schema (it is first on
// the search path) on the test binary's shared server, and drops the schema
// when tb ends. It fails tb if no server can be had, saying why.
func DSN(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() {
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			shared.srv = &Server{base: dsn}
			shared.err = exec1(context.Background(), dsn, "SELECT 1")
			return
		}
		shared.srv, shared.err = newServer()
	})
	if shared.err != nil {
		tb.Fatalf("pgtest: %v", shared.err)
	}
	return shared.srv.DSN(tb)
}

// Start starts a server of tb's own (never the one EnvDSN names: tb may
// kill it), stopped and removed when tb ends. It fails tb if the machine
// has no PostgreSQL binaries.
func Start(tb testing.TB) *Server {
	tb.Helper()
	srv, err := newServer()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(srv.stop)
	return srv
}

// DSN returns the connection string of a new, empty schema on s, as the
// package's DSN does.
func (s *Server) DSN(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), shared.schemas.Add(1))
	ctx := context.Background()
	if err := exec1(ctx, s.base, "CREATE SCHEMA "+name); err != nil {
		tb.Fatalf("pgtest: creating schema %s: %v", name, err)
	}
	tb.Cleanup(func() {
		select {
		case <-s.exited:
			return // stopped: nothing to drop
		default:
		}
		if err := exec1(ctx, s.base, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			tb.Errorf("pgtest: dropping schema %s: %v", name, err)
		}
	})
	return s.base + " search_path=" + name
}

// Kill kills s and every one of its processes (SIGKILL), as a crash
// would, and returns once none is left; the data directory stays, for
// Restart. Committed data survives it as it survives a crash of the
// database server: the files' pages are in the machine's cache, so that
// fsync being off does not matter (it would for a crash of the machine).
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	pid := s.cmd.Process.Pid
	// Stopped, the server starts no process while its children are read.
	// They are in process groups of their own: each is killed by pid.
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		tb.Fatalf("pgtest: stop: %v", err)
	}
	kids := children(pid)
	for _, p := range append(kids, pid) {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	<-s.exited
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range kids {
		for running(p) {
			if time.Now().After(deadline) {
				tb.Fatalf("pgtest: process %d of the killed server still runs after 30 s", p)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// children returns the pids of pid's child processes (Linux's
// /proc/PID/task/TID/children).
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(w); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// running reports whether process pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// Restart starts s again on its data directory after Kill, through crash
// recovery, and waits until it accepts connections.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.run(); err != nil {
		tb.Fatalf("pgtest: restart: %v", err)
	}
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

// newServer makes a data directory and starts a server on it. On error
// it leaves no process or directory behind.
func newServer() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dwell-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if err := s.initAndRun(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// initAndRun makes s's data directory and runs the server.
func (s *Server) initAndRun() error {
	var err error
	if s.cred, err = credential(s.dir); err != nil {
		return err
	}
	initdb := exec.Command(filepath.Join(s.bin, "initdb"), "-D", filepath.Join(s.dir, "data"), "-U", "dwell", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	s.base = fmt.Sprintf("host=%s user=dwell dbname=postgres sslmode=disable", s.dir)
	return s.run()
}

// run starts the server process and waits until it accepts connections.
func (s *Server) run() error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	if s.cred != nil {
		_ = logf.Chown(int(s.cred.Uid), int(s.cred.Gid))
	}
	// The server runs for tests only: no fsync (the tests check the
	// store's semantics, not the disk's), a Unix socket in dir, no TCP.
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-k", s.dir, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited = cmd, exited
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := exec1(context.Background(), s.base, "SELECT 1")
		if err == nil {
			return nil
		}
		done := false
		select {
		case <-exited:
			done = true
		default:
		}
		if done || time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
			return fmt.Errorf("postgres did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops the shared server, if one was started.
func stop() {
	if shared.srv != nil {
		shared.srv.stop()
	}
}

// stop stops s with a fast shutdown and removes its files; it does nothing
// for a server pgtest did not start.
func (s *Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
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
