package daemon

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/internal/promtest"
)

// scrape GETs url with c and parses the answer with Prometheus's text
// parser.
func scrape(t *testing.T, c *http.Client, url string) promtest.Figures {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	f, err := promtest.Parse(resp.Body)
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return f
}

// startMetricsMain runs dwelld in-process over dir with extra flags.
func startMetricsMain(t *testing.T, dir string, flags ...string) *Main {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, &lockedBuffer{}
	args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"}, flags...)
	if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// metricsClient is a gRPC client of m with tokens of its default tenant.
type metricsClient struct {
	t      *testing.T
	m      *Main
	conn   *grpc.ClientConn
	dir    dwellv1.DirectoryServiceClient
	ingest dwellv1.IngestServiceClient
	report dwellv1.ReportServiceClient
}

func newMetricsClient(t *testing.T, m *Main) *metricsClient {
	t.Helper()
	conn, err := grpc.NewClient(m.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &metricsClient{t: t, m: m, conn: conn, dir: dwellv1.NewDirectoryServiceClient(conn),
		ingest: dwellv1.NewIngestServiceClient(conn), report: dwellv1.NewReportServiceClient(conn)}
}

// as returns a context with a token of role and subject.
func (c *metricsClient) as(role dwell.Role, subject string) context.Context {
	c.t.Helper()
	tok, err := c.m.keyring.Mint(dwell.Principal{Tenant: DefaultTenant, Subject: subject, Role: role}, time.Hour, time.Now())
	if err != nil {
		c.t.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(c.t.Context(), "authorization", "Bearer "+tok)
}

// fixes returns fixes ids prefix0.. of the last hour; bad ones have an
// impossible latitude.
func someFixes(prefix string, n int, bad bool) []*dwellv1.Fix {
	t0 := time.Now().Add(-time.Hour)
	fs := make([]*dwellv1.Fix, n)
	for i := range fs {
		lat := -6.2
		if bad {
			lat = 200
		}
		fs[i] = &dwellv1.Fix{Id: fmt.Sprintf("%s%d", prefix, i), DeviceTime: timestamppb.New(t0.Add(time.Duration(i) * time.Second)),
			Position: &dwellv1.LatLng{Lat: lat, Lng: 106.8}, AccuracyMeters: 10}
	}
	return fs
}

const (
	uploadPings = "/dwell.v1.IngestService/UploadPings"
	createRep   = "/dwell.v1.DirectoryService/CreateRep"
	watchEvents = "/dwell.v1.ReportService/WatchEvents"
)

// load uploads a batch of n good fixes, then one of the first m of them
// again with k invalid ones, makes a call the policy refuses
// (PERMISSION_DENIED: a rep creating a rep) and one with a bad argument
// (INVALID_ARGUMENT: an empty batch).
func (c *metricsClient) load(n, m, k int) {
	c.t.Helper()
	admin := c.as(dwell.RoleAdmin, "admin")
	if _, err := c.dir.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "r1", Rep: &dwellv1.Rep{DisplayName: "R1", TimeZone: "UTC"}}); err != nil {
		c.t.Fatal(err)
	}
	rep := c.as(dwell.RoleRep, "r1")
	good := someFixes("f", n, false)
	resp, err := c.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Rep: "reps/r1", Fixes: good})
	if err != nil || resp.GetAck().GetAccepted() != int32(n) {
		c.t.Fatalf("first batch: %v, %v; want %d accepted", resp, err, n)
	}
	second := append(good[:m:m], someFixes("bad", k, true)...)
	resp, err = c.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Rep: "reps/r1", Fixes: second})
	if ack := resp.GetAck(); err != nil || ack.GetDuplicates() != int32(m) || ack.GetRejected() != int32(k) {
		c.t.Fatalf("second batch: %v, %v; want %d duplicates, %d rejected", resp, err, m, k)
	}
	if _, err := c.dir.CreateRep(rep, &dwellv1.CreateRepRequest{RepId: "r2", Rep: &dwellv1.Rep{DisplayName: "R2", TimeZone: "UTC"}}); status.Code(err) != codes.PermissionDenied {
		c.t.Fatalf("a rep creating a rep: %v, want PERMISSION_DENIED", err)
	}
	if _, err := c.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Rep: "reps/r1"}); status.Code(err) != codes.InvalidArgument {
		c.t.Fatalf("an empty batch: %v, want INVALID_ARGUMENT", err)
	}
}

