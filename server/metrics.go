package server

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// Metrics are a server's Prometheus metrics (names dwell_*). Build them
// with NewMetrics on a registry of the caller's (dwelld builds one per
// Main; there is no global registry) and hand them to New through
// Config.Metrics; a nil *Metrics records nothing, at no cost.
//
// Labels are bounded sets: the gRPC method (only the registered ones
// reach the interceptors), the status code, a fix's outcome, a check-in's
// verification, an event type. Never a tenant, rep or client.
//
// gRPC calls are counted by the outermost interceptor, outside recover
// and auth: a call refused by auth counts under its method with its code
// (UNAUTHENTICATED for a missing or bad token, PERMISSION_DENIED for a
// role or partner scope the policy refuses), as does a denial made inside
// a handler (a rep reading another rep); a handler panic counts as
// INTERNAL. A stream counts once, when it ends, with its final code, and
// is in dwell_grpc_streams_open from its start (refused ones too, for the
// moment auth takes) to its end; dwell_grpc_streams_open of WatchEvents
// is the open event streams.
//
// Every method is safe for concurrent use. The ingest path costs a few
// atomic adds per batch (BenchmarkIngestMetrics).
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	streams  *prometheus.GaugeVec

	accepted, duplicate, rejected prometheus.Counter
	batches                       prometheus.Counter
	checkIns                      *prometheus.CounterVec

	refreshPending prometheus.Gauge
	derived        prometheus.Counter
	deriveFailed   prometheus.Counter
	deriveSeconds  prometheus.Histogram
	background     prometheus.Gauge

	events      *prometheus.CounterVec
	watchSlow   prometheus.Counter
	feedApplied prometheus.Counter
	feedResyncs prometheus.Counter
}

// NewMetrics creates the server's metrics and registers them with reg. It
// fails if reg holds metrics of the same names already (one Metrics per
// registry: give each server a registry of its own).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	fixes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dwell_ingest_fixes_total",
		Help: "Fixes of the batches answered (UploadPings, StreamPings), by outcome: accepted (newly stored, durable), duplicate (stored before, durable), rejected (invalid, outside working hours, paused or on a pruned day: not stored).",
	}, []string{"result"})
	checkIns := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dwell_ingest_check_ins_total",
		Help: "Check-ins recorded (retries of one request_id count once), by the server's verification: verified, outside_geofence, low_accuracy, mock_location, no_fix, stale_fix.",
	}, []string{"verification"})
	derivations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dwell_refresh_derivations_total",
		Help: "Rep-days the summary refresher derived, by result: ok (summary stored or found current), error (the day stays marked for the next pass).",
	}, []string{"result"})
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dwell_grpc_requests_total",
			Help: "gRPC calls ended, by full method and status code; refused calls (UNAUTHENTICATED, PERMISSION_DENIED) count under the method they called.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dwell_grpc_unary_duration_seconds",
			Help:    "Time from a unary call's arrival to its answer, by full method, in seconds.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method"}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dwell_grpc_streams_open",
			Help: "gRPC streams open now, by full method (WatchEvents: the open event streams; StreamPings: the phones streaming).",
		}, []string{"method"}),
		accepted:  fixes.WithLabelValues("accepted"),
		duplicate: fixes.WithLabelValues("duplicate"),
		rejected:  fixes.WithLabelValues("rejected"),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dwell_ingest_batches_total",
			Help: "Batches of fixes answered with an outcome for every fix: acknowledged, or refused whole with INVALID_ARGUMENT because every fix was rejected.",
		}),
		checkIns: checkIns,
		refreshPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dwell_refresh_pending_days",
			Help: "Rep-days the summary refresher has listed as marked (data changed) and not yet derived in its current pass; 0 between passes. A value that stays high means the refresher falls behind.",
		}),
		derived:      derivations.WithLabelValues("ok"),
		deriveFailed: derivations.WithLabelValues("error"),
		deriveSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dwell_refresh_derive_duration_seconds",
			Help:    "Time the summary refresher took for one rep-day: reads, derivation, events published and summary stored, in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		background: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dwell_background_running",
			Help: "1 while this server runs the summary refresher and silence sweeper: always on a store of its own (bbolt), while it holds the background lease on a shared one (PostgreSQL); else 0.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dwell_events_published_total",
			Help: "Events this server appended to the tenants' event logs (WatchEvents), by type; an event whose key the log held already is not counted.",
		}, []string{"type"}),
		watchSlow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dwell_watch_slow_streams_total",
			Help: "WatchEvents streams ended with RESOURCE_EXHAUSTED because their client took no event while its queue was full.",
		}),
		feedApplied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dwell_feed_changes_applied_total",
			Help: "Batches of a tenant's changes, committed by any server sharing the store, that the change feed applied to this server's memory (PostgreSQL only).",
		}),
		feedResyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dwell_feed_resyncs_total",
			Help: "Times the change feed (re)connected and this server rebuilt what it keeps from the store (PostgreSQL only).",
		}),
	}
	for _, v := range []dwell.Verification{dwell.VerificationVerified, dwell.VerificationOutsideGeofence,
		dwell.VerificationLowAccuracy, dwell.VerificationMockLocation, dwell.VerificationNoFix, dwell.VerificationStaleFix} {
		checkIns.WithLabelValues(verificationLabel(v))
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.streams, fixes, m.batches, checkIns,
		m.refreshPending, derivations, m.deriveSeconds, m.background, m.events, m.watchSlow, m.feedApplied, m.feedResyncs} {
		if err := reg.Register(c); err != nil {
			return nil, dwell.E(dwell.Op("server.NewMetrics"), err)
		}
	}
	return m, nil
}

