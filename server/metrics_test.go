package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
	"github.com/dwellhq/dwell/server/internal/promtest"
)

// newMetricsEnv starts a test server (on the store of storeEnv, fsync on
// or off, configured further by more) with metrics in a registry of its
// own, and returns both.
func newMetricsEnv(t testing.TB, sync bool, more ...func(*server.Config)) (*env, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := server.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, noSync: !sync, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		configure: func(c *server.Config) {
			c.Metrics = m
			for _, f := range more {
				f(c)
			}
		}}
	e.start()
	t.Cleanup(e.stop)
	return e, reg
}

func gather(t testing.TB, reg *prometheus.Registry) promtest.Figures {
	t.Helper()
	f, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestMetrics runs a server with metrics on the store under test: ingest,
// check-ins, refused calls, streams, the refresher and the events it
// publishes move their figures by exactly what was done.
func TestMetrics(t *testing.T) {
	e, reg := newMetricsEnv(t, true)
	admin := e.admin(acme)
	e.mustCreateRep(admin, "budi", "")
	e.mustCreateRep(admin, "sari", "")
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 50)
	budi := e.as(acme, dwell.RoleRep, "budi")
	before := gather(t, reg)

	// N good fixes; then M of them again with K invalid ones.
	const n, m, k = 30, 4, 3
	good := make([]*dwellv1.Fix, n)
	for i := range good {
		good[i] = &dwellv1.Fix{Id: fmt.Sprintf("f%d", i), DeviceTime: timestamppb.New(e.now().Add(-time.Duration(n-i) * time.Minute)),
			Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8 + float64(i%3)*1e-6}, AccuracyMeters: 10}
	}
	if _, err := e.ingest.UploadPings(budi, &dwellv1.UploadPingsRequest{Fixes: good}); err != nil {
		t.Fatal(err)
	}
	second := append([]*dwellv1.Fix(nil), good[:m]...)
	for i := range k {
		second = append(second, &dwellv1.Fix{Id: fmt.Sprintf("bad%d", i), DeviceTime: timestamppb.New(e.now()), Position: &dwellv1.LatLng{Lat: 95, Lng: 0}})
	}
	if _, err := e.ingest.UploadPings(budi, &dwellv1.UploadPingsRequest{Fixes: second}); err != nil {
		t.Fatal(err)
	}
	// A check-in at the site, its retry, and one 1.1 km away.
	at := func(lat float64) *dwellv1.Fix {
		return &dwellv1.Fix{DeviceTime: timestamppb.New(e.now()), Position: &dwellv1.LatLng{Lat: lat, Lng: 106.8}, AccuracyMeters: 10}
	}
	for _, req := range []*dwellv1.CheckInRequest{
		{RequestId: "ci-1", Client: "clients/toko", CheckInTime: timestamppb.New(e.now()), Fix: at(-6.2)},
		{RequestId: "ci-1", Client: "clients/toko", CheckInTime: timestamppb.New(e.now()), Fix: at(-6.2)},
		{RequestId: "ci-2", Client: "clients/toko", CheckInTime: timestamppb.New(e.now()), Fix: at(-6.21)},
	} {
		if _, err := e.ingest.CheckIn(budi, req); err != nil {
			t.Fatal(err)
		}
	}
	// Refused: by the policy (a rep creating a client), by a handler (a
	// rep reading another rep's day), and without a token.
	_, err := e.dirc.CreateClient(budi, &dwellv1.CreateClientRequest{ClientId: "x", Client: circleClient("x", 1, 1, 50)})
	wantCode(t, "a rep creating a client", err, codes.PermissionDenied)
	_, err = e.report.GetRepDay(budi, &dwellv1.GetRepDayRequest{Rep: "reps/sari", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 20}})
	wantCode(t, "a rep reading another's day", err, codes.PermissionDenied)
	_, err = e.report.GetRepDay(context.Background(), &dwellv1.GetRepDayRequest{Rep: "reps/sari", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 20}})
	wantCode(t, "no token", err, codes.Unauthenticated)
	_, err = e.ingest.UploadPings(budi, &dwellv1.UploadPingsRequest{})
	wantCode(t, "an empty batch", err, codes.InvalidArgument)

	after := gather(t, reg)
	const (
		upload    = "/dwell.v1.IngestService/UploadPings"
		checkIn   = "/dwell.v1.IngestService/CheckIn"
		getRepDay = "/dwell.v1.ReportService/GetRepDay"
		create    = "/dwell.v1.DirectoryService/CreateClient"
	)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"dwell_ingest_fixes_total", []string{"result", "accepted"}, n},
		{"dwell_ingest_fixes_total", []string{"result", "duplicate"}, m},
		{"dwell_ingest_fixes_total", []string{"result", "rejected"}, k},
		{"dwell_ingest_batches_total", nil, 2},
		{"dwell_ingest_check_ins_total", []string{"verification", "verified"}, 1},
		{"dwell_ingest_check_ins_total", []string{"verification", "outside_geofence"}, 1},
		{"dwell_ingest_check_ins_total", []string{"verification", "mock_location"}, 0},
		{"dwell_grpc_requests_total", []string{"method", upload, "code", "OK"}, 2},
		{"dwell_grpc_requests_total", []string{"method", upload, "code", "InvalidArgument"}, 1},
		{"dwell_grpc_requests_total", []string{"method", checkIn, "code", "OK"}, 3},
		{"dwell_grpc_requests_total", []string{"method", create, "code", "PermissionDenied"}, 1},
		{"dwell_grpc_requests_total", []string{"method", getRepDay, "code", "PermissionDenied"}, 1},
		{"dwell_grpc_requests_total", []string{"method", getRepDay, "code", "Unauthenticated"}, 1},
		{"dwell_grpc_unary_duration_seconds", []string{"method", upload}, 3},
		{"dwell_grpc_unary_duration_seconds", []string{"method", getRepDay}, 2},
	} {
		if got := before.Moved(after, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// A StreamPings stream is open while it runs.
	stream, err := e.ingest.StreamPings(budi)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&dwellv1.StreamPingsRequest{BatchId: 1, Fixes: good[:1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil { // the stream is open on the server
		t.Fatal(err)
	}
	const streamPings = "/dwell.v1.IngestService/StreamPings"
	if got := gather(t, reg).Value("dwell_grpc_streams_open", "method", streamPings); got != 1 {
		t.Errorf("StreamPings streams open = %v, want 1", got)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err == nil {
		t.Fatal("StreamPings answered after CloseSend")
	}
	waitGathered(t, reg, "dwell_grpc_streams_open", []string{"method", streamPings}, 0)
	if got := before.Moved(gather(t, reg), "dwell_grpc_requests_total", "method", streamPings, "code", "OK"); got != 1 {
		t.Errorf("StreamPings ended OK counted %v, want 1", got)
	}

	// The refresher derives the marked day; every event it (or the
	// sweeper) appended is counted by type, as the log holds them.
	waitGathered(t, reg, "dwell_background_running", nil, 1)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	refreshed := gather(t, reg)
	if got := before.Moved(refreshed, "dwell_refresh_derivations_total", "result", "ok"); got < 1 {
		t.Errorf("derivations moved by %v, want at least 1", got)
	}
	if got, want := before.Moved(refreshed, "dwell_refresh_derive_duration_seconds"), before.Moved(refreshed, "dwell_refresh_derivations_total", "result", "ok"); got != want {
		t.Errorf("derive durations observed %v, want one per derivation (%v)", got, want)
	}
	if got := refreshed.Value("dwell_refresh_pending_days"); got != 0 {
		t.Errorf("pending days after a full pass = %v, want 0", got)
	}
	evs, err := e.st.ListEvents(t.Context(), acme, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		t.Fatal("a visit of half an hour and two check-ins published no event: nothing to count")
	}
	byType := map[string]float64{}
	for _, ev := range evs {
		byType[strings.ToLower(ev.Type.String())]++
	}
	for typ := dwell.EventVisitStarted; typ <= dwell.EventRepSilent; typ++ {
		l := strings.ToLower(typ.String())
		if got := before.Moved(refreshed, "dwell_events_published_total", "type", l); got != byType[l] {
			t.Errorf("%s events counted %v, the log holds %v", l, got, byType[l])
		}
	}
	// The change feed exists on a store that servers share: it resynced
	// at its start.
	if _, shared := e.st.(interface {
		SyncChanges(context.Context, string) error
	}); shared {
		if got := refreshed.Value("dwell_feed_resyncs_total"); got < 1 {
			t.Errorf("feed resyncs = %v, want at least the first", got)
		}
	} else if got := refreshed.Value("dwell_feed_resyncs_total"); got != 0 {
		t.Errorf("feed resyncs on a store of its own = %v, want 0", got)
	}
	e.stop()
	if got := gather(t, reg).Value("dwell_background_running"); got != 0 {
		t.Errorf("background running after Close = %v, want 0", got)
	}
}

// waitGathered gathers until the figure is want (promtest.Wait).
func waitGathered(t *testing.T, reg *prometheus.Registry, name string, labels []string, want float64) {
	t.Helper()
	promtest.Wait(t, func() promtest.Figures { return gather(t, reg) }, name, labels, want)
}

// TestNewMetricsTwice: a registry takes one server's metrics; a second
// set is refused, not merged.
func TestNewMetricsTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := server.NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := server.NewMetrics(reg); err == nil {
		t.Fatal("second NewMetrics on one registry: nil error")
	}
	if _, err := server.NewMetrics(prometheus.NewRegistry()); err != nil {
		t.Fatalf("NewMetrics on a second registry: %v", err)
	}
}

// TestMetricsSlowWatcher: a WatchEvents stream whose client reads nothing
// is ended with RESOURCE_EXHAUSTED and counted once as slow; the events
// published meanwhile are counted by type, each once.
func TestMetricsSlowWatcher(t *testing.T) {
	e, reg := newMetricsEnv(t, false, func(c *server.Config) { c.WatchBuffer, c.WatchStall = 16, 200*time.Millisecond })
	// Small fixed flow-control windows: gRPC stops taking the server's
	// messages as soon as they are full.
	conn, err := grpc.NewClient(e.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stuck, _ := openWatch(t, dwellv1.NewReportServiceClient(conn), e.admin(acme), &dwellv1.WatchEventsRequest{})
	before := gather(t, reg)
	const total, batch = 5000, 50
	for i := 0; i < total; i += batch {
		evs := make([]dwell.Event, batch)
		for j := range evs {
			at := e.now().Add(time.Duration(i+j) * time.Second)
			evs[j] = dwell.Event{Type: dwell.EventIdleStarted, Rep: "r1", Time: at, DetectTime: at, Key: fmt.Sprint(i + j)}
		}
		if _, err := server.PublishEvents(context.Background(), e.srv, acme, evs); err != nil {
			t.Fatal(err)
		}
	}
	// The same events again: the log keeps each key once, and so do the
	// figures.
	if _, err := server.PublishEvents(context.Background(), e.srv, acme, []dwell.Event{{Type: dwell.EventIdleStarted, Rep: "r1", Time: e.now(), DetectTime: e.now(), Key: "0"}}); err != nil {
		t.Fatal(err)
	}
	waitGathered(t, reg, "dwell_watch_slow_streams_total", nil, 1)
	for {
		if _, err := stuck.Recv(); err != nil {
			wantCode(t, "the stuck stream", err, codes.ResourceExhausted)
			break
		}
	}
	after := gather(t, reg)
	if got := before.Moved(after, "dwell_events_published_total", "type", "idle_started"); got != total {
		t.Errorf("idle_started events counted %v, want %d", got, total)
	}
	if got := after.Value("dwell_watch_slow_streams_total"); got != 1 {
		t.Errorf("slow streams = %v, want 1", got)
	}
	const watch = "/dwell.v1.ReportService/WatchEvents"
	waitGathered(t, reg, "dwell_grpc_streams_open", []string{"method", watch}, 0)
	if got := before.Moved(gather(t, reg), "dwell_grpc_requests_total", "method", watch, "code", "ResourceExhausted"); got != 1 {
		t.Errorf("WatchEvents ended RESOURCE_EXHAUSTED counted %v, want 1", got)
	}
}