// checkLoad checks that the figures moved from before to after by what
// load(n, m, k) did.
func checkLoad(t *testing.T, before, after promtest.Figures, n, m, k int) {
	t.Helper()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"dwell_ingest_fixes_total", []string{"result", "accepted"}, float64(n)},
		{"dwell_ingest_fixes_total", []string{"result", "duplicate"}, float64(m)},
		{"dwell_ingest_fixes_total", []string{"result", "rejected"}, float64(k)},
		{"dwell_ingest_batches_total", nil, 2},
		{"dwell_grpc_requests_total", []string{"method", uploadPings, "code", codes.OK.String()}, 2},
		{"dwell_grpc_requests_total", []string{"method", uploadPings, "code", codes.InvalidArgument.String()}, 1},
		{"dwell_grpc_requests_total", []string{"method", createRep, "code", codes.OK.String()}, 1},
		{"dwell_grpc_requests_total", []string{"method", createRep, "code", codes.PermissionDenied.String()}, 1},
		{"dwell_grpc_unary_duration_seconds", []string{"method", uploadPings}, 3},
	} {
		if got := before.Moved(after, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// TestMetricsScrape runs a real dwelld with --metrics-listen, makes calls
// over gRPC and scrapes /metrics over HTTP and over the control socket:
// the counters moved by exactly what was done, the fsync histogram
// counted the commits, and an open WatchEvents stream shows in the
// streams gauge until it is closed.
func TestMetricsScrape(t *testing.T) {
	dir := t.TempDir()
	m := startMetricsMain(t, dir, "--metrics-listen", "127.0.0.1:0")
	url := "http://" + m.MetricsAddr() + "/metrics"
	sock := controlClient(filepath.Join(dir, ControlSocket))
	const sockURL = "http://dwelld/metrics"
	c := newMetricsClient(t, m)

	before := scrape(t, http.DefaultClient, url)
	sockBefore := scrape(t, sock, sockURL)
	const n, dup, bad = 7, 3, 2
	c.load(n, dup, bad)
	after := scrape(t, http.DefaultClient, url)
	sockAfter := scrape(t, sock, sockURL)
	checkLoad(t, before, after, n, dup, bad)
	t.Run("control socket", func(t *testing.T) { checkLoad(t, sockBefore, sockAfter, n, dup, bad) })

	// Two batches and a rep were written: at least three group commits,
	// each fsynced.
	if got := before.Moved(after, "dwell_bolt_fsync_duration_seconds"); got < 3 {
		t.Errorf("dwell_bolt_fsync_duration_seconds counted %v commits, want at least 3", got)
	}
	if got := before.Moved(after, "dwell_bolt_commits_total", "result", "ok"); got < 3 {
		t.Errorf("dwell_bolt_commits_total{result=ok} moved by %v, want at least 3", got)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if after[name] == nil {
			t.Errorf("%s missing from the scrape", name)
		}
	}

	// An open WatchEvents stream is in the gauge, and leaves it when its
	// client ends it.
	ctx, cancel := context.WithCancel(c.as(dwell.RoleAdmin, "admin"))
	stream, err := c.report.WatchEvents(ctx, &dwellv1.WatchEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil { // the stream is positioned
		t.Fatal(err)
	}
	if got := scrape(t, http.DefaultClient, url).Value("dwell_grpc_streams_open", "method", watchEvents); got != 1 {
		t.Errorf("streams open of WatchEvents with one stream: %v, want 1", got)
	}
	cancel()
	promtest.Wait(t, func() promtest.Figures { return scrape(t, http.DefaultClient, url) }, "dwell_grpc_streams_open", []string{"method", watchEvents}, 0)
	got := scrape(t, http.DefaultClient, url)
	if v := got.Value("dwell_grpc_requests_total", "method", watchEvents, "code", codes.Canceled.String()); v != 1 {
		t.Errorf("WatchEvents ended by its client: %v counted Canceled, want 1", v)
	}
}

// TestMetricsListenTaken: a metrics address that cannot be bound fails
// the start with a message naming the flag, and serves nothing.
func TestMetricsListenTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--metrics-listen", taken.Addr().String()}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	err = m.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "--metrics-listen "+taken.Addr().String()) {
		t.Fatalf("Run with a taken metrics address: %v, want an error naming --metrics-listen and the address", err)
	}
	if m.Addr() != "" {
		t.Errorf("gRPC served on %s after a failed start", m.Addr())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsTwoMains: two dwelld in one process keep their own figures
// (a registry each); the second takes its address from the environment.
func TestMetricsTwoMains(t *testing.T) {
	a := startMetricsMain(t, t.TempDir(), "--metrics-listen", "127.0.0.1:0")
	b := NewMain()
	b.Stdout, b.Stderr = io.Discard, io.Discard
	env := map[string]string{"DWELL_METRICS_LISTEN": "127.0.0.1:0"}
	if err := b.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if b.MetricsAddr() == "" {
		t.Fatal("DWELL_METRICS_LISTEN set: no metrics served")
	}
	urlA, urlB := "http://"+a.MetricsAddr()+"/metrics", "http://"+b.MetricsAddr()+"/metrics"
	beforeB := scrape(t, http.DefaultClient, urlB)
	beforeA := scrape(t, http.DefaultClient, urlA)
	newMetricsClient(t, a).load(4, 1, 1)
	checkLoad(t, beforeA, scrape(t, http.DefaultClient, urlA), 4, 1, 1)
	afterB := scrape(t, http.DefaultClient, urlB)
	for _, r := range []string{"accepted", "duplicate", "rejected"} {
		if got := beforeB.Moved(afterB, "dwell_ingest_fixes_total", "result", r); got != 0 {
			t.Errorf("the other dwelld's %s fixes moved by %v, want 0", r, got)
		}
	}
	if got := afterB.Value("dwell_grpc_requests_total", "method", uploadPings, "code", codes.OK.String()); got != 0 {
		t.Errorf("the other dwelld counted %v UploadPings, want 0", got)
	}
}

// TestMetricsPostgres: on PostgreSQL the same calls move the same
// counters, and the pool's and transactions' figures are there.
func TestMetricsPostgres(t *testing.T) {
	m := startMetricsMain(t, t.TempDir(), "--metrics-listen", "127.0.0.1:0", "--postgres", pgtest.DSN(t))
	url := "http://" + m.MetricsAddr() + "/metrics"
	before := scrape(t, http.DefaultClient, url)
	newMetricsClient(t, m).load(5, 2, 3)
	after := scrape(t, http.DefaultClient, url)
	checkLoad(t, before, after, 5, 2, 3)
	if got := before.Moved(after, "dwell_pg_commits_total"); got < 3 {
		t.Errorf("dwell_pg_commits_total moved by %v, want at least 3 (a rep, two batches)", got)
	}
	if got := before.Moved(after, "dwell_pg_pool_acquires_total"); got < 3 {
		t.Errorf("dwell_pg_pool_acquires_total moved by %v, want at least 3", got)
	}
	if got := after.Value("dwell_pg_pool_max_connections"); got < 1 {
		t.Errorf("dwell_pg_pool_max_connections = %v, want at least 1", got)
	}
	for _, name := range []string{"dwell_bolt_commits_total", "dwell_bolt_fsync_duration_seconds"} {
		if after[name] != nil {
			t.Errorf("bbolt's %s served by a dwelld on PostgreSQL", name)
		}
	}
}