// verificationLabel is v's label: the wire name, lower case, without its
// prefix ("outside_geofence").
func verificationLabel(v dwell.Verification) string {
	return strings.ToLower(strings.TrimPrefix(dwellv1.Verification(v).String(), "VERIFICATION_"))
}

// ackedBatch counts one answered batch of fixes.
func (m *Metrics) ackedBatch(ack *dwellv1.BatchAck) {
	if m == nil {
		return
	}
	m.batches.Inc()
	m.accepted.Add(float64(ack.GetAccepted()))
	m.duplicate.Add(float64(ack.GetDuplicates()))
	m.rejected.Add(float64(ack.GetRejected()))
}

// checkIn counts one recorded check-in.
func (m *Metrics) checkIn(v dwell.Verification) {
	if m == nil {
		return
	}
	m.checkIns.WithLabelValues(verificationLabel(v)).Inc()
}

// pending sets the refresher's backlog.
func (m *Metrics) pending(n int) {
	if m == nil {
		return
	}
	m.refreshPending.Set(float64(n))
}

// derivation records one rep-day the refresher derived in d, or failed.
func (m *Metrics) derivation(d time.Duration, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.deriveFailed.Inc()
		return
	}
	m.derived.Inc()
	m.deriveSeconds.Observe(d.Seconds())
}

// running records whether the background work runs here.
func (m *Metrics) running(on bool) {
	if m == nil {
		return
	}
	if on {
		m.background.Set(1)
	} else {
		m.background.Set(0)
	}
}

// published counts the events appended to a log.
func (m *Metrics) published(evs []dwell.Event) {
	if m == nil {
		return
	}
	for _, e := range evs {
		m.events.WithLabelValues(strings.ToLower(e.Type.String())).Inc()
	}
}

// slowWatch counts a WatchEvents stream ended for its slow client.
func (m *Metrics) slowWatch() {
	if m == nil {
		return
	}
	m.watchSlow.Inc()
}

// feedApply counts what the change feed applied: n tenants' changes, and
// a resync if resync.
func (m *Metrics) feedApply(n int, resync bool) {
	if m == nil {
		return
	}
	m.feedApplied.Add(float64(n))
	if resync {
		m.feedResyncs.Inc()
	}
}

// metricsUnary counts and times a unary call; it is the outermost
// interceptor (see Metrics).
func (s *Server) metricsUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	m := s.metrics
	m.latency.WithLabelValues(info.FullMethod).Observe(time.Since(start).Seconds())
	m.requests.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
	return resp, err
}

// metricsStream counts a stream open while it runs and its end by code.
func (s *Server) metricsStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	m := s.metrics
	open := m.streams.WithLabelValues(info.FullMethod)
	open.Inc()
	defer open.Dec()
	err := h(srv, ss)
	m.requests.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
	return err
}
