package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMain runs a Main on a loopback port over dir.
func startMain(t *testing.T, dir string) (*daemon.Main, *syncBuffer) {
	t.Helper()
	m := daemon.NewMain()
	out := &syncBuffer{}
	m.Stdout, m.Stderr = out, out
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"}, func(string) string { return "" }); err != nil {
		t.Fatalf("ParseFlags: %v", err)
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, out
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func adminCtx(t *testing.T, dir string) context.Context {
	t.Helper()
	kr, err := auth.OpenKeyring(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := kr.Mint(dwell.Principal{Tenant: daemon.DefaultTenant, Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
}

func TestFirstStartCreatesTenantAndServes(t *testing.T) {
	dir := t.TempDir()
	m, out := startMain(t, dir)
	if !strings.Contains(out.String(), "dwellctl token mint --data-dir "+dir+" --tenant default --role admin") {
		t.Fatalf("first start printed %q, want the token mint command", out.String())
	}
	conn := dial(t, m.Addr())
	h, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v; want SERVING", h, err)
	}
	ctx := adminCtx(t, dir)
	dc := dwellv1.NewDirectoryServiceClient(conn)
	if _, err := dc.CreateTeam(ctx, &dwellv1.CreateTeamRequest{TeamId: "t1", Team: &dwellv1.Team{DisplayName: "T1"}}); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	m2, out2 := startMain(t, dir)
	if strings.Contains(out2.String(), "token mint") {
		t.Fatalf("second start printed the first-start message: %q", out2.String())
	}
	conn2 := dial(t, m2.Addr())
	got, err := dwellv1.NewDirectoryServiceClient(conn2).GetTeam(adminCtx(t, dir), &dwellv1.GetTeamRequest{Name: "teams/t1"})
	if err != nil || got.GetTeam().GetDisplayName() != "T1" {
		t.Fatalf("team after restart = %v, %v", got, err)
	}
}

func TestParseFlags(t *testing.T) {
	env := map[string]string{"DWELL_LISTEN": "127.0.0.1:9999", "DWELL_DATA_DIR": "/env/dir", "DWELL_DRAIN_TIMEOUT": "3s"}
	m := daemon.NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"--data-dir", "/flag/dir"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if m.Config.Listen != "127.0.0.1:9999" || m.Config.DataDir != "/flag/dir" || m.Config.DrainTimeout != 3*time.Second {
		t.Fatalf("config = %+v; want listen from env, data dir from flag, drain 3s", m.Config)
	}
	bad := [][]string{
		{"--log-level", "loud"},
		{"--log-format", "xml"},
		{"--drain-timeout", "0s"},
		{"--tls-cert", "cert.pem"}, // without its key
		{"--tls-key", "key.pem"},   // without its certificate
		{"extra"},
	}
	for _, args := range bad {
		m := daemon.NewMain()
		m.Stderr = &bytes.Buffer{}
		if err := m.ParseFlags(args, func(string) string { return "" }); err == nil {
			t.Errorf("ParseFlags(%v) = nil, want an error", args)
		}
	}
}

func TestCloseDrainsThenStops(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir)
	m.Config.DrainTimeout = 300 * time.Millisecond
	conn := dial(t, m.Addr())
	// An open stream that never ends keeps GracefulStop waiting; Close must
	// still return once the drain timeout passes.
	stream, err := dwellv1.NewIngestServiceClient(conn).StreamPings(adminCtx(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	_ = stream
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with a 300ms drain timeout", d)
	}
	// The data dir is released: a new server opens it at once.
	startMain(t, dir)
}

// buildDwelld compiles the real binary for the process-level tests.
func buildDwelld(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dwelld")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess runs the dwelld binary and waits until health says SERVING.
func startProcess(t *testing.T, bin, dir, addr string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin, "--listen", addr, "--data-dir", dir)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	conn := dial(t, addr)
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{})
		if err == nil && h.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return cmd, logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("dwelld not serving after 20s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSIGTERMStopsCleanly(t *testing.T) {
	bin := buildDwelld(t)
	dir, addr := t.TempDir(), freeAddr(t)
	cmd, logs := startProcess(t, bin, dir, addr)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("dwelld exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "dwelld stopped") {
		t.Fatalf("logs lack the clean stop: %s", logs.String())
	}
}

// TestAcknowledgedFixesSurviveKill9 uploads over gRPC to the real binary,
// kills it with SIGKILL while uploads are still running, restarts it, and
// checks that every fix that was acknowledged as accepted is stored.
func TestAcknowledgedFixesSurviveKill9(t *testing.T) {
	bin := buildDwelld(t)
	dir, addr := t.TempDir(), freeAddr(t)
	cmd, _ := startProcess(t, bin, dir, addr)
	conn := dial(t, addr)
	ctx := adminCtx(t, dir)
	dc := dwellv1.NewDirectoryServiceClient(conn)
	const reps = 4
	for r := range reps {
		if _, err := dc.CreateRep(ctx, &dwellv1.CreateRepRequest{RepId: fmt.Sprintf("r%d", r), Rep: &dwellv1.Rep{DisplayName: "R", TimeZone: "UTC"}}); err != nil {
			t.Fatal(err)
		}
	}
	kr, err := auth.OpenKeyring(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]bool{} // "rep/fixid"
	var wg sync.WaitGroup
	base := time.Now().Add(-time.Hour)
	for r := range reps {
		tok, _ := kr.Mint(dwell.Principal{Tenant: daemon.DefaultTenant, Subject: fmt.Sprintf("r%d", r), Role: dwell.RoleRep}, time.Hour, time.Now())
		rctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ic := dwellv1.NewIngestServiceClient(conn)
			for b := 0; ; b++ {
				var fs []*dwellv1.Fix
				for i := range 50 {
					k := b*50 + i
					fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f%d", k), DeviceTime: timestamppb.New(base.Add(time.Duration(k) * time.Millisecond)),
						Position: &dwellv1.LatLng{Lat: 1, Lng: 1}, AccuracyMeters: 5})
				}
				resp, err := ic.UploadPings(rctx, &dwellv1.UploadPingsRequest{Fixes: fs})
				if err != nil {
					return // the server died
				}
				mu.Lock()
				for _, res := range resp.GetAck().GetResults() {
					if res.GetStatus() == dwellv1.FixStatus_FIX_STATUS_ACCEPTED {
						acked[fmt.Sprintf("r%d/%s", r, res.GetId())] = true
					}
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no fix was acknowledged before the kill")
	}

	startProcess(t, bin, dir, addr)
	conn2 := dial(t, addr)
	// Re-upload every acknowledged fix: each must come back DUPLICATE, which
	// proves it was on disk.
	for r := range reps {
		tok, _ := kr.Mint(dwell.Principal{Tenant: daemon.DefaultTenant, Subject: fmt.Sprintf("r%d", r), Role: dwell.RoleRep}, time.Hour, time.Now())
		rctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
		var fs []*dwellv1.Fix
		for key := range acked {
			rep, id, _ := strings.Cut(key, "/")
			if rep != fmt.Sprintf("r%d", r) {
				continue
			}
			fs = append(fs, &dwellv1.Fix{Id: id, DeviceTime: timestamppb.New(base), Position: &dwellv1.LatLng{Lat: 1, Lng: 1}, AccuracyMeters: 5})
		}
		for len(fs) > 0 {
			n := min(len(fs), dwell.MaxFixesPerBatch)
			resp, err := dwellv1.NewIngestServiceClient(conn2).UploadPings(rctx, &dwellv1.UploadPingsRequest{Fixes: fs[:n]})
			if err != nil {
				t.Fatalf("re-upload: %v (%v)", err, status.Code(err) == codes.Unavailable)
			}
			if a := resp.GetAck(); a.GetDuplicates() != int32(n) {
				t.Fatalf("rep r%d: %d of %d acknowledged fixes were lost in the kill", r, int32(n)-a.GetDuplicates(), n)
			}
			fs = fs[n:]
		}
	}
	t.Logf("%d acknowledged fixes all present after kill -9", len(acked))
}

// TestListenTakenExits starts the dwelld binary on a port another process
// holds: it exits 1 at once, saying why, instead of hanging with its data
// directory locked.
func TestListenTakenExits(t *testing.T) {
	bin := buildDwelld(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// The bound only ends a hang; dwelld exits in milliseconds.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--listen", busy.Addr().String(), "--data-dir", t.TempDir())
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("dwelld on a taken port has not exited after 30 s:\n%s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "dwelld: listen:") {
		t.Fatalf("dwelld on a taken port: exit %d (%v), want 1 saying listen\n%s", code, err, out)
	}
}
